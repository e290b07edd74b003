import { Via } from "../sdk/constants.js";
import { consentDomain } from "../sdk/eip712.js";
import type { RawLog } from "./chunks.js";
import { viaOfEvent } from "./decode.js";
import { fastKeccak256, recoverStrict } from "./ecdsa.js";
import type { AuditEvent } from "./events.js";
import { type RpcClient, RpcError, quantity } from "./rpc.js";
import { decodeSignedCall, REGISTRY, RequestDigester } from "./signed-request.js";
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
 * recovered to the owner at sync time (the wallet was never asked). `verify --rpc` asks again.
 */

const ERC1271_MAGIC = "0x1626ba7e";

/**
 * Whether sync must read the signed requests of a decoded event's transaction: a consent change
 * made by signature, or a failed item of a revokeBySigBatch (its request is checked too).
 */
export function needsSignedRequests(e: AuditEvent): boolean {
  return e.name === "SignedRevokeFailed" || viaOfEvent(e.name, e.args) === Via.Signature;
}

/** The calldata of isValidSignature(digest, signature). */
export function erc1271Call(digest: string, signature: string): string {
  return ERC1271_MAGIC + REGISTRY.getAbiCoder().encode(["bytes32", "bytes"], [digest, signature]).slice(2);
}

/** Whether an isValidSignature return value is the magic value (OpenZeppelin SignatureChecker). */
export function isErc1271Magic(ret: unknown): boolean {
  return (
    typeof ret === "string" && ret.length >= 66 && ret.slice(0, 66).toLowerCase() === ERC1271_MAGIC + "0".repeat(56)
  );
}

/**
 * The ERC-1271 answer of `owner` at `block` (1 valid, 0 not), asked as the registry asked it: an
 * eth_call from the registry's address. A revert is the wallet's "no".
 */
export async function erc1271Valid(
  rpc: RpcClient,
  registry: string,
  owner: string,
  digest: string,
  signature: string,
  block: number,
): Promise<number> {
  try {
    const ret = await rpc.call("eth_call", [
      { to: owner, from: registry, data: erc1271Call(digest, signature) },
      quantity(block),
    ]);
    return isErc1271Magic(ret) ? 1 : 0;
  } catch (err) {
    // The node's answer "execution reverted" (code 3, or -32000 on some nodes) is SignatureChecker's "invalid".
    if (err instanceof RpcError && (err.code === 3 || /revert/i.test(err.rpcMessage))) return 0;
    throw err;
  }
}

/** A transaction as eth_getTransactionByHash answers (the fields the auditor reads). */
export interface JsonTx {
  hash: string;
  blockHash: string | null;
  blockNumber: string | null;
  to: string | null;
  input: string;
}

/** The transactions of `hashes` (null where the node has none), in batches of 200. */
export async function transactionsByHash(rpc: RpcClient, hashes: readonly string[]): Promise<(JsonTx | null)[]> {
  const fetched: (JsonTx | null)[] = [];
  for (let i = 0; i < hashes.length; i += 200) {
    const answers = await rpc.batch(
      hashes.slice(i, i + 200).map((h) => ({ method: "eth_getTransactionByHash", params: [h] })),
    );
    for (const a of answers) {
      if (a instanceof RpcError) throw a;
      fetched.push(a as JsonTx | null);
    }
  }
  return fetched;
}

/**
 * The signed-request rows of one transaction, decoded from its calldata as sync stores them
 * (`erc1271_valid` still null), and those whose signature does not recover to their owner: for
 * them the owner's wallet must be asked (`erc1271Valid`). verify --rpc builds the rows the same
 * way to compare them with the stored ones.
 */
export function requestRowsOfTx(
  digester: RequestDigester,
  registry: string,
  base: { chain_id: number; block_number: number; tx_hash: string },
  tx: Pick<JsonTx, "to" | "input">,
): { rows: SignedRequestRow[]; unrecovered: { row: SignedRequestRow; digest: string }[] } {
  const rows: SignedRequestRow[] = [];
  const unrecovered: { row: SignedRequestRow; digest: string }[] = [];
  const marker = (kind: SignedRowKind, args: object) =>
    rows.push({
      ...base,
      item_index: 0,
      kind,
      owner: "",
      args_json: JSON.stringify(args),
      epoch: null,
      version: null,
      deadline: null,
      signature: null,
      erc1271_valid: null,
    });
  const to = tx.to?.toLowerCase() ?? "";
  if (to !== registry) {
    marker("internal", { to, selector: tx.input.slice(0, 10).toLowerCase() });
    return { rows, unrecovered };
  }
  const decoded = decodeSignedCall(tx.input);
  if ("selector" in decoded) {
    marker("unsigned", { to, selector: decoded.selector });
    return { rows, unrecovered };
  }
  decoded.requests.forEach((q, k) => {
    const row: SignedRequestRow = {
      ...base,
      item_index: k,
      kind: q.kind,
      owner: q.owner,
      args_json: JSON.stringify(q.fields),
      epoch: q.epoch,
      version: q.version,
      deadline: q.deadline,
      signature: q.signature,
      erc1271_valid: null,
    };
    rows.push(row);
    const digest = digester.digest(q);
    if (recoverStrict(digest, q.signature).signer !== q.owner) unrecovered.push({ row, digest });
  });
  return { rows, unrecovered };
}

/**
 * The signed-request rows of a chunk: the transactions of its signed changes, fetched in one
 * batch, their calldata decoded, ERC-1271 owners asked. Returns null when a transaction is no
 * longer in the block its logs named (the chain moved: the caller reads the chunk again).
 */
export async function signedRequestsOf(
  rpc: RpcClient,
  chainId: number,
  registry: string,
  logs: readonly RawLog[],
  events: readonly AuditEvent[],
): Promise<SignedRequestRow[] | null> {
  const txs = new Map<string, { blockNumber: number; blockHash: string }>();
  for (let i = 0; i < logs.length; i++) {
    if (logs[i].address.toLowerCase() === registry && needsSignedRequests(events[i])) {
      txs.set(logs[i].transactionHash, { blockNumber: logs[i].blockNumber, blockHash: logs[i].blockHash });
    }
  }
  if (txs.size === 0) return [];
  const hashes = [...txs.keys()];
  const fetched = await transactionsByHash(rpc, hashes);
  const digester = new RequestDigester(consentDomain(chainId, registry), fastKeccak256);
  const rows: SignedRequestRow[] = [];
  const asks: Promise<void>[] = [];
  for (let t = 0; t < hashes.length; t++) {
    const hash = hashes[t];
    const where = txs.get(hash)!;
    const tx = fetched[t];
    if (!tx || tx.blockHash !== where.blockHash) return null;
    const base = { chain_id: chainId, block_number: where.blockNumber, tx_hash: hash };
    const derived = requestRowsOfTx(digester, registry, base, tx);
    rows.push(...derived.rows);
    for (const { row, digest } of derived.unrecovered) {
      asks.push(
        erc1271Valid(rpc, registry, row.owner, digest, row.signature!, where.blockNumber).then((v) => {
          row.erc1271_valid = v;
        }),
      );
    }
  }
  await Promise.all(asks);
  return rows;
}
