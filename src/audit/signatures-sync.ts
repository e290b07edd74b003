import { isError, type Provider } from "ethers";

import { Via } from "../sdk/constants.js";
import { consentDomain } from "../sdk/eip712.js";
import { viaOfEvent } from "./decode.js";
import { recoverStrict } from "./ecdsa.js";
import type { AuditEvent } from "./events.js";
import { withRetry } from "./rpc.js";
import { decodeSignedCall, REGISTRY, requestDigest } from "./signed-request.js";
import type { SignedRequestRow, SignedRowKind } from "./store.js";

/**
 * The sync side of signed consent changes. A consent event made by signature (ConsentGranted /
 * ConsentRevoked whose version has a non-zero sequence, AllConsentsRevoked with via Signature)
 * does not carry the owner's signature, but the relaying transaction's calldata does when it
 * called the registry directly (grantBySig, revokeBySig, revokeAllBySig, grantBySigBatch,
 * revokeBySigBatch). Sync stores every signed request of such a transaction (and of a
 * revokeBySigBatch that only emitted SignedRevokeFailed) as `signed_requests` rows; the verify
 * side (signatures.ts) re-checks them.
 *
 * Row kinds: `Grant` / `Revoke` / `RevokeAll` (one row per signed request, `item_index` = its
 * position in the calldata); `internal` (the tx called another contract, e.g. a relayer or a
 * multisig, that called the registry: the calldata of that inner call is not in the tx, so the
 * auditor cannot check the signature and reports a warning); `unsigned` (the tx called the
 * registry with a function that takes no signature, yet a signed change came out).
 *
 * ERC-1271 owners: when the signature does not recover to the owner, sync asks the owner
 * `isValidSignature(digest, signature)` the way the registry did, with an eth_call FROM the
 * registry's address at the transaction's block, and stores the answer in `erc1271_valid` (1/0;
 * a revert or a non-contract owner is 0, as OpenZeppelin's SignatureChecker treats it). A wallet
 * may answer by caller, so a call from anywhere else can differ from what the chain saw. The
 * answer is the wallet's state at the END of that block: a wallet whose rules changed later in
 * the same block is judged by its newer rules. `erc1271_valid` is NULL when the signature
 * recovered to the owner at sync time (the wallet was never asked).
 */

const ERC1271_MAGIC = "0x1626ba7e";

/**
 * Whether sync must read the signed requests of a decoded event's transaction: a consent change
 * made by signature, or a failed item of a revokeBySigBatch (its request is checked too).
 */
export function needsSignedRequests(e: AuditEvent): boolean {
  return e.name === "SignedRevokeFailed" || viaOfEvent(e.name, e.args) === Via.Signature;
}

/** Transactions fetched in parallel per chunk. */
const TX_CONCURRENCY = 8;

/** The calldata of isValidSignature(digest, signature). */
export function erc1271Call(digest: string, signature: string): string {
  return ERC1271_MAGIC + REGISTRY.getAbiCoder().encode(["bytes32", "bytes"], [digest, signature]).slice(2);
}

/** Whether an isValidSignature return value is the magic value (OpenZeppelin SignatureChecker). */
export function isErc1271Magic(ret: string): boolean {
  return ret.length >= 66 && ret.slice(0, 66).toLowerCase() === ERC1271_MAGIC + "0".repeat(56);
}

/**
 * The ERC-1271 answer of `owner` at `block`, asked as the registry asked it: an eth_call from
 * the registry's address (OpenZeppelin SignatureChecker's rule for the answer).
 */
async function erc1271Valid(
  provider: Provider,
  registry: string,
  owner: string,
  digest: string,
  signature: string,
  block: number,
  retries: number,
): Promise<number> {
  return withRetry(
    `isValidSignature on ${owner} at block ${block}`,
    async () => {
      try {
        const ret = await provider.call({
          to: owner,
          from: registry,
          data: erc1271Call(digest, signature),
          blockTag: block,
        });
        return isErc1271Magic(ret) ? 1 : 0;
      } catch (err) {
        if (isError(err, "CALL_EXCEPTION")) return 0; // the wallet reverted: SignatureChecker says invalid
        throw err;
      }
    },
    retries,
  );
}

/**
 * Fetches the transactions that emitted signed consent changes and decodes their signed requests
 * into `signed_requests` rows. `txs` maps tx hash → the block the logs put it in; returns null
 * when a transaction is no longer in that block (the chain moved: the caller drops the chunk and
 * retries, as for headers).
 */
export async function fetchSignedRequests(
  provider: Provider,
  chainId: number,
  registry: string,
  txs: Map<string, { blockNumber: number; blockHash: string }>,
  retries: number,
): Promise<SignedRequestRow[] | null> {
  const domain = consentDomain(chainId, registry);
  const rows: SignedRequestRow[] = [];
  const hashes = [...txs.keys()];
  let moved = false;
  for (let i = 0; i < hashes.length && !moved; i += TX_CONCURRENCY) {
    await Promise.all(
      hashes.slice(i, i + TX_CONCURRENCY).map(async (hash) => {
        const where = txs.get(hash)!;
        const tx = await withRetry(`eth_getTransactionByHash(${hash})`, () => provider.getTransaction(hash), retries);
        if (!tx || tx.blockHash !== where.blockHash) {
          moved = true;
          return;
        }
        const row = (
          item_index: number,
          kind: SignedRowKind,
          owner: string,
          args: object,
          rest: Pick<SignedRequestRow, "epoch" | "version" | "deadline" | "signature" | "erc1271_valid">,
        ) =>
          rows.push({
            chain_id: chainId,
            block_number: where.blockNumber,
            tx_hash: hash,
            item_index,
            kind,
            owner,
            args_json: JSON.stringify(args),
            ...rest,
          });
        const none = { epoch: null, version: null, deadline: null, signature: null, erc1271_valid: null };
        const to = tx.to?.toLowerCase() ?? "";
        if (to !== registry) {
          row(0, "internal", "", { to, selector: tx.data.slice(0, 10).toLowerCase() }, none);
          return;
        }
        const decoded = decodeSignedCall(tx.data);
        if ("selector" in decoded) {
          row(0, "unsigned", "", { to, selector: decoded.selector }, none);
          return;
        }
        for (let k = 0; k < decoded.requests.length; k++) {
          const q = decoded.requests[k];
          const digest = requestDigest(domain, q);
          const valid =
            recoverStrict(digest, q.signature).signer === q.owner
              ? null
              : await erc1271Valid(provider, registry, q.owner, digest, q.signature, where.blockNumber, retries);
          row(k, q.kind, q.owner, q.fields, {
            epoch: q.epoch,
            version: q.version,
            deadline: q.deadline,
            signature: q.signature,
            erc1271_valid: valid,
          });
        }
      }),
    );
  }
  return moved ? null : rows;
}
