import { Signature, TypedDataEncoder, keccak256, toUtf8Bytes, verifyTypedData } from "ethers";
import type { Signer, TypedDataDomain, TypedDataField } from "ethers";

import { EIP712_NAME, EIP712_VERSION } from "./constants.js";

/**
 * EIP-712 definitions of the signed consent messages: the one TypeScript definition, tested
 * against the contract's hashes in `test/libraries/ConsentHashes.ts`.
 */
export const CONSENT_TYPES = {
  Grant: [
    { name: "owner", type: "address" },
    { name: "grantee", type: "address" },
    { name: "dataId", type: "bytes32" },
    { name: "purposes", type: "uint128" },
    { name: "expiresAt", type: "uint40" },
    { name: "noticeHash", type: "bytes32" },
    { name: "epoch", type: "uint32" },
    { name: "version", type: "uint64" },
    { name: "deadline", type: "uint256" },
  ],
  Revoke: [
    { name: "owner", type: "address" },
    { name: "grantee", type: "address" },
    { name: "dataId", type: "bytes32" },
    { name: "epoch", type: "uint32" },
    { name: "version", type: "uint64" },
    { name: "deadline", type: "uint256" },
  ],
  RevokeAll: [
    { name: "owner", type: "address" },
    { name: "epoch", type: "uint32" },
    { name: "deadline", type: "uint256" },
  ],
} as const satisfies Record<string, readonly TypedDataField[]>;

export type ConsentMessageKind = keyof typeof CONSENT_TYPES;

export interface GrantMessage {
  owner: string;
  grantee: string;
  dataId: string;
  purposes: bigint;
  expiresAt: bigint;
  noticeHash: string;
  /** The owner's epoch the message is valid in (a lockdown voids it). */
  epoch: bigint;
  /** The consent version this message sets: above the key's version, in its generation. */
  version: bigint;
  deadline: bigint;
}

export interface RevokeMessage {
  owner: string;
  grantee: string;
  dataId: string;
  epoch: bigint;
  version: bigint;
  deadline: bigint;
}

export interface RevokeAllMessage {
  owner: string;
  /** The epoch this lockdown ends (it applies only while the owner is in it). */
  epoch: bigint;
  deadline: bigint;
}

export interface MessageOf {
  Grant: GrantMessage;
  Revoke: RevokeMessage;
  RevokeAll: RevokeAllMessage;
}

/** A message plus its signature: exactly the registry's `Signed*` calldata struct. */
export type Signed<K extends ConsentMessageKind> = MessageOf[K] & { signature: string };

/** The registry's EIP-712 domain: binds the chain id and the deployment address. */
export function consentDomain(chainId: bigint | number, verifyingContract: string): TypedDataDomain {
  return { name: EIP712_NAME, version: EIP712_VERSION, chainId: BigInt(chainId), verifyingContract };
}

function typesOf<K extends ConsentMessageKind>(kind: K): Record<string, TypedDataField[]> {
  return { [kind]: [...CONSENT_TYPES[kind]] };
}

/** The EIP-712 digest the owner signs (what the contract passes to ecrecover / ERC-1271). */
export function consentDigest<K extends ConsentMessageKind>(
  kind: K,
  domain: TypedDataDomain,
  message: MessageOf[K],
): string {
  return TypedDataEncoder.hash(domain, typesOf(kind), message);
}

/** The EIP-712 struct hash of a message (the contract's `ConsentHashes.hash`). */
export function consentStructHash<K extends ConsentMessageKind>(kind: K, message: MessageOf[K]): string {
  return TypedDataEncoder.from(typesOf(kind)).hash(message);
}

/** Signs a consent message with `signer` (65-byte signature) and returns the relayable request. */
export async function signConsent<K extends ConsentMessageKind>(
  kind: K,
  signer: Signer,
  domain: TypedDataDomain,
  message: MessageOf[K],
): Promise<Signed<K>> {
  const signature = await signer.signTypedData(domain, typesOf(kind), message);
  return { ...message, signature };
}

/** The EOA address that signed `signature` over `message` (throws on a malformed signature). */
export function recoverConsentSigner<K extends ConsentMessageKind>(
  kind: K,
  domain: TypedDataDomain,
  message: MessageOf[K],
  signature: string,
): string {
  return verifyTypedData(domain, typesOf(kind), message, signature);
}

/** The 64-byte EIP-2098 compact form (`r ‖ yParityAndS`) of a 65-byte signature. */
export function toCompactSignature(signature: string): string {
  return Signature.from(signature).compactSerialized;
}

/** The EIP-712 encoded type string of a message kind, e.g. `RevokeAll(address owner,uint32 epoch,uint256 deadline)`. */
export function consentEncodedType(kind: ConsentMessageKind): string {
  return TypedDataEncoder.from(typesOf(kind)).encodeType(kind);
}

/** The EIP-712 typehash of a message kind (the contract's `ConsentHashes.*_TYPEHASH`). */
export function consentTypeHash(kind: ConsentMessageKind): string {
  return keccak256(toUtf8Bytes(consentEncodedType(kind)));
}

/** The `EIP712Domain` type of the registry's domain (name, version, chainId, verifyingContract). */
export const EIP712_DOMAIN_TYPE = [
  { name: "name", type: "string" },
  { name: "version", type: "string" },
  { name: "chainId", type: "uint256" },
  { name: "verifyingContract", type: "address" },
] as const;

/**
 * What a wallet's `eth_signTypedData_v4` takes (MetaMask, `@metamask/eth-sig-util` V4, a node's
 * unlocked account): JSON only, so integers are decimal strings (a uint256 does not fit a JSON
 * number; `chainId` is a number, as wallets expect: every chain id in use fits one), and `types` holds
 * `EIP712Domain`: without it a wallet hashes an empty domain and the registry refuses the
 * signature. (ethers' `signTypedData` takes {@link CONSENT_TYPES} without it and adds it itself.)
 */
export interface ConsentTypedData<K extends ConsentMessageKind = ConsentMessageKind> {
  types: { EIP712Domain: { name: string; type: string }[] } & Record<K, { name: string; type: string }[]>;
  primaryType: K;
  domain: { name: string; version: string; chainId: number; verifyingContract: string };
  message: Record<string, string>;
}

/** The `eth_signTypedData_v4` payload of a consent message (see {@link ConsentTypedData}). */
export function consentTypedData<K extends ConsentMessageKind>(
  kind: K,
  domain: TypedDataDomain,
  message: MessageOf[K],
): ConsentTypedData<K> {
  const chainId = BigInt(domain.chainId ?? 0n);
  if (chainId > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new RangeError(`chain id ${chainId} does not fit a JSON number, which eth_signTypedData_v4 wallets expect`);
  }
  const values: Record<string, string> = {};
  for (const { name } of CONSENT_TYPES[kind]) {
    const value = (message as unknown as Record<string, unknown>)[name];
    values[name] = typeof value === "bigint" ? value.toString() : String(value);
  }
  return {
    types: {
      EIP712Domain: EIP712_DOMAIN_TYPE.map((f) => ({ ...f })),
      [kind]: CONSENT_TYPES[kind].map((f) => ({ ...f })),
    } as ConsentTypedData<K>["types"],
    primaryType: kind,
    domain: {
      name: String(domain.name),
      version: String(domain.version),
      chainId: Number(chainId),
      verifyingContract: String(domain.verifyingContract),
    },
    message: values,
  };
}
