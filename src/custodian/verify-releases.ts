import { Interface, ZeroHash, getAddress } from "ethers";

import { KeyRequestHasher, keyReleaseDomain } from "../keys/eip712.js";
import { CONSENT_REGISTRY_ABI } from "../sdk/abi.js";
import { purposeName } from "../sdk/purposes.js";
import { isAllowedCalldata } from "./chain.js";
import { RpcClient } from "./rpc.js";
import { isMagicValue, isValidSignatureCalldata, recoverSigner } from "./signatures.js";
import { GENESIS_HASH, entryHashOf } from "./store.js";
import type { ReleaseEntry } from "./store.js";

/**
 * The auditor's check of custodians' release logs (`custodian log` output), independent of the
 * custodian that wrote them: needs only the logs, an RPC URL and the registry ABI. For every
 * release it proves, from the chain, that it was covered:
 * - the log is intact (consecutive seq, hash chain) and for this chain and registry;
 * - the requester signed that very request (EOA, or its ERC-1271 wallet said yes at that block),
 *   the deadline had not passed, and no (requester, nonce) was served twice by one custodian;
 * - the block it names is on the canonical chain with that hash;
 * - unless the requester is the owner: `isAllowed` was true at that block and at block −
 *   confirmations, and (when the policy asked) the named transaction holds a DataUsed(owner,
 *   requester, dataId, purpose) of this registry, confirmed and within the allowed age.
 * Anything else is a violation with its evidence. Used by `audit verify --releases` (wired by the
 * lead) and by `scripts/demo.ts`.
 */

export type ReleaseViolationCode =
  | "LOG_TAMPERED"
  | "WRONG_CHAIN"
  | "FORGED_REQUEST"
  | "EXPIRED_REQUEST"
  | "REPLAYED"
  | "NOT_ON_CHAIN"
  | "UNCOVERED"
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

const registryInterface = new Interface(CONSENT_REGISTRY_ABI);
const DATA_USED_TOPIC = registryInterface.getEvent("DataUsed")!.topicHash;
const pad = (hex: string) => `0x${hex.slice(2).toLowerCase().padStart(64, "0")}`;
const q = (n: number) => `0x${Math.max(n, 0).toString(16)}`;

/** Verifies one or several custodians' logs (each an array in seq order, as exported). */
export async function verifyReleases(
  logs: readonly (readonly ReleaseEntry[])[],
  chain: ReleaseChain,
): Promise<ReleaseVerification> {
  const rpc = new RpcClient(chain.rpcUrl, 30_000);
  const hasher = new KeyRequestHasher(keyReleaseDomain(chain.chainId, chain.registry));
  const registry = getAddress(chain.registry);
  const violations: ReleaseViolation[] = [];
  let checked = 0;
  try {
    for (const log of logs) {
      const seen = new Set<string>();
      let prevHash = GENESIS_HASH;
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
        const calls = [
          { method: "eth_getBlockByNumber", params: [q(e.block), false] },
          {
            method: "eth_call",
            params: [{ to: registry, data: isAllowedCalldata(e.owner, e.requester, e.dataId, e.purpose) }, q(e.block)],
          },
          {
            method: "eth_call",
            params: [
              { to: registry, data: isAllowedCalldata(e.owner, e.requester, e.dataId, e.purpose) },
              q(e.block - e.confirmations),
            ],
          },
          { method: "eth_getTransactionReceipt", params: [e.useTx === ZeroHash ? `0x${"0".repeat(64)}` : e.useTx] },
        ];
        const [block, now, confirmed, receipt] = (await rpc.batch(calls)) as [
          { hash: string } | null,
          string,
          string,
          { status: string; blockNumber: string; logs: { address: string; topics: string[]; data: string }[] } | null,
        ];
        if (recoverSigner(digest, e.signature) !== getAddress(e.requester)) {
          const ok = await rpc
            .call("eth_call", [{ to: e.requester, data: isValidSignatureCalldata(digest, e.signature) }, q(e.block)])
            .then(isMagicValue, () => false);
          if (!ok)
            v("FORGED_REQUEST", `the request is not signed by ${e.requester}`, { digest, signature: e.signature });
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
        if (e.confirmations < 0 || e.block - e.confirmations < 0 || confirmed === "0x" || BigInt(confirmed) !== 1n) {
          v("UNCONFIRMED", `consent was not yet ${e.confirmations} blocks deep at block ${e.block}`, {
            at: e.block - e.confirmations,
          });
        }
        if (e.requireUseRecord) {
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
            useBlock > e.block - e.confirmations ||
            e.block - useBlock > e.useRecordMaxAge ||
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
