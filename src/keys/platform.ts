import { gcm } from "@noble/ciphers/aes.js";
import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";

/**
 * The one place `src/keys` reaches the platform's crypto. Everything else in `src/keys` (but
 * the file and folder helpers, which say so) is browser-safe and calls only this adapter.
 *
 * - In Node, AES-256-GCM and SHA-256 come from `node:crypto` (OpenSSL, AES-NI and SHA-NI: the
 *   bulk path of a 1 GiB file runs at the machine's limit).
 * - Elsewhere (browsers, workers) they come from `@noble/ciphers` and `@noble/hashes`: audited,
 *   dependency-free, same authors, same output bit for bit (`test/keys/platform.ts` checks).
 * Randomness is always the platform CSPRNG (`crypto.getRandomValues`).
 */

/** An incremental SHA-256 (the CID of a ciphertext is hashed as it streams by). */
export interface Sha256Stream {
  update(bytes: Uint8Array): void;
  digest(): Uint8Array;
}

export interface CryptoBackend {
  readonly name: "node" | "noble";
  /** AES-256-GCM: ciphertext followed by the 16-byte tag. */
  aesGcmSeal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array;
  /** The same, as [ciphertext, tag] without copying them together (the bulk file path). */
  aesGcmSealParts(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): [Uint8Array, Uint8Array];
  /** AES-256-GCM open; throws `AeadOpenError` when the tag does not verify (nothing is returned then). */
  aesGcmOpen(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array;
  /**
   * The same two as buffers of at most `piece` bytes: [...ciphertext, tag] and [...plaintext]
   * (the latter only once the tag verified). For the bulk file path: Node allocates a new buffer
   * for each output, and buffers below malloc's mmap threshold (128 KiB) are reused once freed,
   * where 1 MiB ones come back as fresh pages to fault in. noble returns one piece.
   */
  aesGcmSealPieces(
    key: Uint8Array,
    nonce: Uint8Array,
    aad: Uint8Array,
    plaintext: Uint8Array,
    piece: number,
  ): Uint8Array[];
  aesGcmOpenPieces(
    key: Uint8Array,
    nonce: Uint8Array,
    aad: Uint8Array,
    sealed: Uint8Array,
    piece: number,
  ): Uint8Array[];
  sha256(): Sha256Stream;
}

/** The AEAD tag did not verify: wrong key, wrong associated data, or altered bytes. */
export class AeadOpenError extends Error {
  constructor() {
    super("authentication failed (wrong key, wrong position or identity, or altered bytes)");
    this.name = "AeadOpenError";
  }
}

export const TAG_BYTES = 16;

/** Random bytes from the platform CSPRNG. */
export function randomBytes(length: number): Uint8Array {
  const out = new Uint8Array(length);
  // getRandomValues fills at most 65,536 bytes per call.
  for (let at = 0; at < length; at += 65_536) globalThis.crypto.getRandomValues(out.subarray(at, at + 65_536));
  return out;
}

const nobleBackend: CryptoBackend = {
  name: "noble",
  aesGcmSeal: (key, nonce, aad, plaintext) => gcm(key, nonce, aad).encrypt(plaintext),
  aesGcmSealParts: (key, nonce, aad, plaintext) => {
    const sealed = gcm(key, nonce, aad).encrypt(plaintext);
    return [sealed.subarray(0, sealed.length - TAG_BYTES), sealed.subarray(sealed.length - TAG_BYTES)];
  },
  aesGcmOpen: (key, nonce, aad, sealed) => {
    try {
      return gcm(key, nonce, aad).decrypt(sealed);
    } catch {
      throw new AeadOpenError();
    }
  },
  aesGcmSealPieces: (key, nonce, aad, plaintext) => nobleBackend.aesGcmSealParts(key, nonce, aad, plaintext),
  aesGcmOpenPieces: (key, nonce, aad, sealed) => [nobleBackend.aesGcmOpen(key, nonce, aad, sealed)],
  sha256: () => {
    const h = nobleSha256.create();
    return {
      update: (bytes) => void h.update(bytes),
      digest: () => h.digest(),
    };
  },
};

type NodeCrypto = typeof import("node:crypto");

function nodeBackend(c: NodeCrypto): CryptoBackend {
  return {
    name: "node",
    aesGcmSeal: (key, nonce, aad, plaintext) => {
      const cipher = c.createCipheriv("aes-256-gcm", key, nonce);
      cipher.setAAD(aad);
      const head = cipher.update(plaintext);
      const tail = cipher.final();
      const out = new Uint8Array(head.length + tail.length + TAG_BYTES);
      out.set(head, 0);
      out.set(tail, head.length);
      out.set(cipher.getAuthTag(), head.length + tail.length);
      return out;
    },
    aesGcmSealParts: (key, nonce, aad, plaintext) => {
      const cipher = c.createCipheriv("aes-256-gcm", key, nonce);
      cipher.setAAD(aad);
      const ct = cipher.update(plaintext);
      cipher.final(); // GCM emits nothing more
      return [ct, cipher.getAuthTag()];
    },
    aesGcmOpen: (key, nonce, aad, sealed) => {
      if (sealed.length < TAG_BYTES) throw new AeadOpenError();
      const decipher = c.createDecipheriv("aes-256-gcm", key, nonce);
      decipher.setAAD(aad);
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      const head = decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES));
      try {
        decipher.final(); // throws on a bad tag: `head` is then discarded, never returned
      } catch {
        throw new AeadOpenError();
      }
      return new Uint8Array(head.buffer, head.byteOffset, head.length);
    },
    aesGcmSealPieces: (key, nonce, aad, plaintext, piece) => {
      const cipher = c.createCipheriv("aes-256-gcm", key, nonce);
      cipher.setAAD(aad);
      const out: Uint8Array[] = [];
      for (let at = 0; at < plaintext.length; at += piece) out.push(cipher.update(plaintext.subarray(at, at + piece)));
      cipher.final(); // GCM emits nothing more
      out.push(cipher.getAuthTag());
      return out;
    },
    aesGcmOpenPieces: (key, nonce, aad, sealed, piece) => {
      if (sealed.length < TAG_BYTES) throw new AeadOpenError();
      const decipher = c.createDecipheriv("aes-256-gcm", key, nonce);
      decipher.setAAD(aad);
      const end = sealed.length - TAG_BYTES;
      decipher.setAuthTag(sealed.subarray(end));
      const out: Uint8Array[] = [];
      for (let at = 0; at < end; at += piece) out.push(decipher.update(sealed.subarray(at, Math.min(at + piece, end))));
      try {
        decipher.final(); // throws on a bad tag: the pieces are then discarded, never returned
      } catch {
        throw new AeadOpenError();
      }
      return out;
    },
    sha256: () => {
      const h = c.createHash("sha256");
      return {
        update: (bytes) => void h.update(bytes),
        digest: () => new Uint8Array(h.digest()),
      };
    },
  };
}

let cached: Promise<CryptoBackend> | undefined;

/**
 * The crypto backend: `node:crypto` when the runtime has it, else the noble libraries.
 * `prefer: "noble"` forces the portable path (tests compare both).
 */
export function cryptoBackend(opts: { prefer?: "node" | "noble" } = {}): Promise<CryptoBackend> {
  if (opts.prefer === "noble") return Promise.resolve(nobleBackend);
  cached ??= (async () => {
    // A variable specifier keeps bundlers from pulling node:crypto into a browser build.
    const specifier = "node:crypto";
    try {
      return nodeBackend((await import(/* @vite-ignore */ specifier)) as NodeCrypto);
    } catch {
      return nobleBackend;
    }
  })();
  return cached;
}
