import { consentDomain } from "../sdk/eip712.js";
import { fetchChunk, headerAt, headersAt } from "./chunks.js";
import { decodeLog, type Watched } from "./decode.js";
import { fastKeccak256 } from "./ecdsa.js";
import type { IntegrityFinding } from "./integrity.js";
import { LogRange } from "./range.js";
import { errorMessage, openRpc, type RpcPolicy, type RpcSource, type RpcStats } from "./rpc.js";
import { erc1271Valid } from "./signatures-sync.js";
import { RequestDigester } from "./signed-request.js";
import type { AuditStore, EventRow, SyncMeta } from "./store.js";

/**
 * `verify --rpc`: proves the store equals the chain before anything is judged. At a cost near
 * one raw re-read of the logs:
 *
 * - the checkpoint's block hash and the genesis hash are the chain's;
 * - every stored log is compared with the chain's logs of its block range, read race-free
 *   (chunks.ts: each log tied to its block hash, the chunk's end header read before and after):
 *   a log missing from the store, a stored log the chain does not have, and any field that
 *   differs (block hash, transaction hash, address, decoded content, block time) are findings;
 * - the kept block hashes (and their timestamps) are the chain's;
 * - every stored ERC-1271 answer is asked again, as the registry asked it, at its block.
 *
 * What is not compared here is covered by the rules: a signed request row is checked against
 * its event and its signature (a changed row no longer matches or no longer recovers), an extra
 * row is an orphan.
 */

export interface ChainAnchor {
  chainId: number;
  block: number;
  blockHash: string;
  logsCompared: number;
  headersCompared: number;
  erc1271Asked: number;
  elapsedMs: number;
  rpc: RpcStats;
}

const ROW_FIELDS = ["block_hash", "tx_hash", "address", "event_name", "args_json", "block_timestamp"] as const;

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
    block: meta.blockNumber,
    blockHash: meta.blockHash,
    logsCompared: 0,
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
    await compareLogs(store, meta, rpc, policy, findings, anchor);
    await compareHeaders(store, meta, rpc, findings, anchor);
    await compareErc1271(store, meta, rpc, findings, anchor);
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
  rpc: Awaited<ReturnType<typeof openRpc>>,
  policy: { maxRange?: number; initialRange?: number },
  findings: IntegrityFinding[],
  anchor: ChainAnchor,
): Promise<void> {
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
      const d = decodeLog(kinds.get(l.address.toLowerCase())!, l);
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
      const differences: Record<string, { stored: unknown; chain: unknown }> = {};
      for (const f of ROW_FIELDS) if (mine[f] !== chain[f]) differences[f] = { stored: mine[f], chain: chain[f] };
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
}

async function compareHeaders(
  store: AuditStore,
  meta: SyncMeta,
  rpc: Awaited<ReturnType<typeof openRpc>>,
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
  store: AuditStore,
  meta: SyncMeta,
  rpc: Awaited<ReturnType<typeof openRpc>>,
  findings: IntegrityFinding[],
  anchor: ChainAnchor,
): Promise<void> {
  const digester = new RequestDigester(consentDomain(meta.chainId, meta.registry), fastKeccak256);
  const asked = (await store.signedRequests(meta.chainId, meta.blockNumber)).filter(
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
