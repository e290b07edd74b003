import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, stat, unlink } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";

import { ConsentSdkError } from "./errors.js";
import { decodeSigningState, encodeSigningState, scopeId } from "./signing-store.js";
import type { SigningScope, SigningState, SigningStore } from "./signing-store.js";

/**
 * A {@link SigningStore} in a directory, shared by every process that points at it (Node only:
 * this module uses `node:fs`, which is why it is not part of the SDK's main entry; import it from
 * `omnitensor-consent/file-signing-store`). The CLI uses one (`--signing-store`, default
 * `~/.omni-consent/signing`).
 *
 * One JSON file per chain, registry and owner (`<chainId>-<registry>-<owner>.json`, see
 * {@link scopeId}). A `transact` takes that file's lock, reads the file, runs the update, writes
 * the result to a temporary file, fsyncs it, renames it over the old one, and releases the lock:
 *
 * - **Lock**: `<file>.lock`, created with `O_CREAT | O_EXCL` (`wx`), so exactly one process
 *   holds it; it records pid, host, time and a random token. Others retry with exponential
 *   backoff (2 ms doubling to 100 ms, with jitter) until `lockTimeoutMs`, then fail with
 *   SIGNING_STORE naming the holder.
 * - **Stale locks** (a process died holding one): a lock whose holder pid is dead on this host,
 *   or that is older than `staleLockMs` (a reservation takes milliseconds), is removed. Only
 *   one process breaks a lock at a time (`<file>.lock.break`, also `wx`), and it re-reads the
 *   lock first and removes it only if it is still the same one, so a lock just taken by another
 *   process is never removed.
 * - **Commit check**: before the rename, the holder checks the lock still carries its token; a
 *   holder that was paused so long that its lock was broken writes nothing and fails. So two
 *   reservations never both commit from the same state: no version is handed out twice.
 */
export interface FileSigningStoreOptions {
  /** How long to wait for a lock before failing (default 10 s). */
  lockTimeoutMs?: number;
  /** Age after which a lock is stale whoever holds it (default 30 s). */
  staleLockMs?: number;
}

interface LockInfo {
  pid: number;
  host: string;
  createdAt: number;
  token: string;
}

/** A lock file as found: its identity (inode + mtime + token) and, if readable, its content. */
interface LockSeen {
  identity: string;
  info: LockInfo | null;
  mtimeMs: number;
}

const BREAKER_STALE_MS = 5_000;

function codeOf(err: unknown): string | undefined {
  return (err as { code?: string } | null)?.code;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Whether `pid` is a running process on this host (EPERM: it exists, owned by someone else). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return codeOf(err) === "EPERM";
  }
}

function parseLock(text: string): LockInfo | null {
  try {
    const o = JSON.parse(text) as Partial<LockInfo>;
    if (typeof o.pid === "number" && typeof o.host === "string" && typeof o.createdAt === "number") {
      return { pid: o.pid, host: o.host, createdAt: o.createdAt, token: String(o.token) };
    }
  } catch {
    // created but not written yet, or damaged: judged by its age
  }
  return null;
}

async function readLock(path: string): Promise<LockSeen | "gone"> {
  try {
    const [st, text] = await Promise.all([stat(path), readFile(path, "utf8")]);
    const info = parseLock(text);
    return { identity: `${st.ino}:${st.mtimeMs}:${info?.token ?? ""}`, info, mtimeMs: st.mtimeMs };
  } catch (err) {
    if (codeOf(err) === "ENOENT") return "gone";
    throw err;
  }
}

export class FileSigningStore implements SigningStore {
  readonly lockTimeoutMs: number;
  readonly staleLockMs: number;

  constructor(
    readonly directory: string,
    opts: FileSigningStoreOptions = {},
  ) {
    this.lockTimeoutMs = opts.lockTimeoutMs ?? 10_000;
    this.staleLockMs = opts.staleLockMs ?? 30_000;
  }

  /** The file that holds `scope`'s state. */
  fileOf(scope: SigningScope): string {
    return join(this.directory, `${scopeId(scope)}.json`);
  }

