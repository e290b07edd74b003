import { getAddress } from "ethers";
import type { Signer } from "ethers";

import { cidFromSha256, dataIdFor } from "./cid.js";
import { toHex } from "./encoding.js";
import { AssetCipher, DEFAULT_CHUNK_SIZE, KEY_BYTES, sealStream } from "./format.js";
import { envelopeInfo, sealTo } from "./hpke.js";
import type { Sealed } from "./hpke.js";
import { signManifest } from "./manifest.js";
import type { Manifest, ReleasePolicy, SignedManifest } from "./manifest.js";
import { cryptoBackend, randomBytes } from "./platform.js";
import type { CryptoBackend } from "./platform.js";
import { keyCommitment, shareCommitment, splitKey } from "./shares.js";

/**
 * Sealing, owner side (browser-safe; the file version is `sealFile` in `files.ts`):
 * random data key → chunked AES-256-GCM → CID of the ciphertext → dataId → k-of-n shares of the
 * key → each share wrapped to its custodian with HPKE → manifest signed by the owner.
 */

/** The default release policy: a use record in the last 7,200 blocks (~1 day at 12 s), 2 confirmations. */
export const DEFAULT_POLICY: ReleasePolicy = { requireUseRecord: true, useRecordMaxAge: 7_200, confirmations: 2 };

export interface SealOptions {
  chainId: bigint;
  registry: string;
  /** The owner: signs the manifest. */
  owner: Signer;
  custodians: readonly { url: string; publicKey: string }[];
  threshold: number;
  policy?: Partial<ReleasePolicy>;
  chunkSize?: number;
  /** Re-seal: the manifest of the asset's latest version. The new version keeps its dataId and salt. */
  previous?: SignedManifest;
  backend?: CryptoBackend;
}

export interface SealResult {
  manifest: SignedManifest;
  /** Envelope `i` is custodian `i`'s share, for `registerShares`. */
  envelopes: Sealed[];
}

/** Everything after the bytes are encrypted: shares, envelopes, manifest. */
export async function finishSeal(
  opts: SealOptions,
  key: Uint8Array,
  salt: string,
  sha256: Uint8Array,
  size: bigint,
  chunkSize: number,
): Promise<SealResult> {
  const owner = getAddress(await opts.owner.getAddress());
  const version = opts.previous === undefined ? 1n : opts.previous.version + 1n;
  const cid = cidFromSha256(sha256).toString();
  const dataId = opts.previous?.dataId ?? dataIdFor(cid, salt);
  const n = opts.custodians.length;
  const shares = await splitKey(key, opts.threshold, n);
  const envelopes: Sealed[] = [];
  const custodians = [];
  for (let index = 0; index < n; index++) {
    const c = opts.custodians[index];
    const info = envelopeInfo({
      chainId: opts.chainId,
      registry: opts.registry,
      owner,
      dataId,
      version,
      index,
      custodianPublicKey: c.publicKey,
    });
    envelopes.push(await sealTo(c.publicKey, info, shares[index]));
    custodians.push({
      url: c.url,
      publicKey: c.publicKey.toLowerCase(),
      shareCommitment: shareCommitment(dataId, version, index, shares[index]),
    });
    shares[index].fill(0);
  }
  const manifest: Manifest = {
    chainId: opts.chainId,
    registry: getAddress(opts.registry),
    owner,
    dataId,
    version,
    cid,
    salt,
    size,
    chunkSize,
    keyCommitment: keyCommitment(dataId, version, key),
    threshold: opts.threshold,
    custodians,
    policy: { ...(opts.previous?.policy ?? DEFAULT_POLICY), ...opts.policy },
  };
  return { manifest: await signManifest(opts.owner, manifest), envelopes };
}

/** Checks the options and draws the key and salt of a new version. */
export async function startSeal(
  opts: SealOptions,
): Promise<{ key: Uint8Array; salt: string; chunkSize: number; cipher: AssetCipher; backend: CryptoBackend }> {
  const owner = getAddress(await opts.owner.getAddress());
  if (opts.previous !== undefined && getAddress(opts.previous.owner) !== owner) {
    throw new RangeError("a new version must be sealed by the same owner");
  }
  if (opts.threshold < 2 || opts.threshold > opts.custodians.length) {
    throw new RangeError(`threshold must be 2..${opts.custodians.length} (the number of custodians)`);
  }
  const backend = opts.backend ?? (await cryptoBackend());
  const key = randomBytes(KEY_BYTES);
  const salt = opts.previous?.salt ?? toHex(randomBytes(32));
  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const version = opts.previous === undefined ? 1n : opts.previous.version + 1n;
  const cipher = new AssetCipher(
    backend,
    key,
    { chainId: opts.chainId, registry: opts.registry, owner, salt, version },
    chunkSize,
  );
  return { key, salt, chunkSize, cipher, backend };
}

/**
 * Seals a plaintext stream. The sealed bytes go to `sink` in order (header first); the result
 * holds the signed manifest and the share envelopes. The data key exists only during the call.
 */
export async function sealBytes(
  opts: SealOptions,
  plaintext: AsyncIterable<Uint8Array>,
  sink: (bytes: Uint8Array) => void | Promise<void>,
): Promise<SealResult> {
  const { key, salt, chunkSize, cipher, backend } = await startSeal(opts);
  try {
    const hash = backend.sha256();
    let size = 0n;
    async function* counted(): AsyncGenerator<Uint8Array> {
      for await (const piece of plaintext) {
        size += BigInt(piece.length);
        yield piece;
      }
    }
    for await (const out of sealStream(cipher, counted())) {
      hash.update(out);
      await sink(out);
    }
    return await finishSeal(opts, key, salt, hash.digest(), size, chunkSize);
  } finally {
    key.fill(0);
  }
}

/** An async iterable over one byte array (for small in-memory assets). */
export async function* fromBytes(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}
