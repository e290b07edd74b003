import { AbiCoder, getAddress } from "ethers";
import type { Signer } from "ethers";

import { cidFromSha256, dataIdFor } from "./cid.js";
import { CustodianRefusal, registerShare, requestShare } from "./custodian-client.js";
import { AssetCipher, SealedFormatError, openStream } from "./format.js";
import { envelopeInfo, generateKeyPair, openWith, releaseInfo } from "./hpke.js";
import type { Sealed } from "./hpke.js";
import { manifestDigest, manifestToJson, recoverManifestSigner } from "./manifest.js";
import type { SignedManifest } from "./manifest.js";
import { cryptoBackend } from "./platform.js";
import type { CryptoBackend } from "./platform.js";
import { keyRequestHasher, keyRequestMessage, signKeyRequest } from "./request.js";
import { combineShares, keyCommitment, shareCommitment } from "./shares.js";

/**
 * Opening, processor (or owner) side. Browser-safe; the file version is `openFile` in `files.ts`.
 */

/** Why opening failed, in one code: the caller can act on it. */
export class OpenAssetError extends Error {
  constructor(
    readonly code:
      | "BAD_MANIFEST"
      | "NOT_ENOUGH_SHARES"
      | "BAD_KEY"
      | "CID_MISMATCH"
      | "DATA_ID_MISMATCH"
      | "SIZE_MISMATCH"
      | SealedFormatError["reason"],
    message: string,
    /** Per custodian, why it gave no usable share (NOT_ENOUGH_SHARES). */
    readonly failures: readonly { index: number; url: string; code: string; message: string }[] = [],
  ) {
    super(message);
    this.name = "OpenAssetError";
  }
}

/**
 * Checks what an opener must check before trusting a manifest: the owner signed it, it is for the
 * expected chain and registry, and, for a first version, the dataId is the commitment to its CID.
 * Synchronous, so the owner must be an EOA here; an owner that is a contract wallet (ERC-1271)
 * needs the chain: `checkManifestOnChain`.
 */
export function checkManifest(m: SignedManifest, expected?: { chainId?: bigint; registry?: string }): void {
  checkManifestFields(m, expected);
  const signer = recoverManifestSigner(m);
  if (signer === undefined || getAddress(signer) !== getAddress(m.owner)) {
    throw new OpenAssetError(
      "BAD_MANIFEST",
      `manifest is not signed by its owner ${m.owner} (if the owner is a contract wallet, check it on chain: checkManifestOnChain)`,
    );
  }
  checkDataId(m);
}

/** What a reader of the chain needs: `call` (an ethers Provider, or a Signer connected to one). */
export interface ChainCaller {
  call(tx: { to: string; data: string }): Promise<string>;
}

/**
 * `checkManifest` for any owner: an EOA's signature is recovered; otherwise the owner is asked
 * `isValidSignature(manifestDigest, signature)` at the latest block, and only OpenZeppelin's
 * SignatureChecker answer counts (at least one word returned, that word the magic value): an
 * address without code, or one that echoes its calldata, signs nothing.
 */
export async function checkManifestOnChain(
  m: SignedManifest,
  chain: ChainCaller,
  expected?: { chainId?: bigint; registry?: string },
): Promise<void> {
  checkManifestFields(m, expected);
  const signer = recoverManifestSigner(m);
  if (signer !== undefined && getAddress(signer) === getAddress(m.owner)) return checkDataId(m);
  let answer: string;
  try {
    answer = await chain.call({
      to: getAddress(m.owner),
      data:
        ERC1271_SELECTOR +
        AbiCoder.defaultAbiCoder()
          .encode(["bytes32", "bytes"], [manifestDigest(m), m.signature])
          .slice(2),
    });
  } catch {
    answer = "0x"; // a wallet that reverts says no (SignatureChecker)
  }
  if (!isErc1271Yes(answer)) {
    throw new OpenAssetError(
      "BAD_MANIFEST",
      `manifest is not signed by its owner ${m.owner}: not its key, and the owner did not accept it as a contract wallet (ERC-1271)`,
    );
  }
  checkDataId(m);
}

