import { AeadOpenError, TAG_BYTES } from "./platform.js";
import type { CryptoBackend } from "./platform.js";
import { addressBytes, bytesEqual, concatBytes, fromHex, uintBytes, utf8 } from "./encoding.js";

/**
 * The sealed-file format (v1). Browser-safe.
 *
 * ```
 * file   = header ‖ frame_0 ‖ frame_1 ‖ … ‖ frame_last
 * header = "OMNISEAL" ‖ 0x01 (format) ‖ 0x000000 ‖ chunkSize (u32 BE)               16 bytes
 * frame  = AES-256-GCM(key, nonce_i, aad_i, chunk_i) ‖ tag                          len(chunk_i) + 16
 * nonce_i = 0x00000000 ‖ i (u64 BE)                                                 12 bytes
 * aad_i   = header ‖ chainId (u256) ‖ registry (20) ‖ owner (20) ‖ salt (32)
 *           ‖ version (u64) ‖ i (u64) ‖ final (u8: 1 on the last frame, else 0)     145 bytes
 * ```
 * Every chunk is `chunkSize` bytes but the last, which holds the rest (0..chunkSize bytes; an
 * empty file is one empty final frame). The data key is random per asset version and seals
 * nothing else, so the counter nonce never repeats under a key.
 *
 * What the AAD buys: a frame moved to another position fails (index), a file cut at a frame
 * boundary or extended fails (the final flag), and a frame or file moved to another asset,
 * owner, version, registry or chain fails (identity). The identity binds the asset's `salt`
 * rather than its `dataId`: the dataId commits to the CID of this very ciphertext, so it
 * cannot be an input of it. It is bound just as tightly: `dataId = H(CID(file), salt)`, the
 * opener recomputes both, and the salt is in every frame's AAD.
 */

export const FORMAT_MAGIC = utf8("OMNISEAL");
export const FORMAT_VERSION = 1;
export const HEADER_BYTES = 16;
export const DEFAULT_CHUNK_SIZE = 1 << 20;
export const MAX_CHUNK_SIZE = 1 << 26;
export const KEY_BYTES = 32;

/** What a sealed asset is bound to (every frame's AAD). */
export interface AssetIdentity {
  chainId: bigint;
  registry: string;
  owner: string;
  /** 32-byte hex salt of the asset (also the salt of its dataId commitment). */
  salt: string;
  /** Asset version, from 1. */
  version: bigint;
}

/** A frame failed to open: `reason` says what the format detected. */
export class SealedFormatError extends Error {
  constructor(
    readonly reason: "BAD_HEADER" | "TAMPERED" | "TRUNCATED" | "CHUNK_SIZE_MISMATCH",
    message: string,
  ) {
    super(message);
    this.name = "SealedFormatError";
  }
}

export function encodeHeader(chunkSize: number): Uint8Array {
  if (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE) {
    throw new RangeError(`chunk size must be 1..${MAX_CHUNK_SIZE} bytes`);
  }
  return concatBytes(FORMAT_MAGIC, Uint8Array.of(FORMAT_VERSION, 0, 0, 0), uintBytes(chunkSize, 4));
}

/** Parses a header; returns its chunk size. */
export function decodeHeader(header: Uint8Array): number {
  if (header.length < HEADER_BYTES || !bytesEqual(header.subarray(0, 8), FORMAT_MAGIC)) {
    throw new SealedFormatError("BAD_HEADER", "not an OmniTensor sealed file (bad magic)");
  }
  if (header[8] !== FORMAT_VERSION || header[9] !== 0 || header[10] !== 0 || header[11] !== 0) {
    throw new SealedFormatError("BAD_HEADER", `unsupported sealed-file format ${header[8]}`);
  }
  const chunkSize = ((header[12] << 24) >>> 0) + (header[13] << 16) + (header[14] << 8) + header[15];
  if (chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE) throw new SealedFormatError("BAD_HEADER", "bad chunk size");
  return chunkSize;
}

