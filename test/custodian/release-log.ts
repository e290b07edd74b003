import { rmSync } from "node:fs";
import { join } from "node:path";

import { expect } from "chai";
import { Interface, Wallet, ZeroHash, keccak256, toUtf8Bytes } from "ethers";

import type { Refusal } from "../../src/custodian/errors.js";
import { ReleaseLog } from "../../src/custodian/release-log.js";
import { verifyReleases } from "../../src/custodian/verify-releases.js";
import { cidFromSha256 } from "../../src/keys/cid.js";
import { KeyRequestHasher, keyReleaseDomain } from "../../src/keys/eip712.js";
import { manifestDigest, manifestToJson, signManifest } from "../../src/keys/manifest.js";
import type { SignedManifest } from "../../src/keys/manifest.js";
import { randomBytes } from "../../src/keys/platform.js";
import { DEFAULT_POLICY } from "../../src/keys/seal.js";
import { CONSENT_REGISTRY_ABI } from "../../src/sdk/abi.js";
import { blockHashOf, serveChain } from "./helpers/fake-chain.js";
import type { FakeChain } from "./helpers/fake-chain.js";
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

describe("custodians: the log is written in block order; a release decided at an older block than one logged is refused", () => {
  const dir = tempDir("omni-release-order-");
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("a group is committed in block order; a later release at a block below the last logged one is CHAIN_UNAVAILABLE, unlogged", async () => {
    const store = new CustodianStore(join(dir, "o.db"));
    const log = new ReleaseLog(store);
    const at = (nonce: number, block: number) => ({ ...entry(nonce), block });
    const group = await Promise.all([log.append(at(1, 12)), log.append(at(2, 10)), log.append(at(3, 12))]);
    expect(group.map((e) => [e!.seq, e!.block])).to.deep.equal([
      [2, 12],
      [1, 10],
      [3, 12],
    ]);
    expect(store.releases().map((e) => e.block)).to.deep.equal([10, 12, 12]);
    const late = await log.append(at(4, 11)).then(
      () => "LOGGED",
      (err: Refusal) => `${err.code}: ${err.message}`,
    );
    expect(late).to.equal(
      "CHAIN_UNAVAILABLE: the chain cannot be read right now; nothing was released: decided at block 11, older than block 12 already logged; ask again",
    );
    expect(store.nonceAnswer(REQUESTER, entry(4).nonce)).to.equal(undefined); // its nonce is not spent
    store.close();
    // A restarted custodian reads the last logged block from its store.
    const reopened = new CustodianStore(join(dir, "o.db"));
    const again = new ReleaseLog(reopened);
    expect(await again.append(at(5, 9)).catch((err: Refusal) => err.code)).to.equal("CHAIN_UNAVAILABLE");
    expect((await again.append(at(6, 12)))!.seq).to.equal(4);
    reopened.close();
  });
});

/**
 * The audit of release logs (verifyReleases) on a chain model: head 1000, 12 s blocks, head time =
 * now. P1 has consent on blocks [10, 500) (revoked at 500) and a DataUsed at block 400; P2 has
 * consent from block 10 on and no DataUsed. The owner's manifest asks a use record and 2
 * confirmations.
 */
