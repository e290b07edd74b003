import { Worker } from "node:worker_threads";

/**
 * SHA-256 of a byte stream on a worker thread (Node only; used by `files.ts`). Sealing and
 * opening a file are one AES-256-GCM pass and one SHA-256 pass (the CID of the ciphertext);
 * neither splits, but they run side by side: the caller encrypts or decrypts batch `b + 1` on
 * its thread while this worker hashes batch `b` on another core.
 *
 * Bytes reach the worker without a copy, in one of two ways:
 * - `share`: views over a `SharedArrayBuffer` (opening: the frames are read once into shared
 *   slots; the worker hashes a slot while the caller decrypts the very same bytes). The caller
 *   must not refill the slot before the update resolves.
 * - `lend`: the parts' `ArrayBuffer`s are transferred to the worker and back (sealing: each
 *   ciphertext buffer is hashed there, then comes back to be written). Parts that are views
 *   into a larger buffer are copied first, so a caller's buffer is never detached.
 * The worker hashes updates in the order they were sent; `digest()` resolves after all of them.
 *
 * The worker's code is a string evaluated by `new Worker(..., { eval: true })`: it needs no file
 * of its own, so it runs the same under tsx (tests, benches), from the compiled package and from
 * a bundle. It touches only `node:crypto` and `node:worker_threads`, and never the file system:
 * all reads and writes stay on the caller's thread, so no write can outlive a failed call.
 */
const WORKER_SOURCE = `"use strict";
const { parentPort } = require("node:worker_threads");
const { createHash } = require("node:crypto");
let hash = createHash("sha256");
parentPort.on("message", (m) => {
  if (m.op === "update") {
    for (const part of m.parts) hash.update(part);
    if (m.lend) parentPort.postMessage({ op: "done", seq: m.seq, parts: m.parts }, m.parts.map((p) => p.buffer));
    else parentPort.postMessage({ op: "done", seq: m.seq });
  } else if (m.op === "digest") {
    const d = hash.digest();
    hash = createHash("sha256");
    parentPort.postMessage({ op: "done", seq: m.seq, parts: [new Uint8Array(d)] });
  } else {
    throw new Error("unknown message " + String(m.op));
  }
});
`;

/** The hash worker failed (threw, exited, or was terminated) before it answered. */
export class HashWorkerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "HashWorkerError";
  }
}

interface Waiting {
  resolve(parts: Uint8Array[]): void;
  reject(err: Error): void;
}

const noop = (): void => undefined;

export class HashWorker {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, Waiting>();
  private seq = 0;
  private failure: HashWorkerError | undefined;
  private closing = false;
  private readonly exited: Promise<void>;

  constructor() {
    // No execArgv: the worker needs no loader (tsx) nor any flag of the parent's.
    this.worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [], name: "omni-sha256", stdin: false });
    this.worker.on("message", (m: { op: "done"; seq: number; parts?: Uint8Array[] }) => {
      const w = this.waiting.get(m.seq);
      if (w === undefined) return;
      this.waiting.delete(m.seq);
      w.resolve(m.parts ?? []);
    });
    this.worker.on("error", (err) =>
      this.fail(new HashWorkerError(`the SHA-256 worker failed: ${err.message}`, { cause: err })),
    );
    this.worker.on("messageerror", (err) =>
      this.fail(new HashWorkerError(`the SHA-256 worker got a bad message: ${err.message}`)),
    );
    this.exited = new Promise((resolve) => {
      this.worker.once("exit", (code) => {
        if (!this.closing)
          this.fail(new HashWorkerError(`the SHA-256 worker exited (code ${code}) before it finished`));
        resolve();
      });
    });
  }

  private fail(err: HashWorkerError): void {
    this.failure ??= err;
    for (const w of this.waiting.values()) w.reject(this.failure);
    this.waiting.clear();
  }

  private send(message: object, transfer: ArrayBuffer[]): Promise<Uint8Array[]> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.closing) return Promise.reject(new HashWorkerError("the SHA-256 worker is closed"));
    const seq = this.seq++;
    const p = new Promise<Uint8Array[]>((resolve, reject) => this.waiting.set(seq, { resolve, reject }));
    p.catch(noop); // a caller that stops early (another error) must not leave an unhandled rejection behind
    try {
      this.worker.postMessage({ ...message, seq }, transfer);
    } catch (err) {
      this.waiting.delete(seq);
      return Promise.reject(new HashWorkerError(`could not send bytes to the SHA-256 worker: ${String(err)}`));
    }
    return p;
  }

  /**
   * Hashes `parts` after everything sent before. `share`: the views (over a SharedArrayBuffer, or
   * small) are read in place; resolves with `[]` once hashed. `lend`: the parts' buffers move to
   * the worker and come back, in order, in the resolved array (use those, not the originals).
   */
  update(parts: readonly Uint8Array[], mode: "share" | "lend"): Promise<Uint8Array[]> {
    if (mode === "share") return this.send({ op: "update", parts, lend: false }, []);
    const seen = new Set<ArrayBufferLike>();
    const own = parts.map((p) => {
      const whole = p.byteOffset === 0 && p.byteLength === p.buffer.byteLength && p.buffer instanceof ArrayBuffer;
      const mine = whole && !seen.has(p.buffer) ? p : new Uint8Array(p); // new Uint8Array(view) copies
      seen.add(mine.buffer);
      return mine;
    });
    return this.send(
      { op: "update", parts: own, lend: true },
      own.map((p) => p.buffer as ArrayBuffer),
    );
  }

  /** The SHA-256 of everything sent so far (and a fresh hash for what follows). */
  async digest(): Promise<Uint8Array> {
    const [d] = await this.send({ op: "digest" }, []);
    return d;
  }

  /** Stops the worker; pending updates reject. Resolves once its thread has exited. */
  async terminate(): Promise<void> {
    if (!this.closing) {
      this.closing = true;
      this.fail(new HashWorkerError("the SHA-256 worker was stopped"));
      await this.worker.terminate();
    }
    await this.exited;
  }
}
