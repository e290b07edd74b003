// Over 450 lines on purpose: the contracts' rules replayed event by event (consent words, epochs,
// versions, managers, integrations, the use/share checks). Kept whole so that the one "is this
// consent active" rule and the ordering rule sit beside every event that depends on them.

import { ALL_DATA, MAX_PURPOSE_ID, Via, viaOf } from "../sdk/constants.js";
import type { ConsentChange, ReplayEvent } from "./events.js";
import {
  type ConsentStatus,
  type IntegrationState,
  keyOf as key,
  nextGeneration,
  type PurposeState,
  signedVersionApplies,
  type StoredConsent,
  uintArg,
  type Violation,
  ZERO_ADDRESS,
  ZERO_ID,
} from "./model-types.js";

export type { ReplayEvent } from "./events.js";
export {
  type ConsentStatus,
  type IntegrationState,
  nextGeneration,
  type PurposeState,
  signedVersionApplies,
  type StoredConsent,
  uintArg,
  type Violation,
} from "./model-types.js";

/**
 * A second, independent implementation of the registry's rules (registry 2.0.0), driven by
 * events alone (it never calls the contract). `apply` replays one event and returns the rule
 * violations it shows; `allowed` answers "was grantee allowed to use dataId for purpose" at the
 * replayed point.
 *
 * The rules it mirrors (contracts/interfaces/IConsentRegistry.sol):
 * - every key (owner, grantee, dataId) has a version that only grows; a change by transaction
 *   moves it to the next generation `(version | 0xffff) + 1`, a signed change sets the signed
 *   version, which must be above the key's and in its generation; a revocation keeps it;
 * - a lockdown (AllConsentsRevoked) starts a new owner epoch: consents and managers of older
 *   epochs are dead (a manager counts only if appointed in the owner's current epoch);
 * - a revocation always succeeds (live consent or not);
 * - `isAllowed` reads the exact key, then falls back to the owner's ALL_DATA consent, except for
 *   ALL_DATA itself and for data id 0;
 * - a signed grant may store an expiry already passed and purposes narrowed to the grantable
 *   (or kept) ones, possibly none.
 *
 * Integers from events (purposes, expiresAt, epochs, versions) are bigints, read exactly from
 * their decimal strings; block numbers and timestamps are numbers (chain-bounded). State lives in
 * Maps keyed by packed strings (`owner|grantee|dataId`, all lowercase hex) for speed (1M events
 * in seconds).
 *
 * Why this file is over 450 lines: it is the rule engine, one `apply` switch with the contract's
 * rule for each event next to the state it changes; split, a reader would go back and forth
 * between the state and its rules. Its types and version arithmetic are in model-types.ts.
 */

const ALL = ALL_DATA.toLowerCase();

export class ConsentModel {
  /** The stored grant of each key (deleted by a revocation; a stale-epoch grant stays, inactive). */
  readonly consents = new Map<string, StoredConsent>();
  /** Every changed key's version (kept across revocations); absent = 0. */
  readonly versions = new Map<string, bigint>();
  readonly epochs = new Map<string, bigint>();
  /** `owner|manager` → the owner's epoch the manager was appointed in. */
  readonly managers = new Map<string, bigint>();
  readonly integrations = new Map<string, IntegrationState>();
  readonly purposes = new Map<number, PurposeState>();
  grantable = 0n;
  defined = 0n;
  eventsApplied = 0;

  epochOf(owner: string): bigint {
    return this.epochs.get(owner) ?? 0n;
  }

  /** A manager counts only if appointed in the owner's current epoch (a lockdown ends them all). */
  isManager(owner: string, manager: string): boolean {
    return this.managers.get(`${owner}|${manager}`) === this.epochOf(owner);
  }

  /** The owner's current managers. */
  managersOf(owner: string): string[] {
    const out: string[] = [];
    for (const [k, epoch] of this.managers) {
      const [o, m] = k.split("|");
      if (o === owner && epoch === this.epochOf(o)) out.push(m);
    }
    return out;
  }

