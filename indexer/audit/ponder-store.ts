import pg from "pg";

import type { ReplayEvent } from "../../src/audit/events.js";
import type {
  AuditStore,
  BlockHeader,
  BlockRef,
  ChainClaim,
  ChunkWrite,
  EventRow,
  ReplayQuery,
  ReplaySummary,
  SignedRequestRow,
  SyncMeta,
} from "../../src/audit/store.js";

/**
 * The audit store interface (src/audit/store.ts) read from the indexer's PostgreSQL tables, so
 * that `verifyHistory` (src/audit/verify.ts) runs unchanged over what Ponder indexed. Ponder's
 * `events` table has exactly the audit store's columns (ponder.schema.ts), so `replay` and
 * `eventsInRange` read it as the SQLite store reads its own.
 *
 * What Ponder does not keep, this store does not invent:
 * - no sync checkpoint (`meta` is undefined): Ponder's own checkpoint lives in its status table,
 *   and there is no log digest written by a sync to compare with. verify then reports
 *   integrity "self" with an empty digest and no finding: only the rules are checked;
 * - no signed requests (the relaying transactions' calldata): verify checks no signature
 *   (`signaturesChecked` 0), everything else about a signed change (its via, version, epoch,
 *   purposes) is judged by the rule model as for the auditor's store;
 * - no kept block headers: `knownBlocks` gives the event blocks' hashes.
 *
 * Read-only: the write methods refuse. Pages of 10,000 rows, in (block, log index) order.
 */
export class PonderAuditStore implements AuditStore {
  readonly dialect = "postgresql" as const;
  private readonly table: string;

