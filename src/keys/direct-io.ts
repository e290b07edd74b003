import { constants } from "node:fs";
import { open } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";

/**
 * Writing a big output (a sealed file, an opened plaintext) around the page cache (Node, Linux).
 *
 * Buffered writes put every byte into new page-cache pages first. On this kind of VM that is the
 * slow part, not the disk: four 1 GiB `dd ... conv=fdatasync` in a row wrote at 0.75, 0.73, 0.23
 * and 0.22 GB/s, the same with `oflag=direct` at 1.20–1.37 GB/s every time; a plain copy of a
 * 1 GiB file ran at 0.2–0.4 GB/s even on tmpfs. So the output goes through `O_DIRECT`: the bytes
 * are copied into a few aligned staging buffers (a memcpy, ~10 GB/s) and written from there to
 * the disk, no page-cache page made. `O_DIRECT` needs the buffer's address, the file offset and
 * the length aligned to the device's logical block size: staging buffers live in a
 * `WebAssembly.Memory` (its base is page-aligned, its 64 KiB pages keep 4 KiB alignment), every
 * write is a whole 4 MiB stage at a multiple of 4 MiB, and only the file's last few bytes (below
 * 4 KiB) go through the ordinary handle.
 *
 * Where `O_DIRECT` does not exist (macOS, Windows) or the file system refuses it (tmpfs:
 * EINVAL at open or at the first write), the same bytes go through the ordinary handle, as before.
 * `OMNI_NO_DIRECT_IO=1` forces that. Durability is unchanged: the caller still fsyncs the file
 * before it gets its name (the direct handle is fdatasynced too before it closes).
 */

/** The alignment of O_DIRECT addresses, offsets and lengths (logical blocks are 512 B or 4 KiB). */
export const DIRECT_ALIGN = 4096;
/** Bytes per staging buffer and per O_DIRECT write. */
const STAGE_BYTES = 4 << 20;
/** Staging buffers: one filling while up to two are being written. */
const STAGES = 3;

const noop = (): void => undefined;

/**
 * `path` opened with `flags | O_DIRECT`, or undefined where that cannot be: no O_DIRECT on this
 * platform, `OMNI_NO_DIRECT_IO=1`, no WebAssembly (as under --jitless: no aligned memory), or a
 * file system that refuses it (EINVAL).
 */
export async function openDirect(path: string, flags: number, mode?: number): Promise<FileHandle | undefined> {
  const O_DIRECT = (constants as { O_DIRECT?: number }).O_DIRECT;
  if (O_DIRECT === undefined || process.env.OMNI_NO_DIRECT_IO === "1" || typeof WebAssembly === "undefined") {
    return undefined;
  }
  try {
    return await open(path, flags | O_DIRECT, mode);
  } catch {
    return undefined;
  }
}

/**
 * `bytes` of memory whose start is page-aligned (a `WebAssembly.Memory`: its base is mapped on a
 * page, its 64 KiB pages keep any 4 KiB offset aligned), shared across threads with `shared`.
 * Without WebAssembly, an ordinary (Shared)ArrayBuffer: then nothing is read or written directly.
 */
export function alignedMemory(bytes: number, shared: boolean): ArrayBufferLike {
  if (typeof WebAssembly === "undefined") return shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
  const pages = Math.ceil(bytes / 65536);
  return new WebAssembly.Memory({ initial: pages, maximum: pages, shared }).buffer;
}

/** An output written in order: `push` appends (from position 0 on, no gaps). */
export interface OrderedSink {
  /** "direct" while its writes go around the page cache; "buffered" for the page-cache path, or once a direct write was refused (EINVAL) and the rest went through the cache. */
  readonly mode: "direct" | "buffered";
  /**
   * Appends `parts` at `position`, which must be the number of bytes pushed so far. Resolves once
   * the sink no longer needs them (copied, or written); a failure fails every later push and `end`.
   */
  push(parts: readonly Uint8Array[], position: number): Promise<void>;
  /** Writes what is still held and waits for every write; then the file has all its bytes. */
  end(): Promise<void>;
  /** Closes what the sink opened (idempotent). The caller's handle stays open. */
  close(): Promise<void>;
}

