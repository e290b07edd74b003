import Database from "better-sqlite3";

/**
 * The audit store. One `events` table holds every synced log of the watched contracts, decoded;
 * `sync_state` holds the checkpoint (block number AND hash) and the genesis hash of the synced
 * history, and `block_hashes` the hashes of recent blocks used to find the common ancestor after
 * a reorg. `signed_requests` holds the signed requests read from the calldata of transactions
 * that changed consent by signature (see signatures.ts).
 *
 * Integers that may exceed 2^53 (consent versions, epochs, deadlines) are decimal TEXT, never
 * SQLite numbers read back as JS numbers. `events.via` is derived at sync time (the contract's
 * rule: see `viaOfEvent` in decode.ts) so that SQL can filter consent changes by how they were
 * authorised; `events.version` is the key's version after a ConsentGranted / ConsentRevoked.
 *
 * The SQL is deliberately portable (plain types, no SQLite-only functions in queries, `ON
 * CONFLICT DO NOTHING`), so the same schema and queries run on PostgreSQL when an auditor
 * outgrows the embedded default (swap INTEGER→BIGINT; block numbers and timestamps fit 2^63).
 */
export type AuditDb = Database.Database;

/**
 * The schema this auditor writes and reads (SQLite `user_version`). 2 = registry 2.0.0 events
 * (versions instead of nonces). Databases of schema 1 (registry 1.x) are refused, not converted:
 * their events carry nonces and a `via` field that the 2.0 rules do not have.
 */
export const AUDIT_SCHEMA_VERSION = 2;

export interface EventRow {
  chain_id: number;
  block_number: number;
  block_hash: string;
  log_index: number;
  tx_hash: string;
  address: string;
  event_name: string;
  args_json: string;
  block_timestamp: number;
  via: number | null;
  version: string | null;
}

export interface Checkpoint {
  chainId: number;
  blockNumber: number;
  blockHash: string;
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
CREATE INDEX IF NOT EXISTS events_by_name ON events (chain_id, event_name);
CREATE TABLE IF NOT EXISTS sync_state (
  chain_id     INTEGER NOT NULL PRIMARY KEY,
  registry     TEXT    NOT NULL,
  integrations TEXT    NOT NULL,
  authority    TEXT    NOT NULL,
  genesis_hash TEXT    NOT NULL,
  from_block   INTEGER NOT NULL,
  block_number INTEGER NOT NULL,
  block_hash   TEXT    NOT NULL
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
`;

/**
 * Opens (creating if needed) an audit database in WAL mode with the schema in place. Throws,
 * without changing the file, for a database of another schema version (see AUDIT_SCHEMA_VERSION).
 */
export function openAuditDb(path: string): AuditDb {
  const db = new Database(path);
  try {
    const found = db.pragma("user_version", { simple: true }) as number;
    const tables = (db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number })
      .n;
    if (found !== AUDIT_SCHEMA_VERSION && (tables !== 0 || found !== 0)) {
      const what =
        found === 0
          ? "an auditor for registry 1.x (audit schema 1: events with nonces and a via field)"
          : `audit schema ${found}`;
      throw new Error(
        `${path} was written by ${what}; this auditor reads audit schema ${AUDIT_SCHEMA_VERSION} (registry 2.0.0) only and does not convert databases of other schemas: sync into a new --db`,
      );
    }
    db.pragma("journal_mode = WAL");
    // NORMAL is durable across process crashes (kill -9) in WAL mode; only an OS crash may lose
    // the last commits, which the next sync simply fetches again.
    db.pragma("synchronous = NORMAL");
    db.exec(SCHEMA);
    db.pragma(`user_version = ${AUDIT_SCHEMA_VERSION}`);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

export interface SyncMeta {
  chainId: number;
  registry: string;
  integrations: string;
  authority: string;
  /** Hash of block 0 of the synced history: another node with the same chain id but another genesis is refused. */
  genesisHash: string;
  fromBlock: number;
  blockNumber: number;
  blockHash: string;
}

/** The sync checkpoint and watched addresses, or undefined before the first sync. */
export function readSyncMeta(db: AuditDb, chainId?: number): SyncMeta | undefined {
  const row = (
    chainId === undefined
      ? db.prepare("SELECT * FROM sync_state ORDER BY chain_id LIMIT 1").get()
      : db.prepare("SELECT * FROM sync_state WHERE chain_id = ?").get(chainId)
  ) as
    | {
        chain_id: number;
        registry: string;
        integrations: string;
        authority: string;
        genesis_hash: string;
        from_block: number;
        block_number: number;
        block_hash: string;
      }
    | undefined;
  if (!row) return undefined;
  return {
    chainId: row.chain_id,
    registry: row.registry,
    integrations: row.integrations,
    authority: row.authority,
    genesisHash: row.genesis_hash,
    fromBlock: row.from_block,
    blockNumber: row.block_number,
    blockHash: row.block_hash,
  };
}

/** The single chain id held by the database (the first one if several were synced). */
export function defaultChainId(db: AuditDb): number | undefined {
  return readSyncMeta(db)?.chainId;
}
