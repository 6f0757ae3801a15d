import Config
import Datasets
import Foundation
import Topology

/// The text formats a user writes or downloads: INI configs, graph files, the IP JSON, LEAF
/// JSON and MovieLens ratings.
enum TextTargets {
  static func utf8(_ s: String) -> [UInt8] { Array(s.utf8) }

  static func lines(_ dictionary: [String]) -> [[UInt8]] { dictionary.map(utf8) }

  // MARK: INI

  static let iniSeeds = [
    """
    [DATASET]
    dataset_package = decentralizepy.datasets.MovieLens
    dataset_class = MovieLens
    model_class = MatrixFactorization
    train_dir = /mnt/nfs/movielens
    ; python list format
    sizes =

    [OPTIMIZER_PARAMS]
    optimizer_package = torch.optim
    optimizer_class = SGD
    lr = 0.25

    [TRAIN_PARAMS]
    rounds = 9
    full_epochs = False
    batch_size = 8
    shuffle = True
    loss_class = MSELoss

    [COMMUNICATION]
    comm_class = TCP
    addresses_filepath = ip.json

    [SHARING]
    sharing_class = Sharing
    alpha_list = [0.1, 0.2, 0.3]
    """,
    """
    [DATASET]
    dataset_class = Synthetic
    model_class = MLP
    hidden_sizes = [20, 10]
    random_seed = 7
    partition_niid = dirichlet
    dirichlet_alpha = 0.3
    validation_source = Test
    validation_size = 0.1
    samples_per_node = 50
    [OPTIMIZER_PARAMS]
    optimizer_class = Adam
    lr = 0.001
    betas = (0.9, 0.999)
    eps = 1e-8
    weight_decay = 0.0001
    [TRAIN_PARAMS]
    rounds = 2
    batch_size = 16
    [NODE]
    iterations = 10
    test_after = 5
    peer_timeout = 3.5
    log_level = debug
    """,
    "[DATASET]\r\ndataset_class = MNIST\r\nmodel_class = LogisticRegression\r\n[OPTIMIZER_PARAMS]\r\nlr = 0.1\r\nmomentum = 0.9\r\nnesterov = True\r\n[TRAIN_PARAMS]\r\n  continued = x\r\n",
  ]

  static let ini = FuzzTarget(
    name: "ini", seeds: iniSeeds.map(utf8),
    dictionary: lines([
      "[DATASET]", "[OPTIMIZER_PARAMS]", "[TRAIN_PARAMS]", "[NODE]", "[SHARING]", "[COMMUNICATION]", "\n[X]\n",
      " = ", ":", "=", "\n", "\r\n", "\n  ", "#", ";", " ; c", " # c", "batch_size = ", "rounds = ", "momentum = ",
      "betas = (", ")", "[", "]", ",", "hidden_sizes = [", "True", "False", "lr = ", "eps = ", "sizes = [0.5, 0.5]",
      "partition_niid = ", "log_level = ", "'", "\"",
    ]),
    claims: [
      { n in
        utf8(
          "[DATASET]\ndataset_class = Synthetic\nmodel_class = MLP\nhidden_sizes = [\(n), \(n)]\nsamples_per_node = \(n)\n[OPTIMIZER_PARAMS]\nlr = 0.1\n[TRAIN_PARAMS]\nbatch_size = \(n)\nrounds = \(n)\n[NODE]\niterations = \(n)\n"
        )
      }
    ],
    decode: { bytes in
      FuzzTarget.outcome {
        guard let text = String(validating: bytes, as: UTF8.self) else { throw FuzzRejection("not UTF-8") }
        _ = try RunConfiguration(document: INIDocument.parse(text, path: "fuzz.ini"))
      }
    })

  // MARK: Graph files

  static func graph(_ name: String, _ format: GraphFormat, seeds: [String], claim: @escaping @Sendable (Int) -> String)
    -> FuzzTarget
  {
    FuzzTarget(
      name: name, seeds: seeds.map(utf8), dictionary: lines(["\n", " ", ",", "#", "\t", "-", "\r\n", "0", "65535"]),
      claims: [
        { n in utf8(claim(n)) },
        { n in utf8("+" + claim(n)) },
        // n nodes, then thousands of edges to nodes 0 and 1 (nodes 0 and 1 list nothing, so an
        // adjacency list has no self-loop): each edge copied the whole neighbour table of n
        // nodes before Graph.addEdge was fixed, 1.3 s for 550 edges at n = 65,535.
        { n in utf8("\(n)\n\n\n" + String(repeating: "0 1\n", count: min(n, 4000))) },
      ],
      decode: { bytes in
        FuzzTarget.outcome {
          guard let text = String(validating: bytes, as: UTF8.self) else { throw FuzzRejection("not UTF-8") }
          // The explicit format, and auto-detection on the same text.
          _ = try? GraphFile.parse(text, path: "fuzz.graph", format: .auto)
          _ = try GraphFile.parse(text, path: "fuzz.graph", format: format)
        }
      })
  }

