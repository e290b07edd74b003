import { open, rename, rm, stat } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";

import { cidFromSha256 } from "./cid.js";
import { directSink, freeBuffer, type OrderedSink, readFully, slotReader, type SlotReader } from "./direct-io.js";
import { HEADER_BYTES, SealedFormatError, decodeHeader } from "./format.js";
import type { AssetCipher } from "./format.js";
import { HashWorker } from "./hash-worker.js";
import { OpenAssetError, cipherFor } from "./open.js";
import type { SignedManifest } from "./manifest.js";
import { cryptoBackend, TAG_BYTES } from "./platform.js";
import type { CryptoBackend } from "./platform.js";
import { finishSeal, startSeal } from "./seal.js";
import type { SealOptions, SealResult } from "./seal.js";

/**
 * A new `<out>.partial`: whatever is there (a stale one of an interrupted run, or a symlink
 * someone placed there, removed as a link, its target untouched) goes first, then the file is
 * created exclusively (O_EXCL: an open that would follow a symlink or meet a file created in
 * between fails instead of writing through it).
 */
async function openPartial(path: string, mode: number): Promise<FileHandle> {
  await rm(path, { force: true });
  return open(path, "wx", mode);
}

/**
 * Sealing and opening files (Node only). Memory stays flat whatever the size: a few batches of
 * frames in flight, never the file. Output goes to `<out>.partial` and is renamed only when
 * everything verified: a failed open leaves no plaintext behind.
 *
 * Each file is one AES-256-GCM pass and one SHA-256 pass (the CID of the ciphertext). For a large
 * file (`WORKER_MIN_BYTES` and more) the two run on two threads: this thread reads, encrypts or
 * decrypts and writes; a worker thread (`hash-worker.ts`) hashes the ciphertext of batch `b`
 * while this thread works on batch `b + 1`. Reads and writes run in libuv's thread pool,
 * overlapped with both. Below that size, or with `threads: "one"`, everything runs on this
 * thread (starting a worker costs ~40 ms). Both paths write and accept the very same bytes.
 */

export interface FileOptions {
  /**
   * `"auto"` (default): hash on a worker thread for files of `WORKER_MIN_BYTES` and more.
   * `"two"` / `"one"`: always / never (tests compare them).
   */
  threads?: "auto" | "one" | "two";
  /**
   * How the output of a two-thread run is written: `"auto"` (default) around the page cache
   * (O_DIRECT, direct-io.ts) where the file system allows it, else through it; `"buffered"`
   * always through it (tests compare them).
   */
  io?: "auto" | "buffered";
  /** Filled in by the call: how the output was written and (open) the input read, "direct" or "buffered". */
  stats?: { io?: "direct" | "buffered"; read?: "direct" | "buffered" };
}

/** From this size on, `"auto"` hashes on a worker thread. */
export const WORKER_MIN_BYTES = 32 << 20;
/** Bytes per read, worker message and write: frames are grouped up to this size (at least one frame). */
const BATCH_BYTES = 1 << 20;
/** At most this many frames per batch (each frame is at least two iovecs of one writev). */
const MAX_FRAMES_PER_BATCH = 256;
/**
 * On two threads each frame is encrypted or decrypted in pieces of this size: below malloc's mmap
 * threshold, so the buffer Node allocates for each piece reuses one freed a moment ago. Whole
 * 1 MiB outputs came back as fresh pages (35k-150k page faults, ~2 µs each, per GiB here).
 */
const PIECE_BYTES = 64 << 10;
/** Batches in flight at once (more than READ_AHEAD): memory is about (IN_FLIGHT + 3) × the batch size. */
const IN_FLIGHT = 4;
/** Batches read ahead of the one being encrypted or decrypted (reads wait for the thread pool). */
const READ_AHEAD = 2;
/**
 * While sealing or opening on two threads, an fdatasync every this many bytes written: the disk takes the
 * ciphertext as it comes instead of all at the final fsync (which on this machine's disk is
 * ~0.5 s per GiB of dirty data, below the kernel's background-writeback threshold). The final
 * fsync still runs: durability is the same, it just has little left to do.
 */
const FLUSH_BYTES = 64 << 20;

const noop = (): void => undefined;

/**
 * fdatasync every FLUSH_BYTES written, one at a time, never waited for by the loop that writes.
 * Exported for bench-keys' plain-copy floor, which flushes as seal and open do.
 */
