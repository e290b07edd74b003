import { versionOfEvent, viaOfEvent } from "./decode.js";
import { bySignedOrder, eventLine, initialDigest, nextDigest, signedLine } from "./digest.js";
import type { BlockHeader, EventRow, SignedRequestRow, SyncMeta } from "./store.js";

/**
 * What a database holds compared with what sync stored or with the chain: findings that are not
 * about the registry's rules but about the record itself (an edited row, a deleted log, a hash
 * that is not the chain's). `verify` reports them next to the rule violations, and fails on any.
 */
export interface IntegrityFinding {
  rule: string;
  message: string;
  /** The block the finding is about (-1 when it is about the whole store). */
  block: number;
  evidence: Record<string, unknown>;
}

/**
 * The offline check: recomputes the log digest (digest.ts) from the stored rows as verify
 * replays them, block by block, and compares each block's digest and the checkpoint's with what
 * sync stored. After a mismatch the chain continues from the stored digest, so each edited
 * block is named, not only the first.
 */
export class DigestCheck {
  readonly findings: IntegrityFinding[] = [];
  private digest: string;
  /** The digest of the rows as they are (what two auditors compare). */
  private recomputed: string;
  private block = -1;
  private lines: string[] = [];
  private rows = 0;
  private readonly storedAt = new Map<number, string>();
  private readonly pendingBlocks: number[];
  private next = 0;
  private readonly signedByBlock = new Map<number, SignedRequestRow[]>();

  constructor(
    private readonly meta: SyncMeta,
    stored: { block: number; digest: string }[],
    signed: SignedRequestRow[],
    private readonly toBlock: number,
  ) {
    this.digest = this.recomputed = initialDigest(meta.chainId, meta.registry);
    for (const s of stored) this.storedAt.set(s.block, s.digest);
    for (const r of signed) {
      const xs = this.signedByBlock.get(r.block_number);
      if (xs) xs.push(r);
      else this.signedByBlock.set(r.block_number, [r]);
    }
    for (const xs of this.signedByBlock.values()) xs.sort(bySignedOrder);
    // Blocks that must be visited even if no event row is left in them.
    this.pendingBlocks = [...new Set([...this.storedAt.keys(), ...this.signedByBlock.keys()])]
      .filter((b) => b <= toBlock)
      .sort((a, b) => a - b);
  }

  /** The next stored row, in chain order. */
  row(r: EventRow): void {
    if (r.block_number !== this.block) {
      this.flush();
      this.visitUpTo(r.block_number - 1);
      this.block = r.block_number;
    }
    this.rows++;
    this.lines.push(eventLine(r));
    this.checkDerived(r);
  }

  /**
   * The via and version columns are outside the digest (derived, not read from the chain), so
   * they are checked here against what sync derives from the row's own content: an edited column
   * would otherwise change what a filter by `via` shows, unseen by the digest and the anchor.
   */
  private checkDerived(r: EventRow): void {
    const registryEvent = r.address === this.meta.registry;
    let args: Record<string, unknown>;
    try {
      args = JSON.parse(r.args_json) as Record<string, unknown>;
    } catch {
      return; // the replay names a row that is not JSON
    }
    const derived = {
      via: registryEvent ? viaOfEvent(r.event_name, args) : null,
      version: registryEvent ? versionOfEvent(r.event_name, args) : null,
    };
    for (const column of ["via", "version"] as const) {
      if (r[column] === derived[column]) continue;
      this.findings.push({
        rule: "derived-column-mismatch",
        message: `block ${r.block_number} log ${r.log_index}: the ${r.event_name} row's ${column} column is ${JSON.stringify(r[column])}, but its content says ${JSON.stringify(derived[column])}`,
        block: r.block_number,
        evidence: {
          block: r.block_number,
          logIndex: r.log_index,
          event: r.event_name,
          column,
          stored: r[column],
          derived: derived[column],
        },
      });
    }
  }

