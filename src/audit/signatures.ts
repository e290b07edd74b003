import { Interface, isError, type Provider, recoverAddress, Signature } from "ethers";

import { CONSENT_REGISTRY_ABI } from "../sdk/abi.js";
import { Via } from "../sdk/constants.js";
import { type ConsentMessageKind, consentDigest, consentDomain, type MessageOf } from "../sdk/eip712.js";
import type { AuditDb } from "./db.js";
import { viaOfEvent } from "./decode.js";
import { type ConsentModel, type ReplayEvent, signedVersionApplies, uintArg, type Violation } from "./model.js";
import { withRetry } from "./rpc.js";

/**
 * Signed consent changes. A consent event made by signature (ConsentGranted / ConsentRevoked
 * whose version has a non-zero sequence, AllConsentsRevoked with via Signature) does not carry
 * the owner's signature, but the relaying transaction's calldata does when it called the
 * registry directly (grantBySig, revokeBySig, revokeAllBySig, grantBySigBatch, revokeBySigBatch).
 * `sync` stores every signed request of such a transaction (and of a revokeBySigBatch that only
 * emitted SignedRevokeFailed) in `signed_requests`; `verify` re-checks each one offline with
 * `SignatureAudit`: EIP-712 digest (registry 2.0 types: Grant / Revoke with epoch and version,
 * RevokeAll with epoch), signer, deadline, epoch and version; and for each SignedRevokeFailed,
 * that the item really could not apply, for the reason the registry gave.
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

/** A signed-request kind, or a marker row for a transaction whose requests are not readable. */
export type SignedRowKind = ConsentMessageKind | "internal" | "unsigned";

export interface SignedRequestRow {
  chain_id: number;
  block_number: number;
  tx_hash: string;
  item_index: number;
  kind: SignedRowKind;
  owner: string;
  /** The message fields other than owner, epoch, version and deadline (JSON: strings, addresses lowercase). */
  args_json: string;
  epoch: string | null;
  /** Null for RevokeAll (it has no version) and marker rows. */
  version: string | null;
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
const ZERO_ID = `0x${"0".repeat(64)}`;
const ZERO_ADDRESS = `0x${"0".repeat(40)}`;

const KIND_OF_EVENT: Record<string, ConsentMessageKind> = {
  ConsentGranted: "Grant",
  ConsentRevoked: "Revoke",
  AllConsentsRevoked: "RevokeAll",
};

/**
 * Whether sync must read the signed requests of a decoded event's transaction: a consent change
 * made by signature, or a failed item of a revokeBySigBatch (its request is checked too).
 */
export function needsSignedRequests(name: string, args: Record<string, string | boolean>): boolean {
  return name === "SignedRevokeFailed" || viaOfEvent(name, args) === Via.Signature;
}

/** The message fields of a request, minus owner/epoch/version/deadline/signature (all plain strings). */
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

/** The EIP-712 message of a stored request (`version` is ignored for RevokeAll). */
export function messageOf(
  kind: ConsentMessageKind,
  owner: string,
  fields: Record<string, string>,
  epoch: string,
  version: string | null,
  deadline: string,
): MessageOf[ConsentMessageKind] {
  const common = { owner, epoch: BigInt(epoch), deadline: BigInt(deadline) };
  if (kind === "RevokeAll") return common;
  const v = BigInt(version ?? "0");
  if (kind === "Revoke") return { ...common, grantee: fields.grantee, dataId: fields.dataId, version: v };
  return {
    ...common,
    grantee: fields.grantee,
    dataId: fields.dataId,
    purposes: BigInt(fields.purposes),
    expiresAt: BigInt(fields.expiresAt),
    noticeHash: fields.noticeHash,
    version: v,
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
  epoch: string;
  version: string | null;
  deadline: string;
  signature: string;
}

/** The signed requests of a registry call, or its selector when the function takes no signature. */
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
      epoch: BigInt(r.epoch as bigint).toString(),
      version: fn.kind === "RevokeAll" ? null : BigInt(r.version as bigint).toString(),
      deadline: BigInt(r.deadline as bigint).toString(),
      signature: String(r.signature).toLowerCase(),
    })),
  };
}

