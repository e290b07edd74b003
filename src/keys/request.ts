import { BaseWallet, ZeroHash, getAddress } from "ethers";
import type { Signer } from "ethers";

import { concatBytes, fromHex, toHex } from "./encoding.js";
import { KEY_REQUEST_TYPES, KeyRequestHasher, keyReleaseDomain } from "./eip712.js";
import type { KeyRequestMessage } from "./eip712.js";
import { randomBytes } from "./platform.js";

/**
 * Key requests on the wire (`POST /v1/release` of a custodian) and the share registration
 * (`POST /v1/shares`). Integers that may exceed 2^53 are decimal strings, bytes 0x-hex.
 */

/** A signed key request as sent to a custodian. */
export interface KeyRequestBody {
  chainId: string;
  registry: string;
  request: {
    owner: string;
    dataId: string;
    version: string;
    purpose: number;
    requester: string;
    ephemeralKey: string;
    nonce: string;
    deadline: string;
    useTx: string;
  };
  signature: string;
}

/** A custodian's answer to a granted request: its share, sealed to the ephemeral key. */
export interface ReleaseResponse {
  index: number;
  enc: string;
  ct: string;
  /** The block the consent and use record were checked at. */
  block: number;
  blockHash: string;
}

/** An owner's share registration: the signed manifest, which share, and its HPKE envelope. */
export interface ShareRegistrationBody {
  manifest: unknown;
  index: number;
  envelope: { enc: string; ct: string };
}

/** The default lifetime of a key request: short, so a leaked request is useless soon. */
export const DEFAULT_REQUEST_TTL_SECONDS = 120;

export interface KeyRequestInput {
  owner: string;
  dataId: string;
  version: bigint;
  purpose: number;
  requester: string;
  ephemeralKey: string;
  /** Transaction of the requester's `DataUsed` record; omit for a plain-consent asset or the owner. */
  useTx?: string;
  /** Unix seconds; default now + DEFAULT_REQUEST_TTL_SECONDS. */
  deadline?: bigint;
  nonce?: string;
}

export function keyRequestMessage(
  input: KeyRequestInput,
  nowSeconds = BigInt(Math.floor(Date.now() / 1000)),
): KeyRequestMessage {
  return {
    owner: getAddress(input.owner),
    dataId: input.dataId.toLowerCase(),
    version: input.version,
    purpose: input.purpose,
    requester: getAddress(input.requester),
    ephemeralKey: input.ephemeralKey.toLowerCase(),
    nonce: input.nonce ?? toHex(randomBytes(32)),
    deadline: input.deadline ?? nowSeconds + BigInt(DEFAULT_REQUEST_TTL_SECONDS),
    useTx: (input.useTx ?? ZeroHash).toLowerCase(),
  };
}

const hashers = new Map<string, KeyRequestHasher>();

/**
 * The key-request hasher of a registry deployment, made once per (chain, registry): making one
 * hashes the EIP-712 domain with ethers' generic encoder (~0.4 ms here), and a requester makes a
 * request per open.
 */
export function keyRequestHasher(chainId: bigint, registry: string): KeyRequestHasher {
  const key = `${chainId}:${registry.toLowerCase()}`;
  let h = hashers.get(key);
  if (h === undefined) {
    h = new KeyRequestHasher(keyReleaseDomain(chainId, registry));
    if (hashers.size >= 256) hashers.clear();
    hashers.set(key, h);
  }
  return h;
}

/** `secp256k1/bindings`: the package's API over its native build only (no JS fallback). */
interface NativeSecp256k1 {
  ecdsaSign(msg32: Uint8Array, seckey: Uint8Array): { signature: Uint8Array; recid: number };
}

let native: Promise<NativeSecp256k1 | undefined> | undefined;

/**
 * libsecp256k1 through the optional `secp256k1` package's native binding, in Node only (a dynamic
 * import, so this module stays browser-safe); undefined elsewhere or when it does not load.
 */
