import { setFlagsFromString } from "node:v8";

/**
 * Keeps a sync's heap near what it holds. Sync keeps one chunk of about 2,000 logs and the one
 * read ahead (about 52 MB live after a full GC on any history length), but each chunk lives
 * across a few awaits, so all of it is promoted to the old generation and dies there; V8 then
 * lets the old generation grow to up to 4× what survived the last full GC before collecting
 * again, and the process peaks at 310–350 MB. With the growth factor fixed at 1 + `percent`/100
 * (V8's `--heap-growing-percent`, read at every full GC, so it can be set after start) the same
 * sync of 95,976 events peaks at 226–232 MB for about 7% more wall time (docs/AUDIT.md).
 *
 * It changes a process-wide V8 setting, so the CLI's `audit sync` calls it (one command per
 * process); a program that embeds `syncEvents` decides for its own process. Unlike a heap cap
 * (`--max-old-space-size`), it never makes a larger chunk run out of memory.
 */
export function boundHeapGrowth(percent = 50): void {
  if (!Number.isInteger(percent) || percent < 10 || percent > 300) {
    throw new RangeError(`boundHeapGrowth: percent must be an integer from 10 to 300, got ${percent}`);
  }
  setFlagsFromString(`--heap-growing-percent=${percent}`);
}
