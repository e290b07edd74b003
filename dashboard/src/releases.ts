import { getAddress } from "ethers";

import { type ReleaseEntryFields, releasesByOwner } from "../../src/custodian/releases.js";
import type { KeyRelease } from "../../src/views/data.js";

/**
 * Custodians' release logs loaded in the page (each the JSON array `custodian log` writes, or
 * `{ entries: [...] }`) → the owner's openings, by the same `releasesByOwner` the reports use.
 */
export function releasesOf(owner: string, files: readonly string[]): KeyRelease[] {
  const logs = files.map((text) => {
    const parsed = JSON.parse(text) as unknown;
    const entries = Array.isArray(parsed) ? parsed : (parsed as { entries?: unknown }).entries;
    if (!Array.isArray(entries)) throw new Error("a release log is a JSON array of release entries");
    for (const e of entries as Partial<ReleaseEntryFields>[]) {
      if (typeof e.requester !== "string" || typeof e.nonce !== "string" || typeof e.atMs !== "number") {
        throw new Error("a release entry needs requester, nonce and atMs");
      }
    }
    return (entries as ReleaseEntryFields[]).map((e) => ({ ...e, version: String(e.version) }));
  });
  return releasesByOwner(logs).get(getAddress(owner)) ?? [];
}
