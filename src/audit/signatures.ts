import { Interface, isError, type Provider, recoverAddress, Signature } from "ethers";

import { CONSENT_REGISTRY_ABI } from "../sdk/abi.js";
import { Via } from "../sdk/constants.js";
import { type ConsentMessageKind, consentDigest, consentDomain, type MessageOf } from "../sdk/eip712.js";
import type { AuditDb } from "./db.js";
import type { ReplayEvent, Violation } from "./model.js";
import { withRetry } from "./rpc.js";

/**
 * Signed consent changes. A consent event with `via = Signature` does not carry the owner's
 * signature, but the relaying transaction's calldata does when it called the registry directly
 * (grantBySig, revokeBySig, revokeAllBySig, grantBySigBatch, revokeBySigBatch). `sync` stores
 * every signed request of such a transaction in `signed_requests`; `verify` re-checks each one
 * offline (EIP-712 digest, ECDSA signer, deadline, nonce) with `SignatureAudit`.
 *
 * Row kinds: `Grant` / `Revoke` / `RevokeAll` (one row per signed request, `item_index` = its
 * position in the calldata); `internal` (the tx called another contract, e.g. a relayer or a
 * multisig, that called the registry: the calldata of that inner call is not in the tx, so the
 * auditor cannot check the signature and reports a warning); `unsigned` (the tx called the
 * registry with a function that takes no signature, yet a `via = Signature` event came out).
 *
 * ERC-1271 owners: when the signature does not recover to the owner, sync asks the owner
 * `isValidSignature(digest, signature)` with eth_call at the transaction's block and stores the
 * answer in `erc1271_valid` (1/0; a revert or a non-contract owner is 0, as OpenZeppelin's
 * SignatureChecker treats it). The answer is the wallet's state at the END of that block: a wallet
 * whose rules changed later in the same block is judged by its newer rules. `erc1271_valid` is
 * NULL when the signature recovered to the owner at sync time (the wallet was never asked).
 */

/** A signed-request kind, or a marker row for a transaction whose requests are not readable. */
export type SignedRowKind = ConsentMessageKind | "internal" | "unsigned";

export interface SignedRequestRow {
  chain_id: number;
  block_number: number;
  tx_hash: string;
  item_index: number;
  kind: SignedRowKind;
  owner: string;
  /** The message fields other than owner, nonce and deadline (JSON: strings, addresses lowercase). */
  args_json: string;
  nonce: string | null;
  deadline: string | null;
  signature: string | null;
  erc1271_valid: number | null;
}

const REGISTRY = new Interface(CONSENT_REGISTRY_ABI);
const SIG_FUNCTIONS: Record<string, { kind: ConsentMessageKind; batch: boolean }> = {
  grantBySig: { kind: "Grant", batch: false },
  revokeBySig: { kind: "Revoke", batch: false },
  revokeAllBySig: { kind: "RevokeAll", batch: false },
  grantBySigBatch: { kind: "Grant", batch: true },
  revokeBySigBatch: { kind: "Revoke", batch: true },
};
const ERC1271_MAGIC = "0x1626ba7e";
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const HALF_N = SECP256K1_N / 2n;

/** Consent events that carry `via`. */
export const CONSENT_CHANGES = new Set(["ConsentGranted", "ConsentRevoked", "AllConsentsRevoked"]);

const KIND_OF_EVENT: Record<string, ConsentMessageKind> = {
  ConsentGranted: "Grant",
  ConsentRevoked: "Revoke",
  AllConsentsRevoked: "RevokeAll",
};

/** Whether a decoded event is a consent change made by signature. */
export function isSignedChange(name: string, args: Record<string, string | boolean>): boolean {
  return CONSENT_CHANGES.has(name) && Number(args.via) === Via.Signature;
}

/** The message fields of a request, minus owner/nonce/deadline/signature (all plain strings). */
function fieldsOf(kind: ConsentMessageKind, r: Record<string, unknown>): Record<string, string> {
  if (kind === "RevokeAll") return {};
  const base = { grantee: String(r.grantee).toLowerCase(), dataId: String(r.dataId).toLowerCase() };
  if (kind === "Revoke") return base;
  return {
    ...base,
    purposes: BigInt(r.purposes as bigint).toString(),
    expiresAt: BigInt(r.expiresAt as bigint).toString(),
    noticeHash: String(r.noticeHash).toLowerCase(),
  };
}

