// Over 450 lines on purpose: the whole AuditStore interface in PostgreSQL's SQL. One store module
// owns all of a backend's SQL (docs/AUDIT.md), so a schema change is reviewed in one file.

import { createRequire } from "node:module";
import { hostname } from "node:os";

import type { ReplayEvent } from "./events.js";
import { metaOf, type SyncStateRow } from "./sqlite-store.js";
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
 * The PostgreSQL audit store, over node-postgres (`pg`): the same tables, columns and keys as the
 * SQLite store (INTEGER → BIGINT where a value may pass 2^31), for many chains, many readers and
 * tens of millions of events; `audit sync --db postgres://…`.
 *
 * - Writes: one transaction per chunk, each table written by ONE multi-row statement over
 *   `unnest` of column arrays (no per-row round trip; ~2000 rows per chunk).
 * - Reads: replay is a server-side cursor fetched in pages inside a read-only transaction (one
 *   sort-free pass over the primary key, bounded memory); a store opened with `snapshot` runs
 *   every read of its life in one REPEATABLE READ transaction, so verify, state and report see
 *   one moment of the database even while a sync writes.
 * - One sync per chain: `claimChain` takes a session advisory lock keyed by the chain id (the
 *   tables are keyed by chain id, so that is the unit two writers could corrupt; the registry
 *   is checked against the stored one after the claim). It is held by the store's connection:
 *   a killed process, a closed connection, or `release()` ends it, never a timeout.
 * - The owner index (chain id, the owner field of the args) makes an owner's report read only
 *   that owner's events (`replay({ owner })`).
 *
 * pg is loaded when a store is opened, like better-sqlite3: the SDK does not need it, and its
 * types never appear in the public declarations.
 */

/** The part of a pg client the store (and tests that forge rows) use. */
export interface PgClient {
  query<R = unknown>(
    text: string | { text: string; values?: unknown[]; rowMode?: "array" },
    values?: unknown[],
  ): Promise<{ rows: R[]; rowCount: number | null }>;
  connect(): Promise<void>;
  end(): Promise<void>;
  on(event: "error", listener: (err: Error) => void): unknown;
}

interface PgModule {
  Client: new (config: object) => PgClient;
  types: { getTypeParser(oid: number, format?: string): (value: string) => unknown };
}

let driver: PgModule | undefined;

/** pg, loaded on first use; a clear error naming the package when it is not installed. */
function pg(): PgModule {
  if (driver) return driver;
  try {
    driver = createRequire(import.meta.url)("pg") as PgModule;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "MODULE_NOT_FOUND" || code === "ERR_MODULE_NOT_FOUND") {
      throw new Error(
        "the PostgreSQL audit store needs the pg package (node-postgres, an optional peer dependency of omnitensor-consent): run `npm install pg`",
        { cause: err },
      );
    }
    throw err;
  }
  return driver;
}

const INT8 = 20;
const NUMERIC = 1700;