  static let graphEdges = graph(
    "graph-edges", .edges,
    seeds: [
      "8\n0 1\n1 2\n2 3\n3 4\n4 5\n5 6\n6 7\n7 0\n", "# ring\r\n4\r\n0 1\r\n1 2\r\n2 3\r\n3 0\r\n",
      "5\n0 1\n0 2\n0 3\n0 4\n1 0\n",
    ], claim: { n in "\(n)\n0 1\n" })

  static let graphAdjacency = graph(
    "graph-adjacency", .adjacency,
    seeds: ["4\n1 3\n0 2\n1 3\n0 2\n", "3\n1,2\n0,2\n0,1\n", "5\n1\n0 2\n1 3\n2 4\n3\n"],
    claim: { n in "\(n)\n1\n0\n" })

  // MARK: IP-address JSON

  static let ipJSON = FuzzTarget(
    name: "ip-json",
    seeds: [
      #"{"0": "127.0.0.1"}"#, #"{"0": "10.0.0.1", "1": "host-b.example", "2": "[::1]", "3": "fe80::1%eth0"}"#,
      #"  {"1": "b", "0": "a"}  "#,
    ].map(utf8),
    dictionary: lines(["{", "}", "[", "]", "\"", ":", ",", "null", "1e400", "\\u0000", "\"0\"", "\"01\"", " "]),
    claims: [
      { n in utf8(#"{"\#(n)": "h"}"#) }, { n in utf8(#"{"0": "\#(String(repeating: "a", count: min(n, 60_000)))"}"#) },
    ],
    decode: { bytes in
      FuzzTarget.outcome {
        let hosts = try AddressBook.parseHosts(Data(bytes), path: "fuzz.json")
        _ = try AddressBook(hosts: hosts, procsPerMachine: 4, basePort: 20000)
      }
    })

  // MARK: MovieLens ratings

  static let movieLens = FuzzTarget(
    name: "movielens-csv",
    seeds: [
      "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,3,4.0,964981247\n2,1,3.5,835355493\n3,50,0.5,1306463585\n",
      "userId,movieId,rating,timestamp\r\n7,10,5.0,1\r\n8,10,1.0,2\r\n",
    ].map(utf8),
    dictionary: lines([",", "\n", "\r\n", "userId,movieId,rating,timestamp", "4.0", "nan", "-1", "1e40", "\u{FEFF}"]),
    claims: [
      { n in utf8("userId,movieId,rating,timestamp\n\(n),\(n),4.0,0\n1,1,3.0,0\n") },
      { n in utf8("userId,movieId,rating,timestamp\n" + String(repeating: "1,1,4.0,0\n", count: min(n, 6000))) },
    ],
    decode: { bytes in FuzzTarget.outcome { try DatasetDecoders.movieLens(Data(bytes), path: "fuzz.csv") } })

  // MARK: LEAF JSON (FEMNIST)

  static func leafJSON(users: [String], samples: Int, pixel: String) -> String {
    let image = "[" + [String](repeating: pixel, count: 784).joined(separator: ",") + "]"
    let data = users.map { u in
      #""\#(u)": {"x": [\#([String](repeating: image, count: samples).joined(separator: ","))], "y": [\#((0..<samples).map { "\($0 % 62)" }.joined(separator: ","))]}"#
    }
    return
      #"{"users": [\#(users.map { "\"\($0)\"" }.joined(separator: ", "))], "num_samples": [\#(users.map { _ in "\(samples)" }.joined(separator: ", "))], "user_data": {\#(data.joined(separator: ", "))}}"#
  }

  static let leafFemnist = FuzzTarget(
    name: "leaf-json",
    seeds: [
      leafJSON(users: ["f0001_41"], samples: 1, pixel: "0"), leafJSON(users: ["a", "b"], samples: 2, pixel: "0.5"),
    ]
    .map(utf8),
    dictionary: lines([
      "{", "}", "[", "]", "\"", ":", ",", "null", "true", "1e400", "-0", "0", "1", "\"users\"", "\"num_samples\"",
      "\"user_data\"", "\"x\"", "\"y\"", "[0]", "[[0]]",
    ]),
    claims: [
      // num_samples claims n; one sample is present.
      { n in
        utf8(
          leafJSON(users: ["u"], samples: 1, pixel: "0").replacingOccurrences(
            of: #""num_samples": [1]"#, with: #""num_samples": [\#(n)]"#))
      },
      // n samples of one byte each where 784 pixels belong: an array sized for n images
      // before the first is checked would be 784 × 4 bytes per input byte or two.
      { n in
        let k = min(n, 6000)
        let zeros = [String](repeating: "0", count: k).joined(separator: ",")
        return utf8(
          #"{"users": ["u"], "num_samples": [\#(k)], "user_data": {"u": {"x": [\#(zeros)], "y": [\#(zeros)]}}}"#)
      },
    ],
    decode: { bytes in FuzzTarget.outcome { try DatasetDecoders.leafFemnist(Data(bytes), path: "fuzz.json") } })
}

/// A rejection the harness itself makes (input that is not text for a text decoder).
struct FuzzRejection: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}