/** The EIP-712 message of a stored request. */
export function messageOf(
  kind: ConsentMessageKind,
  owner: string,
  fields: Record<string, string>,
  nonce: string,
  deadline: string,
): MessageOf[ConsentMessageKind] {
  const common = { owner, nonce: BigInt(nonce), deadline: BigInt(deadline) };
  if (kind === "RevokeAll") return common;
  if (kind === "Revoke") return { ...common, grantee: fields.grantee, dataId: fields.dataId };
  return {
    ...common,
    grantee: fields.grantee,
    dataId: fields.dataId,
    purposes: BigInt(fields.purposes),
    expiresAt: BigInt(fields.expiresAt),
    noticeHash: fields.noticeHash,
  };
}

/**
 * The EOA that signed `digest`, with the registry's rules (OpenZeppelin ECDSA): 65-byte `r‖s‖v`
 * with v ∈ {27, 28}, or 64-byte EIP-2098 `r‖vs`; high-s (malleable) signatures are refused.
 * Returns `{ signer: null, reason }` when the contract's ECDSA path would fail.
 */
export function recoverStrict(digest: string, signature: string): { signer: string | null; reason?: string } {
  const hex = signature.startsWith("0x") ? signature.slice(2) : signature;
  const len = hex.length / 2;
  let r: bigint;
  let s: bigint;
  let v: number;
  if (len === 65) {
    r = BigInt(`0x${hex.slice(0, 64)}`);
    s = BigInt(`0x${hex.slice(64, 128)}`);
    v = parseInt(hex.slice(128, 130), 16);
    if (v !== 27 && v !== 28) return { signer: null, reason: `invalid v ${v}` };
  } else if (len === 64) {
    r = BigInt(`0x${hex.slice(0, 64)}`);
    const vs = BigInt(`0x${hex.slice(64, 128)}`);
    s = vs & ((1n << 255n) - 1n);
    v = Number(vs >> 255n) + 27;
  } else {
    return { signer: null, reason: `signature length ${len} is neither 65 nor 64 bytes` };
  }
  if (s > HALF_N) return { signer: null, reason: "high s (malleable signature)" };
  if (r === 0n || s === 0n || r >= SECP256K1_N) return { signer: null, reason: "r or s out of range" };
  try {
    const word = (x: bigint) => `0x${x.toString(16).padStart(64, "0")}`;
    const signer = recoverAddress(digest, Signature.from({ r: word(r), s: word(s), v })).toLowerCase();
    return { signer };
  } catch {
    return { signer: null, reason: "no public key recovers from (r, s, v)" };
  }
}

interface DecodedRequest {
  kind: ConsentMessageKind;
  owner: string;
  fields: Record<string, string>;
  nonce: string;
  deadline: string;
  signature: string;
}

/** The signed requests of a registry call, or null when the function takes no signature. */
export function decodeSignedCall(data: string): { requests: DecodedRequest[] } | { selector: string } {
  let parsed: ReturnType<Interface["parseTransaction"]> = null;
  try {
    parsed = REGISTRY.parseTransaction({ data });
  } catch {
    parsed = null;
  }
  const fn = parsed ? SIG_FUNCTIONS[parsed.name] : undefined;
  if (!parsed || !fn) return { selector: data.slice(0, 10).toLowerCase() };
  const items = (fn.batch ? [...(parsed.args[0] as unknown[])] : [parsed.args[0]]) as Record<string, unknown>[];
  return {
    requests: items.map((r) => ({
      kind: fn.kind,
      owner: String(r.owner).toLowerCase(),
      fields: fieldsOf(fn.kind, r),
      nonce: BigInt(r.nonce as bigint).toString(),
      deadline: BigInt(r.deadline as bigint).toString(),
      signature: String(r.signature).toLowerCase(),
    })),
  };
}

/** Transactions fetched in parallel per chunk. */
const TX_CONCURRENCY = 8;

