/**
 * The eth_getLogs block range, learned from the provider instead of rediscovered on every
 * chunk. Providers refuse a query over too many blocks ("block range too large", "limited to a
 * 2000 range") or with too many results ("query returned more than 10000 results"); the old
 * policy halved on every error and doubled on every success, so it kept doubling back over the
 * cap and half the requests were refused.
 *
 * - A refusal that names its limit is believed: a number next to "result(s)"/"logs" is a result
 *   cap, any other number a block-range cap.
 * - A refusal without a number caps the range below the refused size; between the largest range
 *   that worked and the smallest refused one the next size is bisected, so the cap is found in
 *   a few requests and never exceeded afterwards.
 * - Within the cap the range follows the log density: aim at `targetLogs` per query (and 80% of
 *   a learned result cap), doubling while queries are light.
 */
export class LogRange {
  /** Largest block range believed allowed. */
  private ceiling: number;
  /** Largest range that has worked (0 = none yet). */
  private okMax = 0;
  /** Learned result cap (logs per answer), if any. */
  private resultCap = Infinity;
  private current: number;

  constructor(
    initial: number,
    max: number,
    private readonly targetLogs: number,
  ) {
    this.ceiling = Math.max(1, max);
    this.current = Math.max(1, Math.min(initial, this.ceiling));
  }

  /** Blocks for the next query. */
  get size(): number {
    return this.current;
  }

  /** What has been learned (progress output and tests). */
  get learned(): { ceiling: number; resultCap: number | null } {
    return { ceiling: this.ceiling, resultCap: Number.isFinite(this.resultCap) ? this.resultCap : null };
  }

  /** A query over `blocks` blocks answered with `logs` logs. */
  succeeded(blocks: number, logs: number): void {
    this.okMax = Math.max(this.okMax, blocks);
    const aim = Math.max(1, Math.min(this.targetLogs, Math.floor(this.resultCap * 0.8)));
    let next: number;
    if (logs > aim) next = Math.max(1, Math.floor((blocks * aim) / logs));
    else if (logs < aim / 2) next = blocks * 2;
    else next = blocks;
    if (next > this.ceiling) next = this.ceiling;
    // Probing above what worked, below a refused size: bisect instead of doubling into the cap.
    if (next > this.okMax && this.ceiling < Infinity && next === this.ceiling && this.ceiling - this.okMax > 1) {
      next = Math.ceil((this.okMax + this.ceiling) / 2);
    }
    this.current = Math.max(1, next);
  }

  /** A query over `blocks` blocks was refused by the provider with `message`. */
  refused(blocks: number, message: string): void {
    const m = message.toLowerCase();
    const n = [...m.matchAll(/(\d[\d,_]*)/g)].map((x) => Number(x[1].replace(/[,_]/g, ""))).filter((x) => x > 0);
    const aboutResults = /result|logs|response size/.test(m);
    if (aboutResults && n.length > 0) {
      this.resultCap = Math.min(this.resultCap, Math.max(...n));
      this.current = Math.max(1, Math.floor(blocks / 2));
      return;
    }
    if (!aboutResults && n.length > 0 && /range|block/.test(m)) {
      // "limited to a 2000 range", "block range is too wide (maximum 1024)".
      const cap = Math.min(...n.filter((x) => x < blocks), blocks - 1);
      if (cap >= 1) this.ceiling = Math.min(this.ceiling, cap);
    } else if (blocks > 1) {
      this.ceiling = Math.min(this.ceiling, blocks - 1);
    }
    const below = this.okMax > 0 && this.okMax < blocks ? this.okMax : Math.floor(blocks / 2);
    this.current = Math.max(
      1,
      Math.min(this.ceiling, below === blocks ? blocks - 1 : Math.max(below, Math.floor(blocks / 2))),
    );
  }
}
