import { Contract, type Log, type Provider } from "ethers";

import { CONSENT_REGISTRY_ABI } from "../sdk/abi.js";
import { decodeLog, versionOfEvent, viaOfEvent, type Watched } from "./decode.js";
import { errorMessage, openProvider, withRetry } from "./rpc.js";
import { fetchSignedRequests, needsSignedRequests } from "./signatures-sync.js";
import { makeProgress } from "./progress.js";
import type { AuditStore, BlockHeader, EventRow, SyncMeta } from "./store.js";

export interface SyncOptions {
  /** The audit store (`openAuditDb`). */
  db: AuditStore;
  /** An RPC URL, or an ethers Provider (e.g. the in-process Hardhat provider). */
  rpc: string | Provider;
  /** The ConsentRegistry; its IntegrationRegistry and AccessManager are found from it. */
  registry: string;
  /** First block to scan on the first sync (the deployment block is ideal). Default 0. */
  fromBlock?: number;
  /** Stop at this block (default: the head minus `confirmations`). */
  toBlock?: number;
  /** Stay this many blocks behind the head. Default 0 (reorgs are detected and rewound anyway). */
  confirmations?: number;
  /** Follow the node's `finalized` block instead of head − confirmations. */
  finalized?: boolean;
  /** Blocks per eth_getLogs at the start; halved on errors, doubled on success up to maxRange. */
  initialRange?: number;
  maxRange?: number;
  /** Aim for about this many logs per eth_getLogs (the range shrinks after heavier chunks). Default 5000. */
  targetLogs?: number;
  /** Consecutive failures (after halving down to one block) before giving up. Default 12. */
  maxRetries?: number;
  /** Per-request timeout when `rpc` is a URL. Default 10 s. */
  timeoutMs?: number;
  /** How many recent checkpoint hashes to keep for finding the common ancestor. Default 256. */
  keepHashes?: number;
  /** Progress output: "auto" (bar on a TTY, plain lines otherwise), "bar", "lines", or "none". */
  progress?: "auto" | "bar" | "lines" | "none";
  /** Called after each committed chunk (tests use it to kill a sync mid-way). */
  onChunk?: (info: { from: number; to: number; events: number; range: number }) => void;
  /**
   * Discard everything the database holds for this chain and sync from `fromBlock` again. The
   * only way past a HistoryMismatchError (the node has another history than the database).
   */
  reset?: boolean;
}

/**
 * The node has another history of the chain than the database: another genesis block, or none
 * of the database's blocks (checkpoint, kept hashes, event blocks) is on the node's chain. Sync
 * refuses and changes nothing, since "rewinding" would silently replace the whole audit trail
 * with another chain's; `reset: true` (CLI `--reset`) starts over deliberately.
 */
export class HistoryMismatchError extends Error {
  constructor(
    readonly chainId: number,
    readonly stored: { genesis: string; checkpoint: number; checkpointHash: string },
    readonly node: { genesis: string; checkpointHash: string | null },
    readonly storedEvents: number,
  ) {
    const genesis =
      stored.genesis === node.genesis
        ? `same genesis ${node.genesis}, but no block of the database's history is on the node's chain`
        : `genesis block 0 is ${stored.genesis} in the database but ${node.genesis} on the node`;
    super(
      `the node has another history of chain ${chainId} than the database (${genesis}; ` +
        `checkpoint block ${stored.checkpoint} is ${stored.checkpointHash} in the database, ` +
        `${node.checkpointHash ?? "absent"} on the node). Nothing was changed (${storedEvents} events kept): ` +
        `use another --db, or --reset to discard them and sync this node's history from the start`,
    );
    this.name = "HistoryMismatchError";
  }
}

export interface SyncResult {
  chainId: number;
  registry: string;
  /** Events discarded by `reset` (0 without it). */
  discarded: number;
  fromBlock: number;
  toBlock: number;
  inserted: number;
  chunks: number;
  failures: number;
  reorgs: number;
}

/** A log as the JSON-RPC returns it (numbers as numbers), without ethers' per-log formatting. */
interface RawLog {
  address: string;
  topics: readonly string[];
  data: string;
  blockNumber: number;
  blockHash: string;
  index: number;
  transactionHash: string;
}

type Sender = { send(method: string, params: unknown[]): Promise<unknown> };

/**
 * eth_getLogs. Through `send` when the provider has it (JsonRpcProvider, Hardhat's provider):
 * ethers' getLogs checksums every address (a keccak per log) and builds a Log object per entry,
 * which dominated the sync of a 100k-event history.
 */
