import { anchorToChain, type ChainAnchor } from "./anchor.js";
import { DigestCheck, headersBelowStart, type IntegrityFinding } from "./integrity.js";
import { ConsentModel, type Violation } from "./model.js";
import type { RpcPolicy, RpcSource } from "./rpc.js";
import { SignatureAudit, type Warning } from "./signatures.js";
import { type AuditStore, chainToRead } from "./store.js";

export interface VerifyResult {
  /** No rule violation and no integrity finding. */
  ok: boolean;
  chainId: number;
  eventsChecked: number;
  usesChecked: number;
  sharesChecked: number;
  lastBlock: number;
  /** Consent changes made by signature whose signed request was checked (or warned about). */
  signaturesChecked: number;
  /** Failed items of best-effort signed-revocation batches (SignedRevokeFailed) checked (or warned about). */
  failedRevocationsChecked: number;
  /** Breaches of the registry's rules, each with the event and the state it was judged in. */
  violations: Violation[];
  /** What the auditor could not check on its own (e.g. signatures relayed through a contract). */
  warnings: Warning[];
  /** What the record itself is anchored to, and where it is not what sync stored or the chain has. */
  integrity: {
    /** "chain": compared with the chain (`rpc` given); "self": the log digest only. */
    mode: "chain" | "self";
    /**
     * In words: "anchored to chain X at block N (H), from block F, registry R" (and what the node
     * could not tell about the blocks before F), or "self-consistent only (registry R, …)".
     */
    statement: string;
    /** The registry whose history was verified (sync_state; anchored only in mode "chain"). */
    registry: string;
    /** The block the stored history starts at (sync_state.from_block). */
    fromBlock: number;
    /** The log digest of the rows as they are, up to `digestBlock` (compare it with another auditor's). */
    digest: string;
    digestBlock: number;
    findings: IntegrityFinding[];
    chain?: ChainAnchor;
  };
  elapsedMs: number;
}

export interface VerifyOptions {
  chainId?: number;
  toBlock?: number;
  maxViolations?: number;
  /** Anchor to the chain first (`audit verify --rpc URL`): a URL or a `send(method, params)` provider. */
  rpc?: RpcSource;
  rpcPolicy?: RpcPolicy;
}

/**
 * Verifies a store in two steps.
 *
 * 1. The record: with `rpc`, the store is compared with the chain (anchor.ts: every log by block
 *    hash, the kept block hashes, every ERC-1271 answer asked again); in every case the log
 *    digest (digest.ts) is recomputed from the rows and compared with what sync stored, and
 *    stored signed requests that no event used are findings.
 * 2. The rules, with the independent rule model (registry 2.0.0): every DataUsed/DataShared must
 *    have been covered at its block (by block timestamp, epoch, ALL_DATA fallback except for
 *    ALL_DATA and data id 0, integration status); every consent change must have been
 *    authorised (via Owner ⇒ actor is the owner, via Manager ⇒ actor was a manager appointed in
 *    the owner's current epoch, via Signature ⇒ the signed request in the transaction's
 *    calldata recovers to the owner or its ERC-1271 wallet, asked from the registry, accepted
 *    it; its deadline was not before the block time, its epoch was the owner's and its version
 *    above the key's in its generation) and must set the key's version by the rule (transaction
 *    ⇒ next generation); grants by transaction name grantable (or kept) purposes and future
 *    expiries, signed grants store the signed purposes narrowed to those; and every
 *    SignedRevokeFailed names an item that could not apply, for the reason given.
 */
