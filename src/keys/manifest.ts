import { TypedDataEncoder, getAddress, verifyTypedData } from "ethers";
import type { Signer } from "ethers";
import { z } from "zod";

import { parseAssetCid } from "./cid.js";
import { MANIFEST_TYPES, keyReleaseDomain } from "./eip712.js";
import { MAX_CHUNK_SIZE } from "./format.js";

/**
 * The asset manifest: everything needed to find, release and open one version of a sealed
 * asset, signed by its owner (EIP-712 `Manifest` in the key-release domain). Custodians
 * refuse shares of an asset whose manifest the owner did not sign, and openers refuse a
 * manifest that is not the owner's, or whose CID or dataId does not match the bytes.
 *
 * JSON form (`omnitensor-manifest/1`, the one serializer: `manifestToJson` / `parseManifest`):
 * integers that may exceed 2^53 are decimal strings, bytes are 0x-hex.
 */

export const MANIFEST_FORMAT = "omnitensor-manifest/1";

export interface ReleasePolicy {
  /** Release only to a requester whose `DataUsed` record is named in the request. */
  requireUseRecord: boolean;
  /** The use record must be at most this many blocks old at release. */
  useRecordMaxAge: number;
  /** Consent (and the use record) must hold this many blocks below the head. */
  confirmations: number;
}

export interface CustodianEntry {
  url: string;
  /** X25519 public key (32 bytes hex) the custodian's share is wrapped to. */
  publicKey: string;
  shareCommitment: string;
}

export interface Manifest {
  chainId: bigint;
  registry: string;
  owner: string;
  dataId: string;
  version: bigint;
  cid: string;
  salt: string;
  /** Plaintext bytes. */
  size: bigint;
  chunkSize: number;
  keyCommitment: string;
  /** k: shares needed to rebuild the key. n = custodians.length. */
  threshold: number;
  custodians: CustodianEntry[];
  policy: ReleasePolicy;
}

export interface SignedManifest extends Manifest {
  signature: string;
}

const hex32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "32 bytes of 0x-hex");
const address = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, "an address")
  .transform((a) => getAddress(a));
const decimal = z
  .string()
  .regex(/^\d{1,20}$/, "a decimal integer")
  .transform((v) => BigInt(v));
const uint32 = z
  .number()
  .int()
  .min(0)
  .max(2 ** 32 - 1);

export const manifestSchema = z
  .object({
    format: z.literal(MANIFEST_FORMAT),
    chainId: decimal,
    registry: address,
    owner: address,
    dataId: hex32,
    version: decimal.refine((v) => v >= 1n && v < 2n ** 64n, "version is 1..2^64-1"),
    cid: z.string().refine((c) => {
      try {
        parseAssetCid(c);
        return true;
      } catch {
        return false;
      }
    }, "a v1 raw sha2-256 CID"),
    salt: hex32,
    size: decimal.refine((v) => v < 2n ** 64n),
    chunkSize: z.number().int().min(1).max(MAX_CHUNK_SIZE),
    keyCommitment: hex32,
    threshold: z.number().int().min(2).max(255),
    custodians: z
      .array(z.object({ url: z.string().max(2048), publicKey: hex32, shareCommitment: hex32 }).strict())
      .min(2)
      .max(255),
    policy: z.object({ requireUseRecord: z.boolean(), useRecordMaxAge: uint32, confirmations: uint32 }).strict(),
    signature: z.string().regex(/^0x([0-9a-fA-F]{2})*$/, "0x-hex"),
  })
  .strict()
  .refine((m) => m.threshold <= m.custodians.length, "threshold is at most the number of custodians")
  .refine(
    (m) => new Set(m.custodians.map((c) => c.publicKey.toLowerCase())).size === m.custodians.length,
    "custodian keys must be distinct",
  );

/** Parses and validates a manifest (JSON text or object); throws `ManifestError` in words. */
export function parseManifest(input: unknown): SignedManifest {
  let value = input;
  if (typeof input === "string") {
    try {
      value = JSON.parse(input);
    } catch {
      throw new ManifestError("the manifest is not JSON");
    }
  }
  const parsed = manifestSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ManifestError(`bad manifest: ${issue.path.join(".") || "(root)"}: ${issue.message}`);
  }
  const { format: _format, ...m } = parsed.data;
  return m;
}

/** The JSON form of a signed manifest (stable key order). */
export function manifestToJson(m: SignedManifest): string {
  return JSON.stringify(
    {
      format: MANIFEST_FORMAT,
      chainId: m.chainId.toString(),
      registry: m.registry,
      owner: m.owner,
      dataId: m.dataId,
      version: m.version.toString(),
      cid: m.cid,
      salt: m.salt,
      size: m.size.toString(),
      chunkSize: m.chunkSize,
      keyCommitment: m.keyCommitment,
      threshold: m.threshold,
      custodians: m.custodians.map((c) => ({ url: c.url, publicKey: c.publicKey, shareCommitment: c.shareCommitment })),
      policy: { ...m.policy },
      signature: m.signature,
    },
    null,
    2,
  );
}

export class ManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ManifestError";
  }
}

function message(m: Manifest): Record<string, unknown> {
  return {
    owner: m.owner,
    dataId: m.dataId,
    version: m.version,
    cid: m.cid,
    salt: m.salt,
    size: m.size,
    chunkSize: m.chunkSize,
    keyCommitment: m.keyCommitment,
    threshold: m.threshold,
    custodians: m.custodians,
    policy: m.policy,
  };
}

/** The owner signs the manifest (the signer must be `m.owner`). */
export async function signManifest(signer: Signer, m: Manifest): Promise<SignedManifest> {
  const signature = await signer.signTypedData(keyReleaseDomain(m.chainId, m.registry), MANIFEST_TYPES, message(m));
  return { ...m, signature };
}

/** The EOA that signed the manifest, or undefined when the signature does not recover (ERC-1271 owners: see the custodian). */
export function recoverManifestSigner(m: SignedManifest): string | undefined {
  try {
    return verifyTypedData(keyReleaseDomain(m.chainId, m.registry), MANIFEST_TYPES, message(m), m.signature);
  } catch {
    return undefined;
  }
}

/** The EIP-712 digest of the manifest (what an ERC-1271 owner's `isValidSignature` is asked about). */
export function manifestDigest(m: Manifest): string {
  return TypedDataEncoder.hash(keyReleaseDomain(m.chainId, m.registry), MANIFEST_TYPES, message(m));
}
