import { getAddress } from "ethers";

import { viaName, viaOf } from "./constants.js";
import type { ViaName } from "./constants.js";
import type { DecodedConsentError } from "./errors.js";
import { maskToPurposes } from "./purposes.js";
import type { PurposeInput } from "./purposes.js";
import type {
  AllConsentsRevokedEvent,
  ConsentGrantedEvent,
  ConsentRevokedEvent,
  DataSharedEvent,
  DataUsedEvent,
  ManagerSetEvent,
} from "./contracts.js";

/**
 * What the registry client takes and gives: the request types a caller writes (with their
 * explicit defaults, validated by the schemas of `validation.ts`), the results decoded from a
 * receipt's events, and the decoders themselves, one per event (eas-sdk's `request.ts`).
 */

export type { PurposeInput } from "./purposes.js";

/** A grant as the caller writes it; defaults: `expiresAt` NO_EXPIRY, `noticeHash` ZeroHash. */
export interface GrantRequest {
  grantee: string;
  dataId: string;
  purposes: readonly PurposeInput[] | bigint;
  expiresAt?: bigint;
  noticeHash?: string;
}

export interface RevokeRequest {
  grantee: string;
  dataId: string;
}

/** A data use by the connected signer (the processor). `evidence` defaults to ZeroHash. */
export interface UseRequest {
  owner: string;
  dataId: string;
  purpose: PurposeInput;
  evidence?: string;
}

/** A share by the connected signer to integration `to`. */
export interface ShareRequest extends UseRequest {
  to: string;
}

export interface GrantResult {
  owner: string;
  grantee: string;
  dataId: string;
  purposes: number[];
  purposesMask: bigint;
  expiresAt: bigint;
  noticeHash: string;
  actor: string;
  /** The key's version after the change (see IConsentRegistry: the owner's latest word wins). */
  version: bigint;
  /** How the change was authorised, derived from `version` and `actor` ({@link viaOf}). */
  via: ViaName;
}

export interface RevokeResult {
  owner: string;
  grantee: string;
  dataId: string;
  actor: string;
  version: bigint;
  via: ViaName;
}

export interface RevokeAllResult {
  owner: string;
  newEpoch: bigint;
  actor: string;
  via: ViaName;
}

export interface ManagerResult {
  owner: string;
  manager: string;
  approved: boolean;
}

export interface UseResult {
  owner: string;
  processor: string;
  dataId: string;
  purpose: number;
  evidence: string;
}

export interface ShareResult {
  owner: string;
  from: string;
  to: string;
  dataId: string;
  purpose: number;
  evidence: string;
}

/** A batch's result: how many items it applied, and each item's decoded event. */
export interface BatchResult<T> {
  count: number;
  items: T[];
}

/** A signed revocation of a best-effort batch that did not apply, and why. */
export interface SignedRevokeFailure {
  /** The item's position in the batch. */
  index: number;
  owner: string;
  grantee: string;
  dataId: string;
  /** The ABI-encoded custom error the registry returned for the item. */
  reasonData: string;
  /** That error decoded into words (null if it is not one of the consent system's errors). */
  reason: DecodedConsentError | null;
}

/**
 * A best-effort batch of signed revocations (`ConsentRegistryClient.relayRevokeBatch`): the items
 * that applied (with their position) and the ones that did not.
 */
export interface RevokeBatchResult extends BatchResult<RevokeResult & { index: number }> {
  failures: SignedRevokeFailure[];
}

/** A consent as stored (exact key, no ALL_DATA fallback), with whether it is active now. */
export interface ConsentView {
  purposes: number[];
  purposesMask: bigint;
  expiresAt: bigint;
  epoch: bigint;
  /** The key's version: the next signed message for this key must exceed it (in its generation). */
  version: bigint;
  active: boolean;
}

/** An active consent found from events and confirmed against current state. */
export interface ActiveConsent extends ConsentView {
  owner: string;
  grantee: string;
  dataId: string;
}

export interface PurposeEntry {
  id: number;
  name: string;
  metadataHash: string;
  /** Can be newly granted now (defined and not deprecated). */
  grantable: boolean;
}

export interface PurposeCatalogView {
  grantableMask: bigint;
  definedMask: bigint;
  purposes: PurposeEntry[];
}

// Decoders: one per event, from the TypeChain output object -------------------------------

export function toGrantResult(e: ConsentGrantedEvent.OutputObject): GrantResult {
  return {
    owner: e.owner,
    grantee: e.grantee,
    dataId: e.dataId,
    purposes: maskToPurposes(e.purposes),
    purposesMask: e.purposes,
    expiresAt: e.expiresAt,
    noticeHash: e.noticeHash,
    actor: e.actor,
    version: e.version,
    via: viaName(viaOf(e.owner, e.actor, e.version)),
  };
}

export function toRevokeResult(e: ConsentRevokedEvent.OutputObject): RevokeResult {
  return {
    owner: e.owner,
    grantee: e.grantee,
    dataId: e.dataId,
    actor: e.actor,
    version: e.version,
    via: viaName(viaOf(e.owner, e.actor, e.version)),
  };
}

export function toRevokeAllResult(e: AllConsentsRevokedEvent.OutputObject): RevokeAllResult {
  return { owner: e.owner, newEpoch: e.newEpoch, actor: e.actor, via: viaName(e.via) };
}

export function toManagerResult(e: ManagerSetEvent.OutputObject): ManagerResult {
  return { owner: e.owner, manager: e.manager, approved: e.approved };
}

export function toUseResult(e: DataUsedEvent.OutputObject): UseResult {
  return { owner: e.owner, processor: e.processor, dataId: e.dataId, purpose: Number(e.purpose), evidence: e.evidence };
}

export function toShareResult(e: DataSharedEvent.OutputObject): ShareResult {
  return {
    owner: e.owner,
    from: e.from,
    to: e.to,
    dataId: e.dataId,
    purpose: Number(e.purpose),
    evidence: e.evidence,
  };
}

/** A stored consent, as `getConsent` returns it, in the SDK's shape. */
export function toConsentView(c: {
  purposes: bigint;
  expiresAt: bigint;
  epoch: bigint;
  version: bigint;
  active: boolean;
}): ConsentView {
  return {
    purposes: maskToPurposes(c.purposes),
    purposesMask: c.purposes,
    expiresAt: c.expiresAt,
    epoch: c.epoch,
    version: c.version,
    active: c.active,
  };
}

/** The owner, grantee and data id of a consent event, checksummed (keys of a scan). */
export function consentKeyOf(e: { owner: string; grantee: string; dataId: string }): [string, string, string] {
  return [getAddress(e.owner), getAddress(e.grantee), e.dataId];
}
