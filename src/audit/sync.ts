import { Interface } from "ethers";

import { CONSENT_REGISTRY_ABI } from "../sdk/abi.js";
import { type ChunkResult, fetchChunk, headerAt, type RawLog } from "./chunks.js";
import { decodeLog, versionOfEvent, viaOfEvent, type Watched } from "./decode.js";
import { chunkDigests, initialDigest } from "./digest.js";
import type { AuditEvent } from "./events.js";
import { makeProgress } from "./progress.js";
import { LogRange } from "./range.js";
import { errorMessage, openRpc, type RpcClient, type RpcSender, type RpcStats } from "./rpc.js";
import { signedRequestsOf } from "./signatures-sync.js";
import type { AuditStore, BlockHeader, ChainClaim, EventRow, SyncMeta } from "./store.js";

export interface SyncOptions {
  /** The audit store (`openAuditDb`). */
  db: AuditStore;
  /** An RPC URL, or anything with `send(method, params)` (an ethers provider, Hardhat's in-process one). */
  rpc: string | RpcSender;
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
  /** Blocks per eth_getLogs at the start (small: a dense first chunk sets the peak memory); then learned (range.ts). Default 25. */
  initialRange?: number;
  maxRange?: number;
  /** Aim for about this many logs per eth_getLogs (bounds the memory of a chunk). Default 2000. */
  targetLogs?: number;
  /** Consecutive failed chunks before giving up; also the RPC client's attempts per call. Default 12. */
  maxRetries?: number;
  /** Per-request timeout when `rpc` is a URL. Default 10 s. */
  timeoutMs?: number;
  /** Fixed hedge delay for stalled requests (default adaptive, see rpc.ts). */
  hedgeAfterMs?: number;
  /** How many recent checkpoint hashes to keep for finding the common ancestor. Default 256. */
  keepHashes?: number;
  /** Progress output: "auto" (bar on a TTY, plain lines otherwise), "bar", "lines", or "none". */
  progress?: "auto" | "bar" | "lines" | "none";
  /** Called after each committed chunk (tests use it to kill a sync mid-way). */
  onChunk?: (info: { from: number; to: number; events: number; range: number }) => void;
  /** Called with each accepted chunk right before it is written (tests force a reorg here: "mid-write"). */
  beforeCommit?: (info: { from: number; to: number; events: number }) => Promise<void> | void;
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
  /** Chunks read again (the chain moved under them, the provider refused them, or the transport failed). */
  failures: number;
  reorgs: number;
  /** The log digest at the new checkpoint (digest.ts). */
  digest: string;
  /** The RPC client's counters: requests, retries, hedged stalls. */
  rpc: RpcStats;
}

const REGISTRY_IFACE = new Interface(CONSENT_REGISTRY_ABI);

/**
 * Incrementally copies every event of the registry, its IntegrationRegistry and its AccessManager
 * into the audit store.
 *
 * - Chunks are read race-free (chunks.ts): every log is tied to the block hash it came with, the
 *   chunk's end header is read before and after its logs, and its start is tied to the stored
 *   checkpoint; a chunk the chain moved under is read again.
 * - Each chunk's events, signed requests, kept headers, log digests and the checkpoint (number
 *   AND hash) are written in ONE transaction, so a kill -9 at any moment leaves a consistent
 *   store; rows are unique by (chain_id, block_number, log_index), so replays are harmless.
 * - A stored checkpoint no longer on the chain is a reorg: the kept block hashes are searched for
 *   the newest one still on the chain, everything above it is deleted, the digest rewound.
 * - Another history is not a reorg: a node with the same chain id but another genesis block, or
 *   on whose chain none of the store's blocks is, is refused with a HistoryMismatchError naming
 *   both histories, before anything is written; `reset` starts over instead.
 * - One sync writes a chain at a time (`claimChain`): a second one, in any process, is refused
 *   with a ChainBusyError naming the owner; syncs of other chains into the same store go on.
 * - The RPC policy (fresh retries, hedged stalls) is the RPC client's (rpc.ts), the block range
 *   is learned from the provider (range.ts), signed requests are read per chunk
 *   (signatures-sync.ts).
 */