export class Flusher {
  private busy = false;
  private flushed = 0;
  done: Promise<void> = Promise.resolve();
  constructor(private readonly fh: FileHandle) {}

  /** `written`: bytes written so far (a lower bound: writes still in flight are not counted). */
  maybe(written: number): void {
    if (written - this.flushed < FLUSH_BYTES || this.busy) return;
    this.flushed = written;
    this.busy = true;
    this.done = this.fh.datasync().finally(() => (this.busy = false));
    this.done.catch(noop);
  }
}

/**
 * Writes one after another. Buffered writes to one file take its inode lock, so two at once
 * only leave a thread-pool thread spinning on the lock (perf: rwsem_spin_on_owner) that a read
 * could use. A failed write fails every write queued after it.
 */
class WriteQueue {
  private last: Promise<void> = Promise.resolve();
  constructor(private readonly fh: FileHandle) {}

  /** Writes `parts` at `position` after the writes queued before; frees them once written. */
  push(parts: Uint8Array[], position: number): Promise<void> {
    const run = async () => {
      await writeFully(this.fh, parts, position);
      parts.forEach(freeBuffer);
    };
    const w = this.last.then(run);
    w.catch(noop);
    this.last = w;
    return w;
  }
}

/** The page-cache path as an OrderedSink: one write at a time, an fdatasync every FLUSH_BYTES. */
function bufferedSink(fh: FileHandle): OrderedSink {
  const queue = new WriteQueue(fh);
  const flusher = new Flusher(fh);
  let last: Promise<void> = Promise.resolve();
  return {
    mode: "buffered",
    push(parts, position) {
      last = queue.push([...parts], position);
      flusher.maybe(position);
      return last;
    },
    async end() {
      await last;
      await flusher.done;
    },
    close: async () => undefined,
  };
}

/**
 * Runs `f` with the sink a two-thread run writes through: around the page cache where it can
 * (direct-io.ts), else through it; closed (its own handle) whatever `f` does.
 */
async function withSink<T>(
  path: string,
  fh: FileHandle,
  o: FileOptions,
  f: (sink: OrderedSink) => Promise<T>,
): Promise<T> {
  const sink = ((o.io ?? "auto") === "auto" ? await directSink(path, fh) : undefined) ?? bufferedSink(fh);
  try {
    return await f(sink);
  } finally {
    await sink.close();
  }
}

const useWorker = (o: FileOptions, bytes: number): boolean =>
  o.threads === "two" || ((o.threads ?? "auto") === "auto" && bytes >= WORKER_MIN_BYTES);

/** Writes all of `parts` at `position` with as few writev calls as the kernel allows. */
async function writeFully(fh: FileHandle, parts: Uint8Array[], position: number): Promise<void> {
  let rest = parts;
  let at = position;
  for (;;) {
    const total = rest.reduce((n, p) => n + p.length, 0);
    if (total === 0) return;
    let { bytesWritten } = await fh.writev(rest, at);
    at += bytesWritten;
    if (bytesWritten === total) return;
    const next: Uint8Array[] = [];
    for (const p of rest) {
      if (bytesWritten >= p.length) bytesWritten -= p.length;
      else {
        next.push(p.subarray(bytesWritten));
        bytesWritten = 0;
      }
    }
    rest = next;
  }
}

/** Seals `input` to `output`; returns the signed manifest and share envelopes. */
export async function sealFile(
  opts: SealOptions,
  input: string,
  output: string,
  fileOpts: FileOptions = {},
): Promise<SealResult> {
  const { key, salt, chunkSize, cipher, backend } = await startSeal(opts);
  const size = (await stat(input)).size;
  const partial = `${output}.partial`;
  const src = await open(input, "r");
  const dst = await openPartial(partial, 0o644);
  try {
    const shrank = () => new Error(`${input} shrank while being sealed`);
    const sha256 = useWorker(fileOpts, size)
      ? await withSink(partial, dst, fileOpts, (sink) => sealOnTwoThreads(cipher, src, size, shrank, sink, fileOpts))
      : await sealOnOneThread(cipher, backend, src, dst, size, shrank);
    await dst.sync();
    await dst.close();
    const result = await finishSeal(opts, key, salt, sha256, BigInt(size), chunkSize);
    await rename(partial, output);
    return result;
  } catch (err) {
    await dst.close().catch(noop); // waits for the handle's pending writes
    await rm(partial, { force: true });
    throw err;
  } finally {
    key.fill(0);
    await src.close();
  }
}

