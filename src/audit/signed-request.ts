import { Interface, keccak256, type TypedDataDomain, TypedDataEncoder } from "ethers";

import { CONSENT_REGISTRY_ABI } from "../sdk/abi.js";
import { CONSENT_TYPES, type ConsentMessageKind, consentTypeHash, type MessageOf } from "../sdk/eip712.js";

/**
 * A signed consent request as the auditor keeps it: read from a relaying transaction's calldata
 * at sync time (signatures-sync.ts), matched against its event and re-checked at verify time
 * (signatures.ts). ONE function, `requestFields`, says what a request's fields are, for the
 * calldata side and the event side alike; `matchedFields` says which of them an event carries.
 */

export const REGISTRY = new Interface(CONSENT_REGISTRY_ABI);

/** The registry functions that carry signed requests, and what they carry. */
const SIG_FUNCTIONS: Record<string, { kind: ConsentMessageKind; batch: boolean }> = {
  grantBySig: { kind: "Grant", batch: false },
  revokeBySig: { kind: "Revoke", batch: false },
  revokeAllBySig: { kind: "RevokeAll", batch: false },
  grantBySigBatch: { kind: "Grant", batch: true },
  revokeBySigBatch: { kind: "Revoke", batch: true },
};

/** The message fields of a request other than owner/epoch/version/deadline: plain strings. */
export type RequestFields = Record<string, string>;

/**
 * The fields of a request of `kind`, normalised (addresses and hashes lowercase, integers in
 * decimal), from anything that has them: a decoded calldata struct or an event's args.
 */
export function requestFields(kind: ConsentMessageKind, r: Readonly<Record<string, unknown>>): RequestFields {
  if (kind === "RevokeAll") return {};
  const base = { grantee: String(r.grantee).toLowerCase(), dataId: String(r.dataId).toLowerCase() };
  if (kind === "Revoke") return base;
  const out: RequestFields = { ...base };
  // An event carries the STORED purposes (narrowed), not the signed ones: they are compared apart.
  if (r.purposes !== undefined) out.purposes = BigInt(r.purposes as bigint | string).toString();
  out.expiresAt = BigInt(r.expiresAt as bigint | string).toString();
  out.noticeHash = String(r.noticeHash).toLowerCase();
  return out;
}

/** The fields an event of the change must repeat exactly (a grant's purposes may be narrowed). */
const MATCHED: Record<ConsentMessageKind, readonly string[]> = {
  Grant: ["grantee", "dataId", "expiresAt", "noticeHash"],
  Revoke: ["grantee", "dataId"],
  RevokeAll: [],
};

/** The fields of `fields` that an event must repeat, in a fixed order (evidence shows them). */
export function matchedFields(kind: ConsentMessageKind, fields: RequestFields): RequestFields {
  return Object.fromEntries(MATCHED[kind].map((k) => [k, fields[k]]));
}

/** Whether a stored request's fields are the ones its event shows. */
export function sameRequest(kind: ConsentMessageKind, stored: RequestFields, event: RequestFields): boolean {
  return MATCHED[kind].every((k) => stored[k] === event[k]);
}

export interface DecodedRequest {
  kind: ConsentMessageKind;
  owner: string;
  fields: RequestFields;
  epoch: string;
  version: string | null;
  deadline: string;
  signature: string;
}

/** The static fields of each signed struct, in ABI order (the signature, `bytes`, follows them). */
const STRUCT_FIELDS: Record<ConsentMessageKind, { names: string[]; types: string[] }> = {
  Grant: {
    names: ["owner", "grantee", "dataId", "purposes", "expiresAt", "noticeHash", "epoch", "version", "deadline"],
    types: ["address", "address", "bytes32", "uint", "uint", "bytes32", "uint", "uint", "uint"],
  },
  Revoke: {
    names: ["owner", "grantee", "dataId", "epoch", "version", "deadline"],
    types: ["address", "address", "bytes32", "uint", "uint", "uint"],
  },
  RevokeAll: { names: ["owner", "epoch", "deadline"], types: ["address", "uint", "uint"] },
};
const BY_SELECTOR = new Map(
  Object.entries(SIG_FUNCTIONS).map(([name, fn]) => [REGISTRY.getFunction(name)!.selector, fn] as const),
);

/**
 * Reads the signed structs straight from the calldata words (a relayed batch is ~50 structs;
 * ethers' generic ABI decoder was the largest cost of a sync with signed changes). Returns null
 * on anything unexpected, and the caller decodes with ethers instead — so the two can only
 * differ where ethers would have thrown (test/audit/signatures.ts checks the stored rows exactly).
 */
