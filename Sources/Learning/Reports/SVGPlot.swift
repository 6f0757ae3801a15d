import Foundation

/// A minimal line chart written as SVG: no plotting library, no Python, deterministic output.
///
/// `peerctl plot` draws one chart per x-axis (rounds, seconds, bytes) with one line per run,
/// so runs of different algorithms or sharing methods can be compared on one figure.
public struct SVGPlot: Sendable {
  public struct Series: Sendable {
    public var label: String
    public var points: [(x: Double, y: Double)]
    public init(label: String, points: [(x: Double, y: Double)]) {
      self.label = label
      self.points = points
    }
  }

  public var title: String
  public var xLabel: String
  public var yLabel: String
  public var series: [Series]

  public init(title: String, xLabel: String, yLabel: String, series: [Series]) {
    self.title = title
    self.xLabel = xLabel
    self.yLabel = yLabel
    self.series = series
  }

  static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]

  public func render(width: Double = 720, height: Double = 440) -> String {
    let left = 70.0
    let right = 20.0
    let top = 40.0
    let bottom = 60.0
    let all = series.flatMap(\.points)
    let xs = all.map(\.x)
    let ys = all.map(\.y)
    var x0 = xs.min() ?? 0
    var x1 = xs.max() ?? 1
    var y0 = ys.min() ?? 0
    var y1 = ys.max() ?? 1
    if x1 <= x0 { x1 = x0 + 1 }
    if y1 <= y0 { y1 = y0 + 1 }
    let pad = (y1 - y0) * 0.05
    y0 -= pad
    y1 += pad
    if x0 > 0 && x0 < (x1 - x0) * 0.2 { x0 = 0 }
    let pw = width - left - right
    let ph = height - top - bottom
    func sx(_ x: Double) -> Double { left + (x - x0) / (x1 - x0) * pw }
    func sy(_ y: Double) -> Double { top + ph - (y - y0) / (y1 - y0) * ph }
    func n(_ v: Double) -> String { String(format: "%.1f", v) }
    func tick(_ v: Double) -> String {
      let a = abs(v)
      if a >= 1e9 { return String(format: "%.1fG", v / 1e9) }
      if a >= 1e6 { return String(format: "%.1fM", v / 1e6) }
      if a >= 1e4 { return String(format: "%.0fk", v / 1e3) }
      if a >= 100 { return String(format: "%.0f", v) }
      return String(format: "%.3g", v)
    }
    var svg = """
      <svg xmlns="http://www.w3.org/2000/svg" width="\(n(width))" height="\(n(height))" font-family="sans-serif" font-size="12">
      <rect width="100%" height="100%" fill="white"/>
      <text x="\(n(width / 2))" y="22" text-anchor="middle" font-size="15">\(escape(title))</text>

      """
    for k in 0...5 {
      let fx = x0 + (x1 - x0) * Double(k) / 5
      let fy = y0 + (y1 - y0) * Double(k) / 5
      svg += "<line x1=\"\(n(sx(fx)))\" y1=\"\(n(top))\" x2=\"\(n(sx(fx)))\" y2=\"\(n(top + ph))\" stroke=\"#eee\"/>\n"
      svg +=
        "<line x1=\"\(n(left))\" y1=\"\(n(sy(fy)))\" x2=\"\(n(left + pw))\" y2=\"\(n(sy(fy)))\" stroke=\"#eee\"/>\n"
      svg += "<text x=\"\(n(sx(fx)))\" y=\"\(n(top + ph + 18))\" text-anchor=\"middle\">\(tick(fx))</text>\n"
      svg += "<text x=\"\(n(left - 6))\" y=\"\(n(sy(fy) + 4))\" text-anchor=\"end\">\(tick(fy))</text>\n"
    }
    svg +=
      "<rect x=\"\(n(left))\" y=\"\(n(top))\" width=\"\(n(pw))\" height=\"\(n(ph))\" fill=\"none\" stroke=\"#333\"/>\n"
    svg += "<text x=\"\(n(left + pw / 2))\" y=\"\(n(height - 18))\" text-anchor=\"middle\">\(escape(xLabel))</text>\n"
    svg +=
      "<text transform=\"translate(18 \(n(top + ph / 2))) rotate(-90)\" text-anchor=\"middle\">\(escape(yLabel))</text>\n"
    for (i, s) in series.enumerated() {
      let color = Self.palette[i % Self.palette.count]
      let path = s.points.sorted { $0.x < $1.x }.map { "\(n(sx($0.x))),\(n(sy($0.y)))" }.joined(separator: " ")
      svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(path)\"/>\n"
      let ly = top + 16 + Double(i) * 16
      svg +=
        "<line x1=\"\(n(left + pw - 150))\" y1=\"\(n(ly - 4))\" x2=\"\(n(left + pw - 130))\" y2=\"\(n(ly - 4))\" stroke=\"\(color)\" stroke-width=\"2\"/>\n"
      svg += "<text x=\"\(n(left + pw - 125))\" y=\"\(n(ly))\">\(escape(s.label))</text>\n"
    }
    return svg + "</svg>\n"
  }

  private func escape(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
      .replacingOccurrences(of: ">", with: "&gt;")
  }
}

extension RunReport {
  /// Plots of the test metric against rounds, elapsed seconds and bytes, for several runs.
  public static func plots(_ runs: [(label: String, report: RunReport)]) -> [(name: String, plot: SVGPlot)] {
    let regression = runs.contains { $0.report.isRegression }
    let metric = regression ? "mean test RMSE" : "mean test accuracy (%)"
    func series(_ x: (Row) -> Double?) -> [SVGPlot.Series] {
      runs.map { run in
        let pts = run.report.rows().compactMap { row -> (x: Double, y: Double)? in
          guard let xv = x(row), let yv = regression ? row.meanTestRMSE : row.meanTestAccuracy else { return nil }
          return (xv, yv)
        }
        return SVGPlot.Series(label: run.label, points: pts)
      }
    }
    func lossSeries() -> [SVGPlot.Series] {
      runs.map { run in
        SVGPlot.Series(
          label: run.label,
          points: run.report.rows().compactMap { r in r.meanTestLoss.map { (Double(r.round), $0) } })
      }
    }
    return [
      (
        "metric_vs_rounds",
        SVGPlot(title: "\(metric) vs rounds", xLabel: "round", yLabel: metric, series: series { Double($0.round) })
      ),
      (
        "metric_vs_time",
        SVGPlot(title: "\(metric) vs time", xLabel: "seconds", yLabel: metric, series: series { $0.meanElapsed })
      ),
      (
        "metric_vs_bytes",
        SVGPlot(
          title: "\(metric) vs bytes sent (all nodes)", xLabel: "bytes", yLabel: metric,
          series: series { $0.totalBytes })
      ),
      (
        "loss_vs_rounds",
        SVGPlot(title: "mean test loss vs rounds", xLabel: "round", yLabel: "test loss", series: lossSeries())
      ),
    ]
  }
}
