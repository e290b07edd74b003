import { Interface, ZeroHash, getAddress } from "ethers";

import { KeyRequestHasher, keyReleaseDomain } from "../keys/eip712.js";
import { manifestDigest, parseManifest, recoverManifestSigner } from "../keys/manifest.js";
import type { SignedManifest } from "../keys/manifest.js";
import { CONSENT_REGISTRY_ABI } from "../sdk/abi.js";
import { purposeName } from "../sdk/purposes.js";
import { isAllowedCalldata } from "./chain.js";
import { RpcClient } from "./rpc.js";
import { isMagicValue, isValidSignatureCalldata, recoverSigner } from "./signatures.js";
import { GENESIS_HASH, entryHashOf } from "./store.js";
import type { ReleaseEntry } from "./store.js";

/**
 * The auditor's check of custodians' release logs (`custodian log` output), independent of the
 * custodian that wrote them: needs only the logs, the owners' signed manifests, an RPC URL and
 * the registry ABI. For every release it proves, from the chain, that it was covered:
 * - the log is intact (consecutive seq, hash chain), for this chain and registry, and its blocks
 *   never go back (a custodian decides at the latest block it sees);
 * - the requester signed that very request (EOA, or its ERC-1271 wallet, with code, said yes at
 *   that block), the deadline had not passed, and no (requester, nonce) was served twice by one
 *   custodian;
 * - the release is checked against the OWNER's policy, never the log's copy of it: the entry's
 *   `manifestDigest` must be the digest of an owner-signed manifest of that asset version naming
 *   this custodian at that share index (EIP-712 signature of the owner, or its ERC-1271 wallet at
 *   the release block); the policy (use record, confirmations, use-record age) is the manifest's.
 *   A release whose manifest is not at hand is a violation (MANIFEST_MISSING), not trusted;
 * - the block it names is on the canonical chain with that hash, and was the head when the
 *   release was made: if the next block's timestamp is more than `staleSlackSeconds` before the
 *   release time, the custodian decided on a stale head, and consent must also have held at the
 *   newest block mined by then (STALE_HEAD otherwise);
 * - unless the requester is the owner: `isAllowed` was true at that block and at block −
 *   confirmations, and (when the policy asks) the named transaction holds a DataUsed(owner,
 *   requester, dataId, purpose) of this registry, confirmed and within the allowed age.
 * Anything else is a violation with its evidence. Used by `audit verify --releases` and by
 * `scripts/demo.ts`.
 */

export type ReleaseViolationCode =
  | "LOG_TAMPERED"
  | "WRONG_CHAIN"
  | "BLOCK_ORDER"
  | "FORGED_REQUEST"
  | "EXPIRED_REQUEST"
  | "REPLAYED"
  | "MANIFEST_MISSING"
  | "MANIFEST_MISMATCH"
  | "MANIFEST_FORGED"
  | "POLICY_MISMATCH"
  | "NOT_ON_CHAIN"
  | "UNCOVERED"
  | "STALE_HEAD"
  | "UNCONFIRMED"
  | "NO_USE_RECORD";

export interface ReleaseViolation {
  code: ReleaseViolationCode;
  custodian: string;
  seq: number;
  message: string;
  evidence: Record<string, unknown>;
}

export interface ReleaseChain {
  rpcUrl: string;
  chainId: bigint;
  registry: string;
}

export interface ReleaseVerification {
  checked: number;
  violations: ReleaseViolation[];
}

/** One custodian's log: the export of `custodian log` (entries and manifests), or the bare array of older versions. */
export type ReleaseLogInput =
  readonly ReleaseEntry[] | { entries: readonly ReleaseEntry[]; manifests?: readonly unknown[] };

export interface VerifyReleasesOptions {
  /** Owner-signed manifests besides those the exports carry (e.g. the owner's own store). */
  manifests?: readonly SignedManifest[];
  /**
   * How much older than the release time the next block may be before the head counts as stale
   * (block times lag the wall clock by the proposer's delay and propagation; the custodian's own
   * answer takes a round trip). Default 10 s.
   */
  staleSlackSeconds?: number;
}

export const DEFAULT_STALE_SLACK_SECONDS = 10;

const registryInterface = new Interface(CONSENT_REGISTRY_ABI);
const DATA_USED_TOPIC = registryInterface.getEvent("DataUsed")!.topicHash;
const pad = (hex: string) => `0x${hex.slice(2).toLowerCase().padStart(64, "0")}`;
const q = (n: number) => `0x${Math.max(n, 0).toString(16)}`;

interface Header {
  number: string;
  hash: string;
  timestamp: string;
}

