import { maskToPurposes, purposeName } from "../sdk/purposes.js";
import { ConsentModel } from "./model.js";
import { replayEvents } from "./replay.js";
import { type AuditStore, defaultChainId } from "./store.js";

export interface ConsentAtBlock {
  owner: string;
  grantee: string;
  dataId: string;
  purposes: number[];
  purposeNames: string[];
  /** Exact (uint40 in the ABI; a bigint so that no stored value is ever rounded). 0 = never. */
  expiresAt: bigint;
  epoch: bigint;
  /** The key's version after the grant (see IConsentRegistry). */
  version: bigint;
  active: boolean;
  noticeHash: string;
  grantedBlock: number;
  grantedTx: string;
}

/** What the registry's `getConsent` returns for a key, rebuilt from events. */
export interface ConsentRecord {
  purposes: bigint;
  expiresAt: bigint;
  epoch: bigint;
  version: bigint;
  active: boolean;
}

/** Latest unix time in seconds that a JS Date can show (8.64e15 ms). */
const MAX_DATE_SECONDS = 8_640_000_000_000n;

/** An expiry in words: "never", an ISO time, or the exact unix time when no date can show it. */
export function expiryText(expiresAt: bigint): string {
  if (expiresAt === 0n) return "never";
  if (expiresAt > MAX_DATE_SECONDS) return `unix time ${expiresAt} (after the year 275760)`;
  return new Date(Number(expiresAt) * 1000).toISOString();
}

/** The registry's state rebuilt from events alone, as of the end of `block`. */
export class AuditState {
  constructor(
    readonly chainId: number,
    readonly block: number,
    /** The time "active" is judged at: the block's timestamp (or the given one). */
    readonly timestamp: number,
    readonly model: ConsentModel,
  ) {}

  /** The registry's isAllowed rule at this block (optionally at another time). */
  isAllowed(owner: string, grantee: string, dataId: string, purpose: number, timestamp = this.timestamp): boolean {
    return this.model.allowed(owner.toLowerCase(), grantee.toLowerCase(), dataId.toLowerCase(), purpose, timestamp);
  }

  /** The registry's getConsent for the exact key (a revoked or never-changed key has purposes 0). */
  consent(owner: string, grantee: string, dataId: string): ConsentRecord {
    const [o, g, d] = [owner.toLowerCase(), grantee.toLowerCase(), dataId.toLowerCase()];
    const c = this.model.consent(o, g, d);
    return {
      purposes: c?.purposes ?? 0n,
      expiresAt: c?.expiresAt ?? 0n,
      epoch: c?.epoch ?? 0n,
      version: this.model.versionOf(o, g, d),
      active: this.model.isActive(c, this.timestamp),
    };
  }

  epochOf(owner: string): bigint {
    return this.model.epochOf(owner.toLowerCase());
  }

  /** Whether `manager` was a manager of `owner` (appointed in the owner's current epoch). */
  isManager(owner: string, manager: string): boolean {
    return this.model.isManager(owner.toLowerCase(), manager.toLowerCase());
  }

  consents(): ConsentAtBlock[] {
    const out: ConsentAtBlock[] = [];
    for (const c of this.model.consents.values()) {
      const ids = maskToPurposes(c.purposes);
      out.push({
        owner: c.owner,
        grantee: c.grantee,
        dataId: c.dataId,
        purposes: ids,
        purposeNames: ids.map(purposeName),
        expiresAt: c.expiresAt,
        epoch: c.epoch,
        version: c.version,
        active: this.model.isActive(c, this.timestamp),
        noticeHash: c.noticeHash,
        grantedBlock: c.grantedBlock,
        grantedTx: c.grantedTx,
      });
    }
    return out;
  }

  /** JSON-safe: expiresAt, epochs and versions as exact decimal strings. */
  toJSON() {
    return {
      chainId: this.chainId,
      block: this.block,
      timestamp: this.timestamp,
      consents: this.consents().map((c) => ({
        ...c,
        expiresAt: c.expiresAt.toString(),
        epoch: c.epoch.toString(),
        version: c.version.toString(),
      })),
      epochs: Object.fromEntries([...this.model.epochs].map(([o, e]) => [o, e.toString()])),
      /** Current managers only: a lockdown ended those appointed in earlier epochs. */
      managers: this.model.currentManagers(),
      integrations: [...this.model.integrations.values()].map((i) => ({
        address: i.address,
        status: i.status,
        purposes: maskToPurposes(i.purposes),
        metadataHash: i.metadataHash,
        since: i.since,
      })),
      purposes: [...this.model.purposes.values()]
        .sort((x, y) => x.id - y.id)
        .map((p) => ({ ...p, name: purposeName(p.id) })),
    };
  }
}

/**
 * Rebuilds the state at the end of `block` (default: the sync checkpoint) from the events table.
 * Refuses a block past the last synced one (its events are not in the database). Expiry is
 * judged at that block's timestamp when known (kept block headers or events), else at the newest
 * event time at or before it; pass `timestamp` to choose another time.
 */
export async function stateAt(
  store: AuditStore,
  block?: number,
  opts: { chainId?: number; timestamp?: number } = {},
): Promise<AuditState> {
  const chainId = opts.chainId ?? (await defaultChainId(store));
  const meta = chainId === undefined ? undefined : await store.meta(chainId);
  if (block !== undefined && meta !== undefined && block > meta.blockNumber) {
    throw new Error(
      `block ${block} is past the last synced block ${meta.blockNumber} of chain ${meta.chainId}: the database does not know what happened after it; run \`omni-consent audit sync\` first, or ask for a block up to ${meta.blockNumber}`,
    );
  }
  const model = new ConsentModel();
  const r = await replayEvents(store, (e) => void model.apply(e), { chainId, toBlock: block });
  const at = block ?? meta?.blockNumber ?? r.lastBlock;
  const ts = opts.timestamp ?? (await store.blockTimestamp(r.chainId, at)) ?? r.lastTimestamp;
  return new AuditState(r.chainId, at, ts, model);
}