const ERC1271_SELECTOR = "0x1626ba7e";

/** An isValidSignature return value that means yes: a first word equal to the selector, left-aligned. */
function isErc1271Yes(ret: string): boolean {
  return ret.length >= 66 && ret.slice(0, 66).toLowerCase() === ERC1271_SELECTOR + "0".repeat(56);
}

function checkManifestFields(m: SignedManifest, expected?: { chainId?: bigint; registry?: string }): void {
  if (expected?.chainId !== undefined && expected.chainId !== m.chainId) {
    throw new OpenAssetError("BAD_MANIFEST", `manifest is for chain ${m.chainId}, not ${expected.chainId}`);
  }
  if (expected?.registry !== undefined && getAddress(expected.registry) !== getAddress(m.registry)) {
    throw new OpenAssetError("BAD_MANIFEST", `manifest is for registry ${m.registry}, not ${expected.registry}`);
  }
}

function checkDataId(m: SignedManifest): void {
  if (m.version === 1n && dataIdFor(m.cid, m.salt) !== m.dataId.toLowerCase()) {
    throw new OpenAssetError("DATA_ID_MISMATCH", "the manifest's dataId is not the commitment to its CID and salt");
  }
}

export interface ObtainKeyOptions {
  manifest: SignedManifest;
  /** The requester (a processor with consent, or the owner itself). */
  requester: Signer;
  purpose: number;
  /** The transaction of the requester's `DataUsed` record (not needed by the owner, nor for plain-consent assets). */
  useTx?: string;
  timeoutMs?: number;
  /** Request lifetime in seconds. */
  ttlSeconds?: number;
}

/**
 * Asks custodians for `k` shares in parallel (k at once, the next one as soon as one fails, so up
 * to n−k down or refusing custodians are tolerated), checks each against its commitment, rebuilds
 * the key and checks it against the key commitment. One signed request serves every custodian.
 */
export async function obtainKey(opts: ObtainKeyOptions): Promise<Uint8Array> {
  const m = opts.manifest;
  const requester = getAddress(await opts.requester.getAddress());
  const eph = await generateKeyPair();
  const message = keyRequestMessage({
    owner: m.owner,
    dataId: m.dataId,
    version: m.version,
    purpose: opts.purpose,
    requester,
    ephemeralKey: eph.publicKey,
    useTx: opts.useTx,
    ...(opts.ttlSeconds === undefined ? {} : { deadline: BigInt(Math.floor(Date.now() / 1000) + opts.ttlSeconds) }),
  });
  const body = await signKeyRequest(opts.requester, m.chainId, m.registry, message);
  const digest = keyRequestHasher(m.chainId, m.registry).digest(message);

  const n = m.custodians.length;
  const k = m.threshold;
  const shares: Uint8Array[] = [];
  const failures: { index: number; url: string; code: string; message: string }[] = [];
  let next = 0;

  const ask = async (index: number): Promise<void> => {
    const c = m.custodians[index];
    try {
      const res = await requestShare(c.url, body, opts.timeoutMs);
      if (res.index !== index) throw new CustodianRefusal(c.url, "BAD_RESPONSE", `answered for share ${res.index}`);
      let share: Uint8Array;
      try {
        share = await openWith(eph.keyPair, releaseInfo(digest, index), res);
      } catch {
        throw new CustodianRefusal(c.url, "BAD_RESPONSE", "its sealed share does not open with the request's key");
      }
      if (shareCommitment(m.dataId, m.version, index, share) !== c.shareCommitment.toLowerCase()) {
        throw new CustodianRefusal(c.url, "BAD_SHARE", "its share does not match the manifest's commitment");
      }
      shares.push(share);
    } catch (err) {
      const r =
        err instanceof CustodianRefusal ? err : new CustodianRefusal(c.url, "BAD_RESPONSE", (err as Error).message);
      failures.push({ index, url: c.url, code: r.code, message: r.message.replace(/^[A-Z_]+: /, "") });
      if (next < n && shares.length < k) await ask(next++);
    }
  };
  const first: Promise<void>[] = [];
  while (next < Math.min(k, n)) first.push(ask(next++));
  await Promise.all(first);

  if (shares.length < k) {
    const detail = failures
      .sort((a, b) => a.index - b.index)
      .map((f) => `custodian #${f.index} ${f.url}: ${f.code} (${f.message})`)
      .join("; ");
    throw new OpenAssetError(
      "NOT_ENOUGH_SHARES",
      `got ${shares.length} of the ${k} shares needed (${n - failures.length} of ${n} custodians answered with a share): ${detail}`,
      failures,
    );
  }
  const key = await combineShares(shares.slice(0, k));
  for (const s of shares) s.fill(0);
  if (keyCommitment(m.dataId, m.version, key) !== m.keyCommitment.toLowerCase()) {
    key.fill(0);
    throw new OpenAssetError("BAD_KEY", "the rebuilt key does not match the manifest's key commitment");
  }
  return key;
}