/** One thread: two chunk buffers for reading, one frame in flight for writing. */
async function sealOnOneThread(
  cipher: AssetCipher,
  backend: CryptoBackend,
  src: FileHandle,
  dst: FileHandle,
  size: number,
  shrank: () => Error,
): Promise<Uint8Array> {
  const chunkSize = cipher.chunkSize;
  const chunks = size === 0 ? 1 : Math.ceil(size / chunkSize);
  const hash = backend.sha256();
  const buffers = [new Uint8Array(chunkSize), new Uint8Array(chunkSize)];
  const read = (i: number) =>
    readFully(src, buffers[i % 2], Math.min(chunkSize, size - i * chunkSize), i * chunkSize, shrank);
  hash.update(cipher.header);
  let writing: Promise<unknown> = dst.write(cipher.header);
  let reading = read(0);
  try {
    for (let i = 0; i < chunks; i++) {
      const chunk = await reading;
      const [ct, tag] = cipher.sealFrameParts(i, i === chunks - 1, chunk);
      if (i + 1 < chunks) reading = read(i + 1); // the buffer it fills was sealed already
      hash.update(ct);
      hash.update(tag);
      await writing;
      writing = dst.writev([ct, tag]);
    }
    await writing;
  } finally {
    await Promise.allSettled([reading, writing]);
  }
  return hash.digest();
}

/**
 * Two threads. This one: read batch b+1 (thread pool) ‖ encrypt batch b ‖ write batch b−1
 * (thread pool); the worker hashes each batch's ciphertext (lent to it, no copy) before it is
 * written, so the order of the hash is the order of the file. At most IN_FLIGHT batches are
 * between encryption and a finished write.
 */
async function sealOnTwoThreads(
  cipher: AssetCipher,
  src: FileHandle,
  size: number,
  shrank: () => Error,
  writes: OrderedSink,
  o: FileOptions,
): Promise<Uint8Array> {
  const chunkSize = cipher.chunkSize;
  const chunks = size === 0 ? 1 : Math.ceil(size / chunkSize);
  const perBatch = Math.min(MAX_FRAMES_PER_BATCH, Math.max(1, Math.floor(BATCH_BYTES / chunkSize)));
  const batches = Math.ceil(chunks / perBatch);
  const batchBytes = perBatch * chunkSize;
  const worker = new HashWorker();
  // READ_AHEAD + 1 buffers: batch b + READ_AHEAD goes where batch b − 1 was, which is sealed already.
  const buffers = Array.from({ length: READ_AHEAD + 1 }, () => new Uint8Array(batchBytes));
  const readNow = (b: number) =>
    readFully(src, buffers[b % buffers.length], Math.min(batchBytes, size - b * batchBytes), b * batchBytes, shrank);
  const reads: Promise<Uint8Array>[] = [];
  const readAhead = (upTo: number) => {
    for (let b = reads.length; b <= Math.min(upTo, batches - 1); b++) {
      reads[b] = readNow(b);
      reads[b].catch(noop);
    }
  };
  const inFlight: Promise<void>[] = [];
  const track = (p: Promise<void>) => {
    p.catch(noop); // awaited below; an early exit must not leave it unhandled
    inFlight.push(p);
  };
  readAhead(READ_AHEAD - 1);
  try {
    const header = Uint8Array.from(cipher.header);
    track(worker.update([header], "lend").then((back) => writes.push(back, 0)));
    for (let b = 0; b < batches; b++) {
      readAhead(b + READ_AHEAD - 1);
      const plain = await reads[b];
      const first = b * perBatch;
      const count = Math.min(perBatch, chunks - first);
      const parts: Uint8Array[] = [];
      for (let j = 0; j < count; j++) {
        const i = first + j;
        const chunk = plain.subarray(j * chunkSize, Math.min((j + 1) * chunkSize, plain.length));
        parts.push(...cipher.sealFramePieces(i, i === chunks - 1, chunk, PIECE_BYTES));
      }
      readAhead(b + READ_AHEAD); // into the buffer of batch b − 1, sealed already
      delete reads[b];
      const at = HEADER_BYTES + first * (chunkSize + TAG_BYTES);
      track(worker.update(parts, "lend").then((back) => writes.push(back, at)));
      while (inFlight.length >= IN_FLIGHT) await inFlight.shift();
    }
    while (inFlight.length > 0) await inFlight.shift();
    await writes.end();
    if (o.stats) o.stats.io = writes.mode;
    return await worker.digest();
  } finally {
    await worker.terminate();
    await Promise.allSettled([...reads, ...inFlight]); // nothing touches the files after this returns
  }
}

