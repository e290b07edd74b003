import { ZeroHash, getAddress } from "ethers";
import type { ContractTransactionReceipt } from "ethers";

import { ContractClient } from "./base.js";
import type { EventRange } from "./base.js";
import type { AllConsentsRevokedEvent, ConsentRegistry } from "./contracts.js";
import { ConsentSdkError } from "./errors.js";
import { consentHistory, grantedKeys, managersNamed } from "./history.js";
import type { HistoryEntry } from "./history.js";
import { maskToPurposes, purposeName } from "./purposes.js";
import { toConsentView, toGrantResult, toRevokeAllResult, toRevokeResult } from "./requests.js";
import type {
  ActiveConsent,
  ConsentView,
  GrantRequest,
  PurposeCatalogView,
  PurposeInput,
  RevokeAllResult,
} from "./requests.js";
import type { SigningOptions } from "./signing.js";
import {
  addressSchema,
  assertFutureExpiry,
  bytes32Schema,
  grantRequestSchema,
  parseInput,
  purposeSchema,
} from "./validation.js";

/**
 * The registry's reads (state now, and the event scans of `history.ts` confirmed against it),
 * plus what every part of the registry client shares: the decoders of its consent events and
 * the validation of a grant. `ConsentRegistryClient` (`client.ts`) is this plus the signed
 * messages (`registry-signatures.ts`) and the writes.
 */
export abstract class ConsentRegistryReads extends ContractClient<ConsentRegistry> {
  protected granted = (r: ContractTransactionReceipt) => this.one(r, "ConsentGranted", toGrantResult);
  protected revoked = (r: ContractTransactionReceipt) => this.one(r, "ConsentRevoked", toRevokeResult);
  protected allRevoked = (r: ContractTransactionReceipt) =>
    this.one<AllConsentsRevokedEvent.OutputObject, RevokeAllResult>(r, "AllConsentsRevoked", toRevokeAllResult);

  /** A grant request validated, with its expiry checked against the chain's clock. */
  protected async validGrant(req: GrantRequest, label: string) {
    const g = parseInput(grantRequestSchema, req, label);
    assertFutureExpiry(g.expiresAt, await this.chainTime(), label);
    return g;
  }

  // Reads ----------------------------------------------------------------------------------

  /** Whether `grantee` may use `owner`'s `dataId` for `purpose` now (honours ALL_DATA). */
  isAllowed(owner: string, grantee: string, dataId: string, purpose: PurposeInput): Promise<boolean> {
    const o = parseInput(addressSchema, owner, "isAllowed.owner");
    const g = parseInput(addressSchema, grantee, "isAllowed.grantee");
    const d = parseInput(bytes32Schema, dataId, "isAllowed.dataId");
    const p = parseInput(purposeSchema, purpose, "isAllowed.purpose");
    return this.read("isAllowed", () => this.contract.isAllowed(o, g, d, p));
  }

  /** The consent stored for the exact key (no ALL_DATA fallback), with `active` now. */
  async getConsent(owner: string, grantee: string, dataId: string): Promise<ConsentView> {
    const o = parseInput(addressSchema, owner, "getConsent.owner");
    const g = parseInput(addressSchema, grantee, "getConsent.grantee");
    const d = parseInput(bytes32Schema, dataId, "getConsent.dataId");
    return toConsentView(await this.read("getConsent", () => this.contract.getConsent(o, g, d)));
  }

  /** The owner's current revoke-all epoch. */
  epochOf(owner: string): Promise<bigint> {
    const o = parseInput(addressSchema, owner, "epochOf.owner");
    return this.read("epochOf", () => this.contract.epochOf(o));
  }

  /** Whether `manager` is a manager of `owner`. */
  isManager(owner: string, manager: string): Promise<boolean> {
    const o = parseInput(addressSchema, owner, "isManager.owner");
    const m = parseInput(addressSchema, manager, "isManager.manager");
    return this.read("isManager", () => this.contract.isManager(o, m));
  }