/**
 * The schema: the SQLite store's tables with BIGINT for chain ids, block numbers and times. The
 * owner index is an expression over the stored args (the same rows, no extra column).
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS audit_schema (
  version INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
  chain_id        BIGINT  NOT NULL,
  block_number    BIGINT  NOT NULL,
  block_hash      TEXT    NOT NULL,
  log_index       INTEGER NOT NULL,
  tx_hash         TEXT    NOT NULL,
  address         TEXT    NOT NULL,
  event_name      TEXT    NOT NULL,
  args_json       TEXT    NOT NULL,
  block_timestamp BIGINT  NOT NULL,
  via             INTEGER,
  version         TEXT,
  UNIQUE (chain_id, block_number, log_index)
);
-- events_by_name (chain_id, event_name) was never read; every insert paid for it.
DROP INDEX IF EXISTS events_by_name;
CREATE INDEX IF NOT EXISTS events_by_owner ON events (chain_id, ((args_json::json ->> 'owner')));
CREATE TABLE IF NOT EXISTS sync_state (
  chain_id     BIGINT NOT NULL PRIMARY KEY,
  registry     TEXT   NOT NULL,
  integrations TEXT   NOT NULL,
  authority    TEXT   NOT NULL,
  genesis_hash TEXT   NOT NULL,
  from_block   BIGINT NOT NULL,
  block_number BIGINT NOT NULL,
  block_hash   TEXT   NOT NULL,
  digest       TEXT   NOT NULL
);
CREATE TABLE IF NOT EXISTS log_blocks (
  chain_id     BIGINT NOT NULL,
  block_number BIGINT NOT NULL,
  digest       TEXT   NOT NULL,
  PRIMARY KEY (chain_id, block_number)
);
CREATE TABLE IF NOT EXISTS block_hashes (
  chain_id        BIGINT NOT NULL,
  block_number    BIGINT NOT NULL,
  block_hash      TEXT   NOT NULL,
  block_timestamp BIGINT NOT NULL,
  PRIMARY KEY (chain_id, block_number)
);
CREATE TABLE IF NOT EXISTS signed_requests (
  chain_id      BIGINT  NOT NULL,
  block_number  BIGINT  NOT NULL,
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
`;

const TABLES = ["events", "signed_requests", "block_hashes", "log_blocks", "sync_state"] as const;

/** Advisory lock keys: one for creating the schema, one per chain for its sync (see claimChain). */
const SCHEMA_LOCK = "hashtextextended('omnitensor-audit:schema', 0)";
const CHAIN_LOCK = "hashtextextended('omnitensor-audit:sync:' || $1::text, 0)";

const REPLAY_COLUMNS =
  "block_number, log_index, tx_hash, event_name, args_json, block_timestamp, via, block_hash, address, version";
const EVENT_COLUMNS =
  "chain_id, block_number, block_hash, log_index, tx_hash, address, event_name, args_json, block_timestamp, via, version";
const PAGE = 20_000;
const MAX_BLOCK = Number.MAX_SAFE_INTEGER;

export interface PostgresStoreOptions {
  /**
   * Run every read of the store's life in one REPEATABLE READ, READ ONLY transaction (verify,
   * state, report: one consistent moment while a sync may be writing). Writes are refused.
   */
  snapshot?: boolean;
  /** Shown in pg_stat_activity, and to a second sync of the same chain. */
  applicationName?: string;
}

/** The PostgreSQL implementation of the audit store. `sql` is the connection (tests forge rows through it). */
export class PostgresAuditStore implements AuditStore {
  readonly dialect = "postgresql" as const;
  private busy: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Chains this connection claimed (advisory locks are re-entrant within a session: refuse here). */
  private readonly claimed = new Set<number>();

  private constructor(
    readonly sql: PgClient,
    private readonly snapshot: boolean,
  ) {}

