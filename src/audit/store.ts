import type { ConsentMessageKind } from "../sdk/eip712.js";
import type { ReplayEvent } from "./events.js";

/**
 * The audit store: what the auditor keeps, asked by name. `sqlite-store.ts` is the embedded
 * implementation (the default; `openAuditDb`), `postgres-store.ts` the one for many chains, many
 * readers and tens of millions of events (`openPostgresStore`); `open-store.ts` picks one from
 * `--db` (a path or a postgres:// URL). Both write the same tables. Nothing outside a store module
 * writes SQL.
 *
 * One store holds any number of chains: every row is keyed by chain id, and each chain has its
 * own checkpoint. One sync at a time writes a chain (`claimChain`: a PostgreSQL advisory lock,
 * a lease row in SQLite); syncs of different chains run side by side.
 *
 * Every method is one transaction or one streamed query and returns a promise, so a networked
 * database fits behind it; the SQLite store answers synchronously inside the promise. `replay`
 * streams rows in chain order to a synchronous visitor (the model is CPU-bound: a per-row await
 * would cost more than the rule checks).
 *
 * What is stored (all integers that may exceed 2^53 — versions, epochs, deadlines, purposes —
 * are exact decimal strings):
 * - events: every log of the watched contracts, decoded (`args` = the typed union's args), tied
 *   to the block hash it came with; `via` is derived at sync time (the contract's rule) so
 *   consent changes can be filtered by how they were authorised, `version` is the key's version
 *   after a ConsentGranted / ConsentRevoked;
 * - the sync checkpoint (block number AND hash), the watched addresses and the genesis hash;
 * - recent block hashes (common-ancestor search after a reorg) with their timestamps;
 * - signed requests taken from the calldata of transactions that changed consent by signature.
 */
export interface AuditStore {
  /** Which implementation (for messages and for tests that forge rows). */
  readonly dialect: "sqlite" | "postgresql";

  /** The sync checkpoint and watched addresses of `chainId` (default: the first chain held). */
  meta(chainId?: number): Promise<SyncMeta | undefined>;
  /** Every chain the store holds, by chain id. */
  chains(): Promise<SyncMeta[]>;
  /**
   * Makes this process the only sync writing `chainId` until `release()` (or until the process
   * or its connection ends). Throws a ChainBusyError, changing nothing, when another sync owns it.
   */
  claimChain(chainId: number): Promise<ChainClaim>;
  /** How many events the store holds for `chainId`. */
  countEvents(chainId: number): Promise<number>;
  /**
   * Writes the first checkpoint of a sync. With `reset`, everything held for the chain goes in
   * the same transaction; returns how many events were discarded.
   */
  startSync(meta: SyncMeta, reset: boolean): Promise<number>;
  /** Writes one chunk (events, signed requests, block hashes, digests, checkpoint) atomically; returns the new events. */
  commitChunk(chunk: ChunkWrite): Promise<number>;
  /** Deletes everything above `ancestor` and moves the checkpoint (and its digest) there (one transaction). */
  rewind(chainId: number, ancestor: BlockRef, digest: string): Promise<void>;
  /** The log digest after the last block with rows at or below `block` (undefined: none stored). */
  digestAt(chainId: number, block: number): Promise<string | undefined>;
  /** Blocks at or below `below` whose hash the store knows (kept hashes and event blocks), oldest first. */
  knownBlocks(chainId: number, below: number): Promise<BlockRef[]>;
  /** The timestamp of a block whose header was kept, if any. */
  blockTimestamp(chainId: number, block: number): Promise<number | undefined>;

  /**
   * Streams the events of a chain in chain order (block, log index) up to `toBlock`; with
   * `rows`, the visitor also gets the stored row (for the log digest). With `owner`, only the
   * events naming that owner and those naming no owner (purposes, integrations, governance) are
   * visited, read through the owner index: everything an owner's report needs (see
   * `ownerScoped`); the summary's lastBlock and lastTimestamp are still the chain's.
   */
  replay(query: ReplayQuery, visit: (e: ReplayEvent, row?: EventRow) => void): Promise<ReplaySummary>;
  /** The stored rows of blocks from..to (verify --rpc compares them with the chain's logs). */
  eventsInRange(chainId: number, from: number, to: number): Promise<EventRow[]>;
  /** The stored log digest of each block with rows, up to `toBlock`, ascending. */
  blockDigests(chainId: number, toBlock?: number): Promise<{ block: number; digest: string }[]>;
  /** The kept block headers (hash and timestamp) up to `toBlock`, ascending. */
  keptHeaders(chainId: number, toBlock?: number): Promise<BlockHeader[]>;
  /** The stored signed requests of a chain up to `toBlock`, in (block, tx, item) order. */
  signedRequests(chainId: number, toBlock?: number): Promise<SignedRequestRow[]>;

  /** Closes the connection (PostgreSQL: awaitable; a sync's claim ends with it). */
  close(): void | Promise<void>;
}

export interface ReplayQuery {
  chainId: number;
  toBlock?: number;
  rows?: boolean;
  /** Lowercase 0x-address: only its events and the events naming no owner. */
  owner?: string;
}