function decodeFast(data: string, fn: { kind: ConsentMessageKind; batch: boolean }): Record<string, unknown>[] | null {
  const hex = data.slice(10);
  const words = hex.length / 64;
  const word = (i: number) => (i >= 0 && i < words ? hex.slice(i * 64, i * 64 + 64) : null);
  const num = (i: number) => {
    const w = word(i);
    if (w === null) return -1;
    const v = parseInt(w, 16);
    return Number.isSafeInteger(v) && v % 32 === 0 ? v / 32 : -1;
  };
  const { names, types } = STRUCT_FIELDS[fn.kind];
  const struct = (at: number): Record<string, unknown> | null => {
    const r: Record<string, unknown> = {};
    for (let k = 0; k < names.length; k++) {
      const w = word(at + k);
      if (w === null) return null;
      if (types[k] === "address") {
        if (!w.startsWith("0".repeat(24))) return null;
        r[names[k]] = `0x${w.slice(24)}`;
      } else if (types[k] === "bytes32") r[names[k]] = `0x${w}`;
      else r[names[k]] = BigInt(`0x${w}`);
    }
    const sigAt = num(at + names.length);
    const lenWord = word(at + sigAt);
    if (sigAt < 0 || lenWord === null) return null;
    const len = parseInt(lenWord, 16);
    const start = (at + sigAt + 1) * 64;
    if (!Number.isSafeInteger(len) || start + len * 2 > hex.length) return null;
    r.signature = `0x${hex.slice(start, start + len * 2)}`;
    return r;
  };
  if (!fn.batch) {
    const at = num(0);
    const one = at < 0 ? null : struct(at);
    return one ? [one] : null;
  }
  const arr = num(0);
  const n = arr < 0 ? -1 : parseInt(word(arr) ?? "", 16);
  if (!Number.isSafeInteger(n) || n < 0 || n > words) return null;
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < n; i++) {
    const off = num(arr + 1 + i);
    const r = off < 0 ? null : struct(arr + 1 + off);
    if (!r) return null;
    out.push(r);
  }
  return out;
}

/** The signed requests of a registry call, or its selector when the function takes no signature. */
export function decodeSignedCall(data: string): { requests: DecodedRequest[] } | { selector: string } {
  const quick = BY_SELECTOR.get(data.slice(0, 10).toLowerCase());
  const fast = quick ? decodeFast(data.toLowerCase(), quick) : null;
  if (quick && fast) return { requests: fast.map((r) => toRequest(quick.kind, r)) };
  let parsed: ReturnType<Interface["parseTransaction"]> = null;
  try {
    parsed = REGISTRY.parseTransaction({ data });
  } catch {
    parsed = null;
  }
  const fn = parsed ? SIG_FUNCTIONS[parsed.name] : undefined;
  if (!parsed || !fn) return { selector: data.slice(0, 10).toLowerCase() };
  const items = (fn.batch ? [...(parsed.args[0] as unknown[])] : [parsed.args[0]]) as Record<string, unknown>[];
  return { requests: items.map((r) => toRequest(fn.kind, r)) };
}

function toRequest(kind: ConsentMessageKind, r: Record<string, unknown>): DecodedRequest {
  return {
    kind,
    owner: String(r.owner).toLowerCase(),
    fields: requestFields(kind, r),
    epoch: BigInt(r.epoch as bigint).toString(),
    version: kind === "RevokeAll" ? null : BigInt(r.version as bigint).toString(),
    deadline: BigInt(r.deadline as bigint).toString(),
    signature: String(r.signature).toLowerCase(),
  };
}

/** The EIP-712 message of a stored request (`version` is ignored for RevokeAll). */
export function messageOf(
  kind: ConsentMessageKind,
  owner: string,
  fields: RequestFields,
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
 * The digest the owner signed for a request, in the registry's EIP-712 domain: the same value
 * as the SDK's `consentDigest` (test/audit/ecdsa.ts checks it), computed from the SDK's
 * CONSENT_TYPES with one keccak over fixed 32-byte words instead of ethers' generic encoder
 * (verify computes one per signed change).
 */
export class RequestDigester {
  private readonly prefix: string;
  private readonly typeHashes = new Map<ConsentMessageKind, string>();

  /** `keccak`: the hash to use (ecdsa.ts's `fastKeccak256` in Node; ethers' by default, as in browsers). */
  constructor(
    domain: TypedDataDomain,
    private readonly keccak: (data: Uint8Array) => string = keccak256,
  ) {
    this.prefix = `1901${TypedDataEncoder.hashDomain(domain).slice(2)}`;
    for (const kind of Object.keys(CONSENT_TYPES) as ConsentMessageKind[]) {
      this.typeHashes.set(kind, consentTypeHash(kind));
    }
  }

  digest(q: {
    kind: ConsentMessageKind;
    owner: string;
    fields: RequestFields;
    epoch: string;
    version: string | null;
    deadline: string;
  }): string {
    const m = messageOf(q.kind, q.owner, q.fields, q.epoch, q.version, q.deadline) as unknown as Record<
      string,
      string | bigint
    >;
    let words = this.typeHashes.get(q.kind)!.slice(2);
    for (const f of CONSENT_TYPES[q.kind]) words += word(f.type, m[f.name]);
    // Bytes, not hex strings, into keccak: ethers' hex parsing cost more than the hash.
    const struct = this.keccak(Buffer.from(words, "hex"));
    return this.keccak(Buffer.from(this.prefix + struct.slice(2), "hex"));
  }
}

/** One EIP-712 encoded field (every consent field is a static type). */
function word(type: string, value: string | bigint): string {
  if (type === "address") return String(value).slice(2).toLowerCase().padStart(64, "0");
  if (type === "bytes32") return String(value).slice(2).toLowerCase().padStart(64, "0");
  if (type.startsWith("uint")) return BigInt(value).toString(16).padStart(64, "0");
  throw new Error(`unexpected EIP-712 field type ${type}`);
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
