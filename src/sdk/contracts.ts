/**
 * The TypeChain bindings the SDK uses and ships, imported file by file (not through the
 * generated index, which also reaches the test-only contracts under `contracts/mocks`): so the
 * compiled package holds the bindings of the deployable contracts and nothing else.
 */
export { ConsentGated__factory } from "../../types/ethers-contracts/factories/contracts/ConsentGated__factory.js";
export { ConsentRegistry__factory } from "../../types/ethers-contracts/factories/contracts/ConsentRegistry__factory.js";
export { ConsentAccessManager__factory } from "../../types/ethers-contracts/factories/contracts/governance/ConsentAccessManager__factory.js";
export { ConsentSystemDeployer__factory } from "../../types/ethers-contracts/factories/contracts/governance/ConsentSystemDeployer__factory.js";
export { IntegrationRegistry__factory } from "../../types/ethers-contracts/factories/contracts/governance/IntegrationRegistry__factory.js";
export type {
  AllConsentsRevokedEvent,
  ConsentGrantedEvent,
  ConsentRegistry,
  ConsentRevokedEvent,
  DataSharedEvent,
  DataUsedEvent,
  IConsentRegistry,
  ManagerSetEvent,
  SignedRevokeFailedEvent,
} from "../../types/ethers-contracts/contracts/ConsentRegistry.js";
export type {
  ConsentAccessManager,
  OperationCanceledEvent,
  OperationExecutedEvent,
  OperationScheduledEvent,
} from "../../types/ethers-contracts/contracts/governance/ConsentAccessManager.js";
export type { ConsentSystemDeployer } from "../../types/ethers-contracts/contracts/governance/ConsentSystemDeployer.js";
export type { IntegrationRegistry } from "../../types/ethers-contracts/contracts/governance/IntegrationRegistry.js";