/**
 * A direct sink onto `path` (already created and open as `fh`), or undefined where O_DIRECT is not
 * available: the caller then writes through `fh` as before.
 */
export async function directSink(path: string, fh: FileHandle): Promise<OrderedSink | undefined> {
  const direct = await openDirect(path, constants.O_WRONLY);
  return direct && new DirectSink(direct, fh);
}

class DirectSink implements OrderedSink {
  mode: "direct" | "buffered" = "direct";
  private readonly stages: Uint8Array[];
  /** The write of each stage in flight (a stage is refilled only after it). */
  private readonly writing: Promise<void>[];
  private cur = 0;
  private fill = 0;
  /** File offset of the current stage's first byte. */
  private stageAt = 0;
  private pushed = 0;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly direct: FileHandle,
    private readonly buffered: FileHandle,
  ) {
    const memory = alignedMemory(STAGES * STAGE_BYTES, false);
    this.stages = Array.from({ length: STAGES }, (_, i) => new Uint8Array(memory, i * STAGE_BYTES, STAGE_BYTES));
    this.writing = this.stages.map(() => Promise.resolve());
  }

  push(parts: readonly Uint8Array[], position: number): Promise<void> {
    const run = () => this.copy(parts, position);
    const p = this.chain.then(run);
    this.chain = p;
    p.catch(noop); // the caller awaits it; a failure also shows in `end`
    return p;
  }

  private async copy(parts: readonly Uint8Array[], position: number): Promise<void> {
    if (position !== this.pushed) throw new Error(`internal: write at ${position}, expected ${this.pushed}`);
    for (const part of parts) {
      let at = 0;
      while (at < part.length) {
        const n = Math.min(part.length - at, STAGE_BYTES - this.fill);
        this.stages[this.cur].set(part.subarray(at, at + n), this.fill);
        this.fill += n;
        at += n;
        if (this.fill === STAGE_BYTES) await this.next();
      }
      this.pushed += part.length;
      freeBuffer(part); // copied: free it now rather than at the next GC
    }
  }

  /** Starts writing the full current stage and moves to the next one once that one is free. */
  private async next(): Promise<void> {
    const i = this.cur;
    this.writing[i] = this.write(this.stages[i], this.stageAt);
    this.writing[i].catch(noop); // awaited before the stage is reused, and in `end`
    this.stageAt += STAGE_BYTES;
    this.cur = (i + 1) % STAGES;
    this.fill = 0;
    await this.writing[this.cur];
  }

  /** Writes `bytes` (aligned in address, length and offset) at `position`, directly if it still can. */
  private async write(bytes: Uint8Array, position: number): Promise<void> {
    if (this.mode === "direct") {
      try {
        await writeAll(this.direct, bytes, position);
        return;
      } catch (err) {
        // A file system that opened with O_DIRECT but refuses its writes: the ordinary handle.
        if ((err as { code?: string }).code !== "EINVAL") throw err;
        this.mode = "buffered";
      }
    }
    await writeAll(this.buffered, bytes, position);
  }

  async end(): Promise<void> {
    await this.chain;
    const aligned = this.fill - (this.fill % DIRECT_ALIGN);
    const last = this.stages[this.cur];
    const writes = [...this.writing];
    if (aligned > 0) writes.push(this.write(last.subarray(0, aligned), this.stageAt));
    if (this.fill > aligned)
      writes.push(writeAll(this.buffered, last.subarray(aligned, this.fill), this.stageAt + aligned));
    await Promise.all(writes);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([this.chain, ...this.writing]);
    try {
      await this.direct.datasync();
    } finally {
      await this.direct.close();
    }
  }
}

