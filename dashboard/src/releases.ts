import { getAddress } from "ethers";

import { purposeName } from "../../src/sdk/purposes.js";
import type { KeyRelease } from "../../src/views/data.js";

/**
 * Custodians' release logs (the entries of src/custodian/store.ts, as JSON) grouped into one
 * opening per request, the rule of `releasesByOwner` in src/custodian/verify-releases.ts. That
 * module also imports the custodian's Node RPC client, so it cannot be bundled for the browser;
 * moving `releasesByOwner` to a browser-safe module would let this file import it instead.
 */
interface ReleaseEntryJson {
  custodian: string;
  owner: string;
  dataId: string;
  version: string | number;
  requester: string;
  nonce: string;
  purpose: number;
  block: number;
  atMs: number;
}

export function releasesOf(owner: string, files: readonly string[]): KeyRelease[] {
  const byRequest = new Map<string, KeyRelease>();
  for (const text of files) {
    const parsed = JSON.parse(text) as unknown;
    const entries = (
      Array.isArray(parsed) ? parsed : ((parsed as { entries?: unknown }).entries ?? [])
    ) as ReleaseEntryJson[];
    if (!Array.isArray(entries)) throw new Error("a release log is a JSON array of release entries");
    for (const e of entries) {
      if (typeof e.requester !== "string" || typeof e.nonce !== "string" || typeof e.atMs !== "number") {
        throw new Error("a release entry needs requester, nonce and atMs");
      }
      const key = `${e.requester.toLowerCase()}:${e.nonce.toLowerCase()}`;
      const at = new Date(e.atMs).toISOString();
      const r = byRequest.get(key);
      if (r) {
        r.custodians.push(e.custodian);
        if (at < r.at) r.at = at;
      } else {
        byRequest.set(key, {
          owner: getAddress(e.owner),
          dataId: e.dataId,
          version: String(e.version),
          requester: getAddress(e.requester),
          purpose: e.purpose,
          purposeName: purposeName(e.purpose),
          at,
          block: e.block,
          custodians: [e.custodian],
          ownRequest: getAddress(e.requester) === getAddress(e.owner),
        });
      }
    }
  }
  return [...byRequest.values()]
    .filter((r) => r.owner.toLowerCase() === owner.toLowerCase())
    .sort((a, b) => a.block - b.block || a.at.localeCompare(b.at));
}