export async function syncEvents(opts: SyncOptions): Promise<SyncResult> {
  const { db } = opts;
  const retries = opts.maxRetries ?? 12;
  const keep = opts.keepHashes ?? 256;
  const rpc = await openRpc(opts.rpc, { timeoutMs: opts.timeoutMs, retries, hedgeAfterMs: opts.hedgeAfterMs });
  const chainId = Number(rpc.chainId);
  const progress = makeProgress(opts.progress ?? "auto");
  let claim: ChainClaim | undefined;
  try {
    // One sync per chain per store (another process, or a second one started by mistake, is
    // refused with a ChainBusyError before anything is read or written).
    claim = await db.claimChain(chainId);
    const registry = opts.registry.toLowerCase();
    // With `reset`, whatever the store holds for this chain is discarded in the same
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
      const genesis = (await headerAt(rpc, 0))?.hash ?? null;
      if (genesis !== meta.genesisHash) {
        throw new HistoryMismatchError(
          chainId,
          { genesis: meta.genesisHash, checkpoint: meta.blockNumber, checkpointHash: meta.blockHash },
          {
            genesis: genesis ?? "absent",
            checkpointHash: meta.blockNumber >= 0 ? ((await headerAt(rpc, meta.blockNumber))?.hash ?? null) : null,
          },
          await db.countEvents(chainId),
        );
      }
    } else {
      meta = await initMeta(rpc, chainId, registry, opts.fromBlock ?? 0);
      discarded = await db.startSync(meta, opts.reset === true);
      if (opts.reset) progress.line(`reset: discarded ${discarded} events of chain ${chainId}; syncing from the start`);
    }
    const kinds = new Map<string, Watched>([
      [meta.registry, "registry"],
      [meta.integrations, "integrations"],
      [meta.authority, "authority"],
    ]);
    const addresses = [...kinds.keys()];
    const range = new LogRange(opts.initialRange ?? 25, opts.maxRange ?? 5000, opts.targetLogs ?? 2000);
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
      digest: meta.digest,
      rpc: rpc.stats,
    };
    let cursor = meta.blockNumber;
    let cursorHash = meta.blockHash;
    let digest = meta.digest;
    let target = await targetBlock(rpc, opts);
    const startCursor = cursor;
    const startedAt = Date.now();
    let failuresInRow = 0;
    let ahead: { from: number; to: number; cursorHash: string; result: Promise<ChunkResult> } | undefined;
    const failed = (what: string) => {
      result.failures++;
      failuresInRow++;
      if (failuresInRow > retries) throw new Error(`${what}: ${failuresInRow} attempts in a row failed`);
      progress.debug(what);
    };

    while (true) {
      if (cursor >= target) {
        const latest = await targetBlock(rpc, opts);
        if (opts.toBlock !== undefined || latest <= cursor) {
          // Nothing left to read: still make sure the checkpoint is on the chain (a reorg
          // below the target is not left standing because the chunk that would see it is empty).
          const onChain = cursor < 0 || cursorHash === "" || (await headerAt(rpc, cursor))?.hash === cursorHash;
          if (onChain) break;
        } else {
          target = latest;
          continue;
        }
      }
      const from = cursor + 1;
      let to = Math.max(from, Math.min(target, from + range.size - 1));
      let chunk: ChunkResult;
      try {
        if (from > target) chunk = { kind: "reorg", chainHash: null };
        else if (ahead && ahead.from === from && ahead.cursorHash === cursorHash) {
          // Read while the previous chunk was being written (same start, same checkpoint).
          to = ahead.to;
          chunk = await ahead.result;
        } else chunk = await fetchChunk(rpc, { addresses, from, to, cursor, cursorHash });
      } catch (err) {
        ahead = undefined;
        failed(`chunk ${from}..${to}: ${errorMessage(err)}`);
        continue;
      }
      ahead = undefined;
      if (chunk.kind === "refused") {
        range.refused(to - from + 1, chunk.message);
        failed(`eth_getLogs ${from}..${to} refused (${chunk.message}); range now ${range.size}`);
        continue;
      }
      if (chunk.kind === "moved") {
        failed(`chunk ${from}..${to}: the chain moved (${chunk.why}); reading it again`);
        continue;
      }
      if (chunk.kind === "beyond-head") {
        target = await targetBlock(rpc, opts);
        failed(`block ${to} is past the node's head; target now ${target}`);
        continue;
      }
      if (chunk.kind === "reorg") {
        const ancestor = await commonAncestor(db, rpc, chainId, cursor);
        if (ancestor === null) {
          // Nothing of ours is on this chain: not a reorg but another history. Refuse.
          throw new HistoryMismatchError(
            chainId,
            { genesis: meta.genesisHash, checkpoint: cursor, checkpointHash: cursorHash },
            { genesis: meta.genesisHash, checkpointHash: (await headerAt(rpc, cursor))?.hash ?? null },
            await db.countEvents(chainId),
          );
        }
        const rewound = (await db.digestAt(chainId, ancestor.number)) ?? initialDigest(chainId, registry);
        await db.rewind(chainId, ancestor, rewound);
        progress.line(`reorg detected at block ${cursor}: rewound to common ancestor ${ancestor.number}`);
        result.reorgs++;
        cursor = ancestor.number;
        cursorHash = ancestor.hash;
        digest = rewound;
        target = await targetBlock(rpc, opts);
        continue;
      }
      // The next chunk is read while this one is decoded and written: the node serialises logs
      // while this process works (two cores busy instead of one). It starts from this chunk's
      // end, so it is used only if this chunk is committed as read.
      range.succeeded(to - from + 1, chunk.logs.length);
      const nextFrom = chunk.end.number + 1;
      if (nextFrom <= target) {
        const nextTo = Math.min(target, nextFrom + range.size - 1);
        const q = { addresses, from: nextFrom, to: nextTo, cursor: chunk.end.number, cursorHash: chunk.end.hash };
        const result = fetchChunk(rpc, q);
        result.catch(() => undefined); // judged when it is used (or dropped)
        ahead = { from: nextFrom, to: nextTo, cursorHash: chunk.end.hash, result };
      }
      const events = chunk.logs.map((l) => decodeLog(kinds.get(l.address.toLowerCase())!, l));
      let signed;
      try {
        signed = await signedRequestsOf(rpc, chainId, registry, chunk.logs, events);
      } catch (err) {
        failed(`signed requests of ${from}..${to}: ${errorMessage(err)}`);
        continue;
      }
      if (signed === null) {
        failed(`chunk ${from}..${to}: a signed transaction left its block; reading it again`);
        continue;
      }
      const rows = chunk.logs.map((l, i) => eventRow(chainId, l, events[i], kinds, chunk.headers));
      const digests = chunkDigests(digest, rows, signed);
      await opts.beforeCommit?.({ from, to, events: rows.length });
      result.inserted += await db.commitChunk({
        chainId,
        events: rows,
        signed,
        headers: [...chunk.headers.values()],
        checkpoint: chunk.end,
        blockDigests: digests.blocks,
        digest: digests.last,
        keepHashes: keep,
      });
      result.chunks++;
      cursor = chunk.end.number;
      cursorHash = chunk.end.hash;
      digest = digests.last;
      result.toBlock = cursor;
      failuresInRow = 0;
      opts.onChunk?.({ from, to, events: rows.length, range: range.size });
      progress.tick(cursor - startCursor, target - startCursor, result.inserted, Date.now() - startedAt, cursor);
    }
    result.toBlock = cursor;
    result.digest = digest;
    progress.done(
      `synced chain ${chainId} to block ${cursor}: +${result.inserted} events in ${result.chunks} chunks, ` +
        `${result.failures} chunks read again, ${result.reorgs} reorgs; ` +
        `${rpc.stats.requests} requests, ${rpc.stats.retries} retried, ${rpc.stats.hedges} hedged`,
    );
    return result;
  } finally {
    rpc.close();
    await claim?.release().catch(() => undefined);
  }
}

