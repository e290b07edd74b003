import { getAddress } from "ethers";
import type { Log } from "ethers";

import { viaName, viaOf } from "./constants.js";
import type { ViaName } from "./constants.js";
import type { EventRange } from "./base.js";
import type { ConsentRegistry } from "./contracts.js";
import { toConsentSdkError } from "./errors.js";
import { maskToPurposes } from "./purposes.js";
import { consentKeyOf } from "./requests.js";

/**
 * History scans of the registry (`eth_getLogs` through the TypeChain filters): what shaped one
 * consent, which keys an owner (or a grantee) ever appeared in, which managers an owner ever
 * named. The client confirms what is current against the chain's state; this module only reads
 * events. (The auditor's full, reorg-safe sync is `src/audit`.)
 */

interface EventPlace {
  blockNumber: number;
  transactionHash: string;
  logIndex: number;
}

interface Actor {
  actor: string;
  via: ViaName;
}

export type HistoryEntry =
  | ({
      kind: "granted";
      purposes: number[];
      purposesMask: bigint;
      expiresAt: bigint;
      noticeHash: string;
      version: bigint;
    } & EventPlace &
      Actor)
  | ({ kind: "revoked"; version: bigint } & EventPlace & Actor)
  | ({ kind: "allRevoked"; newEpoch: bigint } & EventPlace & Actor);

function bounds(range: EventRange): [number, number | "latest"] {
  return [range.fromBlock ?? 0, range.toBlock ?? "latest"];
}

async function scan<T>(what: string, query: () => Promise<T>): Promise<T> {
  try {
    return await query();
  } catch (err) {
    throw toConsentSdkError(err, what);
  }
}

const place = (l: Log): EventPlace => ({
  blockNumber: l.blockNumber,
  transactionHash: l.transactionHash,
  logIndex: l.index,
});

/**
 * Every event that shaped the consent `(owner, grantee, dataId)`, oldest first: its grants and
 * revocations plus the owner's revoke-alls (lockdowns), with block number and transaction hash.
 */
export async function consentHistory(
  c: ConsentRegistry,
  key: { owner: string; grantee: string; dataId: string },
  range: EventRange = {},
): Promise<HistoryEntry[]> {
  const [from, to] = bounds(range);
  const [granted, revoked, allRevoked] = await scan("history", () =>
    Promise.all([
      c.queryFilter(c.filters.ConsentGranted(key.owner, key.grantee, key.dataId), from, to),
      c.queryFilter(c.filters.ConsentRevoked(key.owner, key.grantee, key.dataId), from, to),
      c.queryFilter(c.filters.AllConsentsRevoked(key.owner), from, to),
    ]),
  );
  const entries: HistoryEntry[] = [
    ...granted.map((l): HistoryEntry => ({
      kind: "granted",
      purposes: maskToPurposes(l.args.purposes),
      purposesMask: l.args.purposes,
      expiresAt: l.args.expiresAt,
      noticeHash: l.args.noticeHash,
      actor: l.args.actor,
      version: l.args.version,
      via: viaName(viaOf(l.args.owner, l.args.actor, l.args.version)),
      ...place(l),
    })),
    ...revoked.map((l): HistoryEntry => ({
      kind: "revoked",
      actor: l.args.actor,
      version: l.args.version,
      via: viaName(viaOf(l.args.owner, l.args.actor, l.args.version)),
      ...place(l),
    })),
    ...allRevoked.map((l): HistoryEntry => ({
      kind: "allRevoked",
      newEpoch: l.args.newEpoch,
      actor: l.args.actor,
      via: viaName(l.args.via),
      ...place(l),
    })),
  ];
  return entries.sort((a, b) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex);
}

/**
 * The distinct keys `(owner, grantee, dataId)` of every ConsentGranted naming `owner` (as owner)
 * or `grantee` (as grantee), in order of first appearance.
 */
export async function grantedKeys(
  c: ConsentRegistry,
  who: { owner: string } | { grantee: string },
  range: EventRange = {},
): Promise<[string, string, string][]> {
  const [from, to] = bounds(range);
  const what = "owner" in who ? "activeConsentsOf" : "consentsGrantedTo";
  const filter =
    "owner" in who ? c.filters.ConsentGranted(who.owner) : c.filters.ConsentGranted(undefined, who.grantee);
  const logs = await scan(what, () => c.queryFilter(filter, from, to));
  const seen = new Map<string, [string, string, string]>();
  for (const l of logs) {
    const key = consentKeyOf(l.args);
    seen.set(key.join("|").toLowerCase(), key);
  }
  return [...seen.values()];
}

/** Every account a ManagerSet event of `owner` ever named, in order of first appearance. */
export async function managersNamed(c: ConsentRegistry, owner: string, range: EventRange = {}): Promise<string[]> {
  const [from, to] = bounds(range);
  const logs = await scan("managersOf", () => c.queryFilter(c.filters.ManagerSet(owner), from, to));
  return [...new Set(logs.map((l) => getAddress(l.args.manager)))];
}