  /** Every current (owner, manager) pair. */
  currentManagers(): { owner: string; manager: string }[] {
    const out: { owner: string; manager: string }[] = [];
    for (const [k, epoch] of this.managers) {
      const [owner, manager] = k.split("|");
      if (epoch === this.epochOf(owner)) out.push({ owner, manager });
    }
    return out;
  }

  consent(owner: string, grantee: string, dataId: string): StoredConsent | undefined {
    return this.consents.get(key(owner, grantee, dataId));
  }

  versionOf(owner: string, grantee: string, dataId: string): bigint {
    return this.versions.get(key(owner, grantee, dataId)) ?? 0n;
  }

  /**
   * THE "is this consent in force" rule (the contract's `ConsentSlot.isActive`): granted (some
   * purpose), of the owner's current epoch, and not expired at `ts` (expired when ts >= expiresAt).
   * Everything else — state, reports, use checks — asks this method.
   */
  isActive(c: StoredConsent | undefined, ts: number): c is StoredConsent {
    return this.statusOf(c, ts) === "active";
  }

  /** Why a stored consent is or is not in force at `ts` (undefined: no consent stored). */
  statusOf(c: StoredConsent | undefined, ts: number): ConsentStatus | undefined {
    if (c === undefined) return undefined;
    if (c.epoch !== this.epochOf(c.owner)) return "ended-by-lockdown";
    if (c.purposes === 0n) return "nothing-granted";
    if (c.expiresAt !== 0n && BigInt(ts) >= c.expiresAt) return "expired";
    return "active";
  }

  /** A JSON-safe view of a stored consent (evidence and state output). */
  view(c: StoredConsent | undefined, ts: number) {
    if (!c) return null;
    return {
      purposes: c.purposes.toString(),
      expiresAt: c.expiresAt.toString(),
      epoch: c.epoch.toString(),
      version: c.version.toString(),
      ownerEpoch: this.epochOf(c.owner).toString(),
      expired: c.expiresAt !== 0n && BigInt(ts) >= c.expiresAt,
      active: this.isActive(c, ts),
      grantedBlock: c.grantedBlock,
      grantedTx: c.grantedTx,
    };
  }

  /**
   * The contract's `_keepable`: purposes a new grant may keep although no longer grantable,
   * those of the live consent when the new expiry is not later than its expiry.
   */
  keepable(owner: string, grantee: string, dataId: string, expiresAt: bigint, ts: number): bigint {
    const c = this.consent(owner, grantee, dataId);
    if (!this.isActive(c, ts)) return 0n;
    if (c.expiresAt !== 0n && (expiresAt === 0n || expiresAt > c.expiresAt)) return 0n;
    return c.purposes;
  }

  /** The registry's `isAllowed` rule, evaluated at time `ts` (expired when ts >= expiresAt). */
  allowed(owner: string, grantee: string, dataId: string, purpose: number, ts: number): boolean {
    if (!Number.isInteger(purpose) || purpose < 0 || purpose > MAX_PURPOSE_ID) return false;
    const bit = 1n << BigInt(purpose);
    const exact = this.consents.get(key(owner, grantee, dataId));
    if (exact && (exact.purposes & bit) !== 0n && this.isActive(exact, ts)) return true;
    // No fallback for ALL_DATA itself, nor for data id 0 (an unset variable is never "all data").
    if (dataId === ALL || dataId === ZERO_ID) return false;
    const all = this.consents.get(key(owner, grantee, ALL));
    return all !== undefined && (all.purposes & bit) !== 0n && this.isActive(all, ts);
  }

  integrationActive(to: string, purpose: number): boolean {
    const i = this.integrations.get(to);
    return (
      i !== undefined &&
      i.status === "Active" &&
      purpose <= MAX_PURPOSE_ID &&
      ((i.purposes >> BigInt(purpose)) & 1n) === 1n
    );
  }

  private coverage(owner: string, grantee: string, dataId: string, ts: number) {
    const epoch = this.epochOf(owner);
    const fallback = dataId !== ALL && dataId !== ZERO_ID;
    return {
      grantee,
      ownerEpoch: epoch.toString(),
      exact: this.view(this.consent(owner, grantee, dataId), ts),
      allData: fallback ? this.view(this.consent(owner, grantee, ALL), ts) : null,
    };
  }