function eventRow(
  chainId: number,
  l: RawLog,
  d: AuditEvent,
  kinds: Map<string, Watched>,
  headers: Map<number, BlockHeader>,
): EventRow {
  const registryEvent = kinds.get(l.address.toLowerCase()) === "registry";
  return {
    chain_id: chainId,
    block_number: l.blockNumber,
    block_hash: l.blockHash,
    log_index: l.index,
    tx_hash: l.transactionHash,
    address: l.address.toLowerCase(),
    event_name: d.name,
    args_json: JSON.stringify(d.args),
    block_timestamp: headers.get(l.blockNumber)!.timestamp,
    via: registryEvent ? viaOfEvent(d.name, d.args) : null,
    version: registryEvent ? versionOfEvent(d.name, d.args) : null,
  };
}

async function targetBlock(rpc: RpcClient, opts: SyncOptions): Promise<number> {
  let head: number;
  if (opts.finalized) {
    const f = await headerAt(rpc, "finalized");
    if (!f) throw new Error("the node has no finalized block");
    head = f.number;
  } else head = Number(await rpc.call<string>("eth_blockNumber", [])) - (opts.confirmations ?? 0);
  return opts.toBlock === undefined ? head : Math.min(head, opts.toBlock);
}

/**
 * The first checkpoint of a sync (before block `fromBlock`), with the watched addresses read
 * from the registry and the genesis hash of the node's history.
 */
