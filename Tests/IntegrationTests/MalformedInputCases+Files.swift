import Datasets
import Foundation

/// The rows of the malformed-input table for graph files, IP files, datasets and flags.
extension MalformedInputTests {
  static let fileCases: [Case] = [
    // Graph files.
    Case(
      name: "a billion nodes in 20 bytes", tool: .check, files: ["graph.txt": text("1000000000\n0 1\n1 2\n")],
      expect: .error(
        "peerctl check: $DIR/graph.txt:1: node count '1000000000' is above the maximum of 65535 (each node needs its own TCP port)"
      )),
    Case(
      name: "a billion nodes (peerd)", tool: .peerd, files: ["graph.txt": text("1000000000\n0 1\n1 2\n")],
      expect: .error(
        "peerd: $DIR/graph.txt:1: node count '1000000000' is above the maximum of 65535 (each node needs its own TCP port)"
      )),
    Case(
      name: "count not a number", tool: .check, files: ["graph.txt": text("two\n0 1\n")],
      expect: .error("peerctl check: $DIR/graph.txt:1: expected the node count (a positive integer), got 'two'")),
    Case(
      name: "node out of range", tool: .check, files: ["graph.txt": text("2\n0 1\n1 7\n")],
      expect: .error("peerctl check: $DIR/graph.txt:3: node 7 out of range 0..<2")),
    Case(
      name: "self-loop", tool: .check, files: ["graph.txt": text("2\n0 1\n1 1\n")],
      expect: .error("peerctl check: $DIR/graph.txt:3: self-loop on node 1")),
    Case(
      name: "three fields in an edge list", tool: .check, files: ["graph.txt": text("2\n0 1\n0 1 1\n")],
      args: ["--graph-type", "edges"],
      expect: .error("peerctl check: $DIR/graph.txt:3: expected an edge 'a b', got 3 fields")),
    Case(
      name: "CRLF graph with an error", tool: .check, files: ["graph.txt": text("2\r\n0 1\r\n0 x\r\n1 0\r\n")],
      expect: .error("peerctl check: $DIR/graph.txt:3: expected a node index, got 'x'")),
    Case(
      name: "long token", tool: .check,
      files: ["graph.txt": text("2\n0 " + String(repeating: "9z", count: 5000) + "\n")],
      expect: .error(
        "peerctl check: $DIR/graph.txt:2: expected a node index, got '\(String(repeating: "9z", count: 20))…'")),
    Case(
      name: "empty graph", tool: .check, files: ["graph.txt": text("# nothing\n\n")],
      expect: .error("peerctl check: $DIR/graph.txt: empty graph file; expected the node count on the first line")),
    Case(
      name: "graph missing", tool: .check, files: [:], args: ["--graph", "$DIR/none.txt"],
      expect: .error("peerctl check: $DIR/none.txt: cannot read the graph file (missing or unreadable)")),
    Case(
      name: "CRLF graph", tool: .check, files: ["graph.txt": text("2\r\n0 1\r\n")],
      expect: .output(
        "$DIR/config.ini: ok — Synthetic / LogisticRegression (610 parameters) / SGD lr 0.1 / dpsgd, 2 rounds of 2 steps — graph $DIR/graph.txt: 2 nodes"
      )),
    Case(
      name: "disconnected graph", tool: .check, files: ["graph.txt": text("3\n1 2\n")],
      expect: .output(
        "warning: $DIR/graph.txt: the graph is not connected (2 components; node 1 cannot reach node 0), so models never mix between them"
      )),
    Case(
      name: "disconnected graph (peerd's log)", tool: .peerd, files: ["graph.txt": text("3\n1 2\n")],
      expect: .logged(
        "warning [node 0] $DIR/graph.txt: the graph is not connected (2 components; node 1 cannot reach node 0), so models never mix between them"
      )),
    Case(
      name: "duplicate edge", tool: .check, files: ["graph.txt": text("2\n0 1\n1 0\n0 1\n")],
      expect: .output("warning: $DIR/graph.txt:3: duplicate edge 0 1 (first at line 2); counted once")),
    Case(
      name: "graph against placement", tool: .check, args: ["--procs-per-machine", "3"],
      expect: .error("peerctl check: $DIR/graph.txt has 2 nodes but 1 machine(s) × 3 procs = 3")),
    // IP-address files.
    Case(
      name: "IP not JSON", tool: .check, files: ["ip.json": text("{\"0\": ")],
      expect: .error("peerctl check: $DIR/ip.json: not valid JSON (Unexpected end of file during JSON parse.)")),
    Case(
      name: "IP array", tool: .check, files: ["ip.json": text("[\"127.0.0.1\"]")],
      expect: .error(
        "peerctl check: $DIR/ip.json: expected a JSON object mapping machine id to host, like {\"0\": \"127.0.0.1\"}")),
    Case(
      name: "IP key not an id", tool: .check, files: ["ip.json": text("{\"a\": \"127.0.0.1\"}")],
      expect: .error(
        "peerctl check: $DIR/ip.json: key 'a' is not a machine id (0, 1, 2, … written without sign or leading zeros)")),
    Case(
      name: "IP key with a leading zero", tool: .check, files: ["ip.json": text("{\"0\": \"h\", \"01\": \"h\"}")],
      expect: .error(
        "peerctl check: $DIR/ip.json: key '01' is not a machine id (0, 1, 2, … written without sign or leading zeros)")),
    Case(
      name: "IP machine missing", tool: .check, files: ["ip.json": text("{\"0\": \"h\", \"2\": \"h\"}")],
      expect: .error("peerctl check: $DIR/ip.json: machine ids must be 0…1; 1 is missing")),
    Case(
      name: "IP host with a space", tool: .check, files: ["ip.json": text("{\"0\": \"127.0.0.1 x\"}")],
      expect: .error("peerctl check: $DIR/ip.json: machine 0: '127.0.0.1 x' is not a host name or IP address")),
    Case(
      name: "IP file missing", tool: .check, args: ["--ip", "$DIR/none.json"],
      expect: .error("peerctl check: $DIR/none.json: cannot read the IP-address file (missing or unreadable)")),
    // IDX datasets.
    Case(
      name: "MNIST missing", tool: .check,
      files: config("dataset_class = Synthetic", "dataset_class = MNIST\ntrain_dir = $DIR/nowhere"),
      expect: .error(
        "peerctl check: $DIR/nowhere: MNIST train_dir '$DIR/nowhere' not found. Get the datasets with scripts/download_datasets.sh, or point $PEERD_DATA or the config's train_dir/test_dir at them"
      )),
    Case(
      name: "IDX truncated", tool: .check, files: mnist(["train-images-idx3-ubyte": Array(images(20).dropLast(100))]),
      expect: .error(
        "peerctl check: $DIR/mnist/train-images-idx3-ubyte: header says 20 images of 28×28 (15696 bytes), file has 15596 bytes (truncated?)"
      )),
    Case(
      name: "IDX wrong magic", tool: .check, files: mnist(["t10k-labels-idx1-ubyte": [0, 0, 8, 3, 0, 0, 0, 0]]),
      expect: .error(
        "peerctl check: $DIR/mnist/t10k-labels-idx1-ubyte: wrong magic number 0x803; expected 0x801 (IDX labels)")),
    Case(
      name: "IDX label count claim", tool: .check,
      files: mnist(["train-labels-idx1-ubyte": labels([1, 2], count: 4_294_967_295)]),
      expect: .error(
        "peerctl check: $DIR/mnist/train-labels-idx1-ubyte: header says 4294967295 labels, file holds 2 (truncated?)")),
    Case(
      name: "IDX labels for other images", tool: .check, files: mnist(["train-labels-idx1-ubyte": labels([1, 2, 3])]),
      expect: .error("peerctl check: $DIR/mnist/train-labels-idx1-ubyte: 3 labels for 20 images")),
    Case(
      name: "IDX label 11", tool: .check,
      files: mnist(["t10k-labels-idx1-ubyte": labels([0, 1, 2, 3, 4, 5, 6, 7, 8, 11])]),
      expect: .error("peerctl check: $DIR/mnist/t10k-labels-idx1-ubyte: label 11 at index 9 is not a digit class 0…9")),
    Case(
      name: "gzip truncated", tool: .check,
      files: mnist([
        "t10k-labels-idx1-ubyte.gz": Array(DatasetDecoders.gzip(labels((0..<10).map { UInt8($0) })).dropLast(12))
      ])
      .filter { $0.key != "mnist/t10k-labels-idx1-ubyte" },
      expect: .error("peerctl check: $DIR/mnist/t10k-labels-idx1-ubyte.gz: truncated gzip stream (the file ends early)")
    ),
    Case(
      name: "gzip corrupt", tool: .check,
      files: mnist([
        "t10k-labels-idx1-ubyte.gz": {
          var gz = DatasetDecoders.gzip(labels((0..<10).map { UInt8($0) }))
          gz[gz.count - 6] ^= 0x5A
          return gz
        }()
      ]).filter { $0.key != "mnist/t10k-labels-idx1-ubyte" },
      expect: .error("peerctl check: $DIR/mnist/t10k-labels-idx1-ubyte.gz: corrupt gzip data (incorrect data check)")),
    Case(
      name: "cache folder is a file", tool: .check,
      files: mnist([
        "t10k-labels-idx1-ubyte.gz": DatasetDecoders.gzip(labels((0..<10).map { UInt8($0) })), "../cache": [],
      ])
      .filter { $0.key != "mnist/t10k-labels-idx1-ubyte" },
      expect: .error(
        "peerctl check: $DIR/cache: cannot create the dataset cache folder (set cache_dir or $PEERD_CACHE): a file is in the way (a directory is needed)"
      )),
    // MovieLens ratings.
    Case(
      name: "ratings bad row", tool: .check, files: ratings(goodRatings + "3,x,4.0,1\n"),
      expect: .error(
        "peerctl check: $DIR/ml/ratings.csv:6: bad rating row '3,x,4.0,1'; expected userId,movieId,rating,timestamp")),
    Case(
      name: "ratings out of range", tool: .check, files: ratings(goodRatings + "3,1,99,1\n"),
      expect: .error(
        "peerctl check: $DIR/ml/ratings.csv:6: bad rating row '3,1,99,1'; expected userId,movieId,rating,timestamp")),
    Case(
      name: "ratings header", tool: .check, files: ratings("user,item,score\n1,1,4\n"),
      expect: .error(
        "peerctl check: $DIR/ml/ratings.csv:1: expected the header 'userId,movieId,rating,timestamp', got 'user,item,score'"
      )),
    Case(
      name: "ratings empty", tool: .check, files: ratings("userId,movieId,rating,timestamp\r\n"),
      expect: .error("peerctl check: $DIR/ml/ratings.csv: no ratings after the header")),
    Case(
      name: "more nodes than users", tool: .check, files: ratings("userId,movieId,rating,timestamp\n1,1,4.0,1\n"),
      expect: .error("peerctl check: MovieLens has 1 users; cannot give each of 2 nodes at least one")),
    // LEAF JSON.
    Case(
      name: "LEAF not JSON", tool: .check, files: leaf(String(goodLEAF.dropLast(5))),
      expect: .error("peerctl check: $DIR/leaf/train/a.json: expected LEAF JSON with a 'users' list (truncated?)")),
    Case(
      name: "LEAF count mismatch", tool: .check,
      files: leaf(goodLEAF.replacingOccurrences(of: "\"num_samples\": [1, 1]", with: "\"num_samples\": [1, 5]")),
      expect: .error("peerctl check: $DIR/leaf/train/a.json: user 'u2' has 1 x and 1 y, num_samples says 5")),
    Case(
      name: "LEAF label 99", tool: .check,
      files: leaf(goodLEAF.replacingOccurrences(of: "\"y\": [4]", with: "\"y\": [99]")),
      expect: .error("peerctl check: $DIR/leaf/train/a.json: user 'u2' sample 0 has label '99'; expected 0…61")),
  ]

