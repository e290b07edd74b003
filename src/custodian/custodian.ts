import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

import { ZeroHash, getAddress } from "ethers";

import { dataIdFor } from "../keys/cid.js";
import { concatBytes, fromHex, uintBytes } from "../keys/encoding.js";
import { KeyRequestHasher, keyReleaseDomain } from "../keys/eip712.js";
import { openWith, releaseInfo, sealTo } from "../keys/hpke.js";
import {
  ManifestError,
  manifestDigest,
  manifestToJson,
  parseManifest,
  recoverManifestSigner,
} from "../keys/manifest.js";
import { envelopeInfoOf } from "../keys/open.js";
import { requestFromWireLower } from "../keys/request.js";
import type { KeyRequestBody, ReleaseResponse, ShareRegistrationBody } from "../keys/request.js";
import type { SignedManifest } from "../keys/manifest.js";
import { shareCommitment } from "../keys/shares.js";
import type { ChainReader } from "./chain.js";
import { Refusal } from "./errors.js";
import type { CustodianKeys } from "./keystore.js";
import { ReleaseLog } from "./release-log.js";
import { RpcError } from "./rpc.js";
import { keccak256Bytes, recoverSigner } from "./signatures.js";
import type { CustodianStore, ReleaseEntry } from "./store.js";

/** An X25519 public key (32 bytes, little-endian, top bit ignored: RFC 7748) as its u-coordinate mod p. */
const P25519 = 2n ** 255n - 19n;
function uCoordinate(hex: string): bigint {
  const bytes = Buffer.from(hex.slice(2), "hex");
  bytes[31] &= 0x7f;
  return BigInt(`0x${bytes.reverse().toString("hex")}`) % P25519;
}
/** The u-coordinates of small order (libsodium's blocklist; p and p + 1 reduce to 0 and 1). */
const SMALL_ORDER = new Set(
  [
    `0x${"00".repeat(32)}`,
    `0x01${"00".repeat(31)}`,
    "0xe0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
    "0x5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
    `0xec${"ff".repeat(30)}7f`,
  ].map(uCoordinate),
);

/**
 * Why `hex` is not a usable X25519 public key for sealing a share to (undefined: it is): 32 bytes,
 * not a point of small order (zero, one, …: the "shared secret" would be known to everyone).
 */
export function ephemeralKeyProblem(hex: string): string | undefined {
  if (!/^0x[0-9a-fA-F]{64}$/.test(hex)) return "not 32 bytes of hex (an X25519 public key)";
  if (SMALL_ORDER.has(uCoordinate(hex))) return "a point of small order (no secret can be agreed with it)";
  return undefined;
}

/**
 * The custodian's decisions: which shares it accepts, and when it releases one. Holds no
 * consent state: every release asks the chain (see `chain.ts`).
 */

export interface CustodianConfig {
  chainId: bigint;
  registry: string;
  /** Minimum confirmation depth, whatever a manifest says (the effective depth is the larger). */
  minConfirmations: number;
  /** Longest accepted request lifetime (deadline − now), seconds. */
  maxRequestTtl: number;
}

export class Custodian {
  private readonly hasher: KeyRequestHasher;
  private readonly manifests = new Map<string, SignedManifest>();
  private readonly log: ReleaseLog;
  /** The registry, checksummed (for the log and messages) and lower-case (for comparing). */
  private readonly registry: string;
  private readonly registryLower: string;
  readonly publicKey: string;

  constructor(
    readonly config: CustodianConfig,
    private readonly keys: CustodianKeys,
    private readonly store: CustodianStore,
    readonly chain: ChainReader,
    private readonly now: () => number = () => Date.now(),
  ) {
    this.hasher = new KeyRequestHasher(keyReleaseDomain(config.chainId, config.registry), keccak256Bytes);
    this.publicKey = keys.keyPair.publicKey;
    this.log = new ReleaseLog(store);
    this.registry = getAddress(config.registry);
    this.registryLower = this.registry.toLowerCase();
  }

