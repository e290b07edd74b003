import { rmSync } from "node:fs";
import { join } from "node:path";

import Database from "better-sqlite3";
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

describe("custodians: a store of an older version is migrated; spent nonces keep the answer they got", () => {
  const dir = tempDir("omni-custodian-migrate-");
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("an old nonces table gains request_digest and answer; its rows hold NULL there (asked again: REPLAY), new rows hold both", () => {
    const path = join(dir, "old.db");
    const old = new Database(path);
    old.exec(`
      CREATE TABLE nonces (requester TEXT NOT NULL, nonce TEXT NOT NULL, used_at INTEGER NOT NULL, PRIMARY KEY (requester, nonce));
      INSERT INTO nonces VALUES ('0x70997970c51812dc3a010c7d01b50e0d17dc79c8', '0x${"01".repeat(32)}', 1);
    `);
    old.close();
    const store = new CustodianStore(path);
    try {
      const requester = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
      expect(store.nonceAnswer(requester, `0x${"01".repeat(32)}`)).to.deep.equal({ digest: null, answer: null });
      expect(store.nonceAnswer(requester, `0x${"02".repeat(32)}`)).to.equal(undefined);
      const e = releaseEntry({ requester, nonce: `0x${"02".repeat(32)}` });
      expect(store.recordRelease(e, { digest: `0x${"AA".repeat(32)}`, answer: '{"index":0}' })?.seq).to.equal(1);
      expect(store.nonceAnswer(requester, e.nonce)).to.deep.equal({
        digest: `0x${"aa".repeat(32)}`,
        answer: '{"index":0}',
      });
      expect(store.lastBlock()).to.equal(10);
    } finally {
      store.close();
    }
    // Opened again: the migration is not run twice.
    new CustodianStore(path).close();
  });

  it("the log export carries the entries and the signed manifests they name (as registered)", () => {
    const store = new CustodianStore(join(dir, "export.db"));
    try {
      const manifest = { format: "omnitensor-manifest/1", owner: OWNER, note: "as registered" };
      store.addShare({
        owner: OWNER,
        dataId: DATA_ID,
        version: 1,
        shareIndex: 0,
        manifestJson: JSON.stringify(manifest),
        manifestDigest: `0x${"55".repeat(32)}`,
        envelopeJson: "{}",
        sealedShare: Buffer.from([1]),
      });
      expect(store.exportLog()).to.deep.equal({ format: "omnitensor-release-log/2", entries: [], manifests: [] });
      const base = releaseEntry({});
      store.recordReleases([
        { ...base, nonce: `0x${"01".repeat(32)}`, manifestDigest: `0x${"55".repeat(32)}` },
        { ...base, nonce: `0x${"02".repeat(32)}`, manifestDigest: `0x${"55".repeat(32)}` },
        { ...base, nonce: `0x${"03".repeat(32)}`, manifestDigest: `0x${"66".repeat(32)}` }, // not held (any more)
      ]);
      const out = store.exportLog();
      expect(out.entries.map((e) => e.seq)).to.deep.equal([1, 2, 3]);
      expect(out.manifests).to.deep.equal([manifest]);
    } finally {
      store.close();
    }
  });
});

/** A release-log entry of the store's tests (block 10 at 1 ms, plain consent), with `over` on top. */
function releaseEntry(over: { requester?: string; nonce?: string }) {
  return {
    atMs: 1,
    custodian: `0x${"ab".repeat(32)}`,
    chainId: "31337",
    registry: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
    owner: OWNER,
    requester: over.requester ?? OWNER,
    dataId: DATA_ID,
    version: "1",
    purpose: 3,
    nonce: over.nonce ?? `0x${"01".repeat(32)}`,
    deadline: "2",
    ephemeralKey: `0x${"22".repeat(32)}`,
    useTx: `0x${"00".repeat(32)}`,
    signature: "0x",
    block: 10,
    blockHash: `0x${"44".repeat(32)}`,
    confirmations: 0,
    useBlock: null,
    requireUseRecord: false,
    useRecordMaxAge: 1,
    shareIndex: 0,
    manifestDigest: `0x${"55".repeat(32)}`,
  };
}
