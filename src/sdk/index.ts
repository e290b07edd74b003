/**
 * The OmniTensor consent SDK: typed clients over the registry, the integration registry and the
 * governance AccessManager, EIP-712 signing with ordered versions (for any owner, EOA or
 * contract), the registry's signature rule off-chain, the signed-message file format, input
 * validation and errors in words. Plain Node (ESM) + ethers 6; no Hardhat needed at runtime.
 *
 * The file-backed signing store (Node's `fs`) is a separate entry,
 * `omnitensor-consent/file-signing-store`, so this one stays usable without Node's filesystem.
 */
export * from "./constants.js";
export * from "./purposes.js";
export * from "./eip712.js";
export * from "./abi.js";
export * from "./errors.js";
export * from "./validation.js";
export * from "./transaction.js";
export * from "./time-words.js";
export * from "./time-input.js";
export * from "./time-relative.js";
export * from "./signing-store.js";
export * from "./signed-message.js";
export * from "./signature-check.js";
export {
  planKeyMessage,
  planRevokeAll,
  prepareGrant,
  prepareRevoke,
  prepareRevokeAll,
  signGrant,
  signPrepared,
  signRevoke,
  signRevokeAll,
  type GrantContent,
  type KeyPlanInput,
  type MessagePlan,
  type SigningChainView,
  type SigningContext,
  type SigningOptions,
} from "./signing.js";
export * from "./base.js";
export * from "./requests.js";
export * from "./history.js";
export * from "./client.js";
export * from "./integrations.js";
export * from "./governance-calls.js";
export * from "./governance-client.js";
export * from "./governance-simulation.js";
export * from "./deployments.js";
export * from "./deploy.js";
export * from "./rpc-probe.js";
export * from "./governance.js";
