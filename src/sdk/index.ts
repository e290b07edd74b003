/**
 * The OmniTensor consent SDK: typed clients over the registry, the integration registry and the
 * governance AccessManager, EIP-712 signing, input validation and errors in words.
 * Plain Node (ESM) + ethers 6; no Hardhat needed at runtime.
 */
export * from "./constants.js";
export * from "./purposes.js";
export * from "./eip712.js";
export * from "./abi.js";
export * from "./errors.js";
export * from "./validation.js";
export * from "./transaction.js";
export * from "./client.js";
export * from "./integrations.js";
export * from "./deployments.js";
export * from "./governance.js";
