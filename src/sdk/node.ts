/**
 * The SDK's Node-only parts (`omnitensor-consent/node`): whatever needs the filesystem. The main
 * entry (`omnitensor-consent`) imports no Node module, so it bundles for browsers (the owner's
 * dashboard uses it); these stay here.
 */
export { readIgnitionDeployment } from "./ignition-files.js";
export { FileSigningStore } from "./file-signing-store.js";
