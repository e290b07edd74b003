import { type EventFragment, Interface, type Log, type ParamType, type Result } from "ethers";

import { CONSENT_REGISTRY_ABI, INTEGRATION_REGISTRY_ABI } from "../sdk/abi.js";
import { type Via, viaOf } from "../sdk/constants.js";
import type { AuditEvent } from "./events.js";

/**
 * The AccessManager's scheduling events (OpenZeppelin 5 `IAccessManager`), written out here so the
 * audit toolkit does not depend on more generated bindings than the two registries'.
 */
const ACCESS_MANAGER_EVENTS = [
  "event OperationScheduled(bytes32 indexed operationId, uint32 indexed nonce, uint48 schedule, address caller, address target, bytes data)",
  "event OperationExecuted(bytes32 indexed operationId, uint32 indexed nonce)",
  "event OperationCanceled(bytes32 indexed operationId, uint32 indexed nonce)",
];

export type Watched = "registry" | "integrations" | "authority";

const INTERFACES: Record<Watched, Interface> = {
  registry: new Interface(CONSENT_REGISTRY_ABI),
  integrations: new Interface(INTEGRATION_REGISTRY_ABI),
  authority: new Interface(ACCESS_MANAGER_EVENTS),
};

// topic0 → fragment, computed once: ethers' parseLog re-hashes every event signature per call,
// which made decoding ~0.4 ms per log (the bottleneck of a 100k-event sync).
const BY_TOPIC = Object.fromEntries(
  Object.entries(INTERFACES).map(([k, iface]) => {
    const m = new Map<string, EventFragment>();
    iface.forEachEvent((f) => m.set(f.topicHash, f));
    return [k, m];
  }),
) as Record<Watched, Map<string, EventFragment>>;

/** A decoded log: the typed event union (events.ts). */
export type DecodedLog = AuditEvent;

function plain(value: unknown, type: ParamType): string | boolean {
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "boolean") return value;
  if (type.type === "address") return String(value).toLowerCase();
  return String(value);
}

/**
 * Decodes a log of a watched contract into the typed event union with JSON-safe values: integers
 * as decimal strings, addresses lowercase, bytes as hex. Unknown topics (e.g. AccessManager role
 * events) are kept as `Unknown` with their raw topics and data, so nothing on chain is dropped.
 */
export function decodeLog(kind: Watched, log: Pick<Log, "topics" | "data">): AuditEvent {
  const fragment = log.topics.length > 0 ? BY_TOPIC[kind].get(log.topics[0]) : undefined;
  if (!fragment) return { name: "Unknown", args: { topics: log.topics.join(","), data: log.data } };
  const fast = decodeStatic(fragment, log);
  if (fast) return typed(fragment.name, fast);
  const values: Result = INTERFACES[kind].decodeEventLog(fragment, log.data, log.topics);
  const args: Record<string, string | boolean> = {};
  const inputs = fragment.inputs;
  for (let i = 0; i < inputs.length; i++) args[inputs[i].name] = plain(values[i], inputs[i]);
  return typed(fragment.name, args);
}

/**
 * The one place a decoded log becomes the typed union: the fragment is the ABI's, so its name
 * and its inputs' names are those of `EventArgsByName` (checked for every event in
 * test/audit/decode.ts).
 */
function typed(name: string, args: Record<string, string | boolean>): AuditEvent {
  return { name, args } as AuditEvent;
}

const STATIC = /^(address|bool|bytes32|uint\d*|int\d*)$/;

/**
 * Fast path for events whose parameters are all static words (every registry event except the
 * AccessManager's `bytes` ones): slice the 32-byte words directly. ~10x faster than ethers'
 * generic decoder; the result is identical (checked in test/audit/decode.ts).
 */
function decodeStatic(
  fragment: EventFragment,
  log: Pick<Log, "topics" | "data">,
): Record<string, string | boolean> | null {
  const inputs = fragment.inputs;
  if (!inputs.every((i) => STATIC.test(i.type))) return null;
  const data = log.data.startsWith("0x") ? log.data.slice(2) : log.data;
  const args: Record<string, string | boolean> = {};
  let topic = 1;
  let word = 0;
  for (const input of inputs) {
    let hex: string;
    if (input.indexed) {
      const t = log.topics[topic++];
      if (t === undefined) return null;
      hex = t.slice(2).toLowerCase();
    } else {
      hex = data.slice(word * 64, word * 64 + 64).toLowerCase();
      word++;
      if (hex.length !== 64) return null;
    }
    const type = input.type;
    if (type === "address") args[input.name] = `0x${hex.slice(24)}`;
    else if (type === "bool") args[input.name] = BigInt(`0x${hex}`) !== 0n;
    else if (type === "bytes32") args[input.name] = `0x${hex}`;
    else if (type.startsWith("uint")) args[input.name] = BigInt(`0x${hex}`).toString();
    else return null; // signed ints: leave to ethers
  }
  return args;
}

/**
 * How a consent change was authorised, from the decoded event alone (the contract's rule):
 * ConsentGranted / ConsentRevoked derive it from `version` with `viaOf`; AllConsentsRevoked
 * carries it. Null for every other event. Stored in the `events.via` column at sync time.
 */
export function viaOfEvent(name: string, args: Readonly<Record<string, unknown>>): Via | null {
  if (name === "ConsentGranted" || name === "ConsentRevoked") {
    // A malformed (forged) row has no via; the model then refuses it naming the field.
    const version = args.version;
    if (typeof version !== "string" || !/^[0-9]+$/.test(version)) return null;
    return viaOf(String(args.owner), String(args.actor), BigInt(version));
  }
  if (name === "AllConsentsRevoked") return Number(args.via) as Via;
  return null;
}

/** The key's version after a ConsentGranted / ConsentRevoked (decimal), else null (`events.version`). */
export function versionOfEvent(name: string, args: Readonly<Record<string, unknown>>): string | null {
  return name === "ConsentGranted" || name === "ConsentRevoked" ? String(args.version) : null;
}