export async function verifyHistory(store: AuditStore, opts: VerifyOptions = {}): Promise<VerifyResult> {
  const started = performance.now();
  const model = new ConsentModel();
  const violations: Violation[] = [];
  const warnings: Warning[] = [];
  const cap = opts.maxViolations ?? 10_000;
  const chainId = await chainToRead(store, opts.chainId);
  const meta = await store.meta(chainId);
  const toBlock = Math.min(opts.toBlock ?? Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  const findings: IntegrityFinding[] = [];
  let chain: ChainAnchor | undefined;
  if (opts.rpc !== undefined) {
    if (!meta) throw new Error("verify --rpc needs a synced database (no sync checkpoint found)");
    const anchored = await anchorToChain(store, meta, opts.rpc, opts.rpcPolicy);
    chain = anchored.anchor;
    findings.push(...anchored.findings);
  }
  const signed = meta ? await store.signedRequests(chainId, opts.toBlock) : [];
  const sigs = meta ? new SignatureAudit(meta.chainId, meta.registry, signed) : undefined;
  const digests = meta ? new DigestCheck(meta, await store.blockDigests(chainId, toBlock), signed, toBlock) : undefined;
  let uses = 0;
  let shares = 0;
  const r = await store.replay({ chainId, toBlock: opts.toBlock, rows: digests !== undefined }, (e, row) => {
    if (row) digests!.row(row);
    if (e.name === "DataUsed") uses++;
    else if (e.name === "DataShared") shares++;
    // Signatures first: they are judged in the state before the event (epoch, version, keepable purposes).
    const found: Violation[] = [];
    sigs?.apply(e, model, found, warnings);
    found.push(...model.apply(e));
    if (found.length !== 0 && violations.length < cap) violations.push(...found);
  });
  sigs?.close();
  const digest = digests?.finish();
  if (digests) findings.push(...digests.findings);
  if (meta) {
    findings.push(...headersBelowStart(meta, await store.keptHeaders(chainId, meta.fromBlock - 1)));
    if (meta.fromBlock > meta.blockNumber + 1) {
      // Sync starts with its checkpoint at from_block - 1 and only moves it up.
      findings.push({
        rule: "sync-start-after-checkpoint",
        message: `the sync claims to start at block ${meta.fromBlock}, after its own checkpoint ${meta.blockNumber}: sync never writes that, and no block of the history would be compared with the chain`,
        block: meta.blockNumber,
        evidence: { fromBlock: meta.fromBlock, checkpoint: meta.blockNumber },
      });
    }
  }
  for (const o of sigs?.orphans() ?? []) {
    findings.push({
      rule: "signed-request-orphaned",
      message: `signed ${o.kind} request ${o.item_index} of tx ${o.tx_hash} (owner ${o.owner}) is used by no event of that transaction: sync stores requests only with their events`,
      block: o.block_number,
      evidence: { ...o },
    });
  }
  const digestBlock = Math.min(toBlock, meta?.blockNumber ?? r.lastBlock);
  const registry = meta?.registry ?? "";
  const fromBlock = meta?.fromBlock ?? 0;
  const statement = chain
    ? anchoredStatement(chain)
    : `self-consistent only (registry ${registry}, from block ${fromBlock}; no --rpc: the rows match the digests sync stored; compare the digest with another auditor's)`;
  return {
    ok: violations.length === 0 && findings.length === 0,
    chainId: r.chainId,
    eventsChecked: r.events,
    usesChecked: uses,
    sharesChecked: shares,
    lastBlock: r.lastBlock,
    signaturesChecked: sigs?.checked ?? 0,
    failedRevocationsChecked: sigs?.failuresChecked ?? 0,
    violations,
    warnings,
    integrity: {
      mode: chain ? "chain" : "self",
      statement,
      registry,
      fromBlock,
      digest: digest?.digest ?? "",
      digestBlock,
      findings,
      ...(chain ? { chain } : {}),
    },
    elapsedMs: performance.now() - started,
  };
}

/** What a chain-anchored verify proves, in words: where the history starts and ends, and whose it is. */
function anchoredStatement(chain: ChainAnchor): string {
  const d = chain.deployment;
  const before =
    d.result === "unknown"
      ? `; whether the registry had events before block ${chain.fromBlock} was not checked: ${d.reason}`
      : d.result === "before-start"
        ? `; the registry has code since block ${d.block}: blocks ${d.block}..${chain.fromBlock - 1} were not checked`
        : "";
  return `anchored to chain ${chain.chainId} at block ${chain.block} (${chain.blockHash}), from block ${chain.fromBlock}, registry ${chain.registry}${before}`;
}