/**
 * Encrypts and decrypts the frames of one asset version. `sealFrame`/`openFrame` are the whole
 * cryptographic format; the streaming helpers below and the file helpers in `files.ts` only
 * cut bytes into frames.
 */
export class AssetCipher {
  readonly header: Uint8Array;
  private readonly aadPrefix: Uint8Array;
  private readonly aad: Uint8Array;
  private readonly nonce = new Uint8Array(12);

  constructor(
    private readonly backend: CryptoBackend,
    private readonly key: Uint8Array,
    identity: AssetIdentity,
    readonly chunkSize: number,
  ) {
    if (key.length !== KEY_BYTES) throw new RangeError("the data key is 32 bytes");
    if (identity.version < 1n) throw new RangeError("asset versions start at 1");
    this.header = encodeHeader(chunkSize);
    this.aadPrefix = concatBytes(
      this.header,
      uintBytes(identity.chainId, 32),
      addressBytes(identity.registry),
      addressBytes(identity.owner),
      fromHex(identity.salt, 32),
      uintBytes(identity.version, 8),
    );
    this.aad = new Uint8Array(this.aadPrefix.length + 9);
    this.aad.set(this.aadPrefix);
  }

  private bind(index: number, final: boolean): void {
    const i = uintBytes(index, 8);
    this.nonce.set(i, 4);
    this.aad.set(i, this.aadPrefix.length);
    this.aad[this.aadPrefix.length + 8] = final ? 1 : 0;
  }

  sealFrame(index: number, final: boolean, chunk: Uint8Array): Uint8Array {
    if (chunk.length > this.chunkSize || (!final && chunk.length !== this.chunkSize)) {
      throw new RangeError("only the final chunk may be shorter than the chunk size");
    }
    this.bind(index, final);
    return this.backend.aesGcmSeal(this.key, this.nonce, this.aad, chunk);
  }

  /** `sealFrame` as [ciphertext, tag], for writers that can take two pieces (no copy). */
  sealFrameParts(index: number, final: boolean, chunk: Uint8Array): [Uint8Array, Uint8Array] {
    if (chunk.length > this.chunkSize || (!final && chunk.length !== this.chunkSize)) {
      throw new RangeError("only the final chunk may be shorter than the chunk size");
    }
    this.bind(index, final);
    return this.backend.aesGcmSealParts(this.key, this.nonce, this.aad, chunk);
  }

  /** `sealFrame` as ciphertext pieces of at most `piece` bytes, then the tag (the bulk file path). */
  sealFramePieces(index: number, final: boolean, chunk: Uint8Array, piece: number): Uint8Array[] {
    if (chunk.length > this.chunkSize || (!final && chunk.length !== this.chunkSize)) {
      throw new RangeError("only the final chunk may be shorter than the chunk size");
    }
    this.bind(index, final);
    return this.backend.aesGcmSealPieces(this.key, this.nonce, this.aad, chunk, piece);
  }

  openFrame(index: number, final: boolean, frame: Uint8Array): Uint8Array {
    return this.openWith(index, final, frame, () => this.backend.aesGcmOpen(this.key, this.nonce, this.aad, frame));
  }

  /** `openFrame` as plaintext pieces of at most `piece` bytes, returned only once the frame authenticated. */
  openFramePieces(index: number, final: boolean, frame: Uint8Array, piece: number): Uint8Array[] {
    return this.openWith(index, final, frame, () =>
      this.backend.aesGcmOpenPieces(this.key, this.nonce, this.aad, frame, piece),
    );
  }

  private openWith<T>(index: number, final: boolean, frame: Uint8Array, open: () => T): T {
    if (frame.length < TAG_BYTES || frame.length > this.chunkSize + TAG_BYTES) {
      throw new SealedFormatError("TAMPERED", `frame ${index} has a bad length`);
    }
    this.bind(index, final);
    try {
      return open();
    } catch (err) {
      if (!(err instanceof AeadOpenError)) throw err;
      throw new SealedFormatError(
        "TAMPERED",
        `frame ${index}${final ? " (final)" : ""} does not authenticate: altered, moved, cut short, or not this asset`,
      );
    }
  }
}

