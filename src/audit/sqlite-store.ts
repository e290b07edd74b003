// Over 450 lines on purpose: the whole AuditStore interface in SQLite's SQL. One store module owns
// all of a backend's SQL (docs/AUDIT.md), so a schema change is reviewed in one file.

import { createRequire } from "node:module";
import { hostname } from "node:os";

import type { ReplayEvent } from "./events.js";
import {
  AUDIT_SCHEMA_VERSION,
  type AuditStore,
  type BlockHeader,
  type BlockRef,
  ChainBusyError,
  type ChainClaim,
  type ChunkWrite,
  type EventRow,
  type ReplayQuery,
  type ReplayRow,
  type ReplaySummary,
  type SignedRequestRow,
  type SyncMeta,
  visitReplayRow,
} from "./store.js";

/**
 * The SQLite audit store (the default), over better-sqlite3. This file owns every SQL statement
 * of the auditor. The SQL is kept portable — plain types, `ON CONFLICT … DO NOTHING / DO
 * UPDATE`, no SQLite-only functions in queries — so the PostgreSQL store (issue 14) can use the
 * same schema and statements with INTEGER→BIGINT; SQLite-only settings (WAL, `user_version`,
 * `serialize`) stay in this file.
 *
 * better-sqlite3 is loaded when a store is opened, not when `omnitensor-consent/audit` is
 * imported, and its types never appear in the public declarations: the SDK needs no native
 * module, and a strict consumer (`skipLibCheck: false`) needs no @types/better-sqlite3.
 */

/** The part of a better-sqlite3 statement the auditor (and its tests) use. */
export interface SqliteStatement {
  run(...params: unknown[]): { changes: number };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  iterate(...params: unknown[]): IterableIterator<unknown>;
  raw(toggle?: boolean): SqliteStatement;
}

/** The part of a better-sqlite3 connection the auditor (and its tests, to forge rows) use. */
export interface SqliteConnection {
  prepare(sql: string): SqliteStatement;
  exec(sql: string): unknown;
  pragma(source: string, options?: { simple?: boolean }): unknown;
  transaction<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R;
  serialize(): Uint8Array;
  close(): void;
}

type SqliteConstructor = new (source: string | Uint8Array, options?: { readonly?: boolean }) => SqliteConnection;

let driver: SqliteConstructor | undefined;