  async transact<T>(scope: SigningScope, update: (state: SigningState) => T): Promise<T> {
    try {
      await mkdir(this.directory, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new ConsentSdkError(
        "SIGNING_STORE",
        `signing store ${this.directory}: cannot create the directory (${codeOf(err) ?? String(err)})`,
      );
    }
    const file = this.fileOf(scope);
    const lock = `${file}.lock`;
    const token = await this.acquire(lock);
    try {
      const state = await this.read(file);
      const result = update(state);
      await this.commit(file, lock, token, state);
      return result;
    } finally {
      await this.release(lock, token);
    }
  }

  private async read(file: string): Promise<SigningState> {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (err) {
      if (codeOf(err) === "ENOENT") return { keys: {} };
      throw new ConsentSdkError("SIGNING_STORE", `${file}: cannot read (${codeOf(err) ?? String(err)})`);
    }
    return decodeSigningState(text, file);
  }

  private async commit(file: string, lock: string, token: string, state: SigningState): Promise<void> {
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    try {
      const fh = await open(tmp, "wx", 0o600);
      try {
        await fh.writeFile(encodeSigningState(state));
        await fh.sync();
      } finally {
        await fh.close();
      }
      const seen = await readLock(lock);
      if (seen === "gone" || seen.info?.token !== token) {
        throw new ConsentSdkError(
          "SIGNING_STORE",
          `${lock}: this process's lock was broken as stale while it held it; nothing was reserved, sign again`,
        );
      }
      await rename(tmp, file);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      if (err instanceof ConsentSdkError) throw err;
      throw new ConsentSdkError("SIGNING_STORE", `${file}: cannot write (${codeOf(err) ?? String(err)})`);
    }
  }

  private async acquire(lock: string): Promise<string> {
    const token = randomBytes(16).toString("hex");
    const content = JSON.stringify({ pid: process.pid, host: hostname(), createdAt: Date.now(), token });
    const giveUpAt = Date.now() + this.lockTimeoutMs;
    let backoff = 2;
    for (;;) {
      try {
        const fh = await open(lock, "wx", 0o600);
        try {
          await fh.writeFile(content);
        } finally {
          await fh.close();
        }
        return token;
      } catch (err) {
        if (codeOf(err) !== "EEXIST") {
          throw new ConsentSdkError(
            "SIGNING_STORE",
            `${lock}: cannot create the lock file (${codeOf(err) ?? String(err)})`,
          );
        }
      }
      if (await this.breakIfStale(lock)) continue;
      if (Date.now() > giveUpAt) {
        const seen = await readLock(lock).catch(() => "gone" as const);
        const holder =
          seen !== "gone" && seen.info ? `process ${seen.info.pid} on ${seen.info.host}` : "an unknown process";
        throw new ConsentSdkError(
          "SIGNING_STORE",
          `${lock}: still held by ${holder} after ${this.lockTimeoutMs} ms; if no omni-consent signer is running, remove that file`,
        );
      }
      await sleep(backoff + Math.random() * backoff);
      backoff = Math.min(backoff * 2, 100);
    }
  }

  /** Removes `lock` if it is stale; true when the caller should try to take it again at once. */
  private async breakIfStale(lock: string): Promise<boolean> {
    const seen = await readLock(lock);
    if (seen === "gone") return true;
    if (!this.isStale(seen)) return false;
    const breaker = `${lock}.break`;
    try {
      const fh = await open(breaker, "wx", 0o600);
      await fh.close();
    } catch (err) {
      if (codeOf(err) !== "EEXIST") return false;
      // Another process is breaking it; a breaker left by a process that died is old.
      const st = await stat(breaker).catch(() => null);
      if (st !== null && Date.now() - st.mtimeMs > BREAKER_STALE_MS) await unlink(breaker).catch(() => undefined);
      return false;
    }
    try {
      const again = await readLock(lock);
      if (again !== "gone" && again.identity === seen.identity) await unlink(lock).catch(() => undefined);
    } finally {
      await unlink(breaker).catch(() => undefined);
    }
    return true;
  }

  private isStale(seen: LockSeen): boolean {
    const age = Date.now() - (seen.info?.createdAt ?? seen.mtimeMs);
    if (age > this.staleLockMs) return true;
    return seen.info !== null && seen.info.host === hostname() && !processAlive(seen.info.pid);
  }

  private async release(lock: string, token: string): Promise<void> {
    const seen = await readLock(lock).catch(() => "gone" as const);
    if (seen !== "gone" && seen.info?.token === token) await unlink(lock).catch(() => undefined);
  }
}