  /** Who may have sent a consent change: the owner, a current manager, or (checked in signatures.ts) a signature. */
  private authorised(e: ConsentChange, owner: string, via: number, out: Violation[]): void {
    const actor = e.args.actor;
    if (via === Via.Owner && actor !== owner) {
      out.push({
        rule: "actor-not-owner",
        message: `${e.name} for ${owner} says via Owner but was sent by ${actor}`,
        event: e,
        evidence: { owner, actor, via: "Owner" },
      });
    } else if (via === Via.Manager && !this.isManager(owner, actor)) {
      const appointed = this.managers.get(`${owner}|${actor}`);
      out.push({
        rule: "actor-not-manager",
        message: `${e.name} for ${owner} was sent by ${actor}, which was not a manager of ${owner} at block ${e.blockNumber}`,
        event: e,
        evidence: {
          owner,
          actor,
          via: "Manager",
          managerAtBlock: false,
          ownerEpoch: this.epochOf(owner).toString(),
          // A manager appointed before the owner's latest lockdown: ended by it.
          appointedInEpoch: appointed === undefined ? null : appointed.toString(),
        },
      });
    } else if (via !== Via.Owner && via !== Via.Manager && via !== Via.Signature) {
      out.push({ rule: "unknown-via", message: `${e.name} has unknown via ${via}`, event: e, evidence: { via } });
    }
    // Via.Signature: the signature is not in the event; SignatureAudit (signatures.ts) checks it
    // against the signed request stored from the transaction's calldata.
  }

  /** Checks shared by grants and revocations: the key, the stored via column, the version rule. */
  private consentChange(
    e: Extract<ReplayEvent, { name: "ConsentGranted" | "ConsentRevoked" }>,
    out: Violation[],
  ): { owner: string; k: string; version: bigint; via: Via } {
    const a = e.args;
    const owner = a.owner;
    const grantee = a.grantee;
    const dataId = a.dataId.toLowerCase();
    const version = uintArg(e, "version");
    const via = viaOf(owner, a.actor, version);
    if (e.via !== undefined && e.via !== null && e.via !== via) {
      out.push({
        rule: "via-column-mismatch",
        message: `${e.name} for ${owner} is stored as via ${Via[e.via] ?? e.via} but its version ${version} and actor say via ${Via[via]}`,
        event: e,
        evidence: { stored: e.via, derived: via, version: version.toString(), actor: a.actor },
      });
    }
    if (grantee === ZERO_ADDRESS || dataId === ZERO_ID) {
      out.push({
        rule: "invalid-key",
        message: `${e.name} for ${owner} names ${grantee === ZERO_ADDRESS ? "the zero grantee" : "data id 0"}, which the registry refuses`,
        event: e,
        evidence: { grantee, dataId },
      });
    }
    this.authorised(e, owner, via, out);
    const k = key(owner, grantee, dataId);
    const previous = this.versions.get(k) ?? 0n;
    if (via === Via.Signature) {
      if (!signedVersionApplies(version, previous)) {
        out.push({
          rule: "signature-version-stale",
          message:
            `${e.name} for ${owner} → ${grantee} on ${dataId} applied a signed version ${version} ` +
            `that is not above the key's version ${previous} in its generation`,
          event: e,
          evidence: { previousVersion: previous.toString(), version: version.toString() },
        });
      }
    } else if (version !== nextGeneration(previous)) {
      out.push({
        rule: "version-not-next-generation",
        message:
          `${e.name} for ${owner} → ${grantee} on ${dataId} by transaction set version ${version}; ` +
          `after version ${previous} it must be ${nextGeneration(previous)}`,
        event: e,
        evidence: {
          previousVersion: previous.toString(),
          expected: nextGeneration(previous).toString(),
          version: version.toString(),
        },
      });
    }
    this.versions.set(k, version);
    return { owner, k, version, via };
  }

