import { ALL_DATA, MAX_PURPOSE_ID, Via } from "../sdk/constants.js";

/**
 * A second, independent implementation of the registry's rules, driven by events alone (it never
 * calls the contract). `apply` replays one event and returns the rule violations it shows;
 * `allowed` answers "was grantee allowed to use dataId for purpose" at the replayed point.
 *
 * Speed matters (1M events in seconds): state lives in Maps keyed by packed strings
 * (`owner|grantee|dataId`, all lowercase hex), bitmaps are bigints, times are numbers.
 */

export interface StoredConsent {
  owner: string;
  grantee: string;
  dataId: string;
  purposes: bigint;
  expiresAt: number;
  epoch: number;
  noticeHash: string;
  grantedBlock: number;
  grantedTx: string;
  grantedAt: number;
}

export interface IntegrationState {
  address: string;
  status: "Active" | "Suspended";
  purposes: bigint;
  metadataHash: string;
  since: number;
}

export interface PurposeState {
  id: number;
  metadataHash: string;
  deprecated: boolean;
  definedBlock: number;
}

/** One event as the replay sees it (a row of the `events` table). */
export interface ReplayEvent {
  blockNumber: number;
  logIndex: number;
  txHash: string;
  blockTimestamp: number;
  name: string;
  args: Record<string, string | boolean>;
}

export interface Violation {
  rule: string;
  message: string;
  event: ReplayEvent;
  /** The state the verifier saw when it judged the event. */
  evidence: Record<string, unknown>;
}

const ALL = ALL_DATA.toLowerCase();
const key = (owner: string, grantee: string, dataId: string) => `${owner}|${grantee}|${dataId}`;

export function consentView(c: StoredConsent | undefined, epoch: number, ts: number) {
  if (!c) return null;
  return {
    purposes: c.purposes.toString(),
    expiresAt: c.expiresAt,
    epoch: c.epoch,
    ownerEpoch: epoch,
    expired: c.expiresAt !== 0 && ts >= c.expiresAt,
    active: isActive(c, epoch, ts),
    grantedBlock: c.grantedBlock,
    grantedTx: c.grantedTx,
  };
}

function isActive(c: StoredConsent, epoch: number, ts: number): boolean {
  return c.epoch === epoch && (c.expiresAt === 0 || ts < c.expiresAt);
}

export class ConsentModel {
  readonly consents = new Map<string, StoredConsent>();
  readonly epochs = new Map<string, number>();
  readonly managers = new Set<string>();
  readonly integrations = new Map<string, IntegrationState>();
  readonly purposes = new Map<number, PurposeState>();
  grantable = 0n;
  defined = 0n;
  eventsApplied = 0;

  epochOf(owner: string): number {
    return this.epochs.get(owner) ?? 0;
  }

  isManager(owner: string, manager: string): boolean {
    return this.managers.has(`${owner}|${manager}`);
  }

  consent(owner: string, grantee: string, dataId: string): StoredConsent | undefined {
    return this.consents.get(key(owner, grantee, dataId));
  }

  /** The registry's `isAllowed` rule, evaluated at time `ts` (expired when ts >= expiresAt). */
  allowed(owner: string, grantee: string, dataId: string, purpose: number, ts: number): boolean {
    if (!Number.isInteger(purpose) || purpose < 0 || purpose > MAX_PURPOSE_ID) return false;
    const bit = 1n << BigInt(purpose);
    const epoch = this.epochOf(owner);
    const exact = this.consents.get(key(owner, grantee, dataId));
    if (exact && (exact.purposes & bit) !== 0n && isActive(exact, epoch, ts)) return true;
    if (dataId === ALL) return false;
    const all = this.consents.get(key(owner, grantee, ALL));
    return all !== undefined && (all.purposes & bit) !== 0n && isActive(all, epoch, ts);
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
    return {
      grantee,
      ownerEpoch: epoch,
      exact: consentView(this.consent(owner, grantee, dataId), epoch, ts),
      allData: dataId === ALL ? null : consentView(this.consent(owner, grantee, ALL), epoch, ts),
    };
  }

  private authorised(e: ReplayEvent, owner: string, out: Violation[]): void {
    const actor = e.args.actor as string;
    const via = Number(e.args.via);
    if (via === Via.Owner && actor !== owner) {
      out.push({
        rule: "actor-not-owner",
        message: `${e.name} for ${owner} says via Owner but was sent by ${actor}`,
        event: e,
        evidence: { owner, actor, via: "Owner" },
      });
    } else if (via === Via.Manager && !this.isManager(owner, actor)) {
      out.push({
        rule: "actor-not-manager",
        message: `${e.name} for ${owner} says via Manager but ${actor} was not a manager of ${owner} at block ${e.blockNumber}`,
        event: e,
        evidence: { owner, actor, via: "Manager", managerAtBlock: false },
      });
    } else if (via !== Via.Owner && via !== Via.Manager && via !== Via.Signature) {
      out.push({ rule: "unknown-via", message: `${e.name} has unknown via ${via}`, event: e, evidence: { via } });
    }
    // Via.Signature: the signature is not in the event; SignatureAudit (signatures.ts) checks it
    // against the signed request stored from the transaction's calldata.
  }

