import { Interface } from "ethers";

import { CONSENT_REGISTRY_ABI } from "../sdk/abi.js";
import { consentDomain } from "../sdk/eip712.js";
import { fetchChunk, headerAt, headersAt } from "./chunks.js";
import { decodeLog, type Watched } from "./decode.js";
import { fastKeccak256 } from "./ecdsa.js";
import type { IntegrityFinding } from "./integrity.js";
import { LogRange } from "./range.js";
import {
  errorMessage,
  openRpc,
  quantity,
  type RpcClient,
  RpcError,
  type RpcPolicy,
  type RpcSource,
  type RpcStats,
} from "./rpc.js";
import { erc1271Valid, needsSignedRequests, requestRowsOfTx, transactionsByHash } from "./signatures-sync.js";
import { RequestDigester } from "./signed-request.js";
import type { AuditStore, EventRow, SignedRequestRow, SyncMeta } from "./store.js";

/**
 * `verify --rpc`: proves the store equals the chain before anything is judged. At a cost near
 * one raw re-read of the logs:
 *
 * - the checkpoint's block hash and the genesis hash are the chain's;
 * - the watched addresses are the registry's: its integrations() and authority() at the
 *   checkpoint (a database watching another address holds another contract's history);
 * - the history starts where the registry does: when the sync started after block 0, the
 *   registry must have had no code in the block before (found by a binary search of
 *   eth_getCode when it had: "blocks D..F-1 were not checked"); a node without historic state
 *   cannot tell, and the statement says so;
 * - every stored log is compared with the chain's logs of its block range, read race-free
 *   (chunks.ts: each log tied to its block hash, the chunk's end header read before and after):
 *   a log missing from the store, a stored log the chain does not have, and any field that
 *   differs (block hash, transaction hash, address, decoded content, block time) are findings;
 * - the kept block hashes (and their timestamps) are the chain's;
 * - every stored signed request equals the one sync builds from its transaction's calldata
 *   (signatures-sync.ts), for every transaction of a signed change on chain and every stored
 *   row: a signature dropped (a row rewritten as an `internal` marker) or replaced by an
 *   equivalent form is a finding, not merely a row that still recovers;
 * - every stored ERC-1271 answer is asked again, as the registry asked it, at its block.
 *
 * Rows below the block the sync started at are findings of the digest check (integrity.ts):
 * nothing here compares them, since sync never reads there.
 */

/** Where the registry's code starts, as far as the node can tell (the `from_block` check). */
export interface DeploymentCheck {
  /**
   * "not-needed": the sync started at block 0; "after-start": no code in block F-1, so the
   * history is complete; "before-start": code at F-1, deployed at `block`; "unknown": the node
   * keeps no state of block F-1 (`reason`).
   */
  result: "not-needed" | "after-start" | "before-start" | "unknown";
  block?: number;
  reason?: string;
}

export interface ChainAnchor {
  chainId: number;
  /** The registry whose history this is (sync_state), and the block the history starts at. */
  registry: string;
  fromBlock: number;
  block: number;
  blockHash: string;
  deployment: DeploymentCheck;
  logsCompared: number;
  /** Transactions whose calldata was decoded again and compared with the stored signed requests. */
  signedTxsCompared: number;
  headersCompared: number;
  erc1271Asked: number;
  elapsedMs: number;
  rpc: RpcStats;
}

const ROW_FIELDS = ["block_hash", "tx_hash", "address", "event_name", "args_json", "block_timestamp"] as const;

/** The fields where a stored row and the chain's differ, each with both values (a finding's evidence). */
function fieldDifferences<K extends string>(
  stored: Readonly<Record<K, unknown>>,
  chain: Readonly<Record<K, unknown>>,
  fields: readonly K[],
): Record<string, { stored: unknown; chain: unknown }> {
  const differences: Record<string, { stored: unknown; chain: unknown }> = {};
  for (const f of fields) if (stored[f] !== chain[f]) differences[f] = { stored: stored[f], chain: chain[f] };
  return differences;
}

