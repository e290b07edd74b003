import { Via } from "../sdk/constants.js";
import { type ConsentMessageKind, consentDomain } from "../sdk/eip712.js";
import { viaOfEvent } from "./decode.js";
import { SignaturePool } from "./signature-pool.js";
import type { ConsentChange, ReplayEvent } from "./events.js";
import type { ConsentModel } from "./model.js";
import { signedVersionApplies, uintArg, type Violation, ZERO_ADDRESS, ZERO_ID } from "./model-types.js";
import {
  describeReason,
  matchedFields,
  RequestDigester,
  type RequestFields,
  requestFields,
  sameRequest,
} from "./signed-request.js";
import type { AuditStore, SignedRequestRow } from "./store.js";

export { recoverStrict } from "./ecdsa.js";
import { fastKeccak256 } from "./ecdsa.js";
export { describeReason, messageOf } from "./signed-request.js";
export type { SignedRequestRow } from "./store.js";

/**
 * The verify side of signed consent changes: re-checks every change made by signature against
 * the signed request sync stored from the relaying transaction's calldata (signatures-sync.ts),
 * offline: EIP-712 digest (registry 2.0 types: Grant / Revoke with epoch and version, RevokeAll
 * with epoch), signer (its ECDSA key, or its ERC-1271 wallet said yes at that block), deadline,
 * epoch and version; and for each SignedRevokeFailed, that the item really could not apply, for
 * the reason the registry gave.
 */

/** A finding that is not a violation: the auditor could not check something on its own. */
export interface Warning {
  rule: string;
  message: string;
  event: ReplayEvent;
  evidence: Record<string, unknown>;
}

/** A stored request with its fields parsed once; `slot` is its place in the signature pool. */
interface Request extends SignedRequestRow {
  fields: RequestFields;
  slot: number;
}

interface Pending {
  rows: Request[];
  /** Consent changes are matched in calldata order: the first row a change may use. */
  cursor: number;
  /**
   * Rows an event of the transaction already used. A failed batch item is found by its index,
   * not in order, so it does not move the cursor; without this a later change of the same key
   * and version (the real request after a bad copy) matched the failed item's row again.
   */
  used: Set<Request>;
}

const KIND_OF_EVENT: Record<ConsentChange["name"], ConsentMessageKind> = {
  ConsentGranted: "Grant",
  ConsentRevoked: "Revoke",
  AllConsentsRevoked: "RevokeAll",
};

type Where = { tx: string; block: number; owner: string };
type SignedFailure = Extract<ReplayEvent, { name: "SignedRevokeFailed" }>;

/**
 * Feed it the replayed events in chain order (`apply`) BEFORE the model applies each one: the
 * epoch, version and keepable purposes are judged in the state the contract saw.
 */
export class SignatureAudit {
  private readonly byTx = new Map<string, Pending>();
  private readonly digester: RequestDigester;
  /** Consent changes made by signature that were checked (or warned about). */
  checked = 0;
  /** SignedRevokeFailed items that were checked (or warned about). */
  failuresChecked = 0;

  /** Stored rows no event used (checked by `orphans()` at the end). */
  private readonly unused = new Set<Request>();

  private readonly pool: SignaturePool;

  constructor(chainId: number, registry: string, rows: SignedRequestRow[]) {
    this.digester = new RequestDigester(consentDomain(chainId, registry), fastKeccak256);
    const inputs: ConstructorParameters<typeof SignaturePool>[2] = [];
    for (const r of rows) {
      const fields = JSON.parse(r.args_json) as RequestFields;
      const signable = r.kind !== "internal" && r.kind !== "unsigned" && r.signature !== null;
      const q: Request = { ...r, fields, slot: signable ? inputs.length : -1 };
      if (signable) {
        inputs.push({
          kind: r.kind as ConsentMessageKind,
          owner: r.owner,
          fields,
          epoch: r.epoch ?? "0",
          version: r.version,
          deadline: r.deadline ?? "0",
          signature: r.signature!,
        });
      }
      this.unused.add(q);
      const p = this.byTx.get(r.tx_hash);
      if (p) p.rows.push(q);
      else this.byTx.set(r.tx_hash, { rows: [q], cursor: 0, used: new Set() });
    }
    this.pool = new SignaturePool({ chainId, registry }, this.digester, inputs);
  }

  /** Stops the signature worker, if one was started. */
  close(): void {
    this.pool.close();
  }

  /**
   * Stored signed requests that no event used: sync stores a transaction's requests only for
   * the signed changes and failures it emitted, so a row left over was added or kept after sync.
   */
  orphans(): SignedRequestRow[] {
    return [...this.unused].map(({ fields: _fields, slot: _slot, ...row }) => row);
  }

  /** The checker for a chain, with the stored requests up to `toBlock`. */
  static async load(store: AuditStore, chainId: number, registry: string, toBlock?: number): Promise<SignatureAudit> {
    return new SignatureAudit(chainId, registry, await store.signedRequests(chainId, toBlock));
  }