/** better-sqlite3, loaded on first use; a clear error naming the package when it is not installed. */
function sqlite(): SqliteConstructor {
  if (driver) return driver;
  try {
    driver = createRequire(import.meta.url)("better-sqlite3") as SqliteConstructor;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "MODULE_NOT_FOUND" || code === "ERR_MODULE_NOT_FOUND") {
      throw new Error(
        "the audit store needs the better-sqlite3 package (a native SQLite module, an optional peer dependency of omnitensor-consent): run `npm install better-sqlite3`",
        { cause: err },
      );
    }
    throw err;
  }
  return driver;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  chain_id        INTEGER NOT NULL,
  block_number    INTEGER NOT NULL,
  block_hash      TEXT    NOT NULL,
  log_index       INTEGER NOT NULL,
  tx_hash         TEXT    NOT NULL,
  address         TEXT    NOT NULL,
  event_name      TEXT    NOT NULL,
  args_json       TEXT    NOT NULL,
  block_timestamp INTEGER NOT NULL,
  via             INTEGER,
  version         TEXT,
  UNIQUE (chain_id, block_number, log_index)
);
-- events_by_name (chain_id, event_name) was never read, and every insert paid for it.
DROP INDEX IF EXISTS events_by_name;
CREATE TABLE IF NOT EXISTS sync_state (
  chain_id     INTEGER NOT NULL PRIMARY KEY,
  registry     TEXT    NOT NULL,
  integrations TEXT    NOT NULL,
  authority    TEXT    NOT NULL,
  genesis_hash TEXT    NOT NULL,
  from_block   INTEGER NOT NULL,
  block_number INTEGER NOT NULL,
  block_hash   TEXT    NOT NULL,
  digest       TEXT    NOT NULL
);
CREATE TABLE IF NOT EXISTS log_blocks (
  chain_id     INTEGER NOT NULL,
  block_number INTEGER NOT NULL,
  digest       TEXT    NOT NULL,
  PRIMARY KEY (chain_id, block_number)
);
CREATE TABLE IF NOT EXISTS block_hashes (
  chain_id        INTEGER NOT NULL,
  block_number    INTEGER NOT NULL,
  block_hash      TEXT    NOT NULL,
  block_timestamp INTEGER NOT NULL,
  PRIMARY KEY (chain_id, block_number)
);
CREATE TABLE IF NOT EXISTS signed_requests (
  chain_id      INTEGER NOT NULL,
  block_number  INTEGER NOT NULL,
  tx_hash       TEXT    NOT NULL,
  item_index    INTEGER NOT NULL,
  kind          TEXT    NOT NULL,
  owner         TEXT    NOT NULL,
  args_json     TEXT    NOT NULL,
  epoch         TEXT,
  version       TEXT,
  deadline      TEXT,
  signature     TEXT,
  erc1271_valid INTEGER,
  UNIQUE (chain_id, tx_hash, item_index)
);
CREATE INDEX IF NOT EXISTS signed_requests_by_block ON signed_requests (chain_id, block_number);
CREATE INDEX IF NOT EXISTS events_by_owner ON events (chain_id, json_extract(args_json, '$.owner'));
CREATE TABLE IF NOT EXISTS sync_owner (
  chain_id INTEGER NOT NULL PRIMARY KEY,
  pid      INTEGER NOT NULL,
  host     TEXT    NOT NULL,
  since    INTEGER NOT NULL
);
`;

const TABLES = ["events", "signed_requests", "block_hashes", "log_blocks", "sync_state"] as const;

/** Whether process `pid` of this host is alive (EPERM: alive, someone else's). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === "EPERM";
  }
}

export interface SyncStateRow {
  chain_id: number;
  registry: string;
  integrations: string;
  authority: string;
  genesis_hash: string;
  from_block: number;
  block_number: number;
  block_hash: string;
  digest: string;
}

/** A sync_state row (either store) as the interface's SyncMeta. */
export function metaOf(row: SyncStateRow): SyncMeta {
  return {
    chainId: row.chain_id,
    registry: row.registry,
    integrations: row.integrations,
    authority: row.authority,
    genesisHash: row.genesis_hash,
    fromBlock: row.from_block,
    blockNumber: row.block_number,
    blockHash: row.block_hash,
    digest: row.digest,
  };
}

const EVENT_COLUMNS =
  "chain_id, block_number, block_hash, log_index, tx_hash, address, event_name, args_json, block_timestamp, via, version";

/** The SQLite implementation of the audit store. `sql` is the connection (tests forge rows through it). */
export class SqliteAuditStore implements AuditStore {
  readonly dialect = "sqlite" as const;
  private readonly stmts;

  constructor(readonly sql: SqliteConnection) {
    const db = sql;
    this.stmts = {
      insertEvent: db.prepare(
        `INSERT INTO events (chain_id, block_number, block_hash, log_index, tx_hash, address, event_name, args_json, block_timestamp, via, version)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      ),
      insertSigned: db.prepare(
        `INSERT INTO signed_requests
         (chain_id, block_number, tx_hash, item_index, kind, owner, args_json, epoch, version, deadline, signature, erc1271_valid)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      ),
      insertHash: db.prepare(
        `INSERT INTO block_hashes (chain_id, block_number, block_hash, block_timestamp) VALUES (?, ?, ?, ?)
         ON CONFLICT (chain_id, block_number) DO UPDATE SET block_hash = excluded.block_hash, block_timestamp = excluded.block_timestamp`,
      ),
      pruneHashes: db.prepare(
        `DELETE FROM block_hashes WHERE chain_id = ? AND block_number < (
           SELECT MIN(block_number) FROM (SELECT block_number FROM block_hashes WHERE chain_id = ? ORDER BY block_number DESC LIMIT ?) AS recent)`,
      ),
      setCheckpoint: db.prepare(
        "UPDATE sync_state SET block_number = ?, block_hash = ?, digest = ? WHERE chain_id = ?",
      ),
      insertDigest: db.prepare(
        `INSERT INTO log_blocks (chain_id, block_number, digest) VALUES (?, ?, ?)
         ON CONFLICT (chain_id, block_number) DO UPDATE SET digest = excluded.digest`,
      ),
      digestAt: db.prepare(
        `SELECT digest FROM log_blocks WHERE chain_id = ? AND block_number <= ? ORDER BY block_number DESC LIMIT 1`,
      ),
      digests: db
        .prepare(
          "SELECT block_number, digest FROM log_blocks WHERE chain_id = ? AND block_number <= ? ORDER BY block_number",
        )
        .raw(true),
      range: db.prepare(
        `SELECT ${EVENT_COLUMNS} FROM events WHERE chain_id = ? AND block_number >= ? AND block_number <= ? ORDER BY block_number, log_index`,
      ),
      kept: db
        .prepare(
          "SELECT block_number, block_hash, block_timestamp FROM block_hashes WHERE chain_id = ? AND block_number <= ? ORDER BY block_number",
        )
        .raw(true),
      metaOf: db.prepare("SELECT * FROM sync_state WHERE chain_id = ?"),
      firstMeta: db.prepare("SELECT * FROM sync_state ORDER BY chain_id LIMIT 1"),
      allMeta: db.prepare("SELECT * FROM sync_state ORDER BY chain_id"),
      owner: db.prepare("SELECT pid, host, since FROM sync_owner WHERE chain_id = ?"),
      setOwner: db.prepare(
        `INSERT INTO sync_owner (chain_id, pid, host, since) VALUES (?, ?, ?, ?)
         ON CONFLICT (chain_id) DO UPDATE SET pid = excluded.pid, host = excluded.host, since = excluded.since`,
      ),
      dropOwner: db.prepare("DELETE FROM sync_owner WHERE chain_id = ? AND pid = ? AND host = ?"),
      last: db
        .prepare(
          "SELECT block_number, block_timestamp FROM events WHERE chain_id = ? AND block_number <= ? ORDER BY block_number DESC, log_index DESC LIMIT 1",
        )
        .raw(true),
      count: db.prepare("SELECT COUNT(*) AS n FROM events WHERE chain_id = ?"),
      replay: db
        .prepare(
          `SELECT block_number, log_index, tx_hash, event_name, args_json, block_timestamp, via, block_hash, address, version FROM events
           WHERE chain_id = ? AND block_number <= ? ORDER BY block_number, log_index`,
        )
        .raw(true),
      replayOwner: db
        .prepare(
          // Two lookups of the owner index, named: without statistics SQLite prefers the primary key
          // (it gives the order) and reads the whole chain.
          `SELECT * FROM (
             SELECT block_number, log_index, tx_hash, event_name, args_json, block_timestamp, via, block_hash, address, version
               FROM events INDEXED BY events_by_owner WHERE chain_id = ? AND json_extract(args_json, '$.owner') = ? AND block_number <= ?
             UNION ALL
             SELECT block_number, log_index, tx_hash, event_name, args_json, block_timestamp, via, block_hash, address, version
               FROM events INDEXED BY events_by_owner WHERE chain_id = ? AND json_extract(args_json, '$.owner') IS NULL AND block_number <= ?
           ) ORDER BY block_number, log_index`,
        )
        .raw(true),
      signed: db.prepare(
        `SELECT * FROM signed_requests WHERE chain_id = ? AND block_number <= ? ORDER BY block_number, tx_hash, item_index`,
      ),
      timestamp: db.prepare("SELECT block_timestamp FROM block_hashes WHERE chain_id = ? AND block_number = ?"),
      known: db.prepare(
        `SELECT block_number, block_hash FROM block_hashes WHERE chain_id = ? AND block_number <= ?
         UNION SELECT DISTINCT block_number, block_hash FROM events WHERE chain_id = ? AND block_number <= ?
         ORDER BY block_number`,
      ),
      insertMeta: db.prepare(
        `INSERT INTO sync_state (chain_id, registry, integrations, authority, genesis_hash, from_block, block_number, block_hash, digest)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      deleteAbove: Object.fromEntries(
        TABLES.filter((t) => t !== "sync_state").map((t) => [
          t,
          db.prepare(`DELETE FROM ${t} WHERE chain_id = ? AND block_number > ?`),
        ]),
      ),
      deleteChain: Object.fromEntries(TABLES.map((t) => [t, db.prepare(`DELETE FROM ${t} WHERE chain_id = ?`)])),
    };
  }

  async meta(chainId?: number): Promise<SyncMeta | undefined> {
    const row = (chainId === undefined ? this.stmts.firstMeta.get() : this.stmts.metaOf.get(chainId)) as
      SyncStateRow | undefined;
    return row ? metaOf(row) : undefined;
  }

  async chains(): Promise<SyncMeta[]> {
    return (this.stmts.allMeta.all() as SyncStateRow[]).map(metaOf);
  }

  /**
   * A lease row per chain (pid and host of the sync): taken in one write transaction, so of two
   * syncs starting together one wins; a lease whose process is gone (kill -9) is taken over, a
   * live one is not (a second sync in the same process is refused too). A lease of another host
   * (a database file on a shared disk) is never taken over.
   */
  async claimChain(chainId: number): Promise<ChainClaim> {
    const host = hostname();
    const take = this.sql.transaction(() => {
      const held = this.stmts.owner.get(chainId) as { pid: number; host: string; since: number } | undefined;
      if (held && !(held.host === host && !alive(held.pid))) {
        throw new ChainBusyError(
          chainId,
          `process ${held.pid} on ${held.host === host ? "this host" : `host ${held.host}`}, since ${new Date(held.since).toISOString()}`,
        );
      }
      this.stmts.setOwner.run(chainId, process.pid, host, Date.now());
    });
    // IMMEDIATE: the write lock is taken before the read, so two claims cannot both read "free".
    (take as unknown as { immediate: () => void }).immediate();
    return {
      release: async () => void this.stmts.dropOwner.run(chainId, process.pid, host),
    };
  }

  async countEvents(chainId: number): Promise<number> {
    return (this.stmts.count.get(chainId) as { n: number }).n;
  }

  async startSync(meta: SyncMeta, reset: boolean): Promise<number> {
    return this.sql.transaction(() => {
      let n = 0;
      if (reset) {
        n = (this.stmts.count.get(meta.chainId) as { n: number }).n;
        for (const t of TABLES) this.stmts.deleteChain[t].run(meta.chainId);
      }
      this.stmts.insertMeta.run(
        meta.chainId,
        meta.registry,
        meta.integrations,
        meta.authority,
        meta.genesisHash,
        meta.fromBlock,
        meta.blockNumber,
        meta.blockHash,
        meta.digest,
      );
      return n;
    })();
  }

  async commitChunk(c: ChunkWrite): Promise<number> {
    const s = this.stmts;
    return this.sql.transaction(() => {
      let inserted = 0;
      for (const r of c.events) {
        inserted += s.insertEvent.run(
          r.chain_id,
          r.block_number,
          r.block_hash,
          r.log_index,
          r.tx_hash,
          r.address,
          r.event_name,
          r.args_json,
          r.block_timestamp,
          r.via,
          r.version,
        ).changes;
      }
      for (const r of c.signed) {
        s.insertSigned.run(
          r.chain_id,
          r.block_number,
          r.tx_hash,
          r.item_index,
          r.kind,
          r.owner,
          r.args_json,
          r.epoch,
          r.version,
          r.deadline,
          r.signature,
          r.erc1271_valid,
        );
      }
      for (const h of c.headers) s.insertHash.run(c.chainId, h.number, h.hash, h.timestamp);
      for (const d of c.blockDigests) s.insertDigest.run(c.chainId, d.block, d.digest);
      s.pruneHashes.run(c.chainId, c.chainId, c.keepHashes);
      s.setCheckpoint.run(c.checkpoint.number, c.checkpoint.hash, c.digest, c.chainId);
      return inserted;
    })();
  }

  async rewind(chainId: number, ancestor: BlockRef, digest: string): Promise<void> {
    this.sql.transaction(() => {
      for (const stmt of Object.values(this.stmts.deleteAbove)) stmt.run(chainId, ancestor.number);
      this.stmts.setCheckpoint.run(ancestor.number, ancestor.hash, digest, chainId);
    })();
  }

  async digestAt(chainId: number, block: number): Promise<string | undefined> {
    return (this.stmts.digestAt.get(chainId, block) as { digest: string } | undefined)?.digest;
  }

  async eventsInRange(chainId: number, from: number, to: number): Promise<EventRow[]> {
    return this.stmts.range.all(chainId, from, to) as EventRow[];
  }

  async blockDigests(chainId: number, toBlock?: number): Promise<{ block: number; digest: string }[]> {
    return (this.stmts.digests.all(chainId, toBlock ?? Number.MAX_SAFE_INTEGER) as [number, string][]).map(
      ([block, digest]) => ({ block, digest }),
    );
  }

  async keptHeaders(chainId: number, toBlock?: number): Promise<BlockHeader[]> {
    return (this.stmts.kept.all(chainId, toBlock ?? Number.MAX_SAFE_INTEGER) as [number, string, number][]).map(
      ([number, hash, timestamp]) => ({ number, hash, timestamp }),
    );
  }

  async knownBlocks(chainId: number, below: number): Promise<BlockRef[]> {
    return (this.stmts.known.all(chainId, below, chainId, below) as { block_number: number; block_hash: string }[]).map(
      (r) => ({ number: r.block_number, hash: r.block_hash }),
    );
  }

  async blockTimestamp(chainId: number, block: number): Promise<number | undefined> {
    return (this.stmts.timestamp.get(chainId, block) as { block_timestamp: number } | undefined)?.block_timestamp;
  }

  async replay(q: ReplayQuery, visit: (e: ReplayEvent, row?: EventRow) => void): Promise<ReplaySummary> {
    let events = 0;
    let lastBlock = -1;
    let lastTimestamp = 0;
    const to = q.toBlock ?? Number.MAX_SAFE_INTEGER;
    const rows = (
      q.owner === undefined
        ? this.stmts.replay.iterate(q.chainId, to)
        : this.stmts.replayOwner.iterate(q.chainId, q.owner, to, q.chainId, to)
    ) as IterableIterator<ReplayRow>;
    for (const row of rows) {
      events++;
      lastBlock = row[0];
      lastTimestamp = row[5];
      visitReplayRow(row, q.chainId, q.rows, visit);
    }
    if (q.owner !== undefined) {
      // The report's "now" is the chain's last event, not the owner's.
      const last = this.stmts.last.get(q.chainId, to) as [number, number] | undefined;
      if (last) [lastBlock, lastTimestamp] = last;
    }
    return { chainId: q.chainId, events, lastBlock, lastTimestamp };
  }

  async signedRequests(chainId: number, toBlock?: number): Promise<SignedRequestRow[]> {
    return this.stmts.signed.all(chainId, toBlock ?? Number.MAX_SAFE_INTEGER) as SignedRequestRow[];
  }

  close(): void {
    this.sql.close();
  }
}