  /** Replays one event; returns the violations it shows (empty when it is consistent). */
  apply(e: ReplayEvent): Violation[] {
    const out: Violation[] = [];
    const ts = e.blockTimestamp;
    this.eventsApplied++;
    switch (e.name) {
      case "DataUsed": {
        const a = e.args;
        const owner = a.owner;
        const processor = a.processor;
        const dataId = a.dataId.toLowerCase();
        const purpose = Number(a.purpose);
        if (!this.allowed(owner, processor, dataId, purpose, ts)) {
          out.push({
            rule: "use-without-consent",
            message: `${processor} recorded a use of ${owner}'s data ${dataId} for purpose ${purpose} at block ${e.blockNumber} without live consent`,
            event: e,
            evidence: { timestamp: ts, purpose, consent: this.coverage(owner, processor, dataId, ts) },
          });
        }
        break;
      }
      case "DataShared": {
        const a = e.args;
        const owner = a.owner;
        const from = a.from;
        const to = a.to;
        const dataId = a.dataId.toLowerCase();
        const purpose = Number(a.purpose);
        for (const [party, role] of [
          [from, "sender"],
          [to, "recipient"],
        ] as const) {
          if (!this.allowed(owner, party, dataId, purpose, ts)) {
            out.push({
              rule: "share-without-consent",
              message: `${from} shared ${owner}'s data ${dataId} with ${to} for purpose ${purpose} at block ${e.blockNumber} but the ${role} ${party} had no live consent`,
              event: e,
              evidence: { timestamp: ts, purpose, role, consent: this.coverage(owner, party, dataId, ts) },
            });
          }
        }
        if (!this.integrationActive(to, purpose)) {
          const i = this.integrations.get(to);
          out.push({
            rule: "share-to-inactive-integration",
            message: `${from} shared ${owner}'s data with ${to} for purpose ${purpose} at block ${e.blockNumber} but ${to} was not an active integration for it`,
            event: e,
            evidence: {
              purpose,
              integration: i
                ? { status: i.status, purposes: i.purposes.toString(), since: i.since }
                : { status: "None" },
            },
          });
        }
        break;
      }
      case "ConsentGranted": {
        const a = e.args;
        const grantee = a.grantee;
        const dataId = a.dataId.toLowerCase();
        const purposes = uintArg(e, "purposes");
        const expiresAt = uintArg(e, "expiresAt");
        const owner = a.owner;
        // Judged against the state before the change (the keepable purposes of the live consent).
        const keepable = this.keepable(owner, grantee, dataId, expiresAt, ts);
        const { version, via } = this.consentChange(e, out);
        const signed = via === Via.Signature;
        const notGrantable = purposes & ~this.grantable & ~keepable;
        if (!signed && purposes === 0n) {
          out.push({
            rule: "empty-purposes",
            message: `grant by transaction for ${owner} → ${grantee} names no purpose, which the registry refuses`,
            event: e,
            evidence: { purposes: "0" },
          });
        }
        if (notGrantable !== 0n) {
          out.push({
            rule: "purpose-not-grantable",
            message:
              `grant for ${owner} → ${grantee} stored purposes ${purposes} of which ${notGrantable} were neither ` +
              `grantable at block ${e.blockNumber} nor kept from the live consent`,
            event: e,
            evidence: {
              purposes: purposes.toString(),
              grantable: this.grantable.toString(),
              keepable: keepable.toString(),
              notGrantable: notGrantable.toString(),
            },
          });
        }
        // A signed grant may be relayed after its expiry: the contract stores it, already expired.
        if (!signed && expiresAt !== 0n && expiresAt <= BigInt(ts)) {
          out.push({
            rule: "expiry-in-past",
            message: `grant by transaction for ${owner} expires at ${expiresAt}, not after its block time ${ts}`,
            event: e,
            evidence: { expiresAt: expiresAt.toString(), timestamp: ts },
          });
        }
        this.consents.set(key(owner, grantee, dataId), {
          owner,
          grantee,
          dataId,
          purposes,
          expiresAt,
          epoch: this.epochOf(owner),
          version,
          noticeHash: a.noticeHash,
          via,
          grantedBlock: e.blockNumber,
          grantedTx: e.txHash,
          grantedAt: ts,
        });
        break;
      }
      case "ConsentRevoked": {
        // Always succeeds, live consent or not: nothing to check beyond the common rules.
        const { k } = this.consentChange(e, out);
        this.consents.delete(k);
        break;
      }
      case "AllConsentsRevoked": {
        const a = e.args;
        const owner = a.owner;
        const via = Number(a.via);
        if (e.via !== undefined && e.via !== null && e.via !== via) {
          out.push({
            rule: "via-column-mismatch",
            message: `${e.name} for ${owner} is stored as via ${Via[e.via] ?? e.via} but the event says via ${Via[via] ?? via}`,
            event: e,
            evidence: { stored: e.via, derived: via },
          });
        }
        this.authorised(e, owner, via, out);
        const next = uintArg(e, "newEpoch");
        const expected = this.epochOf(owner) + 1n;
        if (next !== expected) {
          out.push({
            rule: "epoch-gap",
            message: `revoke-all for ${owner} moved to epoch ${next}, expected ${expected}`,
            event: e,
            evidence: { previousEpoch: (expected - 1n).toString(), newEpoch: next.toString() },
          });
        }
        // Consents and managers of older epochs are dead from here on (no per-manager event).
        this.epochs.set(owner, next);
        break;
      }
      case "ManagerSet": {
        const a = e.args;
        const owner = a.owner;
        const manager = a.manager;
        const approved = a.approved === true;
        if (manager === ZERO_ADDRESS || manager === owner) {
          out.push({
            rule: "invalid-manager",
            message: `${owner} set ${manager} as a manager, which the registry refuses (zero address or the owner itself)`,
            event: e,
            evidence: { owner, manager },
          });
        }
        if (this.isManager(owner, manager) === approved) {
          out.push({
            rule: "manager-unchanged",
            message: `ManagerSet(${owner}, ${manager}, ${approved}) changed nothing (${manager} ${approved ? "already was" : "was not"} a manager in epoch ${this.epochOf(owner)}), which the registry refuses`,
            event: e,
            evidence: { owner, manager, approved, ownerEpoch: this.epochOf(owner).toString() },
          });
        }
        const k = `${owner}|${manager}`;
        if (approved) this.managers.set(k, this.epochOf(owner));
        else this.managers.delete(k);
        break;
      }
      case "SignedRevokeFailed":
        // Changes no state: the item of a best-effort revokeBySigBatch that did not apply.
        // Whether it rightly failed is checked against its signed request in signatures.ts.
        break;
      case "PurposeDefined": {
        const a = e.args;
        const id = Number(a.id);
        const bit = 1n << BigInt(id);
        if (id > MAX_PURPOSE_ID || (this.defined & bit) !== 0n) {
          out.push({
            rule: "purpose-redefined",
            message: `purpose ${id} defined twice or out of range`,
            event: e,
            evidence: { id },
          });
        }
        this.defined |= bit;
        this.grantable |= bit;
        this.purposes.set(id, {
          id,
          metadataHash: a.metadataHash,
          deprecated: false,
          definedBlock: e.blockNumber,
        });
        break;
      }
      case "PurposeDeprecated": {
        const id = Number(e.args.id);
        this.grantable &= ~(1n << BigInt(id));
        const p = this.purposes.get(id);
        if (p) p.deprecated = true;
        break;
      }
      case "IntegrationRegistered":
      case "IntegrationUpdated": {
        const a = e.args;
        const addr = a.integration;
        const prev = this.integrations.get(addr);
        this.integrations.set(addr, {
          address: addr,
          status: e.name === "IntegrationRegistered" ? "Active" : (prev?.status ?? "Active"),
          purposes: BigInt(a.purposes),
          metadataHash: a.metadataHash,
          since: e.blockNumber,
        });
        break;
      }
      case "IntegrationSuspended":
      case "IntegrationReinstated": {
        const i = this.integrations.get(e.args.integration);
        if (i) {
          i.status = e.name === "IntegrationSuspended" ? "Suspended" : "Active";
          i.since = e.blockNumber;
        }
        break;
      }
      default:
        break;
    }
    return out;
  }
}
