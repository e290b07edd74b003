import type { CustodianStore, ReleaseEntry } from "./store.js";

/**
 * Group commit of the release log. A release is appended (its nonce spent, its entry written and,
 * with synchronous=FULL, fsynced) BEFORE its share leaves; appending each in its own transaction
 * pays one fsync per release and blocks the event loop for it (~0.2 ms here, measured). Instead
 * the releases decided in the same turn of the event loop wait for one `setImmediate` and go to
 * SQLite together in one transaction: one fsync for the group, and each caller learns only after
 * that commit whether its release is logged (its entry) or was a replay (undefined, nothing
 * written). Nothing is acknowledged before it is on disk; a failed commit fails every release of
 * the group (none of their shares leaves).
 */
export class ReleaseLog {
  private pending: {
    entry: Omit<ReleaseEntry, "seq" | "prevHash" | "entryHash">;
    resolve: (e: ReleaseEntry | undefined) => void;
    reject: (err: unknown) => void;
  }[] = [];
  private scheduled = false;

  constructor(
    private readonly store: CustodianStore,
    private readonly maxGroupSize = 256,
  ) {}

  /** Resolves once the release is committed: its entry, or undefined if its nonce was already spent. */
  append(entry: Omit<ReleaseEntry, "seq" | "prevHash" | "entryHash">): Promise<ReleaseEntry | undefined> {
    return new Promise((resolve, reject) => {
      this.pending.push({ entry, resolve, reject });
      if (this.pending.length >= this.maxGroupSize) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const group = this.pending;
    this.pending = [];
    if (group.length === 0) return;
    let entries: (ReleaseEntry | undefined)[];
    try {
      entries = this.store.recordReleases(group.map((g) => g.entry));
    } catch (err) {
      for (const g of group) g.reject(err);
      return;
    }
    group.forEach((g, i) => g.resolve(entries[i]));
  }
}