  /** Ends the pass; returns the recomputed digest at `toBlock`. */
  finish(): { digest: string; rows: number } {
    this.flush();
    this.visitUpTo(this.toBlock);
    const expected = this.toBlock >= this.meta.blockNumber ? this.meta.digest : this.storedBefore(this.toBlock);
    if (expected !== undefined && this.digest !== expected) {
      this.findings.push({
        rule: "log-digest-mismatch",
        message: `the stored rows up to block ${this.toBlock} chain to digest ${this.digest}, but the checkpoint says ${expected}: the database was edited after sync`,
        block: Math.min(this.toBlock, this.meta.blockNumber),
        evidence: { checkpoint: this.meta.blockNumber, stored: expected, recomputed: this.digest },
      });
    }
    return { digest: this.recomputed, rows: this.rows };
  }

  private storedBefore(block: number): string | undefined {
    let best = -1;
    for (const b of this.storedAt.keys()) if (b <= block && b > best) best = b;
    return best < 0 ? initialDigest(this.meta.chainId, this.meta.registry) : this.storedAt.get(best);
  }

  /** Blocks with a stored digest or signed rows but no event row left, up to `last`. */
  private visitUpTo(last: number): void {
    while (this.next < this.pendingBlocks.length && this.pendingBlocks[this.next] <= last) {
      const b = this.pendingBlocks[this.next++];
      if (b === this.block) continue;
      this.block = b;
      this.flush();
    }
  }

  private flush(): void {
    const b = this.block;
    if (b < 0) return;
    while (this.next < this.pendingBlocks.length && this.pendingBlocks[this.next] <= b) this.next++;
    const signed = this.signedByBlock.get(b) ?? [];
    const lines = [...this.lines, ...signed.map(signedLine)];
    const events = this.lines.length;
    this.lines = [];
    this.block = -1;
    if (lines.length === 0 && !this.storedAt.has(b)) return;
    const mine = nextDigest(this.digest, lines);
    // The two chains start equal and stay equal until an edit: hash the block once then.
    this.recomputed = this.recomputed === this.digest ? mine : nextDigest(this.recomputed, lines);
    const stored = this.storedAt.get(b);
    if (b < this.meta.fromBlock) {
      // Sync writes nothing below the block it started at, and verify --rpc compares the chain
      // from there on: a row below it is one the chain was never asked about (or the start was
      // moved past rows the forger wanted unchecked).
      this.findings.push({
        rule: "row-below-sync-start",
        message: `block ${b} holds ${events} event(s) and ${signed.length} signed request(s) below the block the sync started at (${this.meta.fromBlock}): sync never writes there, and verify --rpc does not compare them with the chain`,
        block: b,
        evidence: {
          block: b,
          fromBlock: this.meta.fromBlock,
          events,
          signedRequests: signed.length,
          storedDigest: stored ?? null,
        },
      });
    }
    if (b > this.meta.blockNumber) {
      this.findings.push({
        rule: "row-above-checkpoint",
        message: `block ${b} holds ${events} event(s) and ${signed.length} signed request(s) above the sync checkpoint ${this.meta.blockNumber}: sync never writes there`,
        block: b,
        evidence: { block: b, checkpoint: this.meta.blockNumber, events, signedRequests: signed.length },
      });
      return;
    }
    if (stored !== mine) {
      this.findings.push({
        rule: "log-digest-mismatch",
        message:
          stored === undefined
            ? `block ${b} holds rows sync did not write (no digest was stored for it)`
            : `the stored rows of block ${b} do not hash to the digest sync stored for them: the database was edited after sync`,
        block: b,
        evidence: { block: b, stored: stored ?? null, recomputed: mine, events, signedRequests: signed.length },
      });
    }
    // Continue from what sync stored, so that a later, separate edit is named too.
    this.digest = stored ?? mine;
  }
}

/** Kept block headers below the block the sync started at: sync keeps none there (see DigestCheck). */
export function headersBelowStart(meta: SyncMeta, kept: readonly BlockHeader[]): IntegrityFinding[] {
  return kept
    .filter((h) => h.number < meta.fromBlock)
    .map((h) => ({
      rule: "row-below-sync-start",
      message: `the database keeps the header of block ${h.number} (${h.hash}) below the block the sync started at (${meta.fromBlock}): sync never keeps one there`,
      block: h.number,
      evidence: { block: h.number, fromBlock: meta.fromBlock, keptHeader: { ...h } },
    }));
}