/** Cuts a byte stream into pieces of exactly `size` bytes, keeping one piece back so the last is known. */
class Framer {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  constructor(private readonly size: number) {}

  /** Pieces that certainly are not the last. */
  *push(bytes: Uint8Array): Generator<Uint8Array> {
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
    while (this.pendingBytes > this.size) yield this.take(this.size);
  }

  /** The rest (the last piece; may be empty). */
  end(): Uint8Array {
    return this.take(this.pendingBytes);
  }

  private take(n: number): Uint8Array {
    let out: Uint8Array;
    const first = this.pending[0];
    if (first !== undefined && first.length >= n) {
      out = first.subarray(0, n); // aligned input: no copy
      if (first.length === n) this.pending.shift();
      else this.pending[0] = first.subarray(n);
    } else {
      out = new Uint8Array(n);
      let at = 0;
      while (at < n) {
        const piece = this.pending[0];
        const used = Math.min(piece.length, n - at);
        out.set(piece.subarray(0, used), at);
        at += used;
        if (used === piece.length) this.pending.shift();
        else this.pending[0] = piece.subarray(used);
      }
    }
    this.pendingBytes -= n;
    return out;
  }
}

/** Seals a stream of plaintext pieces: yields the header, then each frame. */
export async function* sealStream(
  cipher: AssetCipher,
  plaintext: AsyncIterable<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  yield cipher.header;
  const framer = new Framer(cipher.chunkSize);
  let index = 0;
  for await (const piece of plaintext) {
    for (const chunk of framer.push(piece)) yield cipher.sealFrame(index++, false, chunk);
  }
  yield cipher.sealFrame(index, true, framer.end());
}

/**
 * Opens a stream of sealed bytes (header included): yields plaintext chunk by chunk, each only
 * after its tag verified. Throws `SealedFormatError` on any alteration, reordering, truncation
 * or trailing data. A consumer that must not keep partial output (a file) writes to a temporary
 * place and keeps it only once this generator finishes.
 */
export async function* openStream(cipher: AssetCipher, sealed: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  // The pieces before the header is whole (at most HEADER_BYTES of them): a large first piece
  // is split once, never cut into header-sized views (a 4 MiB piece would be 262,144 of them).
  let held: Uint8Array[] = [];
  let heldBytes = 0;
  const framer = new Framer(cipher.chunkSize + TAG_BYTES);
  let headerSeen = false;
  let index = 0;
  const checkHeader = (header: Uint8Array): void => {
    if (header.length < HEADER_BYTES) throw new SealedFormatError("TRUNCATED", "the file ends inside its header");
    const chunkSize = decodeHeader(header);
    if (chunkSize !== cipher.chunkSize || !bytesEqual(header, cipher.header)) {
      throw new SealedFormatError("CHUNK_SIZE_MISMATCH", `file chunk size ${chunkSize}, manifest ${cipher.chunkSize}`);
    }
    headerSeen = true;
  };
  for await (const piece of sealed) {
    let body = piece;
    if (!headerSeen) {
      held.push(piece);
      heldBytes += piece.length;
      if (heldBytes <= HEADER_BYTES) continue;
      const start = held.length === 1 ? held[0] : concatBytes(...held);
      held = [];
      checkHeader(start.subarray(0, HEADER_BYTES));
      body = start.subarray(HEADER_BYTES);
    }
    for (const frame of framer.push(body)) yield cipher.openFrame(index++, false, frame);
  }
  if (!headerSeen) checkHeader(concatBytes(...held));
  const last = framer.end();
  if (last.length < TAG_BYTES) {
    throw new SealedFormatError("TRUNCATED", `the file ends inside frame ${index} (cut short)`);
  }
  yield cipher.openFrame(index, true, last);
}