describe("audit: release logs are checked against the owner's manifest and the head the release was made at", function () {
  this.timeout(60_000);
  const CHAIN_ID = 31337n;
  const REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
  const HEAD = 1000;
  const NOW = Math.floor(Date.now() / 1000);
  const tsOf = (n: number) => NOW - (HEAD - n) * 12;
  const USE_TX_P1 = `0x${"11".repeat(32)}`;
  const owner = Wallet.createRandom();
  const p1 = Wallet.createRandom();
  const p2 = Wallet.createRandom();
  const dataId = keccak256(toUtf8Bytes("asset"));
  const purpose = 3;
  let chain: FakeChain;
  let ahead: FakeChain;
  let m: SignedManifest;
  /** The owner's manifest of an asset that asks no use record. */
  let mPlain: SignedManifest;
  const registryIface = new Interface(CONSENT_REGISTRY_ABI);
  const hasher = new KeyRequestHasher(keyReleaseDomain(CHAIN_ID, REGISTRY));

  const allowed = (grantee: string, block: number) => {
    if (grantee === p1.address.toLowerCase()) return block >= 10 && block < 500;
    if (grantee === p2.address.toLowerCase()) return block >= 10;
    return false;
  };
  const useLog = registryIface.encodeEventLog("DataUsed", [
    owner.address,
    p1.address,
    dataId,
    purpose,
    `0x${"07".padStart(64, "0")}`,
  ]);
  const receipts = new Map<string, unknown>([
    [USE_TX_P1, { status: "0x1", blockNumber: `0x${(400).toString(16)}`, logs: [{ address: REGISTRY, ...useLog }] }],
  ]);

  before(async () => {
    chain = await serveChain({ head: HEAD, tsOf, registry: REGISTRY, allowed, receipts });
    // A test chain whose clock runs ahead of the wall clock (evm_increaseTime, then 1 s blocks mined in a burst).
    ahead = await serveChain({
      head: HEAD,
      tsOf: (n) => NOW + 3600 - (HEAD - n),
      registry: REGISTRY,
      allowed,
      receipts,
    });
    m = await signManifest(owner, {
      chainId: CHAIN_ID,
      registry: REGISTRY,
      owner: owner.address,
      dataId,
      version: 1n,
      cid: cidFromSha256(randomBytes(32)).toString(),
      salt: `0x${"22".repeat(32)}`,
      size: 100n,
      chunkSize: 1 << 20,
      keyCommitment: `0x${"33".repeat(32)}`,
      threshold: 2,
      custodians: [0, 1].map((i) => ({
        url: `http://c${i}`,
        publicKey: `0x${`${i}4`.repeat(32)}`,
        shareCommitment: `0x${"55".repeat(32)}`,
      })),
      policy: DEFAULT_POLICY,
    });
    expect([m.policy.requireUseRecord, m.policy.confirmations]).to.deep.equal([true, 2]);
    const { signature: _s, ...unsigned } = m;
    mPlain = await signManifest(owner, { ...unsigned, policy: { ...DEFAULT_POLICY, requireUseRecord: false } });
  });
  after(async () => {
    await chain?.close();
    await ahead?.close();
  });

  type Fields = Omit<ReleaseEntry, "seq" | "prevHash" | "entryHash">;
  const CUSTODIAN_0 = `0x${"04".repeat(32)}`;
  function release(
    requester: Wallet | typeof owner,
    o: {
      block: number;
      atS: number;
      useTx?: string;
      useBlock?: number | null;
      requireUseRecord?: boolean;
      confirmations?: number;
      manifest?: SignedManifest;
      shareIndex?: number;
      custodian?: string;
    },
  ): Fields {
    const mm = o.manifest ?? m;
    const msg = {
      owner: owner.address,
      dataId,
      version: 1n,
      purpose,
      requester: requester.address,
      ephemeralKey: `0x${"66".repeat(32)}`,
      nonce: keccak256(randomBytes(32)),
      deadline: BigInt(o.atS + 120),
      useTx: o.useTx ?? USE_TX_P1,
    };
    return {
      atMs: o.atS * 1000,
      custodian: o.custodian ?? CUSTODIAN_0,
      chainId: CHAIN_ID.toString(),
      registry: REGISTRY,
      owner: msg.owner,
      requester: msg.requester,
      dataId,
      version: "1",
      purpose,
      nonce: msg.nonce,
      deadline: msg.deadline.toString(),
      ephemeralKey: msg.ephemeralKey,
      useTx: msg.useTx,
      signature: requester.signingKey.sign(hasher.digest(msg)).serialized,
      block: o.block,
      blockHash: blockHashOf(o.block),
      confirmations: o.confirmations ?? 2,
      useBlock: o.useBlock === undefined ? 400 : o.useBlock,
      requireUseRecord: o.requireUseRecord ?? requester !== owner,
      useRecordMaxAge: mm.policy.useRecordMaxAge,
      shareIndex: o.shareIndex ?? 0,
      manifestDigest: manifestDigest(mm),
    };
  }
  const chained = (es: Fields[]): ReleaseEntry[] => {
    let prevHash = GENESIS_HASH;
    return es.map((e, i) => {
      const entryHash = entryHashOf({ ...e, prevHash });
      const out = { ...e, seq: i + 1, prevHash, entryHash };
      prevHash = entryHash;
      return out;
    });
  };
  const exported = (es: Fields[], manifests: SignedManifest[] = [m]) => ({
    entries: chained(es),
    manifests: manifests.map((x) => JSON.parse(manifestToJson(x)) as unknown),
  });
  const verify = (logs: Parameters<typeof verifyReleases>[0], url = chain.url) =>
    verifyReleases(logs, { rpcUrl: url, chainId: CHAIN_ID, registry: REGISTRY });
  const codes = async (logs: Parameters<typeof verifyReleases>[0], url?: string) =>
    (await verify(logs, url)).violations.map((v) => v.code);

  it("controls: a genuine release passes; one after the revocation at its real head is UNCOVERED", async () => {
    expect(await codes([exported([release(p1, { block: 450, atS: tsOf(450) })])])).to.deep.equal([]);
    expect(await codes([exported([release(p1, { block: HEAD, atS: NOW })])])).to.deep.equal(["UNCOVERED"]);
    // The owner's own request: no consent, no use record.
    expect(
      await codes([
        exported([release(owner, { block: HEAD, atS: NOW, useTx: ZeroHash, useBlock: null, confirmations: 2 })]),
      ]),
    ).to.deep.equal([]);
  });

  it("a fresh log costs one round trip per release: the next header travels in the same batch", async () => {
    const before = chain.requests;
    await verify([
      exported([release(p1, { block: 450, atS: tsOf(450) }), release(p1, { block: 460, atS: tsOf(460) })]),
    ]);
    expect(chain.requests - before).to.equal(2);
  });

  it("a release made long after the revocation but logged at an older block where consent held is STALE_HEAD, with the block it should have seen", async () => {
    const r = await verify([exported([release(p1, { block: 450, atS: NOW })])]);
    // The newest block mined by (release time − 10 s slack): block 999 (block 1000 is 0 s old).
    expect(r.violations).to.deep.equal([
      {
        code: "STALE_HEAD",
        custodian: CUSTODIAN_0,
        seq: 1,
        message: `released at ${new Date(NOW * 1000).toISOString()} on block 450, but block 999 (${new Date(tsOf(999) * 1000).toISOString()}) was already mined and consent no longer held there`,
        evidence: {
          loggedBlock: 450,
          nextBlock: 451,
          nextBlockTime: tsOf(451),
          releasedAtMs: NOW * 1000,
          block: 999,
          blockHash: blockHashOf(999),
          blockTime: tsOf(999),
          isAllowed: false,
        },
      },
    ]);
    // A stale head where consent still held at the fresher block is no violation (P2), nor a
    // release within the slack, nor on a chain whose clock runs ahead of the wall clock.
    const plain = release(p2, {
      block: 450,
      atS: NOW,
      useTx: ZeroHash,
      useBlock: null,
      requireUseRecord: false,
      manifest: mPlain,
    });
    expect(await codes([exported([plain], [mPlain])])).to.deep.equal([]);
    expect(await codes([exported([release(p1, { block: 499, atS: tsOf(500) + 9 })])])).to.deep.equal([]);
    const lastBeforeRevocation = exported([release(p1, { block: 499, atS: NOW })]);
    expect(await codes([lastBeforeRevocation], ahead.url)).to.deep.equal([]);
    expect(await codes([lastBeforeRevocation])).to.deep.equal(["STALE_HEAD"]);
  });

  it("block numbers going back along one custodian's log are BLOCK_ORDER", async () => {
    const r = await verify([
      exported([release(p1, { block: 460, atS: tsOf(460) }), release(p1, { block: 450, atS: tsOf(460) })]),
    ]);
    expect(r.violations.map((v) => [v.code, v.seq, v.message, v.evidence])).to.deep.equal([
      [
        "BLOCK_ORDER",
        2,
        "release decided at block 450, after release #1 was decided at block 460: a custodian decides at the latest block",
        { block: 450, previousBlock: 460, previousSeq: 1 },
      ],
    ]);
  });

  it("the policy is the owner's manifest's, not the log's: a release without a use record logged as requireUseRecord=false is NO_USE_RECORD and POLICY_MISMATCH", async () => {
    const weak = release(p2, {
      block: HEAD,
      atS: NOW,
      useTx: ZeroHash,
      useBlock: null,
      requireUseRecord: false,
      confirmations: 0,
    });
    const r = await verify([exported([weak])]);
    expect(r.violations.map((v) => [v.code, v.message, v.evidence])).to.deep.equal([
      [
        "POLICY_MISMATCH",
        "the log's policy is not the owner's manifest's (requireUseRecord, confirmations); the manifest's is applied",
        { requireUseRecord: { logged: false, manifest: true }, confirmations: { logged: 0, manifest: 2 } },
      ],
      ["NO_USE_RECORD", `transaction ${ZeroHash} holds no DataUsed for this release`, { useTx: ZeroHash }],
    ]);
  });

  it("a release whose manifest is not at hand is MANIFEST_MISSING (a bare array of an older log, or an export without it)", async () => {
    const e = release(p1, { block: 450, atS: tsOf(450) });
    const missing = {
      code: "MANIFEST_MISSING",
      custodian: CUSTODIAN_0,
      seq: 1,
      message: `no owner-signed manifest with digest ${manifestDigest(m)} is at hand: the release cannot be checked against the owner's policy`,
      evidence: { manifestDigest: manifestDigest(m) },
    };
    expect((await verify([chained([e])])).violations).to.deep.equal([missing]);
    expect((await verify([exported([e], [])])).violations).to.deep.equal([missing]);
    // Given separately (the owner's store), the same bare log passes.
    const r = await verifyReleases(
      [chained([e])],
      { rpcUrl: chain.url, chainId: CHAIN_ID, registry: REGISTRY },
      { manifests: [m] },
    );
    expect(r.violations).to.deep.equal([]);
  });

  it("a manifest not signed by the owner is MANIFEST_FORGED; one of another custodian slot is MANIFEST_MISMATCH", async () => {
    const mallory = Wallet.createRandom();
    const { signature: _s, ...unsigned } = m;
    const lenient = await signManifest(mallory, {
      ...unsigned,
      policy: { ...m.policy, requireUseRecord: false, confirmations: 0 },
    });
    const e = release(p2, {
      block: HEAD,
      atS: NOW,
      useTx: ZeroHash,
      useBlock: null,
      requireUseRecord: false,
      confirmations: 0,
      manifest: lenient,
    });
    const r = await verify([exported([e], [lenient])]);
    expect(r.violations.map((v) => [v.code, v.evidence])).to.deep.equal([
      ["MANIFEST_FORGED", { manifestDigest: manifestDigest(lenient), owner: owner.address, block: HEAD }],
    ]);
    // The entry names share 1 (custodian 1's key) but the custodian is custodian 0.
    const other = await verify([exported([release(p1, { block: 450, atS: tsOf(450), shareIndex: 1 })])]);
    expect(other.violations.map((v) => [v.code, v.message])).to.deep.equal([
      ["MANIFEST_MISMATCH", `the manifest ${manifestDigest(m)} does not match the release (custodian)`],
    ]);
  });
});
