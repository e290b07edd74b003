import { Aes128Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from "@hpke/core";
import { expand, extract, hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";

import { addressBytes, concatBytes, fromHex, toHex, uintBytes, utf8 } from "./encoding.js";

/**
 * HPKE (RFC 9180, base mode) with `@hpke/core`: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
 * AES-128-GCM. Two uses, each with its own `info` so that an envelope of one kind can never be
 * opened as the other or for another asset:
 * - share envelope (owner → custodian): info binds chain id, registry, owner, dataId, asset
 *   version, share index and the custodian's public key;
 * - release (custodian → requester): sealed to the request's ephemeral key, info binds the
 *   key request's EIP-712 digest (chain, registry, owner, asset, purpose, requester, nonce).
 * Browser-safe (WebCrypto underneath for X25519 and AES-GCM; HKDF from `@noble/hashes`, below).
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

export const suite = new CipherSuite({
  kem: new DhkemX25519NobleHkdf(),
  kdf: new NobleHkdfSha256(),
  aead: new Aes128Gcm(),
});

/** An imported X25519 private key (a WebCrypto key object). */
export type HpkePrivateKey = Awaited<ReturnType<typeof suite.kem.deserializePrivateKey>>;

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
  const privateKey = await suite.kem.deserializePrivateKey(privateKeyBytes);
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
  const pt = await suite.open(
    { recipientKey: privateKey, enc: toArrayBuffer(fromHex(sealed.enc)), info: toArrayBuffer(info) },
    toArrayBuffer(fromHex(sealed.ct)),
  );
  return new Uint8Array(pt);
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
