import Config
import Datasets
import Models
import Numerics
import Sharing
import XCTest

@testable import Learning

/// Each pluggable kind registers its names once; every alias resolves, and errors list the
/// supported names from the same entries.
final class RegistryTests: XCTestCase {
  func testEveryNameAndAliasResolvesToItsEntry() throws {
    func check<M>(_ registry: Registry<M>, _ spellings: [String: String]) throws {
      for entry in registry.entries {
        for name in [entry.name] + entry.aliases {
          XCTAssertEqual(try registry.resolve(name).name, entry.name, "\(registry.kind) '\(name)'")
        }
      }
      for (spelling, canonical) in spellings {
        XCTAssertEqual(try registry.resolve(spelling).name, canonical, "\(registry.kind) '\(spelling)'")
      }
    }
    try check(
      AlgorithmRegistry.registry,
      [
        "d-psgd": "dpsgd", "DPSGD": "dpsgd", "D_PSGD": "dpsgd", "RWM": "rwm", "random-walk": "rwm",
        "SwarmAvg": "swarmavg", "swarm": "swarmavg", "FedAvg": "fedavg", "federated": "fedavg", "EL": "epidemic",
        "EL_Local": "epidemic", "EpidemicLearning": "epidemic",
      ])
    try check(SharingRegistry.registry, ["Full": "Sharing", "FullSharing": "Sharing", "sharing": "Sharing"])
    try check(DatasetRegistry.registry, ["FEMNIST": "Femnist", "CelebA": "Celeba", "Fashion-MNIST": "FashionMNIST"])
    try check(ModelRegistry.registry, ["logisticregression": "LogisticRegression", "lenet": "LeNet"])
    try check(OptimizerRegistry.registry, ["sgd": "SGD", "adam": "Adam"])
    try check(LossKind.registry, ["mseloss": "MSELoss"])
  }

  func testUnknownNamesListWhatIsSupported() {
    XCTAssertThrowsError(try AlgorithmRegistry.registry.resolve("gossip")) { error in
      XCTAssertEqual(
        error as? RegistryError,
        RegistryError(
          kind: "[NODE] algorithm", name: "gossip", supported: ["dpsgd", "rwm", "swarmavg", "fedavg", "epidemic"]))
    }
    XCTAssertThrowsError(try DatasetRegistry.load(DatasetSettings(name: "ImageNet"), node: 0, nodes: 1)) { error in
      XCTAssertEqual((error as? RegistryError)?.supported, DatasetRegistry.names)
    }
  }

  /// A decentralizepy-style config naming classes by package resolves through the registries.
  func testConfigClassReferencesResolveByClassName() throws {
    let text = """
      [DATASET]
      dataset_package = decentralizepy.datasets.Femnist
      model_class = LogisticRegression
      [OPTIMIZER_PARAMS]
      optimizer_package = torch.optim
      optimizer_class = sgd
      lr = 0.1
      [TRAIN_PARAMS]
      loss_class = CrossEntropyLoss
      [SHARING]
      sharing_class = Full
      [NODE]
      algorithm = d-psgd
      """
    let config = try RunConfiguration(document: INIDocument.parse(text, path: "x.ini"))
    let plan = try NodePlan.fromConfig(config, configPath: "x.ini", uid: 0, totalNodes: 4)
    XCTAssertEqual(plan.dataset.name, "Femnist")
    XCTAssertEqual(plan.optimizer.name, "SGD")
    XCTAssertEqual(plan.sharing.name, "Sharing")
    XCTAssertEqual(plan.algorithm, "dpsgd")
  }
}
