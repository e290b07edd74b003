import { RpcError, type RpcClient, quantity } from "./rpc.js";
import type { BlockHeader } from "./store.js";

/**
 * One chunk of the chain's logs, fetched so that no reorg can slip between its parts:
 *
 *   1. E1 = header(to)                       — the chain the chunk will be read from
 *   2. logs(from..to)                        — each log carries the block hash it came with
 *   3. one batch: header(cursor), the headers of the blocks holding logs, E2 = header(to)
 *
 * The chunk is accepted only if E2 = E1 (the chain did not move while it was read: a block
 * hash commits to every block below it), every log's block hash is its block's header hash, and
 * header(cursor) is the checkpoint the chunk extends (its boundary is tied to what is stored).
 * A reorg before the logs, between logs and headers, or during the batch shows as "moved" and the
 * chunk is read again; a reorg after the batch (during the write) leaves a consistent chunk of
 * the old branch whose end hash is no longer on the chain, which the next chunk's header(cursor)
 * reports as "reorg".
 *
 * A block with more logs than the provider returns in one answer is read narrower: per watched
 * address, then eth_getBlockReceipts, then the receipts of its transactions one by one.
 */

/** A log as the JSON-RPC returns it (numbers as numbers). */
export interface RawLog {
  address: string;
  topics: readonly string[];
  data: string;
  blockNumber: number;
  blockHash: string;
  index: number;
  transactionHash: string;
}

export type ChunkResult =
  | { kind: "ok"; logs: RawLog[]; headers: Map<number, BlockHeader>; end: BlockHeader }
  /** The chain moved while the chunk was read: read it again. */
  | { kind: "moved"; why: string }
  /** The stored checkpoint is no longer on the chain. */
  | { kind: "reorg"; chainHash: string | null }
  /** The provider refused the query (range or result cap): narrow it. */
  | { kind: "refused"; message: string }
  /** `to` is past the node's head now (a shorter chain, or a lagging node). */
  | { kind: "beyond-head" };

interface JsonLog {
  address: string;
  topics: string[];
  data: string;
  blockNumber: string;
  blockHash: string;
  logIndex: string;
  transactionHash: string;
  removed?: boolean;
}

interface JsonBlock {
  number: string;
  hash: string;
  timestamp: string;
  transactions?: string[];
}

const toLog = (l: JsonLog): RawLog => ({
  address: l.address,
  topics: l.topics,
  data: l.data,
  blockNumber: Number(l.blockNumber),
  blockHash: l.blockHash,
  index: Number(l.logIndex),
  transactionHash: l.transactionHash,
});

const toHeader = (b: JsonBlock): BlockHeader => ({
  number: Number(b.number),
  hash: b.hash,
  timestamp: Number(b.timestamp),
});

/** eth_getBlockByNumber(n) → header, or null when the chain has no such block. */
export async function headerAt(rpc: RpcClient, n: number | string): Promise<BlockHeader | null> {
  const b = await rpc.call<JsonBlock | null>("eth_getBlockByNumber", [typeof n === "number" ? quantity(n) : n, false]);
  return b ? toHeader(b) : null;
}

/** Several headers in one batch request (null where the chain has no such block). */
export async function headersAt(rpc: RpcClient, numbers: number[]): Promise<(BlockHeader | null)[]> {
  const answers = await rpc.batch(
    numbers.map((n) => ({ method: "eth_getBlockByNumber", params: [quantity(n), false] })),
  );
  return answers.map((a) => {
    if (a instanceof RpcError) throw a;
    return a ? toHeader(a as JsonBlock) : null;
  });
}