/**
 * Opens (creating if needed) a SQLite audit store in WAL mode with the schema in place: a file
 * path, ":memory:", or the bytes of a serialized database (an in-memory copy). Throws, without
 * changing the file, for a database of another schema version (see AUDIT_SCHEMA_VERSION).
 */
export function openAuditDb(source: string | Uint8Array): SqliteAuditStore {
  const Database = sqlite();
  const db = new Database(source);
  const name = typeof source === "string" ? source : "the serialized database";
  try {
    const found = db.pragma("user_version", { simple: true }) as number;
    const tables = (db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number })
      .n;
    if (found !== AUDIT_SCHEMA_VERSION && (tables !== 0 || found !== 0)) {
      const what =
        found === 0
          ? "an auditor for registry 1.x (audit schema 1: events with nonces and a via field)"
          : found === 2
            ? "audit schema 2 (no log digest)"
            : `audit schema ${found}`;
      throw new Error(
        `${name} was written by ${what}; this auditor reads audit schema ${AUDIT_SCHEMA_VERSION} (registry 2.0.0) only and does not convert databases of other schemas: sync into a new --db`,
      );
    }
    db.pragma("journal_mode = WAL");
    // NORMAL is durable across process crashes (kill -9) in WAL mode; only an OS crash may lose
    // the last commits, which the next sync simply fetches again.
    db.pragma("synchronous = NORMAL");
    db.exec(SCHEMA);
    db.pragma(`user_version = ${AUDIT_SCHEMA_VERSION}`);
    return new SqliteAuditStore(db);
  } catch (err) {
    db.close();
    throw err;
  }
}
