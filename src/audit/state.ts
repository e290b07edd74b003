import { maskToPurposes, purposeName } from "../sdk/purposes.js";
import { type AuditDb, readSyncMeta } from "./db.js";
import { ConsentModel } from "./model.js";
import { replayEvents } from "./replay.js";

export interface ConsentAtBlock {
  owner: string;
  grantee: string;
  dataId: string;
  purposes: number[];
  purposeNames: string[];
  expiresAt: number;
  epoch: number;
  active: boolean;
  noticeHash: string;
  grantedBlock: number;
  grantedTx: string;
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

  consents(): ConsentAtBlock[] {
    const out: ConsentAtBlock[] = [];
    for (const c of this.model.consents.values()) {
      const epoch = this.model.epochOf(c.owner);
      const ids = maskToPurposes(c.purposes);
      out.push({
        owner: c.owner,
        grantee: c.grantee,
        dataId: c.dataId,
        purposes: ids,
        purposeNames: ids.map(purposeName),
        expiresAt: c.expiresAt,
        epoch: c.epoch,
        active: c.epoch === epoch && (c.expiresAt === 0 || this.timestamp < c.expiresAt),
        noticeHash: c.noticeHash,
        grantedBlock: c.grantedBlock,
        grantedTx: c.grantedTx,
      });
    }
    return out;
  }

  toJSON() {
    return {
      chainId: this.chainId,
      block: this.block,
      timestamp: this.timestamp,
      consents: this.consents(),
      epochs: Object.fromEntries(this.model.epochs),
      managers: [...this.model.managers].map((k) => {
        const [owner, manager] = k.split("|");
        return { owner, manager };
      }),
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
 * Expiry is judged at that block's timestamp when known (kept block headers or events), else at
 * the newest event time at or before it; pass `timestamp` to choose another time.
 */
export function stateAt(db: AuditDb, block?: number, opts: { chainId?: number; timestamp?: number } = {}): AuditState {
  const model = new ConsentModel();
  const r = replayEvents(db, (e) => void model.apply(e), { chainId: opts.chainId, toBlock: block });
  const at = block ?? readSyncMeta(db, r.chainId)?.blockNumber ?? r.lastBlock;
  let ts = opts.timestamp;
  if (ts === undefined) {
    const known = db
      .prepare("SELECT block_timestamp FROM block_hashes WHERE chain_id = ? AND block_number = ?")
      .get(r.chainId, at) as { block_timestamp: number } | undefined;
    ts = known?.block_timestamp ?? r.lastTimestamp;
  }
  return new AuditState(r.chainId, at, ts, model);
}