/** A chain claimed for one sync (`AuditStore.claimChain`). */
export interface ChainClaim {
  release(): Promise<void>;
}

/**
 * Another sync owns the chain in this store. `holder` says who, as far as the store knows (the
 * PostgreSQL session and its application name, or the process id and host of the SQLite lease).
 */
export class ChainBusyError extends Error {
  constructor(
    readonly chainId: number,
    readonly holder: string,
  ) {
    super(
      `another sync owns chain ${chainId} in this audit database (${holder}); nothing was written: ` +
        `wait for it to finish or stop it, or sync another chain`,
    );
    this.name = "ChainBusyError";
  }
}

/**
 * The schema this auditor writes and reads. 2 = registry 2.0.0 events (versions instead of
 * nonces); 3 = schema 2 plus the log digest (digest.ts) of each block and of the checkpoint.
 * Stores of other schemas are refused, not converted: schema 1 (registry 1.x) events carry
 * nonces and a `via` field that the 2.0 rules do not have, schema 2 has no digest to check.
 */
export const AUDIT_SCHEMA_VERSION = 3;

export interface BlockRef {
  number: number;
  hash: string;
}

export interface BlockHeader extends BlockRef {
  timestamp: number;
}

export interface Checkpoint {
  chainId: number;
  blockNumber: number;
  blockHash: string;
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
  /** The log digest at the checkpoint (digest.ts). */
  digest: string;
}

/** One stored log (a row of the events table). */
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

/** A signed-request kind, or a marker row for a transaction whose requests are not readable. */
export type SignedRowKind = ConsentMessageKind | "internal" | "unsigned";

export interface SignedRequestRow {
  chain_id: number;
  block_number: number;
  tx_hash: string;
  item_index: number;
  kind: SignedRowKind;
  owner: string;
  /** The message fields other than owner, epoch, version and deadline (JSON: strings, addresses lowercase). */
  args_json: string;
  epoch: string | null;
  /** Null for RevokeAll (it has no version) and marker rows. */
  version: string | null;
  deadline: string | null;
  signature: string | null;
  erc1271_valid: number | null;
}

/** What one committed sync chunk writes. */
export interface ChunkWrite {
  chainId: number;
  events: EventRow[];
  signed: SignedRequestRow[];
  /** Headers to keep (the chunk's end and the blocks holding its events). */
  headers: BlockHeader[];
  /** The new checkpoint: the chunk's last block. */
  checkpoint: BlockRef;
  /** The log digest of each block of the chunk with rows, and the digest at the new checkpoint. */
  blockDigests: { block: number; digest: string }[];
  digest: string;
  /** How many recent block hashes to keep. */
  keepHashes: number;
}

export interface ReplaySummary {
  chainId: number;
  events: number;
  lastBlock: number;
  lastTimestamp: number;
}

/**
 * The store seen by an owner's report: `replay` visits only the owner's events and those naming
 * no owner (read through the owner index), which is all the report for that owner reads; every
 * other method is the store's. The report built through it equals the report built over the
 * whole chain (test/audit/store.ts checks it on both backends), in a fraction of the time on a
 * large store.
 */
export function ownerScoped(store: AuditStore, owner: string): AuditStore {
  const o = owner.toLowerCase();
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === "replay") {
        return (q: ReplayQuery, visit: (e: ReplayEvent, row?: EventRow) => void) =>
          target.replay({ ...q, owner: o }, visit);
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** The single chain id held by the store (the first one if several were synced). */
export async function defaultChainId(store: AuditStore): Promise<number | undefined> {
  return (await store.meta())?.chainId;
}

/** The chain to read: the one asked for, or the store's only one; throws on an empty store. */
export async function chainToRead(store: AuditStore, chainId?: number): Promise<number> {
  const id = chainId ?? (await defaultChainId(store));
  if (id === undefined) throw new Error("the audit database is empty; run `omni-consent audit sync` first");
  return id;
}

/**
 * One stored event as both stores select it for a replay: block_number, log_index, tx_hash,
 * event_name, args_json, block_timestamp, via, block_hash, address, version.
 */
export type ReplayRow = [number, number, string, string, string, number, number | null, string, string, string | null];

/**
 * Hands one replay row to `visit` as the event it is, and with `withRows` the stored row too.
 * The row's name and args are what sync decoded (events.ts); a forged row is judged by the
 * model, which reads every integer through uintArg.
 */
export function visitReplayRow(
  row: ReplayRow,
  chainId: number,
  withRows: boolean | undefined,
  visit: (e: ReplayEvent, row?: EventRow) => void,
): void {
  const e = {
    blockNumber: row[0],
    logIndex: row[1],
    txHash: row[2],
    name: row[3],
    args: JSON.parse(row[4]),
    blockTimestamp: row[5],
    via: row[6],
  } as ReplayEvent;
  if (!withRows) return visit(e);
  visit(e, {
    chain_id: chainId,
    block_number: row[0],
    block_hash: row[7],
    log_index: row[1],
    tx_hash: row[2],
    address: row[8],
    event_name: row[3],
    args_json: row[4],
    block_timestamp: row[5],
    via: row[6],
    version: row[9],
  });
}