/** Transactions fetched in parallel per chunk. */
const TX_CONCURRENCY = 8;

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
  const data = REGISTRY.getAbiCoder().encode(["bytes32", "bytes"], [digest, signature]);
  return withRetry(
    `isValidSignature on ${owner} at block ${block}`,
    async () => {
      try {
        const ret = await provider.call({
          to: owner,
          from: registry,
          data: ERC1271_MAGIC + data.slice(2),
          blockTag: block,
        });
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
          row(0, "internal", "", { to, selector: tx.data.slice(0, 10).toLowerCase() }, [null, null, null, null, null]);
          return;
        }
        const decoded = decodeSignedCall(tx.data);
        if ("selector" in decoded) {
          row(0, "unsigned", "", { to, selector: decoded.selector }, [null, null, null, null, null]);
          return;
        }
        for (let k = 0; k < decoded.requests.length; k++) {
          const q = decoded.requests[k];
          const digest = consentDigest(
            q.kind,
            domain,
            messageOf(q.kind, q.owner, q.fields, q.epoch, q.version, q.deadline),
          );
          const valid =
            recoverStrict(digest, q.signature).signer === q.owner
              ? null
              : await erc1271Valid(provider, registry, q.owner, digest, q.signature, where.blockNumber, retries);
          row(k, q.kind, q.owner, q.fields, [q.epoch, q.version, q.deadline, q.signature, valid]);
        }
      }),
    );
  }
  return moved ? null : rows;
}

export const INSERT_SIGNED_REQUEST = `INSERT INTO signed_requests
  (chain_id, block_number, tx_hash, item_index, kind, owner, args_json, epoch, version, deadline, signature, erc1271_valid)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`;

/** A finding that is not a violation: the auditor could not check something on its own. */
export interface Warning {
  rule: string;
  message: string;
  event: ReplayEvent;
  evidence: Record<string, unknown>;
}

/** A stored request with its fields parsed once. */
interface Request extends SignedRequestRow {
  fields: Record<string, string>;
}

interface Pending {
  rows: Request[];
  cursor: number;
}

/** A registry error in words: `Name(arg, …)`, addresses lowercase, integers in decimal. */
export function describeReason(reason: string): string {
  try {
    const d = REGISTRY.parseError(reason);
    if (!d) return `unknown error ${reason}`;
    const args = d.fragment.inputs.map((input, i) =>
      input.type === "address" ? String(d.args[i]).toLowerCase() : String(d.args[i]),
    );
    return `${d.name}(${args.join(", ")})`;
  } catch {
    return `undecodable error ${reason}`;
  }
}

/**
 * Verifier side: re-checks every signed consent change against its stored request, offline.
 * Feed it the replayed events in chain order (`apply`) BEFORE the model applies each one: the
 * epoch, version and keepable purposes are judged in the state the contract saw.
 */
export class SignatureAudit {
  private readonly byTx = new Map<string, Pending>();
  private readonly domain;
  /** Consent changes made by signature that were checked (or warned about). */
  checked = 0;
  /** SignedRevokeFailed items that were checked (or warned about). */
  failuresChecked = 0;

  constructor(db: AuditDb, chainId: number, registry: string, toBlock = Number.MAX_SAFE_INTEGER) {
    this.domain = consentDomain(chainId, registry);
    const rows = db
      .prepare(
        `SELECT * FROM signed_requests WHERE chain_id = ? AND block_number <= ? ORDER BY block_number, tx_hash, item_index`,
      )
      .all(chainId, toBlock) as SignedRequestRow[];
    for (const r of rows) {
      const q: Request = { ...r, fields: JSON.parse(r.args_json) as Record<string, string> };
      const p = this.byTx.get(r.tx_hash);
      if (p) p.rows.push(q);
      else this.byTx.set(r.tx_hash, { rows: [q], cursor: 0 });
    }
  }

  apply(e: ReplayEvent, model: ConsentModel, violations: Violation[], warnings: Warning[]): void {
    const failure = e.name === "SignedRevokeFailed";
    if (!failure && viaOfEvent(e.name, e.args) !== Via.Signature) return;
    if (failure) this.failuresChecked++;
    else this.checked++;
    const owner = e.args.owner as string;
    const where = { tx: e.txHash, block: e.blockNumber, owner };
    const pending = this.byTx.get(e.txHash);
    if (pending && pending.rows[0].kind === "internal") {
      const relayer = pending.rows[0].fields.to;
      warnings.push({
        rule: "signature-unverifiable-internal",
        message: failure
          ? `SignedRevokeFailed for ${owner} (item ${String(e.args.index)}) was relayed through contract ${relayer}; its signed request is not in the transaction's calldata and was not checked`
          : `${e.name} for ${owner} via Signature was relayed through contract ${relayer}; its signature is not in the transaction's calldata and was not checked`,
        event: e,
        evidence: { ...where, relayer },
      });
      return;
    }
    if (failure) this.checkFailure(e, model, pending, where, violations);
    else this.checkChange(e, model, pending, where, violations);
  }