async function initMeta(rpc: RpcClient, chainId: number, registry: string, fromBlock: number): Promise<SyncMeta> {
  const code = await rpc.call<string>("eth_getCode", [registry, "latest"]);
  if (code === "0x") throw new Error(`no contract at ${registry} on chain ${chainId}; check --registry and --rpc`);
  const read = async (fn: "integrations" | "authority") => {
    const ret = await rpc.call<string>("eth_call", [
      { to: registry, data: REGISTRY_IFACE.encodeFunctionData(fn) },
      "latest",
    ]);
    return String(REGISTRY_IFACE.decodeFunctionResult(fn, ret)[0]).toLowerCase();
  };
  const integrations = await read("integrations");
  const authority = await read("authority");
  const genesis = await headerAt(rpc, 0);
  if (genesis === null) throw new Error(`the node at chain ${chainId} has no block 0`);
  return {
    chainId,
    registry,
    integrations,
    authority,
    genesisHash: genesis.hash,
    fromBlock,
    blockNumber: fromBlock - 1,
    blockHash: "",
    digest: initialDigest(chainId, registry),
  };
}

/**
 * Newest kept block (≤ `below`: kept hashes and blocks holding events) whose hash the chain
 * still has, or null when none is: then the node's chain is another history, not a reorg of
 * ours. A block hash commits to its parent, so if a kept block is on the chain every older one
 * is too: a binary search needs O(log n) calls, not one per kept block.
 */
async function commonAncestor(
  db: AuditStore,
  rpc: RpcClient,
  chainId: number,
  below: number,
): Promise<{ number: number; hash: string } | null> {
  const kept = await db.knownBlocks(chainId, below);
  let lo = 0;
  let hi = kept.length - 1;
  let found: { number: number; hash: string } | null = null;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const k = kept[mid];
    if ((await headerAt(rpc, k.number))?.hash === k.hash) {
      found = { number: k.number, hash: k.hash };
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}