  private checkChain(chainId: bigint | string, registry: string): void {
    if (BigInt(chainId) !== this.config.chainId || registry.toLowerCase() !== this.registryLower) {
      throw new Refusal("WRONG_CHAIN", `this custodian serves chain ${this.config.chainId}, registry ${this.registry}`);
    }
  }

  private shareAad(owner: string, dataId: string, version: bigint, index: number): Buffer {
    return Buffer.from(
      concatBytes(fromHex(owner, 20), fromHex(dataId, 32), uintBytes(version, 8), uintBytes(index, 1)),
    );
  }

  /** The owner registers one share (see ShareRegistrationBody). */
  async register(body: ShareRegistrationBody): Promise<{ registered: boolean; publicKey: string }> {
    let m;
    try {
      m = parseManifest(body.manifest);
    } catch (err) {
      if (err instanceof ManifestError) throw new Refusal("BAD_MANIFEST", err.message);
      throw err;
    }
    this.checkChain(m.chainId, m.registry);
    if (m.version > BigInt(Number.MAX_SAFE_INTEGER)) throw new Refusal("BAD_MANIFEST", "version too large");
    const digest = manifestDigest(m);
    const signer = recoverManifestSigner(m);
    if (signer === undefined || getAddress(signer) !== getAddress(m.owner)) {
      const ok = await this.rpcGuard(() => this.chain.erc1271(m.owner, digest, m.signature));
      if (!ok) throw new Refusal("BAD_MANIFEST_SIGNATURE", `not signed by ${m.owner}`);
    }
    if (m.version === 1n && dataIdFor(m.cid, m.salt) !== m.dataId.toLowerCase()) {
      throw new Refusal("BAD_MANIFEST", "dataId is not the commitment to the manifest's CID and salt");
    }
    const index = body.index;
    if (index >= m.custodians.length || m.custodians[index].publicKey.toLowerCase() !== this.publicKey) {
      throw new Refusal("NOT_THIS_CUSTODIAN", `index ${index}; this custodian's key is ${this.publicKey}`);
    }
    let share: Uint8Array;
    try {
      share = await openWith(this.keys.keyPair.privateKey, envelopeInfoOf(m, index), body.envelope);
    } catch {
      throw new Refusal("BAD_SHARE", "the envelope does not open with this custodian's key for this asset");
    }
    if (shareCommitment(m.dataId, m.version, index, share) !== m.custodians[index].shareCommitment.toLowerCase()) {
      throw new Refusal("BAD_SHARE", "the share does not match the manifest's commitment");
    }
    const existing = this.store.share(m.owner, m.dataId, Number(m.version));
    if (existing !== undefined) {
      if (existing.manifestDigest === digest && existing.shareIndex === index)
        return { registered: false, publicKey: this.publicKey };
      throw new Refusal("SHARE_CONFLICT", `asset version ${m.version} is registered with another manifest`);
    }
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.keys.storageKey, iv);
    cipher.setAAD(this.shareAad(m.owner, m.dataId, m.version, index));
    const sealedShare = Buffer.concat([iv, cipher.update(share), cipher.final(), cipher.getAuthTag()]);
    share.fill(0);
    const added = this.store.addShare({
      owner: m.owner,
      dataId: m.dataId,
      version: Number(m.version),
      shareIndex: index,
      manifestJson: manifestToJson(m),
      manifestDigest: digest,
      envelopeJson: JSON.stringify(body.envelope),
      sealedShare,
    });
    if (!added) throw new Refusal("SHARE_CONFLICT", "registered concurrently");
    return { registered: true, publicKey: this.publicKey };
  }

  private async rpcGuard<T>(f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (err) {
      if (err instanceof RpcError) throw new Refusal("CHAIN_UNAVAILABLE", err.message);
      throw err;
    }
  }

  /**
   * Decides a key request; on success the release is in the log (committed, see `ReleaseLog`)
   * before the share leaves. Addresses of the request are compared as lower-case hex (the schema
   * admits only 0x + 40 hex digits; the signature covers their bytes); the log gets checksummed
   * ones: the recovered signer's and the registered manifest's owner.
   *
   * The same request again (same requester and nonce, same EIP-712 digest: same ephemeral key,
   * deadline, everything) is not a replay to refuse: anyone who saw the signed body (another
   * custodian of the asset, a proxy) could otherwise spend its nonce here first and leave the
   * requester REPLAY. It runs every check again but the nonce (signature, deadline, consent at
   * the latest block and confirmed, use record) and, if they pass, gets the very bytes of the
   * first release (stored with the nonce): nothing new leaves, and nothing is logged again. The
   * owner's latest word still wins: after a revocation the repeat is NOT_ALLOWED. A used nonce
   * with another digest, or one spent before answers were kept (older databases), is REPLAY.
   */
  async release(body: KeyRequestBody): Promise<ReleaseResponse> {
    this.checkChain(body.chainId, body.registry);
    const m = requestFromWireLower(body.request);
    const badKey = ephemeralKeyProblem(m.ephemeralKey);
    if (badKey !== undefined) throw new Refusal("INVALID_REQUEST", `ephemeralKey ${m.ephemeralKey}: ${badKey}`);
    const nowS = Math.floor(this.now() / 1000);
    if (m.deadline < BigInt(nowS)) throw new Refusal("EXPIRED", `deadline ${m.deadline}, now ${nowS}`);
    if (m.deadline > BigInt(nowS + this.config.maxRequestTtl)) {
      throw new Refusal("DEADLINE_TOO_FAR", `deadline ${m.deadline} is more than ${this.config.maxRequestTtl} s ahead`);
    }
    const digest = this.hasher.digest(m).toLowerCase();
    const signer = recoverSigner(digest, body.signature);
    let requester: string;
    if (signer !== undefined && signer.toLowerCase() === m.requester) requester = signer;
    else {
      requester = getAddress(m.requester);
      const ok = await this.rpcGuard(() => this.chain.erc1271(requester, digest, body.signature));
      if (!ok) throw new Refusal("BAD_SIGNATURE", `not signed by ${requester}`);
    }
    const repeat = this.storedAnswer(m.requester, m.nonce, digest);
    if (m.version > BigInt(Number.MAX_SAFE_INTEGER)) throw new Refusal("UNKNOWN_ASSET");
    const row = this.store.releaseRow(m.owner, m.dataId, Number(m.version));
    if (row === undefined) {
      throw new Refusal("UNKNOWN_ASSET", `${getAddress(m.owner)} ${m.dataId} version ${m.version}`);
    }
    const manifest = this.manifestOf(row.manifestDigest);
    const owner = manifest.owner;
    const isOwner = m.requester === owner.toLowerCase();
    if (!isOwner && row.latestVersion > Number(m.version)) {
      throw new Refusal("SUPERSEDED", `latest version is ${row.latestVersion}`);
    }
    const confirmations = Math.max(manifest.policy.confirmations, this.config.minConfirmations);
    const requireUseRecord = manifest.policy.requireUseRecord && !isOwner;
    if (requireUseRecord && m.useTx === ZeroHash) {
      throw new Refusal(
        "NO_USE_RECORD",
        "this asset's policy needs a DataUsed record; the request names no transaction",
      );
    }
    // From here the release is on its way to the log: a group commit may wait for it briefly.
    const ticket = this.log.expect();
    try {
      const answer = await this.rpcGuard(() =>
        isOwner
          ? this.chain.headOnly()
          : this.chain.check({
              owner,
              requester,
              dataId: m.dataId,
              purpose: m.purpose,
              confirmations,
              useTx: requireUseRecord ? m.useTx : ZeroHash,
              useRecordMaxAge: manifest.policy.useRecordMaxAge,
            }),
      );
      // The chain may have been slow: the deadline must still hold when the answer leaves.
      this.checkDeadlineStill(m.deadline);
      if (repeat !== undefined) return repeat;
      const sealedShare = row.sealedShare;
      const decipher = createDecipheriv("aes-256-gcm", this.keys.storageKey, sealedShare.subarray(0, 12));
      decipher.setAAD(this.shareAad(m.owner, m.dataId, m.version, row.shareIndex));
      decipher.setAuthTag(sealedShare.subarray(sealedShare.length - 16));
      const share = Buffer.concat([
        decipher.update(sealedShare.subarray(12, sealedShare.length - 16)),
        decipher.final(),
      ]);
      let sealed;
      try {
        sealed = await sealTo(m.ephemeralKey, releaseInfo(digest, row.shareIndex), share);
      } catch (err) {
        throw new Refusal("INVALID_REQUEST", `ephemeralKey ${m.ephemeralKey}: ${(err as Error).message}`);
      } finally {
        share.fill(0);
      }
      const response: ReleaseResponse = {
        index: row.shareIndex,
        enc: sealed.enc,
        ct: sealed.ct,
        block: answer.block,
        blockHash: answer.blockHash,
      };
      this.checkDeadlineStill(m.deadline);
      const entry = await this.log.append(
        {
          atMs: this.now(),
          custodian: this.publicKey,
          chainId: this.config.chainId.toString(),
          registry: this.registry,
          owner,
          requester,
          dataId: m.dataId,
          version: m.version.toString(),
          purpose: m.purpose,
          nonce: m.nonce,
          deadline: m.deadline.toString(),
          ephemeralKey: m.ephemeralKey,
          useTx: m.useTx,
          signature: body.signature,
          block: answer.block,
          blockHash: answer.blockHash,
          confirmations,
          useBlock: answer.useBlock,
          requireUseRecord,
          useRecordMaxAge: manifest.policy.useRecordMaxAge,
          shareIndex: row.shareIndex,
          manifestDigest: row.manifestDigest,
        },
        ticket,
        { digest, answer: JSON.stringify(response) },
      );
      if (entry === undefined) {
        // A concurrent duplicate spent the nonce first: the same request gets that release's
        // bytes (its checks passed here too, just now); another request is a replay.
        const first = this.storedAnswer(m.requester, m.nonce, digest);
        if (first === undefined) throw new Refusal("REPLAY", `nonce ${m.nonce} (concurrent duplicate)`);
        return first;
      }
      return response;
    } finally {
      ticket.cancel();
    }
  }

  /**
   * For a spent nonce: the answer of its first release when this is the same request (same
   * digest) and that answer was kept, else a REPLAY refusal. Undefined: the nonce is unspent.
   */
  private storedAnswer(requester: string, nonce: string, digest: string): ReleaseResponse | undefined {
    const spent = this.store.nonceAnswer(requester, nonce);
    if (spent === undefined) return undefined;
    if (spent.answer === null || spent.digest === null || spent.digest.toLowerCase() !== digest) {
      throw new Refusal("REPLAY", `nonce ${nonce}`);
    }
    return JSON.parse(spent.answer) as ReleaseResponse;
  }

  private checkDeadlineStill(deadline: bigint): void {
    const nowS = Math.floor(this.now() / 1000);
    if (deadline < BigInt(nowS)) {
      throw new Refusal("EXPIRED", `deadline ${deadline} passed while the chain was asked (now ${nowS})`);
    }
  }

  /**
   * The parsed manifest of a registered share. Manifests are immutable once registered (the key
   * is their digest), so parsing each once is safe; this holds no consent state.
   */
  private manifestOf(digest: string): SignedManifest {
    let m = this.manifests.get(digest);
    if (m === undefined) {
      const json = this.store.manifestJson(digest);
      if (json === undefined) throw new Error(`no manifest ${digest} in the store`);
      m = parseManifest(json);
      if (this.manifests.size >= 10_000) this.manifests.clear();
      this.manifests.set(digest, m);
    }
    return m;
  }

  releases(): ReleaseEntry[] {
    return this.store.releases();
  }

  info(): { publicKey: string; chainId: string; registry: string; confirmations: number; maxRequestTtl: number } {
    return {
      publicKey: this.publicKey,
      chainId: this.config.chainId.toString(),
      registry: this.registry,
      confirmations: this.config.minConfirmations,
      maxRequestTtl: this.config.maxRequestTtl,
    };
  }
}