  private constructor(
    private readonly pool: pg.Pool,
    schema: string,
  ) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(schema)) throw new Error(`schema: expected an SQL identifier, got ${schema}`);
    this.table = `"${schema}".events`;
  }

  /** Opens the store over the indexer's tables in `schema` of the database at `url`. */
  static async open(url: string, schema: string): Promise<PonderAuditStore> {
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    const store = new PonderAuditStore(pool, schema);
    try {
      await pool.query(`SELECT 1 FROM ${store.table} LIMIT 0`);
    } catch (err) {
      await pool.end();
      throw new Error(`no indexer events table ${store.table} in ${redact(url)}: ${(err as Error).message}`);
    }
    return store;
  }

  /** The chain ids the indexer holds rows of, ascending. */
  async chainIds(): Promise<number[]> {
    const r = await this.pool.query(`SELECT DISTINCT chain_id FROM ${this.table} ORDER BY chain_id`);
    return r.rows.map((x) => Number(x.chain_id));
  }

  async meta(): Promise<SyncMeta | undefined> {
    return undefined;
  }

  /** No chain has a sync checkpoint here (see `chainIds` for the chains indexed). */
  async chains(): Promise<SyncMeta[]> {
    return [];
  }

  async claimChain(): Promise<ChainClaim> {
    return readOnly();
  }

  async countEvents(chainId: number): Promise<number> {
    const r = await this.pool.query(`SELECT count(*) AS n FROM ${this.table} WHERE chain_id = $1`, [chainId]);
    return Number(r.rows[0].n);
  }

  async startSync(): Promise<number> {
    return readOnly();
  }
  async commitChunk(_chunk: ChunkWrite): Promise<number> {
    return readOnly();
  }
  async rewind(): Promise<void> {
    return readOnly();
  }

  async digestAt(): Promise<string | undefined> {
    return undefined;
  }

  async knownBlocks(chainId: number, below: number): Promise<BlockRef[]> {
    const r = await this.pool.query(
      `SELECT DISTINCT block_number, block_hash FROM ${this.table} WHERE chain_id = $1 AND block_number <= $2 ORDER BY block_number`,
      [chainId, below],
    );
    return r.rows.map((x) => ({ number: Number(x.block_number), hash: String(x.block_hash) }));
  }

  async blockTimestamp(chainId: number, block: number): Promise<number | undefined> {
    const r = await this.pool.query(
      `SELECT block_timestamp FROM ${this.table} WHERE chain_id = $1 AND block_number = $2 LIMIT 1`,
      [chainId, block],
    );
    return r.rowCount === 0 ? undefined : Number(r.rows[0].block_timestamp);
  }

  /** With `owner`: its events and those naming no owner, through the `owner` index (ownerScoped). */
  async replay(q: ReplayQuery, visit: (e: ReplayEvent, row?: EventRow) => void): Promise<ReplaySummary> {
    let events = 0;
    let lastBlock = -1;
    let lastTimestamp = 0;
    const toBlock = q.toBlock ?? Number.MAX_SAFE_INTEGER;
    let after: [number, number] = [-1, -1];
    for (;;) {
      const page = await this.pool.query(
        `SELECT ${COLUMNS} FROM ${this.table}
         WHERE chain_id = $1 AND block_number <= $2 AND (block_number, log_index) > ($3, $4)
           ${q.owner === undefined ? "" : "AND (owner = $5 OR owner IS NULL)"}
         ORDER BY block_number, log_index LIMIT ${PAGE}`,
        [q.chainId, toBlock, after[0], after[1], ...(q.owner === undefined ? [] : [q.owner.toLowerCase()])],
      );
      for (const raw of page.rows) {
        const row = eventRow(raw);
        events++;
        lastBlock = row.block_number;
        lastTimestamp = row.block_timestamp;
        const e = {
          blockNumber: row.block_number,
          logIndex: row.log_index,
          txHash: row.tx_hash,
          name: row.event_name,
          args: JSON.parse(row.args_json),
          blockTimestamp: row.block_timestamp,
          via: row.via,
        } as ReplayEvent;
        if (q.rows) visit(e, row);
        else visit(e);
        after = [row.block_number, row.log_index];
      }
      if (page.rows.length < PAGE) break;
    }
    if (q.owner !== undefined) {
      // Owner-scoped: the summary's last block and time are still the chain's.
      const last = await this.pool.query(
        `SELECT block_number, block_timestamp FROM ${this.table} WHERE chain_id = $1 AND block_number <= $2
         ORDER BY block_number DESC, log_index DESC LIMIT 1`,
        [q.chainId, toBlock],
      );
      if (last.rowCount !== 0) {
        lastBlock = Number(last.rows[0].block_number);
        lastTimestamp = Number(last.rows[0].block_timestamp);
      }
    }
    return { chainId: q.chainId, events, lastBlock, lastTimestamp };
  }

  async eventsInRange(chainId: number, from: number, to: number): Promise<EventRow[]> {
    const r = await this.pool.query(
      `SELECT ${COLUMNS} FROM ${this.table} WHERE chain_id = $1 AND block_number >= $2 AND block_number <= $3
       ORDER BY block_number, log_index`,
      [chainId, from, to],
    );
    return r.rows.map(eventRow);
  }

  async blockDigests(): Promise<{ block: number; digest: string }[]> {
    return [];
  }

  async keptHeaders(): Promise<BlockHeader[]> {
    return [];
  }

  async signedRequests(): Promise<SignedRequestRow[]> {
    return [];
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  /** The same as `close`. */
  async end(): Promise<void> {
    await this.close();
  }
}

const PAGE = 10_000;

const COLUMNS =
  "chain_id, block_number, block_hash, log_index, tx_hash, address, event_name, args_json, block_timestamp, via, version";

function eventRow(r: Record<string, unknown>): EventRow {
  return {
    chain_id: Number(r.chain_id),
    block_number: Number(r.block_number),
    block_hash: String(r.block_hash),
    log_index: Number(r.log_index),
    tx_hash: String(r.tx_hash),
    address: String(r.address),
    event_name: String(r.event_name),
    args_json: String(r.args_json),
    block_timestamp: Number(r.block_timestamp),
    via: r.via === null ? null : Number(r.via),
    version: r.version === null ? null : String(r.version),
  };
}

function readOnly(): never {
  throw new Error("the indexer's tables are written by Ponder only: this audit store is read-only");
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(the database URL)";
  }
}