export async function anchorToChain(
  store: AuditStore,
  meta: SyncMeta,
  source: RpcSource,
  policy: RpcPolicy & { maxRange?: number; initialRange?: number } = {},
): Promise<{ anchor: ChainAnchor; findings: IntegrityFinding[] }> {
  const started = performance.now();
  const findings: IntegrityFinding[] = [];
  const rpc = await openRpc(source, policy);
  const anchor: ChainAnchor = {
    chainId: Number(rpc.chainId),
    registry: meta.registry,
    fromBlock: meta.fromBlock,
    block: meta.blockNumber,
    blockHash: meta.blockHash,
    deployment: { result: "not-needed" },
    logsCompared: 0,
    signedTxsCompared: 0,
    headersCompared: 0,
    erc1271Asked: 0,
    elapsedMs: 0,
    rpc: rpc.stats,
  };
  try {
    if (anchor.chainId !== meta.chainId) {
      findings.push({
        rule: "chain-id-mismatch",
        message: `the node is chain ${anchor.chainId}, the database holds chain ${meta.chainId}`,
        block: -1,
        evidence: { stored: meta.chainId, node: anchor.chainId },
      });
      return { anchor, findings };
    }
    const [genesis, checkpoint] = await Promise.all([headerAt(rpc, 0), headerAt(rpc, meta.blockNumber)]);
    if (genesis?.hash !== meta.genesisHash || checkpoint?.hash !== meta.blockHash) {
      findings.push({
        rule: "checkpoint-not-on-chain",
        message: `the database's checkpoint block ${meta.blockNumber} (${meta.blockHash}) is not on this chain (${checkpoint?.hash ?? "no such block"}): a reorg since the sync, or another history; run sync first`,
        block: meta.blockNumber,
        evidence: {
          block: meta.blockNumber,
          stored: meta.blockHash,
          chain: checkpoint?.hash ?? null,
          storedGenesis: meta.genesisHash,
          chainGenesis: genesis?.hash ?? null,
        },
      });
      return { anchor, findings };
    }
    await compareWatched(meta, rpc, findings);
    anchor.deployment = await checkDeployment(meta, rpc, findings);
    const signedTxs = await compareLogs(store, meta, rpc, policy, findings, anchor);
    await compareHeaders(store, meta, rpc, findings, anchor);
    const signed = await store.signedRequests(meta.chainId, meta.blockNumber);
    await compareSignedRequests(signed, signedTxs, meta, rpc, findings, anchor);
    await compareErc1271(signed, meta, rpc, findings, anchor);
    const after = await headerAt(rpc, meta.blockNumber);
    if (after?.hash !== meta.blockHash) {
      findings.push({
        rule: "chain-moved-during-verify",
        message: `block ${meta.blockNumber} changed while verify read the chain: sync and verify again`,
        block: meta.blockNumber,
        evidence: { stored: meta.blockHash, chain: after?.hash ?? null },
      });
    }
    return { anchor, findings };
  } finally {
    anchor.elapsedMs = performance.now() - started;
    rpc.close();
  }
}

