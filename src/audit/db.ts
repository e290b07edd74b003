import Database from "better-sqlite3";

/**
 * The audit store. One `events` table holds every synced log of the watched contracts, decoded;
 * `sync_state` holds the checkpoint (block number AND hash) and `block_hashes` the hashes of
 * recent blocks used to find the common ancestor after a reorg. `signed_requests` holds the
 * signed requests read from the calldata of transactions that changed consent by signature (see
 * signatures.ts); nonces and deadlines are uint256, so they are decimal TEXT.
 *
 * The SQL is deliberately portable (plain types, no SQLite-only functions in queries, `ON
 * CONFLICT DO NOTHING`), so the same schema and queries run on PostgreSQL when an auditor
 * outgrows the embedded default (swap INTEGER→BIGINT; block numbers and timestamps fit 2^63).
 */
export type AuditDb = Database.Database;

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
  UNIQUE (chain_id, block_number, log_index)
);
CREATE INDEX IF NOT EXISTS events_by_name ON events (chain_id, event_name);
CREATE TABLE IF NOT EXISTS sync_state (
  chain_id     INTEGER NOT NULL PRIMARY KEY,
  registry     TEXT    NOT NULL,
  integrations TEXT    NOT NULL,
  authority    TEXT    NOT NULL,
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
  nonce         TEXT,
  deadline      TEXT,
  signature     TEXT,
  erc1271_valid INTEGER,
  UNIQUE (chain_id, tx_hash, item_index)
);
CREATE INDEX IF NOT EXISTS signed_requests_by_block ON signed_requests (chain_id, block_number);
`;

/** Opens (creating if needed) an audit database in WAL mode with the schema in place. */
export function openAuditDb(path: string): AuditDb {
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  // NORMAL is durable across process crashes (kill -9) in WAL mode; only an OS crash may lose
  // the last commits, which the next sync simply fetches again.
  db.pragma("synchronous = NORMAL");
  db.exec(SCHEMA);
  return db;
}

export interface SyncMeta {
  chainId: number;
  registry: string;
  integrations: string;
  authority: string;
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
    fromBlock: row.from_block,
    blockNumber: row.block_number,
    blockHash: row.block_hash,
  };
}

/** The single chain id held by the database (the first one if several were synced). */
export function defaultChainId(db: AuditDb): number | undefined {
  return readSyncMeta(db)?.chainId;
}