export async function fetchChunk(
  rpc: RpcClient,
  q: { addresses: string[]; from: number; to: number; cursor: number; cursorHash: string },
): Promise<ChunkResult> {
  const e1 = await headerAt(rpc, q.to);
  if (!e1) return { kind: "beyond-head" };
  let logs: RawLog[];
  try {
    logs = await getLogs(rpc, q.addresses, q.from, q.to);
  } catch (err) {
    if (err instanceof RpcError) return { kind: "refused", message: err.rpcMessage };
    throw err;
  }
  const blocks = [...new Set(logs.map((l) => l.blockNumber))].filter((b) => b !== q.to);
  const checkCursor = q.cursorHash !== "" && q.cursor >= 0;
  const calls = [...(checkCursor ? [q.cursor] : []), ...blocks, q.to].map((n) => ({
    method: "eth_getBlockByNumber",
    params: [quantity(n), false],
  }));
  const answers = await rpc.batch(calls);
  for (const a of answers) if (a instanceof RpcError) throw a;
  const got = answers as (JsonBlock | null)[];
  if (checkCursor) {
    const cur = got.shift();
    if (!cur || cur.hash !== q.cursorHash) return { kind: "reorg", chainHash: cur?.hash ?? null };
  }
  const e2 = got.pop();
  if (!e2 || e2.hash !== e1.hash)
    return { kind: "moved", why: `block ${q.to} changed from ${e1.hash} to ${e2?.hash ?? "absent"}` };
  const headers = new Map<number, BlockHeader>([[e1.number, e1]]);
  for (const b of got) {
    if (!b) return { kind: "moved", why: "a block holding logs disappeared" };
    headers.set(Number(b.number), toHeader(b));
  }
  for (const l of logs) {
    const h = headers.get(l.blockNumber);
    if (!h || h.hash !== l.blockHash) {
      return {
        kind: "moved",
        why: `log ${l.blockNumber}/${l.index} came with block hash ${l.blockHash}, the block is ${h?.hash ?? "absent"}`,
      };
    }
  }
  return { kind: "ok", logs, headers, end: e1 };
}

/**
 * eth_getLogs over from..to for the watched addresses. A single block the provider refuses is
 * read narrower instead of failing forever; a refused range is the caller's to narrow.
 */
async function getLogs(rpc: RpcClient, addresses: string[], from: number, to: number): Promise<RawLog[]> {
  try {
    return await logsOf(rpc, { address: addresses, fromBlock: quantity(from), toBlock: quantity(to) });
  } catch (err) {
    if (!(err instanceof RpcError) || from !== to) throw err;
    return denseBlock(rpc, addresses, from);
  }
}

async function logsOf(rpc: RpcClient, filter: Record<string, unknown>): Promise<RawLog[]> {
  const raw = await rpc.call<JsonLog[]>("eth_getLogs", [filter]);
  if (!Array.isArray(raw)) throw new RpcError("eth_getLogs", undefined, "the answer is not an array");
  const out: RawLog[] = [];
  for (const l of raw) if (l.removed !== true) out.push(toLog(l));
  return out;
}

/** The watched logs of one block that is too dense for one eth_getLogs answer. */
async function denseBlock(rpc: RpcClient, addresses: string[], n: number): Promise<RawLog[]> {
  const at = quantity(n);
  try {
    const parts = await Promise.all(addresses.map((a) => logsOf(rpc, { address: a, fromBlock: at, toBlock: at })));
    return parts.flat().sort((x, y) => x.index - y.index);
  } catch (err) {
    if (!(err instanceof RpcError)) throw err;
  }
  const watched = new Set(addresses.map((a) => a.toLowerCase()));
  const pick = (receipts: { logs: JsonLog[] }[]) =>
    receipts
      .flatMap((r) => r.logs)
      .filter((l) => l.removed !== true && watched.has(l.address.toLowerCase()))
      .map(toLog)
      .sort((x, y) => x.index - y.index);
  try {
    const receipts = await rpc.call<{ logs: JsonLog[] }[] | null>("eth_getBlockReceipts", [at]);
    if (Array.isArray(receipts)) return pick(receipts);
  } catch (err) {
    if (!(err instanceof RpcError)) throw err; // not supported (e.g. Hardhat's EDR): per transaction
  }
  const block = await rpc.call<JsonBlock | null>("eth_getBlockByNumber", [at, false]);
  if (!block) throw new RpcError("eth_getBlockByNumber", undefined, `block ${n} not found`);
  const txs = block.transactions ?? [];
  const receipts: { logs: JsonLog[] }[] = [];
  for (let i = 0; i < txs.length; i += 100) {
    const answers = await rpc.batch(
      txs.slice(i, i + 100).map((h) => ({ method: "eth_getTransactionReceipt", params: [h] })),
    );
    for (const a of answers) {
      if (a instanceof RpcError) throw a;
      if (!a) throw new RpcError("eth_getTransactionReceipt", undefined, `a receipt of block ${n} is missing`);
      receipts.push(a as { logs: JsonLog[] });
    }
  }
  const logs = pick(receipts);
  // Receipts of a block fetched tx by tx may straddle a reorg: they must all be of that block.
  if (logs.some((l) => l.blockHash !== block.hash))
    throw new RpcError("eth_getTransactionReceipt", undefined, `block ${n} changed`);
  return logs;
}