  private digestOf(q: Request): string {
    return consentDigest(
      q.kind as ConsentMessageKind,
      this.domain,
      messageOf(q.kind as ConsentMessageKind, q.owner, q.fields, q.epoch!, q.version, q.deadline!),
    );
  }

  /** Whether the signature is the owner's: its ECDSA key, or its ERC-1271 wallet said yes at that block. */
  private signer(q: Request, digest: string) {
    const rec = recoverStrict(digest, q.signature!);
    return { rec, valid: rec.signer === q.owner || q.erc1271_valid === 1 };
  }

  /** A ConsentGranted / ConsentRevoked / AllConsentsRevoked made by signature. */
  private checkChange(
    e: ReplayEvent,
    model: ConsentModel,
    pending: Pending | undefined,
    where: { tx: string; block: number; owner: string },
    violations: Violation[],
  ): void {
    const kind = KIND_OF_EVENT[e.name];
    const owner = where.owner;
    const a = e.args;
    const wanted: Record<string, string> =
      kind === "RevokeAll"
        ? {}
        : kind === "Revoke"
          ? { grantee: a.grantee as string, dataId: (a.dataId as string).toLowerCase() }
          : {
              grantee: a.grantee as string,
              dataId: (a.dataId as string).toLowerCase(),
              expiresAt: a.expiresAt as string,
              noticeHash: (a.noticeHash as string).toLowerCase(),
            };
    const version = kind === "RevokeAll" ? null : (a.version as string);
    let found: Request | undefined;
    if (pending) {
      for (let i = pending.cursor; i < pending.rows.length; i++) {
        const r = pending.rows[i];
        if (
          r.kind === kind &&
          r.owner === owner &&
          r.version === version &&
          Object.entries(wanted).every(([k, v]) => r.fields[k] === v)
        ) {
          found = r;
          pending.cursor = i + 1;
          break;
        }
      }
    }
    if (!found) {
      violations.push({
        rule: "signature-request-missing",
        message: `${e.name} for ${owner} was made by signature but tx ${e.txHash} carries no matching signed ${kind} request`,
        event: e,
        evidence: {
          ...where,
          kind,
          fields: wanted,
          version,
          requestsInTx: (pending?.rows ?? []).map((r) => ({ index: r.item_index, kind: r.kind, owner: r.owner })),
        },
      });
      return;
    }
    const digest = this.digestOf(found);
    const evidence = {
      ...where,
      index: found.item_index,
      kind,
      epoch: found.epoch,
      ...(version === null ? {} : { version }),
      deadline: found.deadline,
      digest,
    };
    if (BigInt(found.deadline!) < BigInt(e.blockTimestamp)) {
      violations.push({
        rule: "signature-expired",
        message: `${e.name} for ${owner} used a signature whose deadline ${found.deadline} was before its block time ${e.blockTimestamp}`,
        event: e,
        evidence: { ...evidence, timestamp: e.blockTimestamp },
      });
    }
    const currentEpoch = model.epochOf(owner);
    if (BigInt(found.epoch!) !== currentEpoch) {
      violations.push({
        rule: "signature-epoch-stale",
        message: `${e.name} for ${owner} applied a message signed for epoch ${found.epoch} while the owner was in epoch ${currentEpoch}`,
        event: e,
        evidence: { ...evidence, currentEpoch: currentEpoch.toString() },
      });
    }
    if (kind === "Grant") this.checkGrantPurposes(e, model, found, evidence, violations);
    const { rec, valid } = this.signer(found, digest);
    if (!valid) {
      violations.push({
        rule: "signature-invalid",
        message:
          `${e.name} for ${owner}: the signature recovers to ${rec.signer ?? `nobody (${rec.reason})`}` +
          (found.erc1271_valid === 0
            ? ` and the owner's ERC-1271 isValidSignature, asked from the registry, said no at block ${e.blockNumber}`
            : ", not the owner"),
        event: e,
        evidence: {
          ...evidence,
          recoveredSigner: rec.signer,
          reason: rec.reason ?? null,
          signature: found.signature,
          erc1271Valid: found.erc1271_valid,
        },
      });
    }
  }

