import { Refusal } from "./errors.js";
import type { CustodianStore, KeptAnswer, ReleaseEntry } from "./store.js";

type NewEntry = Omit<ReleaseEntry, "seq" | "prevHash" | "entryHash">;

/** A release on its way to the log (see `ReleaseLog.expect`). */
export interface Ticket {
  /** It will not append after all (refused, or failed): the group need not wait for it. Idempotent. */
  cancel(): void;
}

/**
 * Group commit of the release log. A release is appended (its nonce spent, its entry written and,
 * with synchronous=FULL, fsynced) BEFORE its share leaves; appending each in its own transaction
 * pays one fsync per release and blocks the event loop for it. Instead releases go to SQLite in
 * groups, one transaction each: one fsync per group, and each caller learns only after that commit
 * whether its release is logged (its entry) or was a replay (undefined, nothing written). Nothing
 * is acknowledged before it is on disk; a failed commit fails every release of the group (none of
 * their shares leaves).
 *
 * A group is what arrived by the next turn of the event loop (`setImmediate`) and, when other
 * releases are on their way (they hold a `Ticket`: past the signature and nonce checks, asking the
 * chain), also what arrives within `maxWaitMs` more: measured at 8 concurrent requests, groups
 * were 1.7 releases on average without that wait. One release alone never waits.
 *
 * Block numbers never decrease along the log (an auditor flags a log whose blocks go back:
 * `verify-releases.ts`): a group is written in block order, and a release decided at a block
 * older than one already logged (it was slower than a release decided after it) is not written
 * but refused CHAIN_UNAVAILABLE (nothing leaves; the requester asks again, at the new head).
 */
export class ReleaseLog {
  private pending: {
    entry: NewEntry;
    kept: KeptAnswer | undefined;
    resolve: (e: ReleaseEntry | undefined) => void;
    reject: (err: unknown) => void;
  }[] = [];
  private scheduled = false;
  private firstAt = 0;
  private coming = 0;
  /** The newest block logged (read from the store on the first flush). */
  private lastBlock: number | undefined;
  private lastBlockRead = false;

  constructor(
    private readonly store: CustodianStore,
    private readonly maxGroupSize = 256,
    private readonly maxWaitMs = 1,
  ) {}

  /** A release is on its way: until it appends or cancels, a group may wait for it (briefly). */
  expect(): Ticket & { consume(): void } {
    this.coming++;
    let open = true;
    const close = () => {
      if (open) {
        open = false;
        this.coming--;
      }
    };
    return { cancel: close, consume: close };
  }

  /**
   * Resolves once the release is committed: its entry, or undefined if its nonce was already
   * spent. `kept` is stored with the nonce (the request digest and the answer sent).
   */
  append(
    entry: NewEntry,
    ticket?: ReturnType<ReleaseLog["expect"]>,
    kept?: KeptAnswer,
  ): Promise<ReleaseEntry | undefined> {
    ticket?.consume();
    return new Promise((resolve, reject) => {
      this.pending.push({ entry, kept, resolve, reject });
      if (this.pending.length >= this.maxGroupSize) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        this.firstAt = performance.now();
        setImmediate(() => this.tick());
      }
    });
  }

  private tick(): void {
    if (this.coming > 0 && performance.now() - this.firstAt < this.maxWaitMs) {
      setTimeout(() => this.tick(), 1);
      return;
    }
    this.flush();
  }

  private flush(): void {
    this.scheduled = false;
    // In block order (stable: same-block releases keep their arrival order).
    const pending = this.pending.sort((a, b) => a.entry.block - b.entry.block);
    this.pending = [];
    if (pending.length === 0) return;
    let group = pending;
    try {
      if (!this.lastBlockRead) {
        this.lastBlock = this.store.lastBlock();
        this.lastBlockRead = true;
      }
      const floor = this.lastBlock;
      if (floor !== undefined) {
        group = [];
        for (const g of pending) {
          if (g.entry.block >= floor) group.push(g);
          else
            g.reject(
              new Refusal(
                "CHAIN_UNAVAILABLE",
                `decided at block ${g.entry.block}, older than block ${floor} already logged; ask again`,
              ),
            );
        }
        if (group.length === 0) return;
      }
    } catch (err) {
      for (const g of pending) g.reject(err);
      return;
    }
    let entries: (ReleaseEntry | undefined)[];
    try {
      entries = this.store.recordReleases(
        group.map((g) => g.entry),
        group.map((g) => g.kept),
      );
    } catch (err) {
      for (const g of group) g.reject(err);
      return;
    }
    for (const e of entries)
      if (e !== undefined && (this.lastBlock === undefined || e.block > this.lastBlock)) this.lastBlock = e.block;
    group.forEach((g, i) => g.resolve(entries[i]));
  }
}