/**
 * Reading a big input around the page cache: the sealed file an open reads was written around it
 * (above) and is not cached, and reading it through the cache makes new pages again (here
 * 0.4–1.5 GB/s from one run to the next; O_DIRECT 1.1–1.6 GB/s). Each read is widened to whole
 * 4 KiB blocks into an aligned slot of a shared `WebAssembly.Memory` (the hash worker reads the
 * same slot), and the caller gets the view of the bytes it asked for. Where O_DIRECT is refused,
 * reads go through the ordinary handle into the same slots.
 */
export interface SlotReader {
  readonly mode: "direct" | "buffered";
  /** `count` slots, each able to hold `bytes` at any file offset (over a SharedArrayBuffer). */
  readonly slots: Uint8Array[];
  /** Reads exactly `len` bytes at `position` into `slot`; returns their view. `short`: what a shorter file means. */
  read(slot: Uint8Array, len: number, position: number, short: () => Error): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** A reader of `path` (open as `fh`) with `count` slots of `bytes`; around the page cache where it can. */
export async function slotReader(
  path: string,
  fh: FileHandle,
  count: number,
  bytes: number,
  allowDirect = true,
): Promise<SlotReader> {
  let direct = allowDirect ? await openDirect(path, constants.O_RDONLY) : undefined;
  // Room for a read widened by up to one block at each end, every slot starting on a block.
  const slotBytes = Math.ceil((bytes + 2 * DIRECT_ALIGN) / DIRECT_ALIGN) * DIRECT_ALIGN;
  const memory = alignedMemory(count * slotBytes, true);
  const slots = Array.from({ length: count }, (_, i) => new Uint8Array(memory, i * slotBytes, slotBytes));
  let mode: "direct" | "buffered" = direct ? "direct" : "buffered";
  return {
    get mode() {
      return mode;
    },
    slots,
    async read(slot, len, position, short) {
      if (mode === "direct" && direct) {
        const from = position - (position % DIRECT_ALIGN);
        const need = position + len - from;
        const want = Math.ceil(need / DIRECT_ALIGN) * DIRECT_ALIGN;
        try {
          let got = 0;
          while (got < need) {
            const { bytesRead } = await direct.read(slot, got, want - got, from + got);
            if (bytesRead === 0) throw short();
            got += bytesRead;
            // A short read not on a block boundary is the end of the file.
            if (got < need && got % DIRECT_ALIGN !== 0) throw short();
          }
          return slot.subarray(position - from, position - from + len);
        } catch (err) {
          if ((err as { code?: string }).code !== "EINVAL") throw err;
          mode = "buffered"; // opened with O_DIRECT, but its reads are refused: the ordinary handle
        }
      }
      return readFully(fh, slot, len, position, short);
    },
    async close() {
      await direct?.close();
      direct = undefined;
    },
  };
}

/** Reads exactly `len` bytes at `position` into `buf` (from 0); `short` names what a shorter file means. */
export async function readFully(
  fh: FileHandle,
  buf: Uint8Array,
  len: number,
  position: number,
  short: () => Error,
): Promise<Uint8Array> {
  let got = 0;
  while (got < len) {
    const { bytesRead } = await fh.read(buf, got, len - got, position + got);
    if (bytesRead === 0) throw short();
    got += bytesRead;
  }
  return buf.subarray(0, len);
}

async function writeAll(fh: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await fh.write(bytes, done, bytes.length - done, position + done);
    done += bytesWritten;
  }
}

/**
 * Frees the memory of a buffer its caller alone holds, at once rather than at the next GC: Node
 * allocates a new buffer for each frame it encrypts or decrypts, and V8 collects them only after
 * ~64 MB of them pile up, which is a third of the RSS budget. Detaching the buffer (`transfer(0)`)
 * drops its only reference. Views into a larger buffer are left alone.
 */
export function freeBuffer(p: Uint8Array): void {
  if (p.byteOffset !== 0 || p.byteLength !== p.buffer.byteLength) return;
  try {
    (p.buffer as ArrayBuffer & { transfer?: (length: number) => ArrayBuffer }).transfer?.(0);
  } catch {
    // not detachable (shared, or wasm memory): the GC frees it
  }
}
