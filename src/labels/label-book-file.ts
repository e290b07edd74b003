import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, stat, unlink } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

import { LabelBookError, emptyLabelBook, parseLabelBook, serializeLabelBook } from "./label-book.js";
import type { LabelBook } from "./label-book.js";

/**
 * The owner's label book as a file (Node only). It stays on the owner's machine: created
 * readable by the owner alone (0600, its folder 0700), never uploaded by anything in this
 * project (see `./label-book.ts`). Default place: `~/.omni-consent/label-book.json`.
 *
 * An update is atomic: it takes `<file>.lock` (created exclusively; a lock whose process is gone
 * or that is older than `staleLockMs` is taken over), reads the book, applies the change,
 * writes a temporary file, fsyncs it and renames it over the book. A reader therefore sees the
 * old book or the new one, never half of one, and two updates never both start from the same
 * book (neither change is lost).
 */

export const DEFAULT_LABEL_BOOK = join(homedir(), ".omni-consent", "label-book.json");

export interface LabelBookFileOptions {
  /** How long to wait for another update's lock (default 10 s). */
  lockTimeoutMs?: number;
  /** Age after which a lock is taken over whoever holds it (default 30 s; an update takes milliseconds). */
  staleLockMs?: number;
}

const codeOf = (err: unknown) => (err as { code?: string } | null)?.code;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return codeOf(err) === "EPERM";
  }
}

/** The book in `path`, or an empty book when there is no such file. */
export async function readLabelBookFile(path: string = DEFAULT_LABEL_BOOK): Promise<LabelBook> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if (codeOf(err) === "ENOENT") return emptyLabelBook();
    throw new LabelBookError(`${path}: cannot read (${codeOf(err) ?? String(err)})`);
  }
  return parseLabelBook(text, path);
}

async function takeLock(lock: string, token: string, opts: Required<LabelBookFileOptions>): Promise<void> {
  const giveUpAt = Date.now() + opts.lockTimeoutMs;
  for (let wait = 2; ; wait = Math.min(wait * 2, 100)) {
    try {
      const fh = await open(lock, "wx", 0o600);
      try {
        await fh.writeFile(JSON.stringify({ pid: process.pid, at: Date.now(), token }));
      } finally {
        await fh.close();
      }
      return;
    } catch (err) {
      if (codeOf(err) !== "EEXIST") throw new LabelBookError(`${lock}: cannot create (${codeOf(err) ?? String(err)})`);
    }
    const holder = await readFile(lock, "utf8")
      .then((t) => JSON.parse(t) as { pid?: number; at?: number })
      .catch(() => null);
    const age = await stat(lock).then(
      (s) => Date.now() - s.mtimeMs,
      () => 0,
    );
    const holderGone = typeof holder?.pid === "number" && !alive(holder.pid);
    if (holderGone || age > opts.staleLockMs) {
      await unlink(lock).catch(() => undefined);
      continue;
    }
    if (Date.now() > giveUpAt) {
      throw new LabelBookError(
        `${lock}: another update (process ${holder?.pid ?? "unknown"}) has held the label book for ${Math.round(age)} ms; try again`,
      );
    }
    await sleep(wait + Math.random() * wait);
  }
}

/**
 * Applies `change` to the book in `path` atomically (see above) and returns the new book.
 * `change` gets the current book (empty if there is none) and returns the next one; when it
 * throws, nothing is written.
 */
export async function updateLabelBookFile(
  path: string,
  change: (book: LabelBook) => LabelBook,
  options: LabelBookFileOptions = {},
): Promise<LabelBook> {
  const opts = { lockTimeoutMs: options.lockTimeoutMs ?? 10_000, staleLockMs: options.staleLockMs ?? 30_000 };
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const lock = `${path}.lock`;
  const token = randomBytes(16).toString("hex");
  await takeLock(lock, token, opts);
  try {
    const next = change(await readLabelBookFile(path));
    const text = serializeLabelBook(next);
    const tmp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    try {
      const fh = await open(tmp, "wx", 0o600);
      try {
        await fh.writeFile(text);
        await fh.sync();
      } finally {
        await fh.close();
      }
      const still = await readFile(lock, "utf8").catch(() => "");
      if (!still.includes(token)) {
        throw new LabelBookError(`${lock}: this update's lock was taken over as stale; nothing was written, try again`);
      }
      await rename(tmp, path);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
    return next;
  } finally {
    const still = await readFile(lock, "utf8").catch(() => "");
    if (still.includes(token)) await unlink(lock).catch(() => undefined);
  }
}