async function compareLogs(
  store: AuditStore,
  meta: SyncMeta,
  rpc: RpcClient,
  policy: { maxRange?: number; initialRange?: number },
  findings: IntegrityFinding[],
  anchor: ChainAnchor,
): Promise<Map<string, number>> {
  /** The chain's transactions of signed changes (tx → block): their calldata is compared too. */
  const signedTxs = new Map<string, number>();
  const kinds = new Map<string, Watched>([
    [meta.registry, "registry"],
    [meta.integrations, "integrations"],
    [meta.authority, "authority"],
  ]);
  const addresses = [...kinds.keys()];
  // Small at first and then learned, as in sync: a first range over the whole chain was one
  // answer of every log (96k logs: 800 MB of peak RSS, and the node serialising it twice when hedged).
  const range = new LogRange(policy.initialRange ?? 25, policy.maxRange ?? 5000, 2000);
  let from = Math.max(0, meta.fromBlock);
  let failures = 0;
  const read = (a: number, b: number) =>
    fetchChunk(rpc, { addresses, from: a, to: b, cursor: -1, cursorHash: "" }).catch((err: unknown) => ({
      kind: "error" as const,
      message: errorMessage(err),
    }));
  // The next range is read while this one is compared (the node works while this process does).
  let ahead: { from: number; to: number; result: ReturnType<typeof read> } | undefined;
  while (from <= meta.blockNumber) {
    let to = Math.min(meta.blockNumber, from + range.size - 1);
    let chunk;
    if (ahead && ahead.from === from) {
      to = ahead.to;
      chunk = await ahead.result;
    } else chunk = await read(from, to);
    ahead = undefined;
    if (chunk.kind !== "ok") {
      if (chunk.kind === "refused") range.refused(to - from + 1, chunk.message);
      if (++failures > 12)
        throw new Error(`verify --rpc: reading blocks ${from}..${to} failed 12 times (${chunk.kind})`);
      continue;
    }
    failures = 0;
    range.succeeded(to - from + 1, chunk.logs.length);
    if (to < meta.blockNumber) {
      const nextTo = Math.min(meta.blockNumber, to + range.size);
      ahead = { from: to + 1, to: nextTo, result: read(to + 1, nextTo) };
    }
    const stored = new Map<string, EventRow>();
    for (const r of await store.eventsInRange(meta.chainId, from, to))
      stored.set(`${r.block_number}:${r.log_index}`, r);
    for (const l of chunk.logs) {
      anchor.logsCompared++;
      const kind = kinds.get(l.address.toLowerCase())!;
      const d = decodeLog(kind, l);
      if (kind === "registry" && needsSignedRequests(d)) signedTxs.set(l.transactionHash, l.blockNumber);
      const chain = {
        block_hash: l.blockHash,
        tx_hash: l.transactionHash,
        address: l.address.toLowerCase(),
        event_name: d.name,
        args_json: JSON.stringify(d.args),
        block_timestamp: chunk.headers.get(l.blockNumber)!.timestamp,
      };
      const k = `${l.blockNumber}:${l.index}`;
      const mine = stored.get(k);
      stored.delete(k);
      if (!mine) {
        findings.push({
          rule: "log-missing-from-database",
          message: `the chain has ${d.name} at block ${l.blockNumber} log ${l.index} (tx ${l.transactionHash}); the database does not`,
          block: l.blockNumber,
          evidence: { block: l.blockNumber, logIndex: l.index, ...chain, args: d.args },
        });
        continue;
      }
      const differences = fieldDifferences(mine, chain, ROW_FIELDS);
      if (Object.keys(differences).length !== 0) {
        findings.push({
          rule: "log-differs-from-chain",
          message: `block ${l.blockNumber} log ${l.index}: the database's ${mine.event_name} differs from the chain's ${d.name} in ${Object.keys(differences).join(", ")}`,
          block: l.blockNumber,
          evidence: { block: l.blockNumber, logIndex: l.index, differences },
        });
      }
    }
    for (const r of stored.values()) {
      findings.push({
        rule: "log-not-on-chain",
        message: `the database has ${r.event_name} at block ${r.block_number} log ${r.log_index} (tx ${r.tx_hash}); the chain has no such log`,
        block: r.block_number,
        evidence: {
          block: r.block_number,
          logIndex: r.log_index,
          blockHash: r.block_hash,
          txHash: r.tx_hash,
          event: r.event_name,
          args: JSON.parse(r.args_json) as unknown,
        },
      });
    }
    from = to + 1;
  }
  return signedTxs;
}

async function compareHeaders(
  store: AuditStore,
  meta: SyncMeta,
  rpc: RpcClient,
  findings: IntegrityFinding[],
  anchor: ChainAnchor,
): Promise<void> {
  const kept = await store.keptHeaders(meta.chainId, meta.blockNumber);
  for (let i = 0; i < kept.length; i += 200) {
    const part = kept.slice(i, i + 200);
    const chain = await headersAt(
      rpc,
      part.map((h) => h.number),
    );
    part.forEach((h, j) => {
      anchor.headersCompared++;
      const c = chain[j];
      if (!c || c.hash !== h.hash || c.timestamp !== h.timestamp) {
        findings.push({
          rule: "block-hash-not-on-chain",
          message: `the database keeps block ${h.number} as ${h.hash} (time ${h.timestamp}); the chain's is ${c?.hash ?? "absent"} (time ${c?.timestamp ?? "-"})`,
          block: h.number,
          evidence: { block: h.number, stored: h, chain: c },
        });
      }
    });
  }
}

async function compareErc1271(
  signed: readonly SignedRequestRow[],
  meta: SyncMeta,
  rpc: RpcClient,
  findings: IntegrityFinding[],
  anchor: ChainAnchor,
): Promise<void> {
  const digester = new RequestDigester(consentDomain(meta.chainId, meta.registry), fastKeccak256);
  const asked = signed.filter(
    (r) => r.erc1271_valid !== null && r.signature !== null && r.epoch !== null && r.deadline !== null,
  );
  for (let i = 0; i < asked.length; i += 16) {
    await Promise.all(
      asked.slice(i, i + 16).map(async (r) => {
        anchor.erc1271Asked++;
        const digest = digester.digest({
          kind: r.kind as "Grant" | "Revoke" | "RevokeAll",
          owner: r.owner,
          fields: JSON.parse(r.args_json) as Record<string, string>,
          epoch: r.epoch!,
          version: r.version,
          deadline: r.deadline!,
        });
        const chain = await erc1271Valid(rpc, meta.registry, r.owner, digest, r.signature!, r.block_number);
        if (chain !== r.erc1271_valid) {
          findings.push({
            rule: "erc1271-answer-differs",
            message: `signed request ${r.item_index} of tx ${r.tx_hash}: the database says ${r.owner}'s isValidSignature answered ${r.erc1271_valid === 1 ? "valid" : "invalid"} at block ${r.block_number}; asked again from the registry it answers ${chain === 1 ? "valid" : "invalid"}`,
            block: r.block_number,
            evidence: { tx: r.tx_hash, index: r.item_index, owner: r.owner, digest, stored: r.erc1271_valid, chain },
          });
        }
      }),
    );
  }
}