  apply(e: ReplayEvent, model: ConsentModel, violations: Violation[], warnings: Warning[]): void {
    let failure: SignedFailure | undefined;
    let change: ConsentChange | undefined;
    if (e.name === "SignedRevokeFailed") failure = e;
    else if (
      (e.name === "ConsentGranted" || e.name === "ConsentRevoked" || e.name === "AllConsentsRevoked") &&
      viaOfEvent(e.name, e.args) === Via.Signature
    )
      change = e;
    else return;
    if (failure) this.failuresChecked++;
    else this.checked++;
    const owner = e.args.owner;
    const where = { tx: e.txHash, block: e.blockNumber, owner };
    const pending = this.byTx.get(e.txHash);
    // Marker rows (internal / unsigned) are used by any signed event of their transaction.
    for (const r of pending?.rows ?? []) if (r.kind === "internal" || r.kind === "unsigned") this.unused.delete(r);
    if (pending && pending.rows[0].kind === "internal") {
      const relayer = pending.rows[0].fields.to;
      warnings.push({
        rule: "signature-unverifiable-internal",
        message: failure
          ? `SignedRevokeFailed for ${owner} (item ${failure.args.index}) was relayed through contract ${relayer}; its signed request is not in the transaction's calldata and was not checked`
          : `${e.name} for ${owner} via Signature was relayed through contract ${relayer}; its signature is not in the transaction's calldata and was not checked`,
        event: e,
        evidence: { ...where, relayer },
      });
      return;
    }
    if (failure) this.checkFailure(failure, model, pending, where, violations);
    else this.checkChange(change!, model, pending, where, violations);
  }

  private digestOf(q: Request): string {
    return this.digester.digest({
      kind: q.kind as ConsentMessageKind,
      owner: q.owner,
      fields: q.fields,
      epoch: q.epoch!,
      version: q.version,
      deadline: q.deadline!,
    });
  }

  /** Whether the signature is the owner's: its ECDSA key, or its ERC-1271 wallet said yes at that block. */
  private signer(q: Request) {
    const rec = this.pool.recovered(q.slot);
    return { rec, valid: rec.signer === q.owner || q.erc1271_valid === 1 };
  }

  /** A ConsentGranted / ConsentRevoked / AllConsentsRevoked made by signature. */
  private checkChange(
    e: ConsentChange,
    model: ConsentModel,
    pending: Pending | undefined,
    where: Where,
    violations: Violation[],
  ): void {
    const kind = KIND_OF_EVENT[e.name];
    const owner = where.owner;
    const shown = requestFields(kind, e.args);
    const wanted = matchedFields(kind, shown);
    const version = e.name === "AllConsentsRevoked" ? null : e.args.version;
    let found: Request | undefined;
    if (pending) {
      for (let i = pending.cursor; i < pending.rows.length; i++) {
        const r = pending.rows[i];
        if (pending.used.has(r)) continue;
        if (r.kind === kind && r.owner === owner && r.version === version && sameRequest(kind, r.fields, shown)) {
          found = r;
          this.unused.delete(r);
          pending.used.add(r);
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
    const q = found;
    // The digest is evidence only: computed when a violation is reported.
    const evidence = () => ({
      ...where,
      index: q.item_index,
      kind,
      epoch: q.epoch,
      ...(version === null ? {} : { version }),
      deadline: q.deadline,
      digest: this.digestOf(q),
    });
    if (BigInt(found.deadline!) < BigInt(e.blockTimestamp)) {
      violations.push({
        rule: "signature-expired",
        message: `${e.name} for ${owner} used a signature whose deadline ${found.deadline} was before its block time ${e.blockTimestamp}`,
        event: e,
        evidence: { ...evidence(), timestamp: e.blockTimestamp },
      });
    }
    const currentEpoch = model.epochOf(owner);
    if (BigInt(found.epoch!) !== currentEpoch) {
      violations.push({
        rule: "signature-epoch-stale",
        message: `${e.name} for ${owner} applied a message signed for epoch ${found.epoch} while the owner was in epoch ${currentEpoch}`,
        event: e,
        evidence: { ...evidence(), currentEpoch: currentEpoch.toString() },
      });
    }
    if (e.name === "ConsentGranted") this.checkGrantPurposes(e, model, found, evidence, violations);
    const { rec, valid } = this.signer(found);
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
          ...evidence(),
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
    e: Extract<ReplayEvent, { name: "ConsentGranted" }>,
    model: ConsentModel,
    q: Request,
    evidence: () => Record<string, unknown>,
    violations: Violation[],
  ): void {
    const signed = BigInt(q.fields.purposes);
    const stored = uintArg(e, "purposes");
    if (signed === 0n) {
      violations.push({
        rule: "empty-purposes",
        message: `signed grant for ${q.owner} → ${q.fields.grantee} names no purpose, which the registry refuses`,
        event: e,
        evidence: { ...evidence(), signedPurposes: "0" },
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
          ...evidence(),
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
    e: SignedFailure,
    model: ConsentModel,
    pending: Pending | undefined,
    where: Where,
    violations: Violation[],
  ): void {
    const index = Number(e.args.index);
    const reason = describeReason(e.args.reason);
    // An item applied by an earlier event of the transaction cannot also have failed.
    const q = pending?.rows.find((r) => r.item_index === index && r.kind === "Revoke" && !pending.used.has(r));
    if (q) {
      this.unused.delete(q);
      pending!.used.add(q);
    }
    const evidence = { ...where, index, reason };
    const shown = requestFields("Revoke", e.args);
    if (!q || q.owner !== where.owner || !sameRequest("Revoke", q.fields, shown)) {
      violations.push({
        rule: "signature-request-missing",
        message: `SignedRevokeFailed for ${where.owner} → ${e.args.grantee} on ${shown.dataId} names item ${index}, but tx ${e.txHash} carries no such signed Revoke at that index`,
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
        message: `a valid signed withdrawal (item ${index} of tx ${e.txHash}, ${where.owner} → ${e.args.grantee} on ${shown.dataId}) was not applied; the registry reported ${reason}`,
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
    if (!this.signer(q).valid) return `ConsentRegistryInvalidSignature(${q.owner})`;
    return null;
  }
}
