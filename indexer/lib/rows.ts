/**
 * One log → one row of the `events` table, in exactly the audit store's encoding (src/audit:
 * decode.ts and sync.ts), so the indexer's table and the auditor's can be compared value for
 * value (indexer/test/cross-check.ts does, event for event):
 *
 * - `argsJson`: the decoded arguments in the ABI's input order (not viem's order, which puts
 *   indexed arguments first); integers as decimal strings, addresses lowercase, booleans as
 *   JSON booleans, bytes as lowercase 0x-hex;
 * - `via` (ConsentGranted / ConsentRevoked: derived from the version by the contract's rule;
 *   AllConsentsRevoked: its field) and `version` only for registry events;
 * - AccessManager logs other than the three scheduling events are kept as `Unknown` with their
 *   raw topics (comma-joined) and data, as the auditor keeps them: it decodes only those three.
 */

/** Where a log came from. */
export type Source = "registry" | "integrations" | "authority";

/** The AccessManager events the auditor decodes (src/audit/decode.ts ACCESS_MANAGER_EVENTS). */
export const AUDITED_AUTHORITY_EVENTS: ReadonlySet<string> = new Set([
  "OperationScheduled",
  "OperationExecuted",
  "OperationCanceled",
]);

/** The low 16 bits of a version: its sequence within a generation (non-zero = set by a signature). */
const SEQUENCE_MASK = (1n << 16n) - 1n;

/** How the account in a consent event's `actor` acted (IConsentRegistry.Via). */
export const Via = { Owner: 0, Manager: 1, Signature: 2 } as const;

/** The contract's rule for ConsentGranted / ConsentRevoked (IConsentRegistry: `version`). */
export function viaOf(owner: string, actor: string, version: bigint): number {
  if ((version & SEQUENCE_MASK) !== 0n) return Via.Signature;
  return owner.toLowerCase() === actor.toLowerCase() ? Via.Owner : Via.Manager;
}

interface AbiInput {
  readonly name: string;
  readonly type: string;
}
interface AbiEvent {
  readonly type: string;
  readonly name?: string;
  readonly inputs?: readonly AbiInput[];
}

/** Input lists by event name, for each ABI. */
export function inputsByEvent(abi: readonly unknown[]): Map<string, readonly AbiInput[]> {
  const m = new Map<string, readonly AbiInput[]>();
  for (const item of abi as readonly AbiEvent[]) {
    if (item.type === "event" && item.name) m.set(item.name, item.inputs ?? []);
  }
  return m;
}

function plain(value: unknown, type: string): string | boolean {
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "boolean") return value;
  if (typeof value === "number") return String(value);
  if (type === "address" || type.startsWith("bytes")) return String(value).toLowerCase();
  return String(value);
}

/** The audit encoding of decoded arguments, in ABI order. */
export function encodeArgs(inputs: readonly AbiInput[], args: Readonly<Record<string, unknown>>): string {
  const out: Record<string, string | boolean> = {};
  for (const input of inputs) out[input.name] = plain(args[input.name], input.type);
  return JSON.stringify(out);
}

/** What a Ponder event gives us (the fields a row needs). */
export interface LogEvent {
  args: Readonly<Record<string, unknown>>;
  log: { address: string; logIndex: number; topics: readonly (string | null)[]; data: string };
  block: { number: bigint; hash: string; timestamp: bigint };
  transaction: { hash: string };
}

export interface EventRow {
  chainId: number;
  blockNumber: number;
  blockHash: string;
  logIndex: number;
  txHash: string;
  address: string;
  eventName: string;
  argsJson: string;
  blockTimestamp: number;
  via: number | null;
  version: string | null;
  owner: string | null;
}

/** The `events` row of one log. `inputs` is the event's ABI input list. */
export function eventRow(
  chainId: number,
  source: Source,
  name: string,
  inputs: readonly AbiInput[],
  e: LogEvent,
): EventRow {
  const unknown = source === "authority" && !AUDITED_AUTHORITY_EVENTS.has(name);
  const eventName = unknown ? "Unknown" : name;
  const argsJson = unknown
    ? JSON.stringify({ topics: e.log.topics.filter((t) => t !== null).join(","), data: e.log.data })
    : encodeArgs(inputs, e.args);
  let via: number | null = null;
  let version: string | null = null;
  if (source === "registry") {
    if (name === "ConsentGranted" || name === "ConsentRevoked") {
      const v = e.args.version as bigint;
      version = v.toString();
      via = viaOf(String(e.args.owner), String(e.args.actor), v);
    } else if (name === "AllConsentsRevoked") via = Number(e.args.via);
  }
  return {
    chainId,
    blockNumber: Number(e.block.number),
    blockHash: e.block.hash,
    logIndex: e.log.logIndex,
    txHash: e.transaction.hash,
    address: e.log.address.toLowerCase(),
    eventName,
    argsJson,
    blockTimestamp: Number(e.block.timestamp),
    via,
    version,
    owner: source === "registry" && typeof e.args.owner === "string" ? e.args.owner.toLowerCase() : null,
  };
}
