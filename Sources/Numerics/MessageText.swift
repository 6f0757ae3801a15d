/// Pieces of user input quoted inside a one-line error message.
///
/// A message names the file, line and key and quotes at most one short token: never a whole
/// line or file (a CRLF graph used to be echoed entire), and never a line break or control
/// character from the input, which would split the message or garble a terminal.
public enum MessageText {
  /// `text` in single quotes, cut to `limit` characters (then "…"), with line breaks shown as
  /// "⏎" and other control characters as "?".
  public static func quote(_ text: some StringProtocol, limit: Int = 40) -> String {
    "'\(plain(text, limit: limit))'"
  }

  /// `quote` without the quotes.
  public static func plain(_ text: some StringProtocol, limit: Int = 120) -> String {
    var out = ""
    var count = 0
    for c in text {
      if count == limit {
        out += "…"
        break
      }
      if c.isNewline {
        out += "⏎"
      } else if c.unicodeScalars.contains(where: {
        $0.properties.generalCategory == .control || $0.properties.generalCategory == .format
      }) {
        out += "?"
      } else {
        out.append(c)
      }
      count += 1
    }
    return out
  }
}
