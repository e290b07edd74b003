/**
 * Sealing and opening assets whose key custodians release only under consent (issue 12).
 * Everything exported here is browser-safe; the Node-only file and folder helpers are in
 * `./files.js`, `./storage.js` and `./workflow.js`.
 */
export { cidFromSha256, dataIdFor, parseAssetCid } from "./cid.js";
export { CustodianRefusal, custodianInfo, registerShare, requestShare } from "./custodian-client.js";
export {
  KEY_RELEASE_NAME,
  KEY_RELEASE_TYPES,
  KEY_RELEASE_VERSION,
  KeyRequestHasher,
  keyReleaseDomain,
} from "./eip712.js";
export type { KeyRequestMessage } from "./eip712.js";
export { AssetCipher, DEFAULT_CHUNK_SIZE, SealedFormatError, openStream, sealStream } from "./format.js";
export type { AssetIdentity } from "./format.js";
export { generateKeyPair } from "./hpke.js";
export { litConsentCondition, tacoConsentCondition } from "./interop.js";
export {
  MANIFEST_FORMAT,
  ManifestError,
  manifestDigest,
  manifestToJson,
  parseManifest,
  signManifest,
} from "./manifest.js";
export type { CustodianEntry, Manifest, ReleasePolicy, SignedManifest } from "./manifest.js";
export {
  OpenAssetError,
  checkManifest,
  checkManifestOnChain,
  decryptAsset,
  obtainKey,
  openBytes,
  registerShares,
} from "./open.js";
export type { ChainCaller } from "./open.js";
export type { ObtainKeyOptions } from "./open.js";
export { cryptoBackend } from "./platform.js";
export { DEFAULT_REQUEST_TTL_SECONDS, keyRequestMessage, signKeyRequest } from "./request.js";
export type { KeyRequestBody, ReleaseResponse, ShareRegistrationBody } from "./request.js";
export { DEFAULT_POLICY, fromBytes, sealBytes } from "./seal.js";
export type { SealOptions, SealResult } from "./seal.js";