  static let flagCases: [Case] = [
    // Flags.
    Case(
      name: "--graph-type csv", tool: .peerd, args: ["--graph-type", "csv"],
      expect: .error(
        "peerd: The value 'csv' is invalid for '--graph-type <graph-type>'. Please provide one of 'edges', 'adjacency' or 'auto'. (see 'peerd --help')"
      )),
    Case(
      name: "--graph-type csv (check)", tool: .check, args: ["--graph-type", "csv"],
      expect: .error(
        "peerctl check: The value 'csv' is invalid for '--graph-type <graph-type>'. Please provide one of 'edges', 'adjacency' or 'auto'. (see 'peerctl check --help')"
      )),
    Case(
      name: "--log-level loud", tool: .peerd, args: ["--log-level", "loud"],
      expect: .error(
        "peerd: The value 'loud' is invalid for '--log-level <log-level>'. Please provide one of the following: trace, debug, info, notice, warning, error, critical (see 'peerd --help')"
      )),
    Case(
      name: "unknown flag", tool: .peerd, args: ["--frobnicate"],
      expect: .error("peerd: Unknown option '--frobnicate' (see 'peerd --help')")),
    Case(
      name: "missing --config", tool: .peerctl, args: ["check"],
      expect: .error("peerctl check: Missing expected argument '--config <config>' (see 'peerctl check --help')")),
    Case(
      name: "uid and machine id", tool: .peerd, args: ["--machine-id", "0", "--rank", "0"],
      expect: .error("peerd: give either --uid or --machine-id/--rank, not both (see 'peerd --help')")),
    Case(
      name: "--reset-optimizer 3", tool: .peerd, args: ["--reset-optimizer", "3"],
      expect: .error("peerd: --reset-optimizer takes 0 or 1, got 3 (see 'peerd --help')")),
    Case(
      name: "--iterations 0", tool: .peerd, args: ["--iterations", "0"],
      expect: .error("peerd: --iterations must be between 1 and 100000000, got 0 (see 'peerd --help')")),
    Case(
      name: "--iterations not a number", tool: .check, args: ["--iterations", "ten"],
      expect: .error(
        "peerctl check: The value 'ten' is invalid for '--iterations <iterations>' (see 'peerctl check --help')")),
    Case(
      name: "--procs-per-machine Int.max", tool: .peerd, args: ["--procs-per-machine", "9223372036854775807"],
      expect: .error("peerd: 1 machine(s) × 9223372036854775807 procs is more than the 65535 TCP ports")),
    Case(
      name: "uid outside the graph", tool: .peerd, args: ["--uid", "5"],
      expect: .error("peerd: uid 5 is not a node of the 2-node graph")),
    Case(
      name: "log dir is a file", tool: .peerd, files: ["logs": []],
      expect: .error("peerd: $DIR/logs: cannot create the log directory: a file is in the way (a directory is needed)")),
    Case(
      name: "unknown subcommand", tool: .peerctl, args: ["frobnicate"],
      expect: .error("peerctl: Unexpected argument 'frobnicate' (see 'peerctl --help')")),
  ]
}