  /**
   * Connects, creates the schema when the database has none (under an advisory lock: two
   * processes starting together on an empty database do not race), and refuses a database of
   * another audit schema, changing nothing.
   */
  static async open(url: string, opts: PostgresStoreOptions = {}): Promise<PostgresAuditStore> {
    const { Client, types } = pg();
    const client = new Client({
      connectionString: url,
      application_name: opts.applicationName ?? `omni-consent audit (pid ${process.pid} on ${hostname()})`,
      // Block numbers, times and counts are BIGINT: read them as numbers (all below 2^53).
      types: {
        getTypeParser: (oid: number, format?: string) =>
          oid === INT8 || oid === NUMERIC ? Number : types.getTypeParser(oid, format),
      },
    });
    // A dropped connection is reported by the query that needed it; this keeps it from being
    // an uncaught 'error' event that kills the process.
    client.on("error", () => undefined);
    try {
      await client.connect();
    } catch (err) {
      throw new Error(`cannot connect to the PostgreSQL audit database ${redactUrl(url)}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    try {
      await client.query("BEGIN");
      await client.query(`SELECT pg_advisory_xact_lock(${SCHEMA_LOCK})`);
      const has = await client.query<{ t: string | null }>("SELECT to_regclass('audit_schema')::text AS t");
      const events = await client.query<{ t: string | null }>("SELECT to_regclass('events')::text AS t");
      if (has.rows[0].t === null) {
        if (events.rows[0].t !== null) {
          throw new Error(
            `${redactUrl(url)} has an events table but no audit_schema: it was not written by this auditor; sync into another database`,
          );
        }
        await client.query(SCHEMA);
        await client.query("INSERT INTO audit_schema (version) VALUES ($1)", [AUDIT_SCHEMA_VERSION]);
      } else {
        const found = (await client.query<{ version: number }>("SELECT version FROM audit_schema")).rows[0]?.version;
        if (found !== AUDIT_SCHEMA_VERSION) {
          throw new Error(
            `${redactUrl(url)} was written by audit schema ${found ?? "(none recorded)"}; this auditor reads audit schema ${AUDIT_SCHEMA_VERSION} (registry 2.0.0) only and does not convert databases of other schemas: sync into a new --db`,
          );
        }
        await client.query(SCHEMA); // indexes added since the database was made
      }
      await client.query("COMMIT");
      if (opts.snapshot) await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    return new PostgresAuditStore(client, opts.snapshot === true);
  }

  /** Runs `fn` alone on the connection (one transaction at a time; the interface's calls may overlap). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.busy.then(fn, fn);
    this.busy = run.catch(() => undefined);
    return run;
  }

  private write<T>(fn: () => Promise<T>): Promise<T> {
    if (this.snapshot) return Promise.reject(new Error("this audit store was opened read-only (snapshot)"));
    return this.serial(async () => {
      await this.sql.query("BEGIN");
      try {
        const r = await fn();
        await this.sql.query("COMMIT");
        return r;
      } catch (err) {
        await this.sql.query("ROLLBACK").catch(() => undefined);
        throw err;
      }
    });
  }

  private async rows<R>(text: string, values: unknown[]): Promise<R[]> {
    return this.serial(async () => (await this.sql.query<R>(text, values)).rows);
  }

  async meta(chainId?: number): Promise<SyncMeta | undefined> {
    const rows =
      chainId === undefined
        ? await this.rows<SyncStateRow>("SELECT * FROM sync_state ORDER BY chain_id LIMIT 1", [])
        : await this.rows<SyncStateRow>("SELECT * FROM sync_state WHERE chain_id = $1", [chainId]);
    return rows[0] ? metaOf(rows[0]) : undefined;
  }

  async chains(): Promise<SyncMeta[]> {
    return (await this.rows<SyncStateRow>("SELECT * FROM sync_state ORDER BY chain_id", [])).map(metaOf);
  }

  async claimChain(chainId: number): Promise<ChainClaim> {
    if (this.claimed.has(chainId)) {
      throw new ChainBusyError(chainId, `another sync in this process, on the same connection (pid ${process.pid})`);
    }
    const got = await this.rows<{ ok: boolean }>(`SELECT pg_try_advisory_lock(${CHAIN_LOCK}) AS ok`, [chainId]);
    if (!got[0].ok) {
      // Who holds it: the advisory lock's two halves are (classid, objid) in pg_locks.
      const who = await this.rows<{ pid: number; app: string; since: Date; addr: string | null }>(
        `SELECT a.pid, a.application_name AS app, a.backend_start AS since, a.client_addr::text AS addr
           FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
          WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
            AND l.classid = ((${CHAIN_LOCK} >> 32) & 4294967295)::oid
            AND l.objid = (${CHAIN_LOCK} & 4294967295)::oid`,
        [chainId],
      );
      const h = who[0];
      throw new ChainBusyError(
        chainId,
        h
          ? `PostgreSQL session ${h.pid}: "${h.app}"${h.addr ? ` from ${h.addr}` : ""}, connected since ${h.since.toISOString()}`
          : "a session that has just ended; try again",
      );
    }
    this.claimed.add(chainId);
    let released = false;
    return {
      release: async () => {
        if (released || this.closed) return;
        released = true;
        this.claimed.delete(chainId);
        await this.rows(`SELECT pg_advisory_unlock(${CHAIN_LOCK})`, [chainId]);
      },
    };
  }

  async countEvents(chainId: number): Promise<number> {
    return (await this.rows<{ n: number }>("SELECT COUNT(*) AS n FROM events WHERE chain_id = $1", [chainId]))[0].n;
  }

  async startSync(meta: SyncMeta, reset: boolean): Promise<number> {
    return this.write(async () => {
      let n = 0;
      if (reset) {
        n = (
          await this.sql.query<{ n: number }>("SELECT COUNT(*) AS n FROM events WHERE chain_id = $1", [meta.chainId])
        ).rows[0].n;
        for (const t of TABLES) await this.sql.query(`DELETE FROM ${t} WHERE chain_id = $1`, [meta.chainId]);
      }
      await this.sql.query(
        `INSERT INTO sync_state (chain_id, registry, integrations, authority, genesis_hash, from_block, block_number, block_hash, digest)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [
          meta.chainId,
          meta.registry,
          meta.integrations,
          meta.authority,
          meta.genesisHash,
          meta.fromBlock,
          meta.blockNumber,
          meta.blockHash,
          meta.digest,
        ],
      );
      return n;
    });
  }

  async commitChunk(c: ChunkWrite): Promise<number> {
    return this.write(async () => {
      const q = this.sql;
      let inserted = 0;
      if (c.events.length) {
        const e = c.events;
        inserted =
          (
            await q.query(
              `INSERT INTO events (${EVENT_COLUMNS})
               SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::int[], $5::text[], $6::text[], $7::text[],
                                    $8::text[], $9::bigint[], $10::int[], $11::text[])
               ON CONFLICT DO NOTHING`,
              [
                e.map((r) => r.chain_id),
                e.map((r) => r.block_number),
                e.map((r) => r.block_hash),
                e.map((r) => r.log_index),
                e.map((r) => r.tx_hash),
                e.map((r) => r.address),
                e.map((r) => r.event_name),
                e.map((r) => r.args_json),
                e.map((r) => r.block_timestamp),
                e.map((r) => r.via),
                e.map((r) => r.version),
              ],
            )
          ).rowCount ?? 0;
      }
      if (c.signed.length) {
        const s = c.signed;
        await q.query(
          `INSERT INTO signed_requests
             (chain_id, block_number, tx_hash, item_index, kind, owner, args_json, epoch, version, deadline, signature, erc1271_valid)
           SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::int[], $5::text[], $6::text[], $7::text[],
                                $8::text[], $9::text[], $10::text[], $11::text[], $12::int[])
           ON CONFLICT DO NOTHING`,
          [
            s.map((r) => r.chain_id),
            s.map((r) => r.block_number),
            s.map((r) => r.tx_hash),
            s.map((r) => r.item_index),
            s.map((r) => r.kind),
            s.map((r) => r.owner),
            s.map((r) => r.args_json),
            s.map((r) => r.epoch),
            s.map((r) => r.version),
            s.map((r) => r.deadline),
            s.map((r) => r.signature),
            s.map((r) => r.erc1271_valid),
          ],
        );
      }
      // ON CONFLICT DO UPDATE may not touch a row twice in one statement: one row per block.
      const headers = [...new Map(c.headers.map((h) => [h.number, h])).values()];
      if (headers.length) {
        await q.query(
          `INSERT INTO block_hashes (chain_id, block_number, block_hash, block_timestamp)
           SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::bigint[])
           ON CONFLICT (chain_id, block_number) DO UPDATE SET block_hash = excluded.block_hash, block_timestamp = excluded.block_timestamp`,
          [c.chainId, headers.map((h) => h.number), headers.map((h) => h.hash), headers.map((h) => h.timestamp)],
        );
      }
      const digests = [...new Map(c.blockDigests.map((d) => [d.block, d])).values()];
      if (digests.length) {
        await q.query(
          `INSERT INTO log_blocks (chain_id, block_number, digest)
           SELECT $1, * FROM unnest($2::bigint[], $3::text[])
           ON CONFLICT (chain_id, block_number) DO UPDATE SET digest = excluded.digest`,
          [c.chainId, digests.map((d) => d.block), digests.map((d) => d.digest)],
        );
      }
      await q.query(
        `DELETE FROM block_hashes WHERE chain_id = $1 AND block_number < (
           SELECT MIN(block_number) FROM (SELECT block_number FROM block_hashes WHERE chain_id = $1 ORDER BY block_number DESC LIMIT $2) AS recent)`,
        [c.chainId, c.keepHashes],
      );
      await q.query("UPDATE sync_state SET block_number = $1, block_hash = $2, digest = $3 WHERE chain_id = $4", [
        c.checkpoint.number,
        c.checkpoint.hash,
        c.digest,
        c.chainId,
      ]);
      return inserted;
    });
  }

  async rewind(chainId: number, ancestor: BlockRef, digest: string): Promise<void> {
    await this.write(async () => {
      for (const t of TABLES.filter((x) => x !== "sync_state")) {
        await this.sql.query(`DELETE FROM ${t} WHERE chain_id = $1 AND block_number > $2`, [chainId, ancestor.number]);
      }
      await this.sql.query(
        "UPDATE sync_state SET block_number = $1, block_hash = $2, digest = $3 WHERE chain_id = $4",
        [ancestor.number, ancestor.hash, digest, chainId],
      );
    });
  }

  async digestAt(chainId: number, block: number): Promise<string | undefined> {
    const r = await this.rows<{ digest: string }>(
      "SELECT digest FROM log_blocks WHERE chain_id = $1 AND block_number <= $2 ORDER BY block_number DESC LIMIT 1",
      [chainId, block],
    );
    return r[0]?.digest;
  }

  async eventsInRange(chainId: number, from: number, to: number): Promise<EventRow[]> {
    return this.rows<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE chain_id = $1 AND block_number >= $2 AND block_number <= $3 ORDER BY block_number, log_index`,
      [chainId, from, to],
    );
  }

  async blockDigests(chainId: number, toBlock?: number): Promise<{ block: number; digest: string }[]> {
    return (
      await this.rows<{ block_number: number; digest: string }>(
        "SELECT block_number, digest FROM log_blocks WHERE chain_id = $1 AND block_number <= $2 ORDER BY block_number",
        [chainId, toBlock ?? MAX_BLOCK],
      )
    ).map((r) => ({ block: r.block_number, digest: r.digest }));
  }

  async keptHeaders(chainId: number, toBlock?: number): Promise<BlockHeader[]> {
    return (
      await this.rows<{ block_number: number; block_hash: string; block_timestamp: number }>(
        "SELECT block_number, block_hash, block_timestamp FROM block_hashes WHERE chain_id = $1 AND block_number <= $2 ORDER BY block_number",
        [chainId, toBlock ?? MAX_BLOCK],
      )
    ).map((r) => ({ number: r.block_number, hash: r.block_hash, timestamp: r.block_timestamp }));
  }

  async knownBlocks(chainId: number, below: number): Promise<BlockRef[]> {
    return (
      await this.rows<{ block_number: number; block_hash: string }>(
        `SELECT block_number, block_hash FROM block_hashes WHERE chain_id = $1 AND block_number <= $2
         UNION SELECT DISTINCT block_number, block_hash FROM events WHERE chain_id = $1 AND block_number <= $2
         ORDER BY block_number`,
        [chainId, below],
      )
    ).map((r) => ({ number: r.block_number, hash: r.block_hash }));
  }

  async blockTimestamp(chainId: number, block: number): Promise<number | undefined> {
    const r = await this.rows<{ block_timestamp: number }>(
      "SELECT block_timestamp FROM block_hashes WHERE chain_id = $1 AND block_number = $2",
      [chainId, block],
    );
    return r[0]?.block_timestamp;
  }

  /**
   * A server-side cursor read in pages of 20,000 rows: memory stays bounded on any history, and
   * the next page is asked for while this one is visited (the server works while the model does).
   */
  async replay(q: ReplayQuery, visit: (e: ReplayEvent, row?: EventRow) => void): Promise<ReplaySummary> {
    return this.serial(async () => {
      const own = !this.snapshot;
      if (own) await this.sql.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
      try {
        const to = q.toBlock ?? MAX_BLOCK;
        const where =
          q.owner === undefined
            ? "chain_id = $1 AND block_number <= $2"
            : "chain_id = $1 AND block_number <= $2 AND ((args_json::json ->> 'owner') = $3 OR (args_json::json ->> 'owner') IS NULL)";
        await this.sql.query(
          `DECLARE omni_replay NO SCROLL CURSOR FOR SELECT ${REPLAY_COLUMNS} FROM events WHERE ${where} ORDER BY block_number, log_index`,
          q.owner === undefined ? [q.chainId, to] : [q.chainId, to, q.owner],
        );
        let events = 0;
        let lastBlock = -1;
        let lastTimestamp = 0;
        const fetch = () =>
          this.sql.query<ReplayRow>({ text: `FETCH ${PAGE} FROM omni_replay`, rowMode: "array" }).then((r) => r.rows);
        let page = await fetch();
        while (page.length) {
          const next = page.length === PAGE ? fetch() : Promise.resolve([] as ReplayRow[]);
          next.catch(() => undefined); // judged when awaited
          for (const row of page) {
            events++;
            lastBlock = row[0];
            lastTimestamp = row[5];
            visitReplayRow(row, q.chainId, q.rows, visit);
          }
          page = await next;
        }
        await this.sql.query("CLOSE omni_replay");
        if (q.owner !== undefined) {
          // The report's "now" is the chain's last event, not the owner's.
          const last = await this.sql.query<{ block_number: number; block_timestamp: number }>(
            "SELECT block_number, block_timestamp FROM events WHERE chain_id = $1 AND block_number <= $2 ORDER BY block_number DESC, log_index DESC LIMIT 1",
            [q.chainId, to],
          );
          if (last.rows[0]) [lastBlock, lastTimestamp] = [last.rows[0].block_number, last.rows[0].block_timestamp];
        }
        if (own) await this.sql.query("COMMIT");
        return { chainId: q.chainId, events, lastBlock, lastTimestamp };
      } catch (err) {
        if (own) await this.sql.query("ROLLBACK").catch(() => undefined);
        else await this.sql.query("CLOSE omni_replay").catch(() => undefined);
        throw err;
      }
    });
  }

  async signedRequests(chainId: number, toBlock?: number): Promise<SignedRequestRow[]> {
    return this.rows<SignedRequestRow>(
      "SELECT * FROM signed_requests WHERE chain_id = $1 AND block_number <= $2 ORDER BY block_number, tx_hash, item_index",
      [chainId, toBlock ?? MAX_BLOCK],
    );
  }

  /** Ends the connection (and with it a claim this store holds); waits for queries in flight. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.busy;
    await this.sql.end();
  }
}

/** Opens a PostgreSQL audit store (see PostgresAuditStore.open). */
export function openPostgresStore(url: string, opts: PostgresStoreOptions = {}): Promise<PostgresAuditStore> {
  return PostgresAuditStore.open(url, opts);
}

/** Whether `--db` names a PostgreSQL database rather than a SQLite file. */
export function isPostgresUrl(target: string): boolean {
  return /^postgres(ql)?:\/\//i.test(target);
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return url.replace(/\/\/([^:/@]+):[^@]*@/, "//$1:***@");
  }
}