/**
 * Decrypts sealed file `input` to `output` with `key` (from `obtainKey`). Every frame is
 * authenticated before it is written; the CID and the size are checked at the end, and only
 * then does `output` appear.
 */
export async function openFile(
  m: SignedManifest,
  key: Uint8Array,
  input: string,
  output: string,
  fileOpts: FileOptions = {},
): Promise<void> {
  const backend = await cryptoBackend();
  const cipher = cipherFor(m, key, backend);
  const size = (await stat(input)).size;
  const frameSize = m.chunkSize + TAG_BYTES;
  const src = await open(input, "r");
  let dst: FileHandle | undefined;
  const partial = `${output}.partial`;
  try {
    // The header first: a file that is not a sealed file at all says so (BAD_HEADER), whatever its size.
    const header = new Uint8Array(HEADER_BYTES);
    const shrank = () => new OpenAssetError("TRUNCATED", `${input} shrank while being opened`);
    if (size < HEADER_BYTES) throw new OpenAssetError("TRUNCATED", "the file ends inside its header");
    await readFully(src, header, HEADER_BYTES, 0, shrank);
    try {
      decodeHeader(header);
    } catch (err) {
      if (err instanceof SealedFormatError) throw new OpenAssetError(err.reason, err.message);
      throw err;
    }
    let sameHeader = header.length === cipher.header.length;
    for (let i = 0; i < header.length; i++) sameHeader &&= header[i] === cipher.header[i];
    if (!sameHeader) throw new OpenAssetError("CHUNK_SIZE_MISMATCH", "the file's header is not the manifest's");
    const body = size - HEADER_BYTES;
    if (body < TAG_BYTES) throw new OpenAssetError("TRUNCATED", "the file is shorter than a header and one frame");
    const frames = Math.ceil(body / frameSize);
    const lastSize = body - (frames - 1) * frameSize;
    if (lastSize < TAG_BYTES) throw new OpenAssetError("TRUNCATED", `the file ends inside frame ${frames - 1}`);
    dst = await openPartial(partial, 0o600);
    const layout = { header, frames, frameSize, lastSize, shrank };
    const { sha256, plainBytes } = useWorker(fileOpts, size)
      ? await withSink(partial, dst, fileOpts, (sink) => openOnTwoThreads(cipher, input, src, sink, layout, fileOpts))
      : await openOnOneThread(cipher, backend, src, dst, layout);
    if (cidFromSha256(sha256).toString() !== m.cid) {
      throw new OpenAssetError("CID_MISMATCH", "the ciphertext's CID is not the manifest's");
    }
    if (plainBytes !== m.size) {
      throw new OpenAssetError("SIZE_MISMATCH", `decrypted ${plainBytes} bytes, manifest says ${m.size}`);
    }
    // On the disk before it gets its name, as a sealed file is: after a power loss `output` is
    // the whole plaintext or absent, never a torn file under the final name.
    await dst.sync();
    await dst.close();
    await rename(partial, output);
  } catch (err) {
    if (dst) {
      await dst.close().catch(noop); // waits for the handle's pending writes
      await rm(partial, { force: true });
    }
    throw err;
  } finally {
    await src.close();
  }
}

interface SealedLayout {
  header: Uint8Array;
  frames: number;
  frameSize: number;
  lastSize: number;
  shrank: () => Error;
}

/** Runs one frame's open; the format's refusal becomes the opener's (same reason, same words). */
function openFrame<T>(open: () => T): T {
  try {
    return open();
  } catch (err) {
    if (err instanceof SealedFormatError) throw new OpenAssetError(err.reason, err.message);
    throw err;
  }
}

/** One thread: two frame buffers for reading, one chunk in flight for writing. */
async function openOnOneThread(
  cipher: AssetCipher,
  backend: CryptoBackend,
  src: FileHandle,
  dst: FileHandle,
  { header, frames, frameSize, lastSize, shrank }: SealedLayout,
): Promise<{ sha256: Uint8Array; plainBytes: bigint }> {
  const hash = backend.sha256();
  hash.update(header);
  const buffers = [new Uint8Array(frameSize), new Uint8Array(frameSize)];
  const read = (i: number) =>
    readFully(src, buffers[i % 2], i === frames - 1 ? lastSize : frameSize, HEADER_BYTES + i * frameSize, shrank);
  let writing: Promise<unknown> = Promise.resolve();
  let reading = read(0);
  let plainBytes = 0n;
  try {
    for (let i = 0; i < frames; i++) {
      const frame = await reading;
      hash.update(frame);
      const chunk = openFrame(() => cipher.openFrame(i, i === frames - 1, frame));
      if (i + 1 < frames) reading = read(i + 1);
      plainBytes += BigInt(chunk.length);
      await writing;
      writing = dst.write(chunk);
    }
    await writing;
  } finally {
    await Promise.allSettled([reading, writing]);
  }
  return { sha256: hash.digest(), plainBytes };
}