const REGISTRY_IFACE = new Interface(CONSENT_REGISTRY_ABI);

/**
 * The watched IntegrationRegistry and AccessManager are the registry's own, asked at the
 * checkpoint: sync read them once when it started, and a database that watches another address
 * holds another contract's history (deleting its rows and pointing `integrations` elsewhere
 * frames honest shares as violations without any other trace).
 */
async function compareWatched(meta: SyncMeta, rpc: RpcClient, findings: IntegrityFinding[]): Promise<void> {
  const ask = async (fn: "integrations" | "authority", block: string) => {
    const ret = await rpc.call<string>("eth_call", [
      { to: meta.registry, data: REGISTRY_IFACE.encodeFunctionData(fn) },
      block,
    ]);
    return String(REGISTRY_IFACE.decodeFunctionResult(fn, ret)[0]).toLowerCase();
  };
  for (const fn of ["integrations", "authority"] as const) {
    let at = quantity(meta.blockNumber);
    let chain: string;
    try {
      chain = await ask(fn, at);
    } catch (err) {
      // A node that keeps no state of the checkpoint block answers for the newest one instead.
      if (!(err instanceof RpcError)) throw err;
      at = "latest";
      chain = await ask(fn, at);
    }
    if (chain !== meta[fn]) {
      findings.push({
        rule: "watched-address-differs",
        message: `the database watches ${meta[fn]} as the registry's ${fn}, but registry ${meta.registry} answers ${fn}() = ${chain} at block ${at === "latest" ? "latest (the node has no state of the checkpoint)" : meta.blockNumber}: its events are another contract's`,
        block: meta.blockNumber,
        evidence: { field: fn, registry: meta.registry, stored: meta[fn], chain, at },
      });
    }
  }
}

/**
 * Whether the history starts where the registry does. A sync that started at block F > 0 read
 * nothing before F: if the registry had code at F-1, its events of blocks D..F-1 (D its first
 * block with code) are in no database, and a forger who deletes a revocation only has to raise
 * `from_block` past it. Code at F-1 is one eth_getCode; D is then found by a binary search
 * (O(log F) calls; code only ever appears once at an address the registry uses).
 */
async function checkDeployment(meta: SyncMeta, rpc: RpcClient, findings: IntegrityFinding[]): Promise<DeploymentCheck> {
  if (meta.fromBlock <= 0) return { result: "not-needed" };
  const hasCode = async (block: number) =>
    (await rpc.call<string>("eth_getCode", [meta.registry, quantity(block)])) !== "0x";
  // A start past the checkpoint (forged: sync never writes one) is asked at the checkpoint.
  let hi = Math.min(meta.fromBlock - 1, meta.blockNumber);
  try {
    if (!(await hasCode(hi))) return { result: "after-start" };
  } catch (err) {
    if (!(err instanceof RpcError)) throw err;
    return { result: "unknown", reason: `the node keeps no state of block ${hi} (${err.rpcMessage})` };
  }
  // Invariant: code at hi; none known below lo.
  let lo = 0;
  let exact = true;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    try {
      if (await hasCode(mid)) hi = mid;
      else lo = mid + 1;
    } catch (err) {
      // Older state pruned: the registry existed by `hi` at least, which is finding enough.
      if (!(err instanceof RpcError)) throw err;
      exact = false;
      break;
    }
  }
  findings.push({
    rule: "history-starts-after-deployment",
    message: `the sync started at block ${meta.fromBlock}, but registry ${meta.registry} has code ${exact ? "since" : "at least since"} block ${hi}: its events of blocks ${hi}..${meta.fromBlock - 1} were not checked (nor are they in the database); sync again with --from-block ${hi} or lower`,
    block: meta.fromBlock,
    evidence: { registry: meta.registry, fromBlock: meta.fromBlock, deploymentBlock: hi, exact },
  });
  return { result: "before-start", block: hi };
}

const SIGNED_FIELDS = [
  "block_number",
  "kind",
  "owner",
  "args_json",
  "epoch",
  "version",
  "deadline",
  "signature",
  "erc1271_valid",
] as const;