function nativeSecp256k1(): Promise<NativeSecp256k1 | undefined> {
  return (native ??= (async () => {
    const p = typeof process === "undefined" ? undefined : process;
    if (typeof p?.versions?.node !== "string" || p.env?.OMNI_NO_NATIVE_SECP256K1 === "1") return undefined;
    try {
      const specifier = "node:module";
      const { createRequire: makeRequire } = (await import(specifier)) as {
        createRequire: (url: string) => (id: string) => unknown;
      };
      return makeRequire(import.meta.url)("secp256k1/bindings") as NativeSecp256k1;
    } catch {
      return undefined;
    }
  })());
}

/** Which implementation signs for a local wallet in this process. */
export async function signingBackend(): Promise<"libsecp256k1" | "ethers"> {
  return (await nativeSecp256k1()) === undefined ? "ethers" : "libsecp256k1";
}

/** 65-byte r‖s‖v of `digest` by a local wallet: libsecp256k1 where it loads, else ethers (both RFC 6979, low s). */
async function signDigest(wallet: BaseWallet, digest: string): Promise<string> {
  const lib = await nativeSecp256k1();
  if (lib !== undefined) {
    const key = fromHex(wallet.privateKey, 32);
    try {
      const { signature, recid } = lib.ecdsaSign(fromHex(digest, 32), key);
      return toHex(concatBytes(signature, Uint8Array.of(27 + recid)));
    } finally {
      key.fill(0);
    }
  }
  return wallet.signingKey.sign(digest).serialized;
}

/**
 * Signs a key request (EIP-712 `KeyRequest`, key-release domain) and returns the wire body. A
 * local wallet (ethers `BaseWallet`: `Wallet`, `HDNodeWallet`) signs the direct digest of
 * `KeyRequestHasher` with its key, in Node with libsecp256k1 (~1.1 ms → ~0.1 ms here): the very
 * signature `signTypedData` makes (RFC 6979 nonces are deterministic, s is low; the tests compare
 * them), without ethers' generic typed-data encoder. Any other signer (a JSON-RPC account, a
 * hardware wallet, a contract wallet's owner) gets `signTypedData`.
 */
export async function signKeyRequest(
  signer: Signer,
  chainId: bigint,
  registry: string,
  message: KeyRequestMessage,
): Promise<KeyRequestBody> {
  const signature =
    signer instanceof BaseWallet
      ? await signDigest(signer, keyRequestHasher(chainId, registry).digest(message))
      : await signer.signTypedData(keyReleaseDomain(chainId, registry), KEY_REQUEST_TYPES, message);
  return { chainId: chainId.toString(), registry: getAddress(registry), request: requestToWire(message), signature };
}

export function requestToWire(m: KeyRequestMessage): KeyRequestBody["request"] {
  return {
    owner: m.owner,
    dataId: m.dataId,
    version: m.version.toString(),
    purpose: m.purpose,
    requester: m.requester,
    ephemeralKey: m.ephemeralKey,
    nonce: m.nonce,
    deadline: m.deadline.toString(),
    useTx: m.useTx,
  };
}

export function requestFromWire(w: KeyRequestBody["request"]): KeyRequestMessage {
  return {
    owner: getAddress(w.owner),
    dataId: w.dataId.toLowerCase(),
    version: BigInt(w.version),
    purpose: w.purpose,
    requester: getAddress(w.requester),
    ephemeralKey: w.ephemeralKey.toLowerCase(),
    nonce: w.nonce.toLowerCase(),
    deadline: BigInt(w.deadline),
    useTx: w.useTx.toLowerCase(),
  };
}

/**
 * `requestFromWire` with the two addresses lower-case instead of checksummed: what a custodian
 * compares and hashes (EIP-712 encodes an address as its 20 bytes, whatever its case), without
 * the two keccak-256 of the checksums on every request.
 */
export function requestFromWireLower(w: KeyRequestBody["request"]): KeyRequestMessage {
  return {
    owner: w.owner.toLowerCase(),
    dataId: w.dataId.toLowerCase(),
    version: BigInt(w.version),
    purpose: w.purpose,
    requester: w.requester.toLowerCase(),
    ephemeralKey: w.ephemeralKey.toLowerCase(),
    nonce: w.nonce.toLowerCase(),
    deadline: BigInt(w.deadline),
    useTx: w.useTx.toLowerCase(),
  };
}