  /** A signed grant stores the signed purposes minus those neither grantable nor kept; it signs at least one. */
  private checkGrantPurposes(
    e: ReplayEvent,
    model: ConsentModel,
    q: Request,
    evidence: Record<string, unknown>,
    violations: Violation[],
  ): void {
    const signed = BigInt(q.fields.purposes);
    const stored = uintArg(e, "purposes");
    if (signed === 0n) {
      violations.push({
        rule: "empty-purposes",
        message: `signed grant for ${q.owner} → ${q.fields.grantee} names no purpose, which the registry refuses`,
        event: e,
        evidence: { ...evidence, signedPurposes: "0" },
      });
    }
    const keepable = model.keepable(
      q.owner,
      q.fields.grantee,
      q.fields.dataId,
      BigInt(q.fields.expiresAt),
      e.blockTimestamp,
    );
    const expected = signed & (model.grantable | keepable);
    if (stored !== expected) {
      violations.push({
        rule: "signature-purposes-mismatch",
        message: `signed grant for ${q.owner} → ${q.fields.grantee} stored purposes ${stored}; signed ${signed} narrowed to the grantable or kept ones is ${expected}`,
        event: e,
        evidence: {
          ...evidence,
          signedPurposes: signed.toString(),
          storedPurposes: stored.toString(),
          grantable: model.grantable.toString(),
          keepable: keepable.toString(),
          expected: expected.toString(),
        },
      });
    }
  }

  /**
   * A SignedRevokeFailed: item `index` of the revokeBySigBatch did not apply. The auditor
   * re-runs the contract's checks on the stored request in the state of that moment (deadline,
   * key, epoch and version, signature, in the contract's order) and requires the same error: a
   * valid signed withdrawal reported as failed is a violation ("withdrawal always works").
   */
  private checkFailure(
    e: ReplayEvent,
    model: ConsentModel,
    pending: Pending | undefined,
    where: { tx: string; block: number; owner: string },
    violations: Violation[],
  ): void {
    const index = Number(e.args.index);
    const reason = describeReason(e.args.reason as string);
    const q = pending?.rows.find((r) => r.item_index === index && r.kind === "Revoke");
    const evidence = { ...where, index, reason };
    const grantee = e.args.grantee as string;
    const dataId = (e.args.dataId as string).toLowerCase();
    if (!q || q.owner !== where.owner || q.fields.grantee !== grantee || q.fields.dataId !== dataId) {
      violations.push({
        rule: "signature-request-missing",
        message: `SignedRevokeFailed for ${where.owner} → ${grantee} on ${dataId} names item ${index}, but tx ${e.txHash} carries no such signed Revoke at that index`,
        event: e,
        evidence: {
          ...evidence,
          requestsInTx: (pending?.rows ?? []).map((r) => ({ index: r.item_index, kind: r.kind, owner: r.owner })),
        },
      });
      return;
    }
    const expected = this.expectedRevokeError(q, model, e.blockTimestamp);
    const full = { ...evidence, epoch: q.epoch, version: q.version, deadline: q.deadline, expected };
    if (expected === null) {
      violations.push({
        rule: "signed-revoke-refused",
        message: `a valid signed withdrawal (item ${index} of tx ${e.txHash}, ${where.owner} → ${grantee} on ${dataId}) was not applied; the registry reported ${reason}`,
        event: e,
        evidence: full,
      });
    } else if (expected !== reason) {
      violations.push({
        rule: "signed-revoke-reason-mismatch",
        message: `item ${index} of tx ${e.txHash} failed with ${reason}; the contract's checks give ${expected}`,
        event: e,
        evidence: full,
      });
    }
  }

  /** The contract's `_revokeBySig` checks, in its order: the error it returns, or null if it applies. */
  private expectedRevokeError(q: Request, model: ConsentModel, ts: number): string | null {
    const deadline = BigInt(q.deadline!);
    if (BigInt(ts) > deadline) return `ConsentRegistrySignatureExpired(${deadline}, ${ts})`;
    if (q.fields.grantee === ZERO_ADDRESS) return "ConsentRegistryZeroGrantee()";
    if (q.fields.dataId === ZERO_ID) return "ConsentRegistryZeroDataId()";
    const current = model.versionOf(q.owner, q.fields.grantee, q.fields.dataId);
    const currentEpoch = model.epochOf(q.owner);
    const epoch = BigInt(q.epoch!);
    const version = BigInt(q.version!);
    if (epoch !== currentEpoch || !signedVersionApplies(version, current)) {
      return `ConsentRegistryStaleSignature(${q.owner}, ${epoch}, ${version}, ${currentEpoch}, ${current})`;
    }
    if (!this.signer(q, this.digestOf(q)).valid) return `ConsentRegistryInvalidSignature(${q.owner})`;
    return null;
  }
}
