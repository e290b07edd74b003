import { type AuditDb, defaultChainId, readSyncMeta } from "./db.js";
import { ConsentModel, type Violation } from "./model.js";
import { replayEvents } from "./replay.js";
import { SignatureAudit, type Warning } from "./signatures.js";

export interface VerifyResult {
  ok: boolean;
  chainId: number;
  eventsChecked: number;
  usesChecked: number;
  sharesChecked: number;
  lastBlock: number;
  /** Consent changes made by signature whose signed request was checked (or warned about). */
  signaturesChecked: number;
  violations: Violation[];
  /** What the auditor could not check on its own (e.g. signatures relayed through a contract). */
  warnings: Warning[];
  elapsedMs: number;
}

/**
 * Re-checks the whole history with the independent rule model: every DataUsed/DataShared must
 * have been covered at its block (by block timestamp, epoch, ALL_DATA fallback, integration
 * status), every consent change must have been authorised (via Owner ⇒ actor is the owner, via
 * Manager ⇒ actor was a manager then, via Signature ⇒ the signed request in the transaction's
 * calldata recovers to the owner or its ERC-1271 wallet accepted it, its deadline was not before
 * the block time and its nonce was never used or invalidated before), grants only name grantable
 * purposes and future expiries.
 */
export function verifyHistory(
  db: AuditDb,
  opts: { chainId?: number; toBlock?: number; maxViolations?: number } = {},
): VerifyResult {
  const started = performance.now();
  const model = new ConsentModel();
  const violations: Violation[] = [];
  const warnings: Warning[] = [];
  const cap = opts.maxViolations ?? 10_000;
  const chainId = opts.chainId ?? defaultChainId(db);
  const meta = chainId === undefined ? undefined : readSyncMeta(db, chainId);
  const sigs = meta ? new SignatureAudit(db, meta.chainId, meta.registry, opts.toBlock) : undefined;
  let uses = 0;
  let shares = 0;
  const r = replayEvents(
    db,
    (e) => {
      if (e.name === "DataUsed") uses++;
      else if (e.name === "DataShared") shares++;
      const found = model.apply(e);
      sigs?.apply(e, found, warnings);
      if (found.length !== 0 && violations.length < cap) violations.push(...found);
    },
    opts,
  );
  return {
    ok: violations.length === 0,
    chainId: r.chainId,
    eventsChecked: r.events,
    usesChecked: uses,
    sharesChecked: shares,
    lastBlock: r.lastBlock,
    signaturesChecked: sigs?.checked ?? 0,
    violations,
    warnings,
    elapsedMs: performance.now() - started,
  };
}
