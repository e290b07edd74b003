import { getAddress } from "ethers";

import { purposeName } from "../sdk/purposes.js";
import type { KeyRelease } from "../views/data.js";
import type { ReleaseEntry } from "./store.js";

/**
 * Custodians' release logs grouped into openings, for reports and the dashboard. Browser-safe
 * (no Node module): the audit's check of the logs against the chain is verify-releases.ts.
 */

/** One opening as an owner sees it: k custodians' releases of one request grouped (the views' type). */
export type AssetRelease = KeyRelease;

/** Every release of every asset, per owner (for reports): who, for what purpose, when. */
export function releasesByOwner(logs: readonly (readonly ReleaseEntryFields[])[]): Map<string, AssetRelease[]> {
  const byRequest = new Map<string, AssetRelease>();
  for (const log of logs)
    for (const e of log) {
      const key = `${e.requester.toLowerCase()}:${e.nonce.toLowerCase()}`;
      const r = byRequest.get(key);
      if (r) {
        r.custodians.push(e.custodian);
        if (new Date(e.atMs).toISOString() < r.at) r.at = new Date(e.atMs).toISOString();
      } else {
        byRequest.set(key, {
          owner: getAddress(e.owner),
          dataId: e.dataId,
          version: e.version,
          requester: getAddress(e.requester),
          purpose: e.purpose,
          purposeName: purposeName(e.purpose),
          at: new Date(e.atMs).toISOString(),
          block: e.block,
          custodians: [e.custodian],
          ownRequest: getAddress(e.requester) === getAddress(e.owner),
        });
      }
    }
  const out = new Map<string, AssetRelease[]>();
  for (const r of byRequest.values()) out.set(r.owner, [...(out.get(r.owner) ?? []), r]);
  for (const list of out.values()) list.sort((a, b) => a.block - b.block || a.at.localeCompare(b.at));
  return out;
}

/** The fields of a release entry an opening is made of (a log read as JSON has at least these). */
export type ReleaseEntryFields = Pick<
  ReleaseEntry,
  "custodian" | "owner" | "dataId" | "version" | "requester" | "nonce" | "purpose" | "block" | "atMs"
>;
