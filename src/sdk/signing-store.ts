import { getAddress } from "ethers";

import { ConsentSdkError } from "./errors.js";

/**
 * Where the SDK remembers what an owner has signed, so that two messages of the same owner for
 * the same consent key never get the same version (see `signing.ts` for the rule). A store holds
 * one {@link SigningState} per scope (chain, registry, owner) and changes it only inside
 * {@link SigningStore.transact}, atomically: every reservation reads the state, picks the next
 * version and writes it back before any other reservation of that scope can read it.
 *
 * Two implementations: {@link sharedSigningStore}, in memory and shared by every client of one
 * process (the default), and the file store of `file-signing-store.ts` (Node only), which
 * several processes share through one directory. Processes that sign for the same owner must
 * share a file store: each process's memory store knows only its own reservations.
 *
 * This module imports nothing from Node, so it can run in a browser.
 */

/** The owner whose messages a state is about, on one deployment. */
export interface SigningScope {
  chainId: bigint;
  registry: string;
  owner: string;
}

/** The latest reservation for one consent key. Versions and deadlines of a key only grow. */
export interface KeyReservation {
  /** The owner's epoch the message was signed for. */
  epoch: bigint;
  /** The highest version handed out for this key (in any epoch). */
  version: bigint;
  /** The latest deadline of a message reserved for this key in `epoch`. */
  deadline: bigint;
}

/** Everything a store keeps for one scope. */
export interface SigningState {
  /** By {@link keyOf}: `grantee|dataId`, lowercase. */
  keys: Record<string, KeyReservation>;
  /** The latest signed lockdown (RevokeAll), if any. */
  revokeAll?: { epoch: bigint; deadline: bigint };
}

export interface SigningStore {
  /**
   * Runs `update` on the state of `scope` (created empty if there is none) and saves what it
   * leaves, as one atomic step with respect to every other `transact` on the same scope and
   * store; returns what `update` returns. `update` must be synchronous; if it throws, nothing
   * is saved and the error propagates.
   */
  transact<T>(scope: SigningScope, update: (state: SigningState) => T): Promise<T>;
}

/** The state key of a consent key. */
export function keyOf(grantee: string, dataId: string): string {
  return `${grantee.toLowerCase()}|${dataId.toLowerCase()}`;
}

/** A stable string for a scope (`<chainId>-<registry>-<owner>`, lowercase): one file name of the file store. */
export function scopeId(scope: SigningScope): string {
  return `${scope.chainId}-${getAddress(scope.registry).toLowerCase()}-${getAddress(scope.owner).toLowerCase()}`;
}

/** A deep copy, so an `update` that throws half-way leaves the stored state untouched. */
function cloneState(state: SigningState): SigningState {
  const keys: Record<string, KeyReservation> = {};
  for (const [k, v] of Object.entries(state.keys)) keys[k] = { ...v };
  return state.revokeAll ? { keys, revokeAll: { ...state.revokeAll } } : { keys };
}

/** The JSON form of a state (integers as decimal strings), as the file store writes it. */
export function encodeSigningState(state: SigningState): string {
  return JSON.stringify(
    { format: SIGNING_STATE_FORMAT, ...state },
    (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v),
    2,
  );
}

/** The format tag of {@link encodeSigningState}. */
export const SIGNING_STATE_FORMAT = "omni-consent/signing-state@1";

const UINT = /^\d+$/;

function uintField(value: unknown, where: string): bigint {
  if (typeof value !== "string" || !UINT.test(value)) {
    throw new ConsentSdkError("SIGNING_STORE", `${where}: expected a decimal integer string`);
  }
  return BigInt(value);
}

/** Parses {@link encodeSigningState}'s output; SIGNING_STORE naming `where` and the field when damaged. */
export function decodeSigningState(text: string, where: string): SigningState {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ConsentSdkError("SIGNING_STORE", `${where}: not valid JSON; restore it from a backup or remove it`);
  }
  const o = (json ?? {}) as Record<string, unknown>;
  if (o.format !== SIGNING_STATE_FORMAT) {
    throw new ConsentSdkError("SIGNING_STORE", `${where}: not a signing state (expected "${SIGNING_STATE_FORMAT}")`);
  }
  const keys: Record<string, KeyReservation> = {};
  for (const [k, raw] of Object.entries((o.keys ?? {}) as Record<string, Record<string, unknown>>)) {
    keys[k] = {
      epoch: uintField(raw.epoch, `${where} keys["${k}"].epoch`),
      version: uintField(raw.version, `${where} keys["${k}"].version`),
      deadline: uintField(raw.deadline, `${where} keys["${k}"].deadline`),
    };
  }
  const state: SigningState = { keys };
  const ra = o.revokeAll as Record<string, unknown> | undefined;
  if (ra !== undefined) {
    state.revokeAll = {
      epoch: uintField(ra.epoch, `${where} revokeAll.epoch`),
      deadline: uintField(ra.deadline, `${where} revokeAll.deadline`),
    };
  }
  return state;
}

/**
 * A store in memory. `update` is synchronous and JavaScript runs one function at a time, so
 * each `transact` is atomic within the process. Shared by every client of the process through
 * {@link sharedSigningStore}; create a separate one only for tests.
 */
export class MemorySigningStore implements SigningStore {
  private readonly states = new Map<string, SigningState>();

  transact<T>(scope: SigningScope, update: (state: SigningState) => T): Promise<T> {
    const id = scopeId(scope);
    const draft = cloneState(this.states.get(id) ?? { keys: {} });
    try {
      const result = update(draft);
      this.states.set(id, draft);
      return Promise.resolve(result);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }
}

const shared = new MemorySigningStore();

/**
 * The process-wide in-memory store: the default of every {@link ConsentRegistryClient}, so two
 * clients (or two connects) of one process never hand out the same version. It does not reach
 * other processes or survive a restart; use the file store there.
 */
export function sharedSigningStore(): SigningStore {
  return shared;
}
