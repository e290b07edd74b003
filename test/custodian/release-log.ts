import { rmSync } from "node:fs";
import { join } from "node:path";

import { expect } from "chai";
import { ZeroHash } from "ethers";

import { ReleaseLog } from "../../src/custodian/release-log.js";
import { CustodianStore, GENESIS_HASH, entryHashOf } from "../../src/custodian/store.js";
import type { ReleaseEntry } from "../../src/custodian/store.js";
import { tempDir } from "./helpers/processes.js";

/**
 * The group commit of the release log: releases appended in one turn of the event loop are one
 * transaction; each caller learns its outcome only after the commit; a nonce spent twice in one
 * group is released once; a failed commit releases nothing of its group.
 */

const REQUESTER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const entry = (nonce: number): Omit<ReleaseEntry, "seq" | "prevHash" | "entryHash"> => ({
  atMs: 1_790_000_000_000 + nonce,
  custodian: `0x${"ab".repeat(32)}`,
  chainId: "31337",
  registry: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
  owner: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
  requester: REQUESTER,
  dataId: `0x${"11".repeat(32)}`,
  version: "1",
  purpose: 3,
  nonce: `0x${nonce.toString(16).padStart(64, "0")}`,
  deadline: "1790000120",
  ephemeralKey: `0x${"22".repeat(32)}`,
  useTx: ZeroHash,
  signature: `0x${"33".repeat(65)}`,
  block: 10,
  blockHash: `0x${"44".repeat(32)}`,
  confirmations: 2,
  useBlock: null,
  requireUseRecord: false,
  useRecordMaxAge: 100,
  shareIndex: 0,
  manifestDigest: `0x${"55".repeat(32)}`,
});

describe("custodians: the release log is group-committed, and nothing is acknowledged before its commit", () => {
  const dir = tempDir("omni-release-log-");
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("appends of one turn are ONE transaction, hash-chained in order; a nonce twice in a group is released once", async () => {
    const store = new CustodianStore(join(dir, "a.db"));
    let transactions = 0;
    const spy = Object.assign(Object.create(store) as CustodianStore, {
      recordReleases: (es: Parameters<CustodianStore["recordReleases"]>[0]) => {
        transactions++;
        return store.recordReleases(es);
      },
    });
    const log = new ReleaseLog(spy);
    const outcomes = await Promise.all([log.append(entry(1)), log.append(entry(2)), log.append(entry(1))]);
    expect(transactions).to.equal(1);
    expect(outcomes.map((e) => e?.seq)).to.deep.equal([1, 2, undefined]);
    expect(outcomes[0]!.prevHash).to.equal(GENESIS_HASH);
    expect(outcomes[1]!.prevHash).to.equal(outcomes[0]!.entryHash);
    expect(outcomes[1]!.entryHash).to.equal(entryHashOf({ ...entry(2), prevHash: outcomes[0]!.entryHash }));
    // A later turn: its own transaction, chained to the last entry; a nonce spent before is a replay.
    const [again, three] = await Promise.all([log.append(entry(2)), log.append(entry(3))]);
    expect(transactions).to.equal(2);
    expect(again).to.equal(undefined);
    expect(three!.seq).to.equal(3);
    expect(three!.prevHash).to.equal(outcomes[1]!.entryHash);
    expect(store.releases().map((e) => e.nonce)).to.deep.equal([entry(1).nonce, entry(2).nonce, entry(3).nonce]);
    expect(store.counts()).to.deep.equal({ shares: 0, nonces: 3, releases: 3 });
    store.close();
  });

  it("resolves only after the commit: no caller hears of its release before the transaction ran", async () => {
    const store = new CustodianStore(join(dir, "b.db"));
    const log = new ReleaseLog(store);
    let settled = false;
    const p = log.append(entry(7)).then((e) => {
      settled = true;
      return e;
    });
    await Promise.resolve(); // microtasks run; the group waits for setImmediate
    expect(settled).to.equal(false);
    expect(store.counts().releases).to.equal(0);
    expect((await p)!.seq).to.equal(1);
    expect(store.counts().releases).to.equal(1);
    store.close();
  });

  it("a group waits (briefly) for a release on its way, and not for one that was cancelled", async () => {
    const store = new CustodianStore(join(dir, "f.db"));
    let transactions = 0;
    const spy = Object.assign(Object.create(store) as CustodianStore, {
      recordReleases: (es: Parameters<CustodianStore["recordReleases"]>[0]) => {
        transactions++;
        return store.recordReleases(es);
      },
    });
    const log = new ReleaseLog(spy, 256, 50);
    // One release on its way (asking the chain) when another appends: they share a transaction.
    const ticket = log.expect();
    const first = log.append(entry(1));
    await new Promise((r) => setTimeout(r, 5));
    expect(store.counts().releases).to.equal(0); // still waiting for the one on its way
    const second = log.append(entry(2), ticket);
    expect([(await first)!.seq, (await second)!.seq]).to.deep.equal([1, 2]);
    expect(transactions).to.equal(1);
    // A cancelled ticket (a refusal) is not waited for: the next release commits at once.
    const refused = log.expect();
    refused.cancel();
    refused.cancel(); // idempotent
    const t = performance.now();
    expect((await log.append(entry(3)))!.seq).to.equal(3);
    expect(performance.now() - t).to.be.below(40);
    expect(transactions).to.equal(2);
    store.close();
  });

  it("a failed commit fails every release of its group, and writes none of them", async () => {
    const store = new CustodianStore(join(dir, "c.db"));
    const failing = Object.assign(Object.create(store) as CustodianStore, {
      recordReleases: () => {
        throw new Error("disk I/O error");
      },
    });
    const log = new ReleaseLog(failing);
    const outcomes = await Promise.all(
      [entry(1), entry(2)].map((e) =>
        log.append(e).then(
          () => "RELEASED",
          (err: Error) => err.message,
        ),
      ),
    );
    expect(outcomes).to.deep.equal(["disk I/O error", "disk I/O error"]);
    expect(store.counts()).to.deep.equal({ shares: 0, nonces: 0, releases: 0 });
    store.close();
  });

  it("a store opened as the custodian opens it is synchronous=FULL (fsync per commit); --no-fsync is NORMAL", () => {
    const full = new CustodianStore(join(dir, "d.db"));
    const normal = new CustodianStore(join(dir, "e.db"), { durable: false });
    const sync = (s: CustodianStore) =>
      (s as unknown as { db: { pragma(q: string, o: object): unknown } }).db.pragma("synchronous", { simple: true });
    expect([sync(full), sync(normal)]).to.deep.equal([2, 1]); // FULL = 2, NORMAL = 1
    full.close();
    normal.close();
  });
});
