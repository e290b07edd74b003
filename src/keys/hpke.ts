import {
  Aes128Gcm,
  CipherSuite,
  DeserializeError,
  DhkemX25519HkdfSha256,
  HkdfSha256,
  SerializeError,
  type AeadEncryptionContext,
} from "@hpke/core";
import { expand, extract, hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";

import { addressBytes, concatBytes, fromHex, toHex, uintBytes, utf8 } from "./encoding.js";
import { cryptoBackend, type CryptoBackend, type X25519Ops } from "./platform.js";

/**
 * HPKE (RFC 9180, base mode) with `@hpke/core`: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
 * AES-128-GCM. Two uses, each with its own `info` so that an envelope of one kind can never be
 * opened as the other or for another asset:
 * - share envelope (owner → custodian): info binds chain id, registry, owner, dataId, asset
 *   version, share index and the custodian's public key;
 * - release (custodian → requester): sealed to the request's ephemeral key, info binds the
 *   key request's EIP-712 digest (chain, registry, owner, asset, purpose, requester, nonce).
 * Browser-safe: X25519 and AES-GCM come from Node's crypto where platform.ts has it, else from
 * WebCrypto (`hpkeSuite`, below); HKDF from `@noble/hashes` in both.
 */

type Bytes = ArrayBufferLike | ArrayBufferView;
const u8 = (b: Bytes): Uint8Array =>
  ArrayBuffer.isView(b) ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : new Uint8Array(b);
const ab = (b: Uint8Array): ArrayBuffer => b.slice().buffer;

/**
 * HKDF-SHA256 (RFC 5869) of `@noble/hashes` (audited) for @hpke/core's key schedule. The same
 * function as @hpke/core's own `HkdfSha256`, whose every Extract and Expand is a WebCrypto
 * importKey + sign round trip: about 14 of them per seal or open, which made HPKE the largest
 * part of a custodian's CPU per release (profiled: 0.9 ms of 3.3). Here each step is one call of
 * noble's `extract` / `expand`. `test/keys/hpke.ts` checks both directions against the stock suite.
 */
export class NobleHkdfSha256 extends HkdfSha256 {
  override async extract(salt: Bytes, ikm: Bytes): Promise<ArrayBuffer> {
    const s = u8(salt);
    if (s.byteLength !== 0 && s.byteLength !== this.hashSize) {
      throw new Error("The salt length must be the same as the hashSize");
    }
    return ab(extract(sha256, u8(ikm), s.byteLength === 0 ? new Uint8Array(this.hashSize) : s));
  }

  override async expand(prk: Bytes, info: Bytes, len: number): Promise<ArrayBuffer> {
    return ab(expand(sha256, u8(prk), u8(info), len));
  }

  override async extractAndExpand(salt: Bytes, ikm: Bytes, info: Bytes, len: number): Promise<ArrayBuffer> {
    const s = u8(salt);
    return ab(hkdf(sha256, u8(ikm), s.byteLength === 0 ? undefined : s, u8(info), len));
  }
}

/** DHKEM(X25519, HKDF-SHA256) whose HKDF is `NobleHkdfSha256` (the X25519 itself stays WebCrypto's). */
class DhkemX25519NobleHkdf extends DhkemX25519HkdfSha256 {
  constructor() {
    super();
    const kdf = new NobleHkdfSha256();
    // The KEM's suite id (RFC 9180 §4.1: "KEM" ‖ I2OSP(kem_id, 2)).
    kdf.init(Uint8Array.of(0x4b, 0x45, 0x4d, (this.id >> 8) & 0xff, this.id & 0xff));
    this._kdf = kdf;
  }
}

/** The portable suite: X25519 and AES-128-GCM through WebCrypto (browsers; Node without `node:crypto`). */
const webcryptoSuite = new CipherSuite({
  kem: new DhkemX25519NobleHkdf(),
  kdf: new NobleHkdfSha256(),
  aead: new Aes128Gcm(),
});

const buf = (b: Uint8Array): ArrayBuffer => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;

/**
 * @hpke/core's DHKEM primitives over the platform's synchronous X25519 (platform.ts: OpenSSL's in
 * Node). Every WebCrypto X25519 step is an async job on libuv's thread pool plus a conversion of
 * its result: about 7 per seal (generate, two exports, import, derive, and the AEAD's import and
 * encrypt), 1.1–1.3 ms of CPU per seal and 0.65–0.7 ms per open here, against 0.23–0.34 and
 * 0.16–0.19 ms this way (3,000 each, measured side by side). Only the curve operations move:
 * the KEM (encap/decap, the shared-secret derivation) and the key schedule stay @hpke/core's, and
 * `test/keys/hpke.ts` holds both suites to RFC 9180's vector and to each other. The "CryptoKey"s
 * @hpke/core's types name are this backend's key handles here; @hpke/core only passes them back.
 */
class PlatformX25519 {
  constructor(private readonly x: X25519Ops) {}
  private key = (k: object) => k as CryptoKey;
  async serializePublicKey(key: CryptoKey): Promise<ArrayBuffer> {
    return this.wrap(SerializeError, () => buf(this.x.exportPublic(key)));
  }
  async deserializePublicKey(key: ArrayBufferLike | ArrayBufferView): Promise<CryptoKey> {
    return this.wrap(DeserializeError, () => this.key(this.x.importPublic(u8(key))));
  }
  async serializePrivateKey(key: CryptoKey): Promise<ArrayBuffer> {
    return this.wrap(SerializeError, () => buf(this.x.exportPrivate(key)));
  }
  async deserializePrivateKey(key: ArrayBufferLike | ArrayBufferView): Promise<CryptoKey> {
    return this.wrap(DeserializeError, () => this.key(this.x.importPrivate(u8(key))));
  }
  async importKey(format: "raw" | "jwk", key: ArrayBuffer | JsonWebKey, isPublic: boolean): Promise<CryptoKey> {
    if (format !== "raw" || !(key instanceof ArrayBuffer))
      throw new DeserializeError("only raw X25519 keys are imported here");
    return isPublic ? this.deserializePublicKey(key) : this.deserializePrivateKey(key);
  }
  async generateKeyPair(): Promise<CryptoKeyPair> {
    const kp = this.x.generate();
    return { privateKey: this.key(kp.privateKey), publicKey: this.key(kp.publicKey) };
  }
  /** RFC 9180 DeriveKeyPair (only for fixed test vectors, `ekm`): the portable KEM derives, its key is re-imported. */
  async deriveKeyPair(ikm: ArrayBufferLike | ArrayBufferView): Promise<CryptoKeyPair> {
    const derived = await webcryptoSuite.kem.deriveKeyPair(u8(ikm));
    const raw = new Uint8Array(await webcryptoSuite.kem.serializePrivateKey(derived.privateKey));
    try {
      const privateKey = this.x.importPrivate(raw);
      return { privateKey: this.key(privateKey), publicKey: this.key(this.x.publicOf(privateKey)) };
    } finally {
      raw.fill(0);
    }
  }
  async derivePublicKey(key: CryptoKey): Promise<CryptoKey> {
    return this.wrap(DeserializeError, () => this.key(this.x.publicOf(key)));
  }
  async dh(sk: CryptoKey, pk: CryptoKey): Promise<ArrayBuffer> {
    return this.wrap(SerializeError, () => buf(this.x.dh(sk, pk)));
  }
  private wrap<T>(E: new (e: unknown) => Error, f: () => T): T {
    try {
      return f();
    } catch (e) {
      throw new E(e);
    }
  }
}

/** DHKEM(X25519, HKDF-SHA256) with `NobleHkdfSha256` and the platform's X25519. */
class DhkemX25519Platform extends DhkemX25519NobleHkdf {
  constructor(x: X25519Ops) {
    super();
    this._prim = new PlatformX25519(x);
  }
}

/** AES-128-GCM of @hpke/core with the platform's synchronous AES-GCM (platform.ts) underneath. */
class Aes128GcmPlatform extends Aes128Gcm {
  constructor(private readonly backend: CryptoBackend) {
    super();
  }
  override createEncryptionContext(key: ArrayBufferLike | ArrayBufferView): AeadEncryptionContext {
    const k = u8(key).slice();
    const b = this.backend;
    return {
      seal: async (iv, data, aad) => buf(b.aesGcmSeal(k, u8(iv), u8(aad), u8(data))),
      open: async (iv, data, aad) => buf(b.aesGcmOpen(k, u8(iv), u8(aad), u8(data))),
    };
  }
}

let chosen: Promise<CipherSuite> | undefined;

/**
 * The HPKE suite of this process: the platform's X25519 and AES-GCM where platform.ts has them
 * (Node), else WebCrypto's; the same wire format and answers either way. `prefer: "webcrypto"`
 * gives the portable one (tests compare them). Keys belong to the suite that made them: this
 * module's functions all use the same one.
 */
export function hpkeSuite(opts: { prefer?: "platform" | "webcrypto" } = {}): Promise<CipherSuite> {
  if (opts.prefer === "webcrypto") return Promise.resolve(webcryptoSuite);
  return (chosen ??= cryptoBackend().then((b) =>
    b.x25519
      ? new CipherSuite({
          kem: new DhkemX25519Platform(b.x25519),
          kdf: new NobleHkdfSha256(),
          aead: new Aes128GcmPlatform(b),
        })
      : webcryptoSuite,
  ));
}

/** Which X25519 this process's HPKE uses: "platform" (Node's OpenSSL) or "webcrypto". */
export async function hpkeBackend(): Promise<"platform" | "webcrypto"> {
  return (await hpkeSuite()) === webcryptoSuite ? "webcrypto" : "platform";
}

/** An X25519 private key of this process's HPKE suite (a WebCrypto key, or a KeyObject in Node): pass it back to this module only. */
export type HpkePrivateKey = CryptoKey;

const ENVELOPE_TAG = utf8("omnitensor-share-envelope:v1");
const RELEASE_TAG = utf8("omnitensor-release:v1");

export interface HpkeKeyPair {
  publicKey: string;
  privateKey: HpkePrivateKey;
}

/**
 * A fresh X25519 key pair; `publicKey` as 32 bytes hex. `keyPair` (both WebCrypto keys) is what
 * `openWith` best takes: given the private key alone, @hpke/core derives the public one again on
 * every open (a JWK export and import).
 */
export async function generateKeyPair(): Promise<
  HpkeKeyPair & { privateKeyBytes: Uint8Array; keyPair: { privateKey: HpkePrivateKey; publicKey: HpkePrivateKey } }
> {
  const suite = await hpkeSuite();
  const kp = await suite.kem.generateKeyPair();
  return {
    publicKey: toHex(new Uint8Array(await suite.kem.serializePublicKey(kp.publicKey))),
    privateKey: kp.privateKey,
    privateKeyBytes: new Uint8Array(await suite.kem.serializePrivateKey(kp.privateKey)),
    keyPair: kp,
  };
}

/**
 * The key pair of a stored 32-byte X25519 private key and its recorded public key. Proves they
 * belong together by sealing to the public key and opening with the private one.
 */
export async function importKeyPair(privateKeyBytes: Uint8Array, publicKey: string): Promise<HpkeKeyPair> {
  const privateKey = await (await hpkeSuite()).kem.deserializePrivateKey(privateKeyBytes);
  const probe = utf8("omnitensor-key-probe");
  try {
    await openWith(privateKey, probe, await sealTo(publicKey, probe, probe));
  } catch {
    throw new Error("the private key does not match the recorded public key");
  }
  return { publicKey: toHex(fromHex(publicKey, 32)), privateKey };
}

export interface Sealed {
  enc: string;
  ct: string;
}

/** Where a share envelope belongs. */
export interface EnvelopeContext {
  chainId: bigint;
  registry: string;
  owner: string;
  dataId: string;
  version: bigint;
  index: number;
  custodianPublicKey: string;
}

export function envelopeInfo(c: EnvelopeContext): Uint8Array {
  return concatBytes(
    ENVELOPE_TAG,
    uintBytes(c.chainId, 32),
    addressBytes(c.registry),
    addressBytes(c.owner),
    fromHex(c.dataId, 32),
    uintBytes(c.version, 8),
    uintBytes(c.index, 1),
    fromHex(c.custodianPublicKey, 32),
  );
}

export function releaseInfo(requestDigest: string, index: number): Uint8Array {
  return concatBytes(RELEASE_TAG, fromHex(requestDigest, 32), uintBytes(index, 1));
}

/** Seals `plaintext` to an X25519 public key (32 bytes hex) with `info`. */
export async function sealTo(publicKey: string, info: Uint8Array, plaintext: Uint8Array): Promise<Sealed> {
  const suite = await hpkeSuite();
  const recipientPublicKey = await suite.kem.deserializePublicKey(fromHex(publicKey, 32));
  const { enc, ct } = await suite.seal({ recipientPublicKey, info: toArrayBuffer(info) }, toArrayBuffer(plaintext));
  return { enc: toHex(new Uint8Array(enc)), ct: toHex(new Uint8Array(ct)) };
}

/**
 * Opens what `sealTo` sealed; throws (an `OpenError` of @hpke/core) on any mismatch. Takes the
 * private key, or the key pair (`generateKeyPair().keyPair`: saves deriving the public key).
 */
export async function openWith(
  privateKey: HpkePrivateKey | { privateKey: HpkePrivateKey; publicKey: HpkePrivateKey },
  info: Uint8Array,
  sealed: Sealed,
): Promise<Uint8Array> {
  const pt = await (
    await hpkeSuite()
  ).open(
    { recipientKey: privateKey, enc: toArrayBuffer(fromHex(sealed.enc)), info: toArrayBuffer(info) },
    toArrayBuffer(fromHex(sealed.ct)),
  );
  return new Uint8Array(pt);
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