/** The entries of a log input (either shape). */
export function entriesOf(log: ReleaseLogInput): readonly ReleaseEntry[] {
  return Array.isArray(log) ? (log as readonly ReleaseEntry[]) : (log as { entries: readonly ReleaseEntry[] }).entries;
}

/** Whether `signer` has code and its isValidSignature answers the magic word at `block` (OpenZeppelin's rule). */
async function erc1271At(rpc: RpcClient, signer: string, digest: string, signature: string, block: number) {
  try {
    const [code, res] = await rpc.batch([
      { method: "eth_getCode", params: [signer, q(block)] },
      { method: "eth_call", params: [{ to: signer, data: isValidSignatureCalldata(digest, signature) }, q(block)] },
    ]);
    return typeof code === "string" && /^0x([0-9a-fA-F]{2})+$/.test(code) && isMagicValue(res);
  } catch {
    return false;
  }
}

/** The newest block whose timestamp is <= t, given block `lo` has one <= t (exponential, then binary search). */
async function newestBlockBy(rpc: RpcClient, t: number, lo: number, loHeader: Header): Promise<Header> {
  const header = (n: number) => rpc.call<Header | null>("eth_getBlockByNumber", [q(n), false]);
  let best = loHeader;
  let hi = -1;
  for (let step = 1; hi < 0; step *= 2) {
    const h = await header(lo + step);
    if (h === null || Number(h.timestamp) > t) hi = lo + step;
    else {
      lo += step;
      best = h;
    }
  }
  while (hi - lo > 1) {
    const mid: number = lo + Math.floor((hi - lo) / 2);
    const h = await header(mid);
    if (h !== null && Number(h.timestamp) <= t) {
      lo = mid;
      best = h;
    } else hi = mid;
  }
  return best;
}

