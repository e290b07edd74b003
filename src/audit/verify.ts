import type { AuditDb } from "./db.js";
import { ConsentModel, type Violation } from "./model.js";
import { replayEvents } from "./replay.js";

export interface VerifyResult {
  ok: boolean;
  chainId: number;
  eventsChecked: number;
  usesChecked: number;
  sharesChecked: number;
  lastBlock: number;
  violations: Violation[];
  elapsedMs: number;
}

/**
 * Re-checks the whole history with the independent rule model: every DataUsed/DataShared must
 * have been covered at its block (by block timestamp, epoch, ALL_DATA fallback, integration
 * status), every consent change must have been authorised (via Owner ⇒ actor is the owner, via
 * Manager ⇒ actor was a manager then), grants only name grantable purposes and future expiries.
 */
export function verifyHistory(
  db: AuditDb,
  opts: { chainId?: number; toBlock?: number; maxViolations?: number } = {},
): VerifyResult {
  const started = performance.now();
  const model = new ConsentModel();
  const violations: Violation[] = [];
  const cap = opts.maxViolations ?? 10_000;
  let uses = 0;
  let shares = 0;
  const r = replayEvents(
    db,
    (e) => {
      if (e.name === "DataUsed") uses++;
      else if (e.name === "DataShared") shares++;
      const found = model.apply(e);
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
    violations,
    elapsedMs: performance.now() - started,
  };
}
