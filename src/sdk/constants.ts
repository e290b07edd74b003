/**
 * Constants shared with the contracts (`contracts/Common.sol`), written once.
 * `test/Purposes.ts` checks them against the deployed bytecode's behaviour.
 */

/** The reserved data id meaning "all of this owner's data" (`bytes32(type(uint256).max)`). */
export const ALL_DATA = `0x${"f".repeat(64)}` as const;

/** `expiresAt` value meaning "never expires". */
export const NO_EXPIRY = 0n;

/** Purpose ids are 0..MAX_PURPOSE_ID (one bit each of a uint128). */
export const MAX_PURPOSE_ID = 127;

/** The registry version this SDK speaks (major must match the deployed `version()`). */
export const REGISTRY_VERSION = "1.0.0";

/** EIP-712 domain name and version of the registry. */
export const EIP712_NAME = "OmniTensor Consent Registry";
export const EIP712_VERSION = "1";

/** How the `actor` of a consent event was authorised (mirror of `IConsentRegistry.Via`). */
export enum Via {
  Owner = 0,
  Manager = 1,
  Signature = 2,
}