async function fetchLogs(provider: Provider, addresses: string[], from: number, to: number): Promise<RawLog[]> {
  const sender = provider as unknown as Partial<Sender>;
  if (typeof sender.send === "function") {
    const raw = (await sender.send("eth_getLogs", [
      { address: addresses, fromBlock: `0x${from.toString(16)}`, toBlock: `0x${to.toString(16)}` },
    ])) as {
      address: string;
      topics: string[];
      data: string;
      blockNumber: string;
      blockHash: string;
      logIndex: string;
      transactionHash: string;
      removed?: boolean;
    }[];
    if (!Array.isArray(raw)) throw new Error("eth_getLogs returned no array");
    return raw
      .filter((l) => l.removed !== true)
      .map((l) => ({
        address: l.address,
        topics: l.topics,
        data: l.data,
        blockNumber: Number(l.blockNumber),
        blockHash: l.blockHash,
        index: Number(l.logIndex),
        transactionHash: l.transactionHash,
      }));
  }
  const logs: Log[] = await provider.getLogs({ address: addresses, fromBlock: from, toBlock: to });
  return logs.map((l) => ({
    address: l.address,
    topics: l.topics,
    data: l.data,
    blockNumber: l.blockNumber,
    blockHash: l.blockHash,
    index: l.index,
    transactionHash: l.transactionHash,
  }));
}

/** Block headers fetched in parallel per chunk (for timestamps and hash checks). */
const HEADER_CONCURRENCY = 8;

type Header = BlockHeader;

async function header(provider: Provider, tag: number | string, retries: number): Promise<Header> {
  return withRetry(
    `eth_getBlockByNumber(${tag})`,
    async () => {
      const b = await provider.getBlock(tag);
      if (!b || !b.hash) throw new Error(`block ${tag} not found`);
      return { number: b.number, hash: b.hash, timestamp: b.timestamp };
    },
    retries,
  );
}

/** The hash of block `n` on the chain now, or null if the chain has no such block. */
async function hashAt(provider: Provider, n: number, retries: number): Promise<string | null> {
  return withRetry(`eth_getBlockByNumber(${n})`, async () => (await provider.getBlock(n))?.hash ?? null, retries);
}

/**
 * Incrementally copies every event of the registry, its IntegrationRegistry and its AccessManager
 * into the audit database.
 *
 * - eth_getLogs over an adaptive block range: halved on any provider error (range limits, result
 *   caps, timeouts, 5xx), doubled again after each success up to `maxRange`.
 * - Each chunk's events and the checkpoint (number AND hash of its last block) are written in ONE
 *   SQLite transaction, so a kill -9 at any moment leaves a consistent database; rows are unique
 *   by (chain_id, block_number, log_index), so replays are harmless.
 * - Reorg safety: before every chunk the checkpoint hash is compared with the chain; on a
 *   mismatch the kept block hashes are searched for the newest one still on the chain, events
 *   above it are deleted, and the sync continues from there.
 * - Another history is not a reorg: a node with the same chain id but another genesis block,
 *   or on whose chain none of the database's blocks is, is refused with a HistoryMismatchError
 *   naming both histories, before anything is written; `reset` starts over instead.
 */
