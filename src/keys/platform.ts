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
  /** AES-GCM, ciphertext followed by the 16-byte tag: AES-256 with a 32-byte key (assets), AES-128 with a 16-byte one (HPKE's AEAD). */
  aesGcmSeal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array;
  /** The same, as [ciphertext, tag] without copying them together (the bulk file path). */
  aesGcmSealParts(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): [Uint8Array, Uint8Array];
  /** AES-GCM open (key length as for `aesGcmSeal`); throws `AeadOpenError` when the tag does not verify (nothing is returned then). */
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
  /**
   * X25519 on the platform's native crypto, synchronous (Node: OpenSSL's, through KeyObjects).
   * Absent where there is none (browsers): HPKE then uses WebCrypto's X25519 (keys/hpke.ts).
   */
  readonly x25519?: X25519Ops;
}

/**
 * X25519 (RFC 7748) keys as opaque handles of the backend, for HPKE's DHKEM (keys/hpke.ts). Raw
 * keys are 32 bytes; anything else, and a Diffie-Hellman result of all zeros (a small-order
 * public key: RFC 9180 §7.1.4 says to abort), throws.
 */
export interface X25519Ops {
  generate(): { privateKey: object; publicKey: object };
  importPublic(raw: Uint8Array): object;
  importPrivate(raw: Uint8Array): object;
  exportPublic(key: object): Uint8Array;
  exportPrivate(key: object): Uint8Array;
  publicOf(privateKey: object): object;
  dh(privateKey: object, publicKey: object): Uint8Array;
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

/** DER prefix of a PKCS#8 X25519 private key (RFC 8410): the 32 raw bytes follow. */
const PKCS8_X25519 = Uint8Array.of(
  0x30,
  0x2e,
  0x02,
  0x01,
  0x00,
  0x30,
  0x05,
  0x06,
  0x03,
  0x2b,
  0x65,
  0x6e,
  0x04,
  0x22,
  0x04,
  0x20,
);

function raw32(what: string, bytes: Uint8Array): Uint8Array {
  if (bytes.length !== 32) throw new RangeError(`an X25519 ${what} key is 32 bytes, not ${bytes.length}`);
  return bytes;
}

function nodeX25519(c: NodeCrypto): X25519Ops {
  type Key = import("node:crypto").KeyObject;
  const b64 = (bytes: Uint8Array) =>
    Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64url");
  const jwkBytes = (v: string | undefined) => new Uint8Array(Buffer.from(v ?? "", "base64url"));
  return {
    generate: () => c.generateKeyPairSync("x25519"),
    importPublic: (raw) =>
      c.createPublicKey({ key: { kty: "OKP", crv: "X25519", x: b64(raw32("public", raw)) }, format: "jwk" }),
    importPrivate: (raw) => {
      const der = new Uint8Array(PKCS8_X25519.length + 32);
      der.set(PKCS8_X25519);
      der.set(raw32("private", raw), PKCS8_X25519.length);
      try {
        return c.createPrivateKey({ key: Buffer.from(der.buffer), format: "der", type: "pkcs8" });
      } finally {
        der.fill(0);
      }
    },
    exportPublic: (key) => raw32("public", jwkBytes((key as Key).export({ format: "jwk" }).x)),
    exportPrivate: (key) => raw32("private", jwkBytes((key as Key).export({ format: "jwk" }).d)),
    publicOf: (privateKey) => c.createPublicKey(privateKey as Key),
    dh: (privateKey, publicKey) => {
      const shared = new Uint8Array(c.diffieHellman({ privateKey: privateKey as Key, publicKey: publicKey as Key }));
      // OpenSSL refuses these itself (test/keys/hpke.ts passes without this line); kept so the rule
      // does not rest on one library's choice.
      if (shared.every((b) => b === 0))
        throw new Error("X25519: the shared secret is all zeros (a small-order public key)");
      return shared;
    },
  };
}

/** AES-GCM by key length (16: AES-128 for HPKE, 32: AES-256 for assets); anything else throws. */
function gcmOf(key: Uint8Array): "aes-128-gcm" | "aes-256-gcm" {
  if (key.length === 32) return "aes-256-gcm";
  if (key.length === 16) return "aes-128-gcm";
  throw new RangeError(`an AES-GCM key is 16 or 32 bytes here, not ${key.length}`);
}

function nodeBackend(c: NodeCrypto): CryptoBackend {
  return {
    name: "node",
    x25519: nodeX25519(c),
    aesGcmSeal: (key, nonce, aad, plaintext) => {
      const cipher = c.createCipheriv(gcmOf(key), key, nonce);
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
      const decipher = c.createDecipheriv(gcmOf(key), key, nonce);
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
