/**
 * Constants shared with the contracts (`contracts/Common.sol`), written once.
 * `test/Purposes.ts` checks them against the deployed bytecode's behaviour.
 */

/** The reserved data id meaning "all of this owner's data" (`bytes32(type(uint256).max)`). */
export const ALL_DATA = `0x${"f".repeat(64)}` as const;

/** `expiresAt` value meaning "never expires". */
export const NO_EXPIRY = 0n;

/** Latest `expiresAt` a consent can have (2^40 - 1: the year 36812; stored in 40 bits). */
export const MAX_EXPIRY = 2n ** 40n - 1n;

/** A consent version is `generation << VERSION_SEQUENCE_BITS | sequence` (see IConsentRegistry). */
export const VERSION_SEQUENCE_BITS = 16n;

/**
 * How long a signed message stays relayable by default: its deadline is this many seconds after
 * the chain's time when it is signed (SDK and CLI alike; raised when an older message of the same
 * consent is relayable longer, see `src/sdk/signing.ts`).
 */
export const DEFAULT_SIGNATURE_TTL = 3600n;

/** Purpose ids are 0..MAX_PURPOSE_ID (one bit each of a uint128). */
export const MAX_PURPOSE_ID = 127;

/** The registry version this SDK speaks (major must match the deployed `version()`). */
export const REGISTRY_VERSION = "2.0.0";

/** EIP-712 domain name and version of the registry. */
export const EIP712_NAME = "OmniTensor Consent Registry";
export const EIP712_VERSION = "2";

/** How the `actor` of a consent event was authorised (mirror of `IConsentRegistry.Via`). */
export enum Via {
  Owner = 0,
  Manager = 1,
  Signature = 2,
}

/**
 * How a `ConsentGranted` / `ConsentRevoked` was authorised, from the event alone (the contract's
 * rule, see IConsentRegistry): a signature when the version's sequence is non-zero, else the
 * owner when `actor` is the owner, else a manager.
 */
export function viaOf(owner: string, actor: string, version: bigint): Via {
  if ((version & ((1n << VERSION_SEQUENCE_BITS) - 1n)) !== 0n) return Via.Signature;
  return owner.toLowerCase() === actor.toLowerCase() ? Via.Owner : Via.Manager;
}

/** The name of a {@link Via} as the SDK and the CLI return it: `"Owner"`, `"Manager"` or `"Signature"`. */
export type ViaName = keyof typeof Via;

/** The name of a {@link Via} value (the events' `uint8`, or {@link viaOf}'s result). */
export function viaName(via: Via | number | bigint): ViaName {
  const name = Via[Number(via)] as ViaName | undefined;
  if (name === undefined) throw new RangeError(`via ${via} is none of Owner (0), Manager (1), Signature (2)`);
  return name;
}

/** Statuses of an integration, by their `IIntegrationRegistry.Status` value (index). */
export const INTEGRATION_STATUSES = ["None", "Active", "Suspended"] as const;

export type IntegrationStatus = (typeof INTEGRATION_STATUSES)[number];

/** The name of an integration status value (`uint8`); out-of-range values read `status <n>`. */
export function integrationStatusName(status: number | bigint): IntegrationStatus | `status ${string}` {
  return INTEGRATION_STATUSES[Number(status)] ?? `status ${status}`;
}