  /** Replays one event; returns the violations it shows (empty when it is consistent). */
  apply(e: ReplayEvent): Violation[] {
    const out: Violation[] = [];
    const a = e.args;
    const ts = e.blockTimestamp;
    this.eventsApplied++;
    switch (e.name) {
      case "DataUsed": {
        const owner = a.owner as string;
        const processor = a.processor as string;
        const dataId = a.dataId as string;
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
        const owner = a.owner as string;
        const from = a.from as string;
        const to = a.to as string;
        const dataId = a.dataId as string;
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
        const owner = a.owner as string;
        this.authorised(e, owner, out);
        const purposes = BigInt(a.purposes as string);
        const expiresAt = Number(a.expiresAt);
        const notGrantable = purposes & ~this.grantable;
        if (purposes === 0n || notGrantable !== 0n) {
          out.push({
            rule: "purpose-not-grantable",
            message: `grant by ${owner} names purposes ${purposes} of which ${notGrantable} were not grantable at block ${e.blockNumber}`,
            event: e,
            evidence: { purposes: purposes.toString(), grantable: this.grantable.toString() },
          });
        }
        if (expiresAt !== 0 && expiresAt <= ts) {
          out.push({
            rule: "expiry-in-past",
            message: `grant by ${owner} expires at ${expiresAt}, not after its block time ${ts}`,
            event: e,
            evidence: { expiresAt, timestamp: ts },
          });
        }
        const grantee = a.grantee as string;
        const dataId = a.dataId as string;
        this.consents.set(key(owner, grantee, dataId), {
          owner,
          grantee,
          dataId,
          purposes,
          expiresAt,
          epoch: this.epochOf(owner),
          noticeHash: a.noticeHash as string,
          grantedBlock: e.blockNumber,
          grantedTx: e.txHash,
          grantedAt: ts,
        });
        break;
      }
      case "ConsentRevoked": {
        const owner = a.owner as string;
        this.authorised(e, owner, out);
        const k = key(owner, a.grantee as string, a.dataId as string);
        const c = this.consents.get(k);
        if (!c || c.epoch !== this.epochOf(owner)) {
          out.push({
            rule: "revoke-without-consent",
            message: `revocation for ${owner} → ${String(a.grantee)} on ${String(a.dataId)} had no consent of the current epoch to revoke`,
            event: e,
            evidence: { consent: consentView(c, this.epochOf(owner), ts) },
          });
        }
        this.consents.delete(k);
        break;
      }
      case "AllConsentsRevoked": {
        const owner = a.owner as string;
        this.authorised(e, owner, out);
        const next = Number(a.newEpoch);
        const expected = this.epochOf(owner) + 1;
        if (next !== expected) {
          out.push({
            rule: "epoch-gap",
            message: `revoke-all for ${owner} moved to epoch ${next}, expected ${expected}`,
            event: e,
            evidence: { previousEpoch: expected - 1, newEpoch: next },
          });
        }
        this.epochs.set(owner, next);
        break;
      }
      case "ManagerSet": {
        const k = `${String(a.owner)}|${String(a.manager)}`;
        if (a.approved === true) this.managers.add(k);
        else this.managers.delete(k);
        break;
      }
      case "PurposeDefined": {
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
          metadataHash: a.metadataHash as string,
          deprecated: false,
          definedBlock: e.blockNumber,
        });
        break;
      }
      case "PurposeDeprecated": {
        const id = Number(a.id);
        this.grantable &= ~(1n << BigInt(id));
        const p = this.purposes.get(id);
        if (p) p.deprecated = true;
        break;
      }
      case "IntegrationRegistered":
      case "IntegrationUpdated": {
        const addr = a.integration as string;
        const prev = this.integrations.get(addr);
        this.integrations.set(addr, {
          address: addr,
          status: e.name === "IntegrationRegistered" ? "Active" : (prev?.status ?? "Active"),
          purposes: BigInt(a.purposes as string),
          metadataHash: a.metadataHash as string,
          since: e.blockNumber,
        });
        break;
      }
      case "IntegrationSuspended":
      case "IntegrationReinstated": {
        const i = this.integrations.get(a.integration as string);
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
