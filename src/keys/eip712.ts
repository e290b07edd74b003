import { keccak_256 } from "@noble/hashes/sha3.js";
import { TypedDataEncoder, keccak256 } from "ethers";
import type { TypedDataDomain, TypedDataField } from "ethers";

import { addressBytes, concatBytes, fromHex, toHex, uintBytes, utf8 } from "./encoding.js";

/**
 * EIP-712 definitions of the key-release messages: the asset manifest the owner signs and the
 * key request a requester signs. A separate domain from the registry's ("OmniTensor Key
 * Release", "1"), bound to the chain id and the registry address, so a key request can never
 * be mistaken for a consent message (nor the reverse) and cannot move to another chain or
 * deployment.
 */

export const KEY_RELEASE_NAME = "OmniTensor Key Release";
export const KEY_RELEASE_VERSION = "1";

export const KEY_RELEASE_TYPES = {
  Manifest: [
    { name: "owner", type: "address" },
    { name: "dataId", type: "bytes32" },
    { name: "version", type: "uint64" },
    { name: "cid", type: "string" },
    { name: "salt", type: "bytes32" },
    { name: "size", type: "uint64" },
    { name: "chunkSize", type: "uint32" },
    { name: "keyCommitment", type: "bytes32" },
    { name: "threshold", type: "uint8" },
    { name: "custodians", type: "Custodian[]" },
    { name: "policy", type: "ReleasePolicy" },
  ],
  Custodian: [
    { name: "url", type: "string" },
    { name: "publicKey", type: "bytes32" },
    { name: "shareCommitment", type: "bytes32" },
  ],
  ReleasePolicy: [
    { name: "requireUseRecord", type: "bool" },
    { name: "useRecordMaxAge", type: "uint32" },
    { name: "confirmations", type: "uint32" },
  ],
  KeyRequest: [
    { name: "owner", type: "address" },
    { name: "dataId", type: "bytes32" },
    { name: "version", type: "uint64" },
    { name: "purpose", type: "uint8" },
    { name: "requester", type: "address" },
    { name: "ephemeralKey", type: "bytes32" },
    { name: "nonce", type: "bytes32" },
    { name: "deadline", type: "uint64" },
    { name: "useTx", type: "bytes32" },
  ],
} as const satisfies Record<string, readonly TypedDataField[]>;

/** The types of the manifest message (its primary type plus the structs it references). */
export const MANIFEST_TYPES: Record<string, TypedDataField[]> = {
  Manifest: [...KEY_RELEASE_TYPES.Manifest],
  Custodian: [...KEY_RELEASE_TYPES.Custodian],
  ReleasePolicy: [...KEY_RELEASE_TYPES.ReleasePolicy],
};

export const KEY_REQUEST_TYPES: Record<string, TypedDataField[]> = {
  KeyRequest: [...KEY_RELEASE_TYPES.KeyRequest],
};

/** The key-release domain of a registry deployment. */
export function keyReleaseDomain(chainId: bigint | number, registry: string): TypedDataDomain {
  return {
    name: KEY_RELEASE_NAME,
    version: KEY_RELEASE_VERSION,
    chainId: BigInt(chainId),
    verifyingContract: registry,
  };
}

const KEY_REQUEST_TYPEHASH = fromHex(
  keccak256(utf8(TypedDataEncoder.from(KEY_REQUEST_TYPES).encodeType("KeyRequest"))),
  32,
);

/** The fields of a key request as signed. */
export interface KeyRequestMessage {
  owner: string;
  dataId: string;
  version: bigint;
  purpose: number;
  requester: string;
  /** The requester's fresh X25519 public key (32 bytes hex): the share comes back sealed to it. */
  ephemeralKey: string;
  /** 32 random bytes; a custodian releases at most once per (requester, nonce). */
  nonce: string;
  /** Unix seconds; the custodian refuses the request after it (and one too far ahead). */
  deadline: bigint;
  /** The transaction holding the requester's `DataUsed` record (zero when the policy needs none). */
  useTx: string;
}

/**
 * The EIP-712 digest of a key request, computed directly (a custodian does this per request;
 * ethers' generic encoder is ten times slower). `test/keys/eip712.ts` checks it equals
 * `TypedDataEncoder.hash` for random requests.
 */
export class KeyRequestHasher {
  private readonly prefix: Uint8Array;
  /**
   * `keccak`: keccak-256 of bytes; @noble/hashes' by default (browser-safe). A custodian passes the
   * native addon's (src/custodian/signatures.ts), several times faster per hash.
   */
  constructor(
    domain: TypedDataDomain,
    private readonly keccak: (bytes: Uint8Array) => Uint8Array = keccak_256,
  ) {
    this.prefix = concatBytes(Uint8Array.of(0x19, 0x01), fromHex(TypedDataEncoder.hashDomain(domain), 32));
  }

  digest(m: KeyRequestMessage): string {
    // keccak-256 on bytes (noble's is what ethers' keccak256 runs, without its hex round trips).
    const struct = this.keccak(
      concatBytes(
        KEY_REQUEST_TYPEHASH,
        word(addressBytes(m.owner)),
        fromHex(m.dataId, 32),
        uintBytes(m.version, 32),
        uintBytes(m.purpose, 32),
        word(addressBytes(m.requester)),
        fromHex(m.ephemeralKey, 32),
        fromHex(m.nonce, 32),
        uintBytes(m.deadline, 32),
        fromHex(m.useTx, 32),
      ),
    );
    return toHex(this.keccak(concatBytes(this.prefix, struct)));
  }
}

function word(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  out.set(bytes, 32 - bytes.length);
  return out;
}