  /**
   * The current managers of `owner`: every account a ManagerSet event ever named, kept if
   * `isManager` says so now (a lockdown removes them all without an event).
   */
  async managersOf(owner: string, range: EventRange = {}): Promise<string[]> {
    const o = parseInput(addressSchema, owner, "managersOf.owner");
    const named = await managersNamed(this.contract, o, range);
    const current = await Promise.all(named.map((m) => this.isManager(o, m)));
    return named.filter((_, i) => current[i]);
  }

  /** The purpose catalogue as the chain has it: every defined purpose, its metadata hash, grantable or not. */
  async purposes(): Promise<PurposeCatalogView> {
    const [grantableMask, definedMask] = await this.read("purposes", () =>
      Promise.all([this.contract.grantablePurposes(), this.contract.definedPurposes()]),
    );
    const ids = maskToPurposes(definedMask);
    const hashes = await this.read("purposeMetadata", () =>
      Promise.all(ids.map((id) => this.contract.purposeMetadata(id))),
    );
    return {
      grantableMask,
      definedMask,
      purposes: ids.map((id, i) => ({
        id,
        name: purposeName(id),
        metadataHash: hashes[i] ?? ZeroHash,
        grantable: ((grantableMask >> BigInt(id)) & 1n) === 1n,
      })),
    };
  }

  /**
   * The owner's consents that are active now: every key the owner ever granted (from
   * ConsentGranted events), confirmed against current state (revocation, revoke-all, expiry).
   */
  async activeConsentsOf(owner: string, range: EventRange = {}): Promise<ActiveConsent[]> {
    const o = parseInput(addressSchema, owner, "activeConsentsOf.owner");
    return this.confirmActive(await grantedKeys(this.contract, { owner: o }, range));
  }

  /** Consents active now that name `grantee` (any owner). */
  async consentsGrantedTo(grantee: string, range: EventRange = {}): Promise<ActiveConsent[]> {
    const g = parseInput(addressSchema, grantee, "consentsGrantedTo.grantee");
    return this.confirmActive(await grantedKeys(this.contract, { grantee: g }, range));
  }

  private async confirmActive(keys: readonly [string, string, string][]): Promise<ActiveConsent[]> {
    const out: ActiveConsent[] = [];
    for (const [owner, grantee, dataId] of keys) {
      const c = await this.getConsent(owner, grantee, dataId);
      if (c.active) out.push({ owner: getAddress(owner), grantee: getAddress(grantee), dataId, ...c });
    }
    return out;
  }

  /**
   * Every event that shaped the consent `(owner, grantee, dataId)`, oldest first: its grants and
   * revocations plus the owner's revoke-alls, with block number and transaction hash.
   */
  async history(owner: string, grantee: string, dataId: string, range: EventRange = {}): Promise<HistoryEntry[]> {
    const key = {
      owner: parseInput(addressSchema, owner, "history.owner"),
      grantee: parseInput(addressSchema, grantee, "history.grantee"),
      dataId: parseInput(bytes32Schema, dataId, "history.dataId"),
    };
    return consentHistory(this.contract, key, range);
  }
}

/** Only the signing fields of a request (so a request object can carry both). */
export function signingOptionsOf(o: SigningOptions): SigningOptions {
  const out: SigningOptions = {};
  if (o.deadline !== undefined) out.deadline = o.deadline;
  if (o.epoch !== undefined) out.epoch = o.epoch;
  if (o.version !== undefined) out.version = o.version;
  return out;
}

/** `items`, or INVALID_INPUT when there are none (`label: pass at least one <what>`). */
export function nonEmpty<T>(items: readonly T[], label: string, what: string): readonly T[] {
  if (items.length === 0) throw new ConsentSdkError("INVALID_INPUT", `${label}: pass at least one ${what}`);
  return items;
}
