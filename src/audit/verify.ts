import { ConsentModel, type Violation } from "./model.js";
import { replayEvents } from "./replay.js";
import { SignatureAudit, type Warning } from "./signatures.js";
import { type AuditStore, chainToRead } from "./store.js";

export interface VerifyResult {
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
  violations: Violation[];
  /** What the auditor could not check on its own (e.g. signatures relayed through a contract). */
  warnings: Warning[];
  elapsedMs: number;
}

/**
 * Re-checks the whole history with the independent rule model (registry 2.0.0): every
 * DataUsed/DataShared must have been covered at its block (by block timestamp, epoch, ALL_DATA
 * fallback except for ALL_DATA and data id 0, integration status); every consent change must
 * have been authorised (via Owner ⇒ actor is the owner, via Manager ⇒ actor was a manager
 * appointed in the owner's current epoch, via Signature ⇒ the signed request in the
 * transaction's calldata recovers to the owner or its ERC-1271 wallet, asked from the registry,
 * accepted it; its deadline was not before the block time, its epoch was the owner's and its
 * version above the key's in its generation) and must set the key's version by the rule
 * (transaction ⇒ next generation); grants by transaction name grantable (or kept) purposes and
 * future expiries, signed grants store the signed purposes narrowed to those; and every
 * SignedRevokeFailed names an item that could not apply, for the reason given.
 */
export async function verifyHistory(
  store: AuditStore,
  opts: { chainId?: number; toBlock?: number; maxViolations?: number } = {},
): Promise<VerifyResult> {
  const started = performance.now();
  const model = new ConsentModel();
  const violations: Violation[] = [];
  const warnings: Warning[] = [];
  const cap = opts.maxViolations ?? 10_000;
  const chainId = await chainToRead(store, opts.chainId);
  const meta = await store.meta(chainId);
  const sigs = meta ? await SignatureAudit.load(store, meta.chainId, meta.registry, opts.toBlock) : undefined;
  let uses = 0;
  let shares = 0;
  const r = await replayEvents(
    store,
    (e) => {
      if (e.name === "DataUsed") uses++;
      else if (e.name === "DataShared") shares++;
      // Signatures first: they are judged in the state before the event (epoch, version, keepable purposes).
      const found: Violation[] = [];
      sigs?.apply(e, model, found, warnings);
      found.push(...model.apply(e));
      if (found.length !== 0 && violations.length < cap) violations.push(...found);
    },
    { chainId, toBlock: opts.toBlock },
  );
  return {
    ok: violations.length === 0,
    chainId: r.chainId,
    eventsChecked: r.events,
    usesChecked: uses,
    sharesChecked: shares,
    lastBlock: r.lastBlock,
    signaturesChecked: sigs?.checked ?? 0,
    failedRevocationsChecked: sigs?.failuresChecked ?? 0,
    violations,
    warnings,
    elapsedMs: performance.now() - started,
  };
}