/** The frame cipher of an asset version under `key`. */
export function cipherFor(m: SignedManifest, key: Uint8Array, backend: CryptoBackend): AssetCipher {
  return new AssetCipher(
    backend,
    key,
    { chainId: m.chainId, registry: m.registry, owner: m.owner, salt: m.salt, version: m.version },
    m.chunkSize,
  );
}

/**
 * Decrypts a sealed stream: yields plaintext chunk by chunk (each authenticated), then checks the
 * whole ciphertext's CID and the plaintext size. A consumer that must not keep unverified output
 * keeps it only once the generator finished without throwing.
 */
export async function* decryptAsset(
  m: SignedManifest,
  key: Uint8Array,
  sealed: AsyncIterable<Uint8Array>,
  backend?: CryptoBackend,
): AsyncGenerator<Uint8Array> {
  const b = backend ?? (await cryptoBackend());
  const hash = b.sha256();
  async function* hashed(): AsyncGenerator<Uint8Array> {
    for await (const piece of sealed) {
      hash.update(piece);
      yield piece;
    }
  }
  let size = 0n;
  try {
    for await (const chunk of openStream(cipherFor(m, key, b), hashed())) {
      size += BigInt(chunk.length);
      yield chunk;
    }
  } catch (err) {
    if (err instanceof SealedFormatError) throw new OpenAssetError(err.reason, err.message);
    throw err;
  }
  if (cidFromSha256(hash.digest()).toString() !== m.cid) {
    throw new OpenAssetError("CID_MISMATCH", "the ciphertext's CID is not the manifest's");
  }
  if (size !== m.size) throw new OpenAssetError("SIZE_MISMATCH", `decrypted ${size} bytes, manifest says ${m.size}`);
}

/** Collects a whole (small) asset into memory. */
export async function openBytes(m: SignedManifest, key: Uint8Array, sealed: Uint8Array): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of decryptAsset(
    m,
    key,
    (async function* () {
      yield sealed;
    })(),
  ))
    parts.push(chunk);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Registers every share with its custodian (in parallel); returns per custodian what happened. */
export async function registerShares(
  m: SignedManifest,
  envelopes: readonly Sealed[],
): Promise<{ index: number; url: string; ok: boolean; code?: string; message?: string }[]> {
  const manifest = JSON.parse(manifestToJson(m)) as unknown;
  return Promise.all(
    m.custodians.map(async (c, index) => {
      try {
        await registerShare(c.url, { manifest, index, envelope: envelopes[index] });
        return { index, url: c.url, ok: true };
      } catch (err) {
        const r = err instanceof CustodianRefusal ? err : new CustodianRefusal(c.url, "BAD_RESPONSE", String(err));
        return { index, url: c.url, ok: false, code: r.code, message: r.message };
      }
    }),
  );
}

/** The HPKE info a custodian uses to open share `index` of `m` (exported for the custodian). */
export function envelopeInfoOf(m: SignedManifest, index: number): Uint8Array {
  return envelopeInfo({
    chainId: m.chainId,
    registry: m.registry,
    owner: m.owner,
    dataId: m.dataId,
    version: m.version,
    index,
    custodianPublicKey: m.custodians[index].publicKey,
  });
}
