import { rmSync } from "node:fs";
import { join } from "node:path";

import { expect } from "chai";

import { CustodianStore } from "../../src/custodian/store.js";
import { tempDir } from "./helpers/processes.js";

/**
 * What a release reads of the custodian's store in one query: the share of the asked version and
 * the asset's latest version (a requester asking for a superseded version is refused).
 */

const OWNER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
const DATA_ID = `0x${"1A".repeat(32)}`;

describe("custodians: the store's release row", () => {
  const dir = tempDir("omni-custodian-store-");
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("gives the asked version's share with the latest version; an absent version or asset is undefined", () => {
    const store = new CustodianStore(join(dir, "s.db"));
    try {
      const add = (version: number, shareIndex: number) =>
        store.addShare({
          owner: OWNER,
          dataId: DATA_ID,
          version,
          shareIndex,
          manifestJson: "{}",
          manifestDigest: `0x${version.toString(16).padStart(64, "0")}`,
          envelopeJson: "{}",
          sealedShare: Buffer.from([version, shareIndex]),
        });
      expect([add(1, 4), add(3, 2), add(5, 0), add(3, 1)]).to.deep.equal([true, true, true, false]);
      const row = (version: number, owner = OWNER, dataId = DATA_ID) => {
        const r = store.releaseRow(owner, dataId, version);
        return r && { ...r, sealedShare: [...r.sealedShare] };
      };
      const digest = (v: number) => `0x${v.toString(16).padStart(64, "0")}`;
      expect(row(1)).to.deep.equal({ shareIndex: 4, manifestDigest: digest(1), sealedShare: [1, 4], latestVersion: 5 });
      expect(row(3)).to.deep.equal({ shareIndex: 2, manifestDigest: digest(3), sealedShare: [3, 2], latestVersion: 5 });
      expect(row(5)).to.deep.equal({ shareIndex: 0, manifestDigest: digest(5), sealedShare: [5, 0], latestVersion: 5 });
      // Between registered versions, above the latest, another asset or owner: nothing.
      expect([row(2), row(4), row(6), row(0)]).to.deep.equal([undefined, undefined, undefined, undefined]);
      expect(row(1, OWNER, `0x${"1b".repeat(32)}`)).to.equal(undefined);
      expect(row(1, "0x70997970C51812dc3A010C7d01b50e0d17dc79C8")).to.equal(undefined);
      // Addresses and ids are matched whatever their case.
      expect(row(3, OWNER.toLowerCase(), DATA_ID.toLowerCase())?.shareIndex).to.equal(2);
    } finally {
      store.close();
    }
  });
});