/** The ERC-1271 answer of `owner` at `block` (OpenZeppelin SignatureChecker's rule). */
async function erc1271Valid(
  provider: Provider,
  owner: string,
  digest: string,
  signature: string,
  block: number,
  retries: number,
): Promise<number> {
  const data = REGISTRY.getAbiCoder().encode(["bytes32", "bytes"], [digest, signature]);
  return withRetry(
    `isValidSignature on ${owner} at block ${block}`,
    async () => {
      try {
        const ret = await provider.call({ to: owner, data: ERC1271_MAGIC + data.slice(2), blockTag: block });
        return ret.length >= 66 && ret.slice(0, 66).toLowerCase() === ERC1271_MAGIC + "0".repeat(56) ? 1 : 0;
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
 * into `signed_requests` rows (column order of the table). `txs` maps tx hash → the block the
 * logs put it in; returns null when a transaction is no longer in that block (the chain moved:
 * the caller drops the chunk and retries, as for headers).
 */
export async function fetchSignedRequests(
  provider: Provider,
  chainId: number,
  registry: string,
  txs: Map<string, { blockNumber: number; blockHash: string }>,
  retries: number,
): Promise<unknown[][] | null> {
  const domain = consentDomain(chainId, registry);
  const rows: unknown[][] = [];
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
        const row = (index: number, kind: SignedRowKind, owner: string, args: object, rest: unknown[]) =>
          rows.push([chainId, where.blockNumber, hash, index, kind, owner, JSON.stringify(args), ...rest]);
        const to = tx.to?.toLowerCase() ?? "";
        if (to !== registry) {
          row(0, "internal", "", { to, selector: tx.data.slice(0, 10).toLowerCase() }, [null, null, null, null]);
          return;
        }
        const decoded = decodeSignedCall(tx.data);
        if ("selector" in decoded) {
          row(0, "unsigned", "", { to, selector: decoded.selector }, [null, null, null, null]);
          return;
        }
        for (let k = 0; k < decoded.requests.length; k++) {
          const q = decoded.requests[k];
          const digest = consentDigest(q.kind, domain, messageOf(q.kind, q.owner, q.fields, q.nonce, q.deadline));
          const valid =
            recoverStrict(digest, q.signature).signer === q.owner
              ? null
              : await erc1271Valid(provider, q.owner, digest, q.signature, where.blockNumber, retries);
          row(k, q.kind, q.owner, q.fields, [q.nonce, q.deadline, q.signature, valid]);
        }
      }),
    );
  }
  return moved ? null : rows;
}

export const INSERT_SIGNED_REQUEST = `INSERT INTO signed_requests
  (chain_id, block_number, tx_hash, item_index, kind, owner, args_json, nonce, deadline, signature, erc1271_valid)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`;

/** A finding that is not a violation: the auditor could not check something on its own. */
export interface Warning {
  rule: string;
  message: string;
  event: ReplayEvent;
  evidence: Record<string, unknown>;
}

interface Pending {
  rows: SignedRequestRow[];
  cursor: number;
}

/**
 * Verifier side: re-checks every signed consent change against its stored request, offline. Feed
 * it the replayed events in chain order (`apply`); it keeps the consumed nonces per owner.
 */
export class SignatureAudit {
  private readonly byTx = new Map<string, Pending>();
  /** `owner|wordPos` → bitmap of used or invalidated nonces (the registry's layout). */
  private readonly nonceWords = new Map<string, bigint>();
  /** `owner|nonce` → where it was first used (evidence for a replay). */
  private readonly firstUse = new Map<string, { tx: string; block: number }>();
  private readonly domain;
  checked = 0;

  constructor(db: AuditDb, chainId: number, registry: string, toBlock = Number.MAX_SAFE_INTEGER) {
    this.domain = consentDomain(chainId, registry);
    const rows = db
      .prepare(
        `SELECT * FROM signed_requests WHERE chain_id = ? AND block_number <= ? ORDER BY block_number, tx_hash, item_index`,
      )
      .all(chainId, toBlock) as SignedRequestRow[];
    for (const r of rows) {
      const p = this.byTx.get(r.tx_hash);
      if (p) p.rows.push(r);
      else this.byTx.set(r.tx_hash, { rows: [r], cursor: 0 });
    }
  }