/** Verifies one or several custodians' logs (each in seq order, as exported). */
export async function verifyReleases(
  logs: readonly ReleaseLogInput[],
  chain: ReleaseChain,
  opts: VerifyReleasesOptions = {},
): Promise<ReleaseVerification> {
  const rpc = new RpcClient(chain.rpcUrl, 30_000);
  const hasher = new KeyRequestHasher(keyReleaseDomain(chain.chainId, chain.registry));
  const registry = getAddress(chain.registry);
  const slack = opts.staleSlackSeconds ?? DEFAULT_STALE_SLACK_SECONDS;
  // Every manifest at hand, by its own digest (computed, never taken from a field).
  const manifests = new Map<string, SignedManifest>();
  for (const m of opts.manifests ?? []) manifests.set(manifestDigest(m).toLowerCase(), m);
  for (const log of logs) {
    if (Array.isArray(log)) continue;
    for (const json of (log as { manifests?: readonly unknown[] }).manifests ?? []) {
      try {
        const m = parseManifest(json);
        manifests.set(manifestDigest(m).toLowerCase(), m);
      } catch {
        // Not a manifest: the releases naming it find none (MANIFEST_MISSING).
      }
    }
  }
  /** Manifest digest → whether the owner signed it (EOA); contract owners are asked per release block. */
  const eoaSigned = new Map<string, boolean>();
  const violations: ReleaseViolation[] = [];
  let checked = 0;
  try {
    for (const input of logs) {
      const log = entriesOf(input);
      const seen = new Set<string>();
      let prevHash = GENESIS_HASH;
      let lastBlock: { block: number; seq: number } | undefined;
      for (let i = 0; i < log.length; i++) {
        const e = log[i];
        checked++;
        const v = (code: ReleaseViolationCode, message: string, evidence: Record<string, unknown> = {}) =>
          violations.push({ code, custodian: e.custodian, seq: e.seq, message, evidence });
        const { seq: _seq, entryHash, ...rest } = e;
        const recomputed = entryHashOf(rest);
        if (e.seq !== i + 1 || e.prevHash !== prevHash || recomputed !== entryHash) {
          v("LOG_TAMPERED", `entry ${i + 1} breaks the log's hash chain`, {
            position: i + 1,
            seq: e.seq,
            prevHash: e.prevHash,
            expectedPrevHash: prevHash,
            entryHash,
            recomputedHash: recomputed,
          });
        }
        prevHash = entryHash;
        if (lastBlock !== undefined && e.block < lastBlock.block) {
          v(
            "BLOCK_ORDER",
            `release decided at block ${e.block}, after release #${lastBlock.seq} was decided at block ${lastBlock.block}: a custodian decides at the latest block`,
            { block: e.block, previousBlock: lastBlock.block, previousSeq: lastBlock.seq },
          );
        }
        if (lastBlock === undefined || e.block >= lastBlock.block) lastBlock = { block: e.block, seq: e.seq };
        if (BigInt(e.chainId) !== chain.chainId || getAddress(e.registry) !== registry) {
          v("WRONG_CHAIN", `release for chain ${e.chainId} / ${e.registry}`);
          continue;
        }
        const message = {
          owner: e.owner,
          dataId: e.dataId,
          version: BigInt(e.version),
          purpose: e.purpose,
          requester: e.requester,
          ephemeralKey: e.ephemeralKey,
          nonce: e.nonce,
          deadline: BigInt(e.deadline),
          useTx: e.useTx,
        };
        const digest = hasher.digest(message);
        const nonceKey = `${e.requester.toLowerCase()}:${e.nonce.toLowerCase()}`;
        if (seen.has(nonceKey)) v("REPLAYED", `request ${e.nonce} of ${e.requester} served twice`, { nonce: e.nonce });
        seen.add(nonceKey);
        if (Math.floor(e.atMs / 1000) > Number(e.deadline)) {
          v("EXPIRED_REQUEST", `released at ${new Date(e.atMs).toISOString()}, after the deadline ${e.deadline}`);
        }
        const isOwner = getAddress(e.requester) === getAddress(e.owner);
        const manifest = manifests.get(e.manifestDigest.toLowerCase());
        // The owner's policy when its manifest is at hand; else (a violation already) the log's, as a lower bound.
        const policy = manifest?.policy ?? {
          requireUseRecord: e.requireUseRecord,
          confirmations: e.confirmations,
          useRecordMaxAge: e.useRecordMaxAge,
        };
        const confirmations = Math.max(e.confirmations, policy.confirmations);
        const requireUseRecord = policy.requireUseRecord && !isOwner;
        const isAllowedAt = (block: number | string) => ({
          method: "eth_call",
          params: [
            { to: registry, data: isAllowedCalldata(e.owner, e.requester, e.dataId, e.purpose) },
            typeof block === "number" ? q(block) : block,
          ],
        });
        const calls = [
          { method: "eth_getBlockByNumber", params: [q(e.block), false] },
          isAllowedAt(e.block),
          isAllowedAt(e.block - confirmations),
          { method: "eth_getTransactionReceipt", params: [e.useTx === ZeroHash ? `0x${"0".repeat(64)}` : e.useTx] },
          // The next block, to tell whether the logged one was still the head at the release time.
          { method: "eth_getBlockByNumber", params: [q(e.block + 1), false] },
        ];
        const [block, now, confirmed, receipt, next] = (await rpc.batch(calls)) as [
          Header | null,
          string,
          string,
          { status: string; blockNumber: string; logs: { address: string; topics: string[]; data: string }[] } | null,
          Header | null,
        ];
        if (recoverSigner(digest, e.signature) !== getAddress(e.requester)) {
          if (!(await erc1271At(rpc, e.requester, digest, e.signature, e.block)))
            v("FORGED_REQUEST", `the request is not signed by ${e.requester}`, { digest, signature: e.signature });
        }
        if (manifest === undefined) {
          v(
            "MANIFEST_MISSING",
            `no owner-signed manifest with digest ${e.manifestDigest} is at hand: the release cannot be checked against the owner's policy`,
            { manifestDigest: e.manifestDigest },
          );
        } else {
          const mismatch: string[] = [];
          if (manifest.chainId !== chain.chainId || getAddress(manifest.registry) !== registry) mismatch.push("chain");
          if (getAddress(manifest.owner) !== getAddress(e.owner)) mismatch.push("owner");
          if (manifest.dataId.toLowerCase() !== e.dataId.toLowerCase()) mismatch.push("dataId");
          if (manifest.version.toString() !== e.version) mismatch.push("version");
          if (manifest.custodians[e.shareIndex]?.publicKey.toLowerCase() !== e.custodian.toLowerCase())
            mismatch.push("custodian");
          if (mismatch.length > 0) {
            v(
              "MANIFEST_MISMATCH",
              `the manifest ${e.manifestDigest} does not match the release (${mismatch.join(", ")})`,
              {
                manifestDigest: e.manifestDigest,
                fields: mismatch,
                manifest: {
                  owner: manifest.owner,
                  dataId: manifest.dataId,
                  version: manifest.version.toString(),
                  custodian: manifest.custodians[e.shareIndex]?.publicKey ?? null,
                },
              },
            );
          }
          const key = e.manifestDigest.toLowerCase();
          let signed = eoaSigned.get(key);
          if (signed === undefined) {
            const signer = recoverManifestSigner(manifest);
            signed = signer !== undefined && getAddress(signer) === getAddress(manifest.owner);
            eoaSigned.set(key, signed);
          }
          if (!signed && !(await erc1271At(rpc, manifest.owner, key, manifest.signature, e.block))) {
            v("MANIFEST_FORGED", `the manifest ${e.manifestDigest} is not signed by its owner ${manifest.owner}`, {
              manifestDigest: e.manifestDigest,
              owner: manifest.owner,
              block: e.block,
            });
          }
          const weaker: Record<string, { logged: unknown; manifest: unknown }> = {};
          if (e.requireUseRecord !== (manifest.policy.requireUseRecord && !isOwner))
            weaker.requireUseRecord = {
              logged: e.requireUseRecord,
              manifest: manifest.policy.requireUseRecord && !isOwner,
            };
          if (e.confirmations < manifest.policy.confirmations)
            weaker.confirmations = { logged: e.confirmations, manifest: manifest.policy.confirmations };
          if (e.useRecordMaxAge !== manifest.policy.useRecordMaxAge)
            weaker.useRecordMaxAge = { logged: e.useRecordMaxAge, manifest: manifest.policy.useRecordMaxAge };
          if (Object.keys(weaker).length > 0) {
            v(
              "POLICY_MISMATCH",
              `the log's policy is not the owner's manifest's (${Object.keys(weaker).join(", ")}); the manifest's is applied`,
              weaker,
            );
          }
        }
        if (block === null || block.hash.toLowerCase() !== e.blockHash.toLowerCase()) {
          v("NOT_ON_CHAIN", `block ${e.block} ${e.blockHash} is not on the canonical chain`, {
            canonical: block?.hash ?? null,
          });
          continue;
        }
        if (isOwner) continue;
        if (now === "0x" || BigInt(now) !== 1n) {
          v(
            "UNCOVERED",
            `no consent of ${e.owner} for ${e.requester}, ${e.dataId}, ${purposeName(e.purpose)} at block ${e.block}`,
            {
              block: e.block,
              isAllowed: false,
            },
          );
          continue;
        }
        // A later block existed (by its timestamp) well before the release: the head was stale.
        const t = e.atMs / 1000 - slack;
        if (next !== null && Number(next.timestamp) < t) {
          const fresh = await newestBlockBy(rpc, t, e.block + 1, next);
          const allowed = await rpc.call<string>("eth_call", isAllowedAt(Number(fresh.number)).params);
          if (allowed === "0x" || BigInt(allowed) !== 1n) {
            v(
              "STALE_HEAD",
              `released at ${new Date(e.atMs).toISOString()} on block ${e.block}, but block ${Number(fresh.number)} (${new Date(Number(fresh.timestamp) * 1000).toISOString()}) was already mined and consent no longer held there`,
              {
                loggedBlock: e.block,
                nextBlock: e.block + 1,
                nextBlockTime: Number(next.timestamp),
                releasedAtMs: e.atMs,
                block: Number(fresh.number),
                blockHash: fresh.hash,
                blockTime: Number(fresh.timestamp),
                isAllowed: false,
              },
            );
          }
        }
        if (e.block - confirmations < 0 || confirmed === "0x" || BigInt(confirmed) !== 1n) {
          v("UNCONFIRMED", `consent was not yet ${confirmations} blocks deep at block ${e.block}`, {
            at: e.block - confirmations,
          });
        }
        if (requireUseRecord) {
          const found =
            receipt !== null &&
            BigInt(receipt.status) === 1n &&
            receipt.logs.some(
              (l) =>
                getAddress(l.address) === registry &&
                l.topics.length === 4 &&
                l.topics[0] === DATA_USED_TOPIC &&
                l.topics[1].toLowerCase() === pad(e.owner) &&
                l.topics[2].toLowerCase() === pad(e.requester) &&
                l.topics[3].toLowerCase() === e.dataId.toLowerCase() &&
                BigInt(`0x${l.data.slice(2, 66)}`) === BigInt(e.purpose),
            );
          const useBlock = receipt === null ? null : Number(receipt.blockNumber);
          if (!found || useBlock === null) {
            v("NO_USE_RECORD", `transaction ${e.useTx} holds no DataUsed for this release`, { useTx: e.useTx });
          } else if (
            useBlock > e.block - confirmations ||
            e.block - useBlock > policy.useRecordMaxAge ||
            useBlock !== e.useBlock
          ) {
            v("NO_USE_RECORD", `the use record (block ${useBlock}) was not confirmed, too old, or not the one logged`, {
              useTx: e.useTx,
              useBlock,
              logged: e.useBlock,
            });
          }
        }
      }
    }
  } finally {
    rpc.close();
  }
  return { checked, violations };
}

export { type AssetRelease, releasesByOwner } from "./releases.js";