export async function syncEvents(opts: SyncOptions): Promise<SyncResult> {
  const { db } = opts;
  const retries = opts.maxRetries ?? 12;
  const maxRange = opts.maxRange ?? 5000;
  const targetLogs = opts.targetLogs ?? 5000;
  const keep = opts.keepHashes ?? 256;
  const handle = await openProvider(opts.rpc, { timeoutMs: opts.timeoutMs, retries });
  const { provider } = handle;
  const chainId = Number(handle.chainId);
  const progress = makeProgress(opts.progress ?? "auto");
  try {
    const registry = opts.registry.toLowerCase();
    // With `reset`, whatever the database holds for this chain is discarded in the same SQLite
    // transaction that starts the new sync (after the node answered the registry's reads).
    let meta = opts.reset ? undefined : await db.meta(chainId);
    let discarded = 0;
    if (meta && meta.registry !== registry) {
      throw new Error(
        `database tracks registry ${meta.registry} on chain ${chainId}, not ${registry}; use another --db (or --reset to start over with ${registry})`,
      );
    }
    if (meta) {
      // Same chain id is not the same chain: a node with another genesis is another history.
      const genesis = await hashAt(provider, 0, retries);
      if (genesis !== meta.genesisHash) {
        throw new HistoryMismatchError(
          chainId,
          { genesis: meta.genesisHash, checkpoint: meta.blockNumber, checkpointHash: meta.blockHash },
          {
            genesis: genesis ?? "absent",
            checkpointHash: meta.blockNumber >= 0 ? await hashAt(provider, meta.blockNumber, retries) : null,
          },
          await db.countEvents(chainId),
        );
      }
    } else {
      const init = await initMeta(db, provider, chainId, registry, opts.fromBlock ?? 0, retries, opts.reset === true);
      meta = init.meta;
      discarded = init.discarded;
      if (opts.reset) progress.line(`reset: discarded ${discarded} events of chain ${chainId}; syncing from the start`);
    }
    const kinds = new Map<string, Watched>([
      [meta.registry, "registry"],
      [meta.integrations, "integrations"],
      [meta.authority, "authority"],
    ]);
    const addresses = [...kinds.keys()];

    let range = Math.max(1, Math.min(opts.initialRange ?? 200, maxRange));
    const result: SyncResult = {
      chainId,
      registry,
      discarded,
      fromBlock: meta.blockNumber + 1,
      toBlock: meta.blockNumber,
      inserted: 0,
      chunks: 0,
      failures: 0,
      reorgs: 0,
    };
    let cursor = meta.blockNumber;
    let cursorHash = meta.blockHash;
    let target = await targetBlock(provider, opts, retries);
    const startCursor = cursor;
    const startedAt = Date.now();
    let failuresInRow = 0;

    while (true) {
      // Reorg check: is our checkpoint still on the chain?
      if (cursorHash !== "" && cursor >= 0) {
        // null = the chain is now shorter than our checkpoint: that is a reorg too.
        if ((await hashAt(provider, cursor, retries)) !== cursorHash) {
          const ancestor = await commonAncestor(db, provider, chainId, cursor, retries);
          if (ancestor === null) {
            // Nothing of ours is on this chain: not a reorg but another history. Refuse.
            throw new HistoryMismatchError(
              chainId,
              { genesis: meta.genesisHash, checkpoint: cursor, checkpointHash: cursorHash },
              { genesis: meta.genesisHash, checkpointHash: await hashAt(provider, cursor, retries) },
              await db.countEvents(chainId),
            );
          }
          await db.rewind(chainId, ancestor);
          progress.line(`reorg detected at block ${cursor}: rewound to common ancestor ${ancestor.number}`);
          result.reorgs++;
          cursor = ancestor.number;
          cursorHash = ancestor.hash;
          target = await targetBlock(provider, opts, retries);
          continue;
        }
      }
      if (cursor >= target) {
        const latest = await targetBlock(provider, opts, retries);
        if (opts.toBlock !== undefined || latest <= cursor) break;
        target = latest;
      }
      const from = cursor + 1;
      const to = Math.min(target, from + range - 1);
      let logs: RawLog[];
      try {
        logs = await fetchLogs(provider, addresses, from, to);
      } catch (err) {
        result.failures++;
        failuresInRow++;
        if (failuresInRow > retries) {
          throw new Error(`eth_getLogs ${from}..${to} failed ${failuresInRow} times: ${errorMessage(err)}`, {
            cause: err,
          });
        }
        const halved = Math.max(1, Math.floor(range / 2));
        progress.debug(`eth_getLogs ${from}..${to} failed (${errorMessage(err)}); range ${range} -> ${halved}`);
        range = halved;
        await new Promise((r) => setTimeout(r, Math.min(1000, 20 * failuresInRow)));
        continue;
      }
      // Timestamps of blocks holding events, and a consistency check against their hashes.
      const blocks = new Map<number, Header>();
      const wanted = [...new Set(logs.map((l) => l.blockNumber))];
      for (let i = 0; i < wanted.length; i += HEADER_CONCURRENCY) {
        const got = await Promise.all(wanted.slice(i, i + HEADER_CONCURRENCY).map((n) => header(provider, n, retries)));
        for (const h of got) blocks.set(h.number, h);
      }
      const end = blocks.get(to) ?? (await header(provider, to, retries));
      if (logs.some((l) => blocks.get(l.blockNumber)!.hash !== l.blockHash)) {
        // The chain moved under us between calls: drop the chunk and try again.
        result.failures++;
        continue;
      }
      // Transactions that changed consent by signature: their calldata holds the signed requests.
      const signedTxs = new Map<string, { blockNumber: number; blockHash: string }>();
      const rows = logs.map((l): EventRow => {
        const kind = kinds.get(l.address.toLowerCase())!;
        const d = decodeLog(kind, l);
        const registryEvent = kind === "registry";
        if (registryEvent && needsSignedRequests(d)) {
          signedTxs.set(l.transactionHash, { blockNumber: l.blockNumber, blockHash: l.blockHash });
        }
        return {
          chain_id: chainId,
          block_number: l.blockNumber,
          block_hash: l.blockHash,
          log_index: l.index,
          tx_hash: l.transactionHash,
          address: l.address.toLowerCase(),
          event_name: d.name,
          args_json: JSON.stringify(d.args),
          block_timestamp: blocks.get(l.blockNumber)!.timestamp,
          via: registryEvent ? viaOfEvent(d.name, d.args) : null,
          version: registryEvent ? versionOfEvent(d.name, d.args) : null,
        };
      });
      const signed =
        signedTxs.size === 0 ? [] : await fetchSignedRequests(provider, chainId, registry, signedTxs, retries);
      if (signed === null) {
        result.failures++;
        continue;
      }
      blocks.set(end.number, end);
      result.inserted += await db.commitChunk({
        chainId,
        events: rows,
        signed,
        headers: [...blocks.values()],
        checkpoint: end,
        keepHashes: keep,
      });
      result.chunks++;
      cursor = end.number;
      cursorHash = end.hash;
      result.toBlock = cursor;
      failuresInRow = 0;
      opts.onChunk?.({ from, to, events: rows.length, range });
      // Grow while chunks are light; shrink towards `targetLogs` when they are heavy (a huge
      // eth_getLogs answer costs memory and risks the provider's result cap).
      if (rows.length > targetLogs) range = Math.max(1, Math.floor(((to - from + 1) * targetLogs) / rows.length));
      else if (rows.length < targetLogs / 2) range = Math.min(maxRange, range * 2);
      progress.tick(cursor - startCursor, target - startCursor, result.inserted, Date.now() - startedAt, cursor);
    }
    progress.done(
      `synced chain ${chainId} to block ${cursor}: +${result.inserted} events in ${result.chunks} chunks, ` +
        `${result.failures} retried requests, ${result.reorgs} reorgs`,
    );
    return result;
  } finally {
    handle.close();
  }
}