  apply(e: ReplayEvent, violations: Violation[], warnings: Warning[]): void {
    if (e.name === "NoncesInvalidated") {
      const k = `${String(e.args.owner)}|${String(e.args.wordPos)}`;
      this.nonceWords.set(k, (this.nonceWords.get(k) ?? 0n) | BigInt(e.args.mask as string));
      return;
    }
    if (!isSignedChange(e.name, e.args)) return;
    this.checked++;
    const kind = KIND_OF_EVENT[e.name];
    const owner = e.args.owner as string;
    const where = { tx: e.txHash, block: e.blockNumber, owner };
    const pending = this.byTx.get(e.txHash);
    if (pending && pending.rows[0].kind === "internal") {
      const relayer = (JSON.parse(pending.rows[0].args_json) as { to: string }).to;
      warnings.push({
        rule: "signature-unverifiable-internal",
        message: `${e.name} for ${owner} via Signature was relayed through contract ${relayer}; its signature is not in the transaction's calldata and was not checked`,
        event: e,
        evidence: { ...where, relayer },
      });
      return;
    }
    const wanted = this.expectedFields(e);
    let found: SignedRequestRow | undefined;
    if (pending) {
      for (let i = pending.cursor; i < pending.rows.length; i++) {
        const r = pending.rows[i];
        if (r.kind === kind && r.owner === owner && r.args_json === wanted) {
          found = r;
          pending.cursor = i + 1;
          break;
        }
      }
    }
    if (!found) {
      violations.push({
        rule: "signature-request-missing",
        message: `${e.name} for ${owner} says via Signature but tx ${e.txHash} carries no matching signed ${kind} request`,
        event: e,
        evidence: {
          ...where,
          kind,
          fields: JSON.parse(wanted) as unknown,
          requestsInTx: (pending?.rows ?? []).map((r) => ({ index: r.item_index, kind: r.kind, owner: r.owner })),
        },
      });
      return;
    }
    const nonce = found.nonce!;
    const deadline = found.deadline!;
    const signature = found.signature!;
    const digest = consentDigest(
      kind,
      this.domain,
      messageOf(kind, owner, JSON.parse(found.args_json) as Record<string, string>, nonce, deadline),
    );
    const evidence = { ...where, index: found.item_index, kind, nonce, deadline, digest };
    if (BigInt(deadline) < BigInt(e.blockTimestamp)) {
      violations.push({
        rule: "signature-expired",
        message: `${e.name} for ${owner} used a signature whose deadline ${deadline} was before its block time ${e.blockTimestamp}`,
        event: e,
        evidence: { ...evidence, timestamp: e.blockTimestamp },
      });
    }
    const n = BigInt(nonce);
    const wordKey = `${owner}|${(n >> 8n).toString()}`;
    const bit = 1n << (n & 255n);
    const word = this.nonceWords.get(wordKey) ?? 0n;
    if ((word & bit) !== 0n) {
      const first = this.firstUse.get(`${owner}|${nonce}`);
      violations.push({
        rule: "signature-nonce-reused",
        message: `${e.name} for ${owner} used nonce ${nonce}, which was ${first ? `already used in tx ${first.tx} at block ${first.block}` : "invalidated by the owner"}`,
        event: e,
        evidence: { ...evidence, previousUse: first ?? "invalidated" },
      });
    } else {
      this.firstUse.set(`${owner}|${nonce}`, { tx: e.txHash, block: e.blockNumber });
    }
    this.nonceWords.set(wordKey, word | bit);
    const rec = recoverStrict(digest, signature);
    if (rec.signer !== owner && found.erc1271_valid !== 1) {
      violations.push({
        rule: "signature-invalid",
        message:
          `${e.name} for ${owner}: the signature recovers to ${rec.signer ?? `nobody (${rec.reason})`}` +
          (found.erc1271_valid === 0
            ? ` and the owner's ERC-1271 isValidSignature said no at block ${e.blockNumber}`
            : ", not the owner"),
        event: e,
        evidence: {
          ...evidence,
          recoveredSigner: rec.signer,
          reason: rec.reason ?? null,
          signature,
          erc1271Valid: found.erc1271_valid,
        },
      });
    }
  }

  /** The stored `args_json` a request must have to match the event (same key order as `fieldsOf`). */
  private expectedFields(e: ReplayEvent): string {
    const a = e.args;
    if (e.name === "AllConsentsRevoked") return "{}";
    const base = { grantee: a.grantee as string, dataId: (a.dataId as string).toLowerCase() };
    if (e.name === "ConsentRevoked") return JSON.stringify(base);
    return JSON.stringify({
      ...base,
      purposes: a.purposes as string,
      expiresAt: a.expiresAt as string,
      noticeHash: (a.noticeHash as string).toLowerCase(),
    });
  }
}
