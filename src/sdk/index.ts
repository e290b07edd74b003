/**
 * The OmniTensor consent SDK: typed clients over the registry, the integration registry and the
 * governance AccessManager, EIP-712 signing with ordered versions, input validation and errors
 * in words. Plain Node (ESM) + ethers 6; no Hardhat needed at runtime.
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
export * from "./signing-store.js";
export {
  planKeyMessage,
  planRevokeAll,
  signGrant,
  signRevoke,
  signRevokeAll,
  type GrantContent,
  type KeyPlanInput,
  type MessagePlan,
  type SigningChainView,
  type SigningContext,
} from "./signing.js";
export * from "./client.js";
export * from "./integrations.js";
export * from "./deployments.js";
export * from "./governance.js";