async function targetBlock(provider: Provider, opts: SyncOptions, retries: number): Promise<number> {
  let head: number;
  if (opts.finalized) head = (await header(provider, "finalized", retries)).number;
  else
    head = (await withRetry("eth_blockNumber", () => provider.getBlockNumber(), retries)) - (opts.confirmations ?? 0);
  return opts.toBlock === undefined ? head : Math.min(head, opts.toBlock);
}

/**
 * The first checkpoint of a sync (before block `fromBlock`), with the watched addresses read
 * from the registry and the genesis hash of the node's history. With `reset`, the chain's old
 * rows go in the same transaction; returns how many events were discarded.
 */
async function initMeta(
  db: AuditStore,
  provider: Provider,
  chainId: number,
  registry: string,
  fromBlock: number,
  retries: number,
  reset: boolean,
): Promise<{ meta: SyncMeta; discarded: number }> {
  const code = await withRetry("eth_getCode", () => provider.getCode(registry), retries);
  if (code === "0x") throw new Error(`no contract at ${registry} on chain ${chainId}; check --registry and --rpc`);
  const c = new Contract(registry, CONSENT_REGISTRY_ABI, provider);
  const integrations = String(await withRetry("integrations()", () => c.integrations(), retries)).toLowerCase();
  const authority = String(await withRetry("authority()", () => c.authority(), retries)).toLowerCase();
  const genesisHash = await hashAt(provider, 0, retries);
  if (genesisHash === null) throw new Error(`the node at chain ${chainId} has no block 0`);
  const meta: SyncMeta = {
    chainId,
    registry,
    integrations,
    authority,
    genesisHash,
    fromBlock,
    blockNumber: fromBlock - 1,
    blockHash: "",
  };
  const discarded = await db.startSync(meta, reset);
  return { meta, discarded };
}

/**
 * Newest kept block (≤ `below`: kept hashes and blocks holding events) whose hash the chain
 * still has, or null when none is: then the node's chain is another history, not a reorg of
 * ours. A block hash commits to its parent, so if a kept block is on the chain every older one
 * is too: a binary search needs O(log n) calls, not one per kept block.
 */
async function commonAncestor(
  db: AuditStore,
  provider: Provider,
  chainId: number,
  below: number,
  retries: number,
): Promise<{ number: number; hash: string } | null> {
  const kept = await db.knownBlocks(chainId, below);
  let lo = 0;
  let hi = kept.length - 1;
  let found: { number: number; hash: string } | null = null;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const k = kept[mid];
    if ((await hashAt(provider, k.number, retries)) === k.hash) {
      found = { number: k.number, hash: k.hash };
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}
