import { open, rename, rm, stat } from "node:fs/promises";

import { cidFromSha256 } from "./cid.js";
import { HEADER_BYTES, SealedFormatError } from "./format.js";
import { OpenAssetError, cipherFor } from "./open.js";
import type { SignedManifest } from "./manifest.js";
import { cryptoBackend, TAG_BYTES } from "./platform.js";
import { finishSeal, startSeal } from "./seal.js";
import type { SealOptions, SealResult } from "./seal.js";

/**
 * Sealing and opening files (Node only). Memory stays flat whatever the size: two chunk
 * buffers for reading, one frame in flight for writing. The file size is known, so the final
 * frame is known without look-ahead, and the next read and the previous write run in libuv's
 * thread pool while the main thread encrypts and hashes. Output goes to `<out>.partial` and is
 * renamed only when everything verified: a failed open leaves no plaintext behind.
 */

/** Seals `input` to `output`; returns the signed manifest and share envelopes. */
export async function sealFile(opts: SealOptions, input: string, output: string): Promise<SealResult> {
  const { key, salt, chunkSize, cipher, backend } = await startSeal(opts);
  const size = (await stat(input)).size;
  const chunks = size === 0 ? 1 : Math.ceil(size / chunkSize);
  const partial = `${output}.partial`;
  const src = await open(input, "r");
  const dst = await open(partial, "w", 0o644);
  try {
    const hash = backend.sha256();
    const buffers = [new Uint8Array(chunkSize), new Uint8Array(chunkSize)];
    const read = async (i: number): Promise<Uint8Array> => {
      const len = Math.min(chunkSize, size - i * chunkSize);
      const buf = buffers[i % 2];
      let got = 0;
      while (got < len) {
        const { bytesRead } = await src.read(buf, got, len - got, i * chunkSize + got);
        if (bytesRead === 0) throw new Error(`${input} shrank while being sealed`);
        got += bytesRead;
      }
      return buf.subarray(0, len);
    };
    hash.update(cipher.header);
    let writing: Promise<unknown> = dst.write(cipher.header);
    let reading = read(0);
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
    await dst.sync();
    await dst.close();
    const result = await finishSeal(opts, key, salt, hash.digest(), BigInt(size), chunkSize);
    await rename(partial, output);
    return result;
  } catch (err) {
    await dst.close().catch(() => undefined);
    await rm(partial, { force: true });
    throw err;
  } finally {
    key.fill(0);
    await src.close();
  }
}

/**
 * Decrypts sealed file `input` to `output` with `key` (from `obtainKey`). Every frame is
 * authenticated before it is written; the CID and the size are checked at the end, and only
 * then does `output` appear.
 */
export async function openFile(m: SignedManifest, key: Uint8Array, input: string, output: string): Promise<void> {
  const backend = await cryptoBackend();
  const cipher = cipherFor(m, key, backend);
  const size = (await stat(input)).size;
  const frameSize = m.chunkSize + TAG_BYTES;
  const body = size - HEADER_BYTES;
  if (body < TAG_BYTES) throw new OpenAssetError("TRUNCATED", "the file is shorter than a header and one frame");
  const frames = Math.ceil(body / frameSize);
  const lastSize = body - (frames - 1) * frameSize;
  if (lastSize < TAG_BYTES) throw new OpenAssetError("TRUNCATED", `the file ends inside frame ${frames - 1}`);
  const partial = `${output}.partial`;
  const src = await open(input, "r");
  const dst = await open(partial, "w", 0o600);
  try {
    const hash = backend.sha256();
    const header = new Uint8Array(HEADER_BYTES);
    await src.read(header, 0, HEADER_BYTES, 0);
    hash.update(header);
    let sameHeader = header.length === cipher.header.length;
    for (let i = 0; i < header.length; i++) sameHeader &&= header[i] === cipher.header[i];
    if (!sameHeader) throw new OpenAssetError("CHUNK_SIZE_MISMATCH", "the file's header is not the manifest's");
    const buffers = [new Uint8Array(frameSize), new Uint8Array(frameSize)];
    const read = async (i: number): Promise<Uint8Array> => {
      const len = i === frames - 1 ? lastSize : frameSize;
      const buf = buffers[i % 2];
      let got = 0;
      while (got < len) {
        const { bytesRead } = await src.read(buf, got, len - got, HEADER_BYTES + i * frameSize + got);
        if (bytesRead === 0) throw new OpenAssetError("TRUNCATED", `${input} shrank while being opened`);
        got += bytesRead;
      }
      return buf.subarray(0, len);
    };
    let writing: Promise<unknown> = Promise.resolve();
    let reading = read(0);
    let plainBytes = 0n;
    for (let i = 0; i < frames; i++) {
      const frame = await reading;
      hash.update(frame);
      let chunk: Uint8Array;
      try {
        chunk = cipher.openFrame(i, i === frames - 1, frame);
      } catch (err) {
        if (err instanceof SealedFormatError) throw new OpenAssetError(err.reason, err.message);
        throw err;
      }
      if (i + 1 < frames) reading = read(i + 1);
      plainBytes += BigInt(chunk.length);
      await writing;
      writing = dst.write(chunk);
    }
    await writing;
    if (cidFromSha256(hash.digest()).toString() !== m.cid) {
      throw new OpenAssetError("CID_MISMATCH", "the ciphertext's CID is not the manifest's");
    }
    if (plainBytes !== m.size) {
      throw new OpenAssetError("SIZE_MISMATCH", `decrypted ${plainBytes} bytes, manifest says ${m.size}`);
    }
    await dst.close();
    await rename(partial, output);
  } catch (err) {
    await dst.close().catch(() => undefined);
    await rm(partial, { force: true });
    throw err;
  } finally {
    await src.close();
  }
}
