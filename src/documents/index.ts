/**
 * Documents behind the on-chain metadata hashes (browser-safe entry): schemas, the hashing
 * rule, the initial purposes' documents and the resolver with its HTTP / IPFS-gateway source.
 * The folder source is Node-only: `./folder-source.js`.
 */
export * from "./canonical.js";
export * from "./schemas.js";
export * from "./initial-purposes.js";
export * from "./resolve.js";
export * from "./http-source.js";
