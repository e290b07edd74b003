import { VERSION_SEQUENCE_BITS, type Via } from "../sdk/constants.js";
import type { ReplayEvent } from "./events.js";

/** The model's state types and the registry's version arithmetic (model.ts applies them). */

export interface StoredConsent {
  owner: string;
  grantee: string;
  dataId: string;
  purposes: bigint;
  expiresAt: bigint;
  epoch: bigint;
  version: bigint;
  noticeHash: string;
  via: Via;
  grantedBlock: number;
  grantedTx: string;
  grantedAt: number;
}

export interface IntegrationState {
  address: string;
  status: "Active" | "Suspended";
  purposes: bigint;
  metadataHash: string;
  since: number;
}

export interface PurposeState {
  id: number;
  metadataHash: string;
  deprecated: boolean;
  definedBlock: number;
}

export interface Violation {
  rule: string;
  message: string;
  event: ReplayEvent;
  /** The state the verifier saw when it judged the event (JSON-safe: big integers as decimal strings). */
  evidence: Record<string, unknown>;
}

/** Why a stored consent is or is not in force at a time (ConsentModel.statusOf). */
export type ConsentStatus = "active" | "ended-by-lockdown" | "nothing-granted" | "expired";

export const ZERO_ID = `0x${"0".repeat(64)}`;
export const ZERO_ADDRESS = `0x${"0".repeat(40)}`;
const SEQUENCE_MASK = (1n << VERSION_SEQUENCE_BITS) - 1n;

/** The map key of a consent: `owner|grantee|dataId`, all lowercase hex. */
export const keyOf = (owner: string, grantee: string, dataId: string) => `${owner}|${grantee}|${dataId}`;

/** The first version of the next generation: what a change by transaction sets. */
export function nextGeneration(version: bigint): bigint {
  return (version | SEQUENCE_MASK) + 1n;
}

/** The contract's ordering rule for a signed version against the key's current one. */
export function signedVersionApplies(signed: bigint, current: bigint): boolean {
  return signed > current && signed >> VERSION_SEQUENCE_BITS === current >> VERSION_SEQUENCE_BITS;
}

/** An unsigned integer field of an event, exactly (throws naming the field when it is not one). */
export function uintArg<E extends ReplayEvent>(e: E, field: keyof E["args"] & string): bigint {
  // Read as unknown: a forged row may carry anything under a declared integer field.
  const v: unknown = (e.args as Readonly<Record<string, unknown>>)[field];
  if (typeof v !== "string" || !/^[0-9]+$/.test(v)) {
    throw new Error(
      `${e.name} at block ${e.blockNumber} log ${e.logIndex}: field ${field} is ${JSON.stringify(v)}, not an unsigned integer`,
    );
  }
  return BigInt(v);
}