/**
 * Two threads. Each batch of frames is read once into a slot of a SharedArrayBuffer; the worker
 * hashes the slot while this thread decrypts the same bytes (no copy, and the CID is of exactly
 * the bytes that were decrypted). A slot is refilled only after both are done with it. A
 * batch's plaintext is written only after every frame in it authenticated.
 */
async function openOnTwoThreads(
  cipher: AssetCipher,
  input: string,
  src: FileHandle,
  queue: OrderedSink,
  layout: SealedLayout,
  o: FileOptions,
): Promise<{ sha256: Uint8Array; plainBytes: bigint }> {
  const perBatch = Math.min(MAX_FRAMES_PER_BATCH, Math.max(1, Math.floor(BATCH_BYTES / layout.frameSize)));
  const reader = await slotReader(input, src, IN_FLIGHT, perBatch * layout.frameSize, (o.io ?? "auto") === "auto");
  try {
    return await openBatches(cipher, reader, queue, layout, perBatch, o);
  } finally {
    await reader.close();
  }
}

async function openBatches(
  cipher: AssetCipher,
  reader: SlotReader,
  queue: OrderedSink,
  { header, frames, frameSize, lastSize, shrank }: SealedLayout,
  perBatch: number,
  o: FileOptions,
): Promise<{ sha256: Uint8Array; plainBytes: bigint }> {
  const batches = Math.ceil(frames / perBatch);
  const hashed: Promise<unknown>[] = [];
  const worker = new HashWorker();
  const readNow = async (b: number): Promise<Uint8Array> => {
    // The worker is done with this slot, and this thread decrypted it before asking (READ_AHEAD < IN_FLIGHT).
    await hashed[b - IN_FLIGHT];
    const first = b * perBatch;
    const count = Math.min(perBatch, frames - first);
    const len = (count - 1) * frameSize + (first + count === frames ? lastSize : frameSize);
    return reader.read(reader.slots[b % IN_FLIGHT], len, HEADER_BYTES + first * frameSize, shrank);
  };
  const reads: Promise<Uint8Array>[] = [];
  const readAhead = (upTo: number) => {
    for (let b = reads.length; b <= Math.min(upTo, batches - 1); b++) {
      reads[b] = readNow(b);
      reads[b].catch(noop);
    }
  };
  const writes: Promise<void>[] = [];
  let plainBytes = 0n;
  try {
    worker.update([Uint8Array.from(header)], "share").catch(noop); // a failure shows in the next update or the digest
    for (let b = 0; b < batches; b++) {
      readAhead(b + READ_AHEAD - 1);
      const batch = await reads[b];
      delete reads[b];
      const h = worker.update([batch], "share");
      h.catch(noop);
      hashed[b] = h;
      readAhead(b + READ_AHEAD);
      const first = b * perBatch;
      const plain: Uint8Array[] = [];
      for (let at = 0, i = first; at < batch.length; at += frameSize, i++) {
        const frame = batch.subarray(at, Math.min(at + frameSize, batch.length));
        plain.push(...openFrame(() => cipher.openFramePieces(i, i === frames - 1, frame, PIECE_BYTES)));
      }
      writes.push(queue.push(plain, Number(plainBytes)));
      for (const chunk of plain) plainBytes += BigInt(chunk.length);
      while (writes.length >= IN_FLIGHT) await writes.shift();
      if (b >= IN_FLIGHT) delete hashed[b - IN_FLIGHT];
    }
    while (writes.length > 0) await writes.shift();
    await queue.end();
    if (o.stats) Object.assign(o.stats, { io: queue.mode, read: reader.mode });
    return { sha256: await worker.digest(), plainBytes };
  } finally {
    await worker.terminate();
    await Promise.allSettled([...reads, ...writes]); // nothing touches the files after this returns
  }
}