/**
 * Every stored signed request against the one sync builds from its transaction's calldata, for
 * the transactions of the chain's signed changes (from compareLogs) and of every stored row. The
 * rules check a row against its event and its signature, which an equivalent row still passes:
 * a signature dropped by rewriting the row as an `internal` marker (a warning instead of a
 * check) or replaced by its EIP-2098 64-byte form. A stored ERC-1271 answer is asked again in
 * compareErc1271; here only whether there should be one (the signature does not recover to the
 * owner) is compared, and the wallet is asked only where the stored row has none.
 */
async function compareSignedRequests(
  signed: readonly SignedRequestRow[],
  chainTxs: ReadonlyMap<string, number>,
  meta: SyncMeta,
  rpc: RpcClient,
  findings: IntegrityFinding[],
  anchor: ChainAnchor,
): Promise<void> {
  const storedByTx = new Map<string, SignedRequestRow[]>();
  const block = new Map(chainTxs);
  for (const r of signed) {
    const xs = storedByTx.get(r.tx_hash);
    if (xs) xs.push(r);
    else storedByTx.set(r.tx_hash, [r]);
    if (!block.has(r.tx_hash)) block.set(r.tx_hash, r.block_number);
  }
  const hashes = [...block.keys()];
  const txs = await transactionsByHash(rpc, hashes);
  const digester = new RequestDigester(consentDomain(meta.chainId, meta.registry), fastKeccak256);
  const asks: Promise<void>[] = [];
  const compared: { tx: string; stored: SignedRequestRow[]; chain: SignedRequestRow[] }[] = [];
  hashes.forEach((hash, i) => {
    const tx = txs[i];
    const at = block.get(hash)!;
    const stored = storedByTx.get(hash) ?? [];
    anchor.signedTxsCompared++;
    if (!tx || tx.blockNumber === null || Number(tx.blockNumber) !== at) {
      findings.push({
        rule: "signed-request-tx-not-on-chain",
        message: `the database holds ${stored.length} signed request(s) of tx ${hash} at block ${at}; the chain has ${tx ? `that transaction at block ${tx.blockNumber === null ? "(pending)" : Number(tx.blockNumber)}` : "no such transaction"}`,
        block: at,
        evidence: {
          tx: hash,
          block: at,
          chainBlock: tx?.blockNumber == null ? null : Number(tx.blockNumber),
          rows: stored.length,
        },
      });
      return;
    }
    const base = { chain_id: meta.chainId, block_number: at, tx_hash: hash };
    const derived = requestRowsOfTx(digester, meta.registry, base, tx);
    for (const { row, digest } of derived.unrecovered) {
      const mine = stored.find((r) => r.item_index === row.item_index);
      if (mine && mine.erc1271_valid !== null) row.erc1271_valid = mine.erc1271_valid;
      else
        asks.push(
          erc1271Valid(rpc, meta.registry, row.owner, digest, row.signature!, at).then((v) => {
            row.erc1271_valid = v;
          }),
        );
    }
    compared.push({ tx: hash, stored, chain: derived.rows });
  });
  for (let i = 0; i < asks.length; i += 16) await Promise.all(asks.slice(i, i + 16));
  for (const { tx, stored, chain } of compared) {
    const mine = new Map(stored.map((r) => [r.item_index, r]));
    for (const c of chain) {
      const r = mine.get(c.item_index);
      mine.delete(c.item_index);
      if (!r) {
        findings.push({
          rule: "signed-request-missing-from-database",
          message: `the calldata of tx ${tx} carries ${c.kind === "internal" || c.kind === "unsigned" ? `an ${c.kind} call` : `signed ${c.kind} request ${c.item_index} of ${c.owner}`}; the database holds no row for it`,
          block: c.block_number,
          evidence: { tx, index: c.item_index, chain: { ...c } },
        });
        continue;
      }
      const differences = fieldDifferences(r, c, SIGNED_FIELDS);
      if (Object.keys(differences).length !== 0) {
        findings.push({
          rule: "signed-request-differs-from-calldata",
          message: `signed request ${c.item_index} of tx ${tx}: the database's ${r.kind} row differs from the ${c.kind} row of the transaction's calldata in ${Object.keys(differences).join(", ")}`,
          block: c.block_number,
          evidence: { tx, index: c.item_index, differences },
        });
      }
    }
    for (const r of mine.values()) {
      findings.push({
        rule: "signed-request-not-in-calldata",
        message: `the database holds ${r.kind} row ${r.item_index} of tx ${tx} (owner ${r.owner || "none"}); the transaction's calldata has no such item`,
        block: r.block_number,
        evidence: { tx, index: r.item_index, stored: { ...r } },
      });
    }
  }
}
