import { expect } from "chai";
import { Signature } from "ethers";
import { network } from "hardhat";

import { chunkDigests, initialDigest } from "../../src/audit/digest.js";
import { type AuditDb, openAuditDb, syncEvents, verifyHistory, type VerifyResult } from "../../src/audit/index.js";
import type { EventRow, SignedRequestRow } from "../../src/audit/store.js";
import { ALL_DATA, NO_EXPIRY } from "../../src/sdk/constants.js";
import { consentDomain, signConsent } from "../../src/sdk/eip712.js";
import { deploySystem } from "../helpers/fixture.js";

const { ethers } = await network.create();

/**
 * The forged databases of issue 11 §2, each caught — offline by the log digest (the rows no
 * longer hash to what sync stored; the edited block is named) and with `rpc` by comparing the
 * store with the chain (the log, hash or wallet answer that differs, with the chain's value) —
 * while the rule model alone passes most of them: these are the forgeries the old verify missed.
 */

interface Row {
  rowid: number;
  block_number: number;
  log_index: number;
  block_hash: string;
  tx_hash: string;
  event_name: string;
  args_json: string;
}

describe("audit: forged databases are caught with evidence (offline digest and verify --rpc)", function () {
  this.timeout(120_000);
  let db: AuditDb;
  let h: Awaited<ReturnType<typeof history>>;

  async function history() {
    const { admin, accounts, registry, integrations } = await deploySystem(ethers);
    const [a, b, c, d, processor, partner, relayer] = accounts;
    const addr = (await registry.getAddress()).toLowerCase();
    const { chainId } = await ethers.provider.getNetwork();
    const domain = consentDomain(chainId, addr);
    const X = ethers.id("asset-x");
    await integrations.connect(admin).registerIntegration(partner.address, ethers.id("partner"), 0xffn);
    await registry.connect(a).grant(processor.address, ALL_DATA, 0b1000001n, NO_EXPIRY, ethers.ZeroHash);
    await registry.connect(a).grant(partner.address, X, 0b1000000n, NO_EXPIRY, ethers.ZeroHash);
    await registry.connect(processor).recordUse(a.address, X, 0, ethers.id("use-1"));
    await registry.connect(processor).recordShare(a.address, partner.address, X, 6, ethers.id("share-1"));
    await integrations.connect(admin).suspendIntegration(partner.address);
    await integrations.connect(admin).reinstateIntegration(partner.address);
    await registry.connect(processor).recordUse(a.address, X, 0, ethers.id("use-2"));
    await registry.connect(a).revoke(processor.address, ALL_DATA);
    await registry.connect(b).revokeAll(); // b's only lockdown
    await registry.connect(c).revokeAll(); // c: epoch 1
    await registry.connect(c).revokeAll(); // c: epoch 2
    const deadline = BigInt((await ethers.provider.getBlock("latest"))!.timestamp + 3600);
    const signed = await signConsent("Grant", d, domain, {
      owner: d.address,
      grantee: processor.address,
      dataId: X,
      purposes: 1n,
      expiresAt: NO_EXPIRY,
      noticeHash: ethers.ZeroHash,
      epoch: 0n,
      version: 1n,
      deadline,
    });
    const grantBySig = (await (await registry.connect(relayer).grantBySig(signed)).wait())!.hash;
    await registry.connect(processor).recordUse(d.address, X, 0, ethers.id("use-3"));
    return { registry: addr, a, b, c, d, processor, partner, relayer, X, grantBySig };
  }

  before(async () => {
    h = await history();
    db = openAuditDb(":memory:");
    await syncEvents({ db, rpc: ethers.provider, registry: h.registry, progress: "none" });
    const honest = await verifyHistory(db, { rpc: ethers.provider });
    expect([honest.violations, honest.warnings, honest.integrity.findings, honest.ok]).to.deep.equal([
      [],
      [],
      [],
      true,
    ]);
    const meta = db.sql.prepare("SELECT * FROM sync_state").get() as {
      block_number: number;
      block_hash: string;
      integrations: string;
      authority: string;
    };
    checkpoint = { block: meta.block_number, hash: meta.block_hash };
    watched = { integrations: meta.integrations, authority: meta.authority };
    anchored = `anchored to chain 31337 at block ${checkpoint.block} (${checkpoint.hash}), from block 0, registry ${h.registry}`;
    expect(honest.integrity.statement).to.equal(anchored);
    expect([honest.integrity.registry, honest.integrity.fromBlock]).to.deep.equal([h.registry, 0]);
    expect(honest.integrity.chain!.deployment).to.deep.equal({ result: "not-needed" });
  });

  const row = (forged: AuditDb, name: string, n = 0): Row =>
    forged.sql
      .prepare("SELECT rowid, * FROM events WHERE event_name = ? ORDER BY block_number, log_index LIMIT 1 OFFSET ?")
      .get(name, n) as Row;
  const storedDigest = (forged: AuditDb, block: number) =>
    (forged.sql.prepare("SELECT digest FROM log_blocks WHERE block_number = ?").get(block) as { digest: string })
      .digest;
  const insertLike = (forged: AuditDb, like: Row, patch: Partial<Row> & { args?: object; via?: number | null }) =>
    forged.sql
      .prepare(
        `INSERT INTO events (chain_id, block_number, block_hash, log_index, tx_hash, address, event_name, args_json, block_timestamp, via, version)
         SELECT chain_id, block_number, block_hash, ?, ?, address, ?, ?, block_timestamp, ?, ? FROM events WHERE rowid = ?`,
      )
      .run(
        patch.log_index ?? 90,
        patch.tx_hash ?? like.tx_hash,
        patch.event_name ?? like.event_name,
        patch.args ? JSON.stringify(patch.args) : like.args_json,
        patch.via ?? null,
        (patch.args as { version?: string } | undefined)?.version ?? null,
        like.rowid,
      );

  /** Forges a copy; returns the offline and the anchored verdicts. */
  async function forge(
    edit: (forged: AuditDb) => void,
  ): Promise<{ forged: AuditDb; self: VerifyResult; chain: VerifyResult }> {
    const forged = openAuditDb(db.sql.serialize());
    edit(forged);
    const self = await verifyHistory(forged);
    const chain = await verifyHistory(forged, { rpc: ethers.provider });
    expect([self.ok, chain.ok]).to.deep.equal([false, false]);
    expect(self.integrity.statement).to.match(/^self-consistent only/);
    expect(chain.integrity.statement).to.equal(anchored);
    return { forged, self, chain };
  }
  /** What an honest, complete history anchors to (synced from block 0). */
  let anchored: string;
  let checkpoint: { block: number; hash: string };
  let watched: { integrations: string; authority: string };

  /**
   * A forger who can write the file also recomputes every log digest (and the checkpoint's), so
   * the offline check passes: only what verify --rpc compares, or a row sync never writes, shows.
   */
  function recomputeDigests(f: AuditDb): void {
    const meta = f.sql.prepare("SELECT chain_id, registry FROM sync_state").get() as {
      chain_id: number;
      registry: string;
    };
    const events = f.sql.prepare("SELECT * FROM events ORDER BY block_number, log_index").all() as EventRow[];
    const signed = f.sql.prepare("SELECT * FROM signed_requests").all() as SignedRequestRow[];
    const d = chunkDigests(initialDigest(meta.chain_id, meta.registry), events, signed);
    f.sql.prepare("DELETE FROM log_blocks").run();
    const ins = f.sql.prepare("INSERT INTO log_blocks (chain_id, block_number, digest) VALUES (?, ?, ?)");
    for (const b of d.blocks) ins.run(meta.chain_id, b.block, b.digest);
    f.sql.prepare("UPDATE sync_state SET digest = ?").run(d.last);
  }
  /** Forges a copy and recomputes its digests; returns the offline and the anchored verdicts. */
  async function forgeRecomputed(edit: (forged: AuditDb) => void) {
    const forged = openAuditDb(db.sql.serialize());
    edit(forged);
    recomputeDigests(forged);
    return { forged, self: await verifyHistory(forged), chain: await verifyHistory(forged, { rpc: ethers.provider }) };
  }
  /** The registry's first block with code (checked both ways: code there, none in the block before). */
  async function deploymentBlock(): Promise<number> {
    let lo = 0;
    let hi = checkpoint.block;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if ((await ethers.provider.getCode(h.registry, mid)) !== "0x") hi = mid;
      else lo = mid + 1;
    }
    expect(await ethers.provider.getCode(h.registry, hi - 1)).to.equal("0x");
    return hi;
  }
  const rules = (r: VerifyResult) => r.integrity.findings.map((f) => [f.rule, f.block]);
  /** The findings of the comparison with the chain (verify --rpc checks the digest too). */
  const vsChain = (r: VerifyResult) => r.integrity.findings.filter((f) => f.rule !== "log-digest-mismatch");
  /** The offline finding for an edited block: its stored digest and a different recomputed one. */
  const digestFinding = (forged: AuditDb, r: VerifyResult, block: number) => {
    const f = r.integrity.findings.find((x) => x.rule === "log-digest-mismatch" && x.block === block)!;
    expect(f, `digest finding at block ${block}`).to.not.equal(undefined);
    expect(f.evidence.stored).to.equal(storedDigest(forged, block));
    expect(f.evidence.recomputed)
      .to.match(/^[0-9a-f]{64}$/)
      .and.not.equal(f.evidence.stored);
    return f;
  };

  it("a deleted ConsentRevoked (alone, and with a use after it)", async () => {
    const { forged, self, chain } = await forge((f) => {
      const revoke = row(f, "ConsentRevoked");
      f.sql.prepare("DELETE FROM events WHERE rowid = ?").run(revoke.rowid);
    });
    const revoke = row(db, "ConsentRevoked");
    expect(self.violations).to.deep.equal([]); // the rules alone cannot see it
    expect(rules(self)).to.deep.equal([["log-digest-mismatch", revoke.block_number]]);
    expect(digestFinding(forged, self, revoke.block_number).evidence.events).to.equal(0);
    expect(
      chain.integrity.findings.map((x) => [x.rule, x.evidence.block, x.evidence.logIndex, x.evidence.event_name]),
    ).to.deep.include(["log-missing-from-database", revoke.block_number, revoke.log_index, "ConsentRevoked"]);

    const withUse = await forge((f) => {
      const r = row(f, "ConsentRevoked");
      f.sql.prepare("DELETE FROM events WHERE rowid = ?").run(r.rowid);
      const use = row(f, "DataUsed", 2); // d's use, after the revocation
      insertLike(f, use, {
        tx_hash: ethers.id("made-up"),
        args: { ...JSON.parse(row(f, "DataUsed").args_json), evidence: ethers.id("after-revoke") },
      });
    });
    expect(withUse.self.violations).to.deep.equal([]); // the deleted revocation makes the use look covered
    const madeUp = withUse.chain.integrity.findings.find((x) => x.rule === "log-not-on-chain")!;
    expect([madeUp.evidence.txHash, madeUp.evidence.event]).to.deep.equal([ethers.id("made-up"), "DataUsed"]);
    expect(rules(withUse.chain).map((x) => x[0])).to.include.members(["log-missing-from-database", "log-not-on-chain"]);
  });

  it("a made-up use covered by real consent, and a deleted DataUsed", async () => {
    const madeUp = await forge((f) => {
      const use = row(f, "DataUsed");
      insertLike(f, use, {
        tx_hash: ethers.id("invented-tx"),
        args: { ...JSON.parse(use.args_json), evidence: ethers.id("x") },
      });
    });
    const use = row(db, "DataUsed");
    expect(madeUp.self.violations).to.deep.equal([]);
    expect(rules(madeUp.self)).to.deep.equal([["log-digest-mismatch", use.block_number]]);
    expect(digestFinding(madeUp.forged, madeUp.self, use.block_number).evidence.events).to.equal(2);
    expect(madeUp.chain.integrity.findings.find((x) => x.rule === "log-not-on-chain")!.evidence).to.deep.include({
      block: use.block_number,
      logIndex: 90,
      txHash: ethers.id("invented-tx"),
      event: "DataUsed",
    });

    const deleted = await forge((f) =>
      f.sql.prepare("DELETE FROM events WHERE rowid = ?").run(row(f, "DataUsed", 1).rowid),
    );
    const second = row(db, "DataUsed", 1);
    expect(rules(deleted.self)).to.deep.equal([["log-digest-mismatch", second.block_number]]);
    expect(
      vsChain(deleted.chain).map((x) => [x.rule, x.evidence.block, x.evidence.tx_hash, x.evidence.event_name]),
    ).to.deep.equal([["log-missing-from-database", second.block_number, second.tx_hash, "DataUsed"]]);
  });

  it("a widened purpose bitmap plus a use for the new purpose", async () => {
    const grant = row(db, "ConsentGranted", 1); // a → partner on X: THIRD_PARTY_SHARING only
    const wider = { ...JSON.parse(grant.args_json), purposes: String(0b1000000n | 0b100n) };
    const { self, chain } = await forge((f) => {
      f.sql.prepare("UPDATE events SET args_json = ? WHERE rowid = ?").run(JSON.stringify(wider), grant.rowid);
      const use = row(f, "DataUsed");
      insertLike(f, use, {
        tx_hash: ethers.id("inference-use"),
        args: { ...JSON.parse(use.args_json), processor: h.partner.address.toLowerCase(), purpose: "2" },
      });
    });
    expect(self.violations).to.deep.equal([]); // the widened consent covers the use
    const differs = chain.integrity.findings.find((x) => x.rule === "log-differs-from-chain")!;
    expect(differs.evidence).to.deep.equal({
      block: grant.block_number,
      logIndex: grant.log_index,
      differences: { args_json: { stored: JSON.stringify(wider), chain: grant.args_json } },
    });
    expect(rules(self).map((x) => x[0])).to.deep.equal(["log-digest-mismatch", "log-digest-mismatch"]);
  });

  it("a signed grant altered with erc1271_valid = 1, and a new signed grant with an all-zero signature and erc1271_valid = 1", async () => {
    const grant = db.sql
      .prepare("SELECT rowid, * FROM events WHERE tx_hash = ? AND event_name = 'ConsentGranted'")
      .get(h.grantBySig) as Row;
    const D = h.d.address.toLowerCase();
    const altered = await forge((f) => {
      const args = { ...JSON.parse(grant.args_json), purposes: "3" };
      f.sql.prepare("UPDATE events SET args_json = ? WHERE rowid = ?").run(JSON.stringify(args), grant.rowid);
      const req = f.sql.prepare("SELECT args_json FROM signed_requests WHERE tx_hash = ?").get(h.grantBySig) as {
        args_json: string;
      };
      f.sql
        .prepare("UPDATE signed_requests SET args_json = ?, erc1271_valid = 1 WHERE tx_hash = ?")
        .run(JSON.stringify({ ...JSON.parse(req.args_json), purposes: "3" }), h.grantBySig);
    });
    // The signature no longer recovers to d; the row claims d's "wallet" said yes — d has no code.
    expect(altered.self.violations).to.deep.equal([]);
    const answer = altered.chain.integrity.findings.find((x) => x.rule === "erc1271-answer-differs")!;
    expect(answer.evidence).to.deep.include({ tx: h.grantBySig, index: 0, owner: D, stored: 1, chain: 0 });
    expect(rules(altered.chain).map((x) => x[0])).to.include.members([
      "log-differs-from-chain",
      "erc1271-answer-differs",
    ]);

    const fakeTx = ethers.id("zero-signature-grant");
    const created = await forge((f) => {
      const args = { ...JSON.parse(grant.args_json), grantee: h.partner.address.toLowerCase(), version: "1" };
      insertLike(f, grant, { tx_hash: fakeTx, args, via: 2 });
      f.sql
        .prepare(
          `INSERT INTO signed_requests (chain_id, block_number, tx_hash, item_index, kind, owner, args_json, epoch, version, deadline, signature, erc1271_valid)
           SELECT chain_id, block_number, ?, 0, kind, owner, ?, epoch, version, deadline, ?, 1 FROM signed_requests WHERE tx_hash = ?`,
        )
        .run(
          fakeTx,
          JSON.stringify({
            ...JSON.parse(
              (
                f.sql.prepare("SELECT args_json FROM signed_requests WHERE tx_hash = ?").get(h.grantBySig) as {
                  args_json: string;
                }
              ).args_json,
            ),
            grantee: h.partner.address.toLowerCase(),
          }),
          `0x${"00".repeat(65)}`,
          h.grantBySig,
        );
    });
    expect(created.self.violations).to.deep.equal([]);
    expect(rules(created.self)).to.deep.equal([["log-digest-mismatch", grant.block_number]]);
    expect(digestFinding(created.forged, created.self, grant.block_number).evidence.signedRequests).to.equal(2);
    const found = Object.fromEntries(created.chain.integrity.findings.map((x) => [x.rule, x.evidence]));
    expect(found["log-not-on-chain"]).to.deep.include({ txHash: fakeTx, event: "ConsentGranted" });
    expect(found["erc1271-answer-differs"]).to.deep.include({ tx: fakeTx, owner: D, stored: 1, chain: 0 });
  });

  it("a signed grant rewritten as owner-sent with its request row deleted", async () => {
    const grant = db.sql
      .prepare("SELECT rowid, * FROM events WHERE tx_hash = ? AND event_name = 'ConsentGranted'")
      .get(h.grantBySig) as Row;
    const D = h.d.address.toLowerCase();
    const ownerSent = { ...JSON.parse(grant.args_json), actor: D, version: "65536" };
    const { self, chain } = await forge((f) => {
      f.sql
        .prepare("UPDATE events SET args_json = ?, via = 0, version = '65536' WHERE rowid = ?")
        .run(JSON.stringify(ownerSent), grant.rowid);
      f.sql.prepare("DELETE FROM signed_requests WHERE tx_hash = ?").run(h.grantBySig);
    });
    expect(self.violations).to.deep.equal([]); // consistent as an owner's own grant
    expect(self.signaturesChecked).to.equal(0);
    expect(rules(self)).to.deep.equal([["log-digest-mismatch", grant.block_number]]);
    expect(chain.integrity.findings.find((x) => x.rule === "log-differs-from-chain")!.evidence).to.deep.equal({
      block: grant.block_number,
      logIndex: grant.log_index,
      differences: { args_json: { stored: JSON.stringify(ownerSent), chain: grant.args_json } },
    });
  });

  it("a deleted only revoke-all, and one deleted with the later one renumbered", async () => {
    const onlyB = row(db, "AllConsentsRevoked", 0);
    const only = await forge((f) =>
      f.sql.prepare("DELETE FROM events WHERE rowid = ?").run(row(f, "AllConsentsRevoked", 0).rowid),
    );
    expect(only.self.violations).to.deep.equal([]);
    expect(rules(only.self)).to.deep.equal([["log-digest-mismatch", onlyB.block_number]]);
    expect(vsChain(only.chain).map((x) => [x.rule, x.evidence.block, x.evidence.event_name])).to.deep.equal([
      ["log-missing-from-database", onlyB.block_number, "AllConsentsRevoked"],
    ]);

    const [c1, c2] = [row(db, "AllConsentsRevoked", 1), row(db, "AllConsentsRevoked", 2)];
    const renumbered = { ...JSON.parse(c2.args_json), newEpoch: "1" };
    const re = await forge((f) => {
      f.sql.prepare("DELETE FROM events WHERE rowid = ?").run(c1.rowid);
      f.sql.prepare("UPDATE events SET args_json = ? WHERE rowid = ?").run(JSON.stringify(renumbered), c2.rowid);
    });
    expect(re.self.violations).to.deep.equal([]); // epochs 0 → 1 look gapless
    expect(rules(re.self)).to.deep.equal([
      ["log-digest-mismatch", c1.block_number],
      ["log-digest-mismatch", c2.block_number],
    ]);
    expect(vsChain(re.chain).map((x) => x.rule)).to.deep.equal(["log-missing-from-database", "log-differs-from-chain"]);
  });

  it("a deleted IntegrationSuspended plus a share in that window", async () => {
    const suspended = row(db, "IntegrationSuspended");
    const share = row(db, "DataShared");
    const { self, chain } = await forge((f) => {
      f.sql
        .prepare(
          `INSERT INTO events (chain_id, block_number, block_hash, log_index, tx_hash, address, event_name, args_json, block_timestamp, via, version)
           SELECT chain_id, ?, block_hash, 7, ?, ?, 'DataShared', ?, block_timestamp, NULL, NULL FROM events WHERE rowid = ?`,
        )
        .run(suspended.block_number, ethers.id("share-while-suspended"), h.registry, share.args_json, suspended.rowid);
      f.sql.prepare("DELETE FROM events WHERE rowid = ?").run(suspended.rowid);
    });
    expect(self.violations).to.deep.equal([]);
    expect(rules(self)).to.deep.equal([["log-digest-mismatch", suspended.block_number]]);
    expect(vsChain(chain).map((x) => [x.rule, x.evidence.block])).to.deep.equal([
      ["log-missing-from-database", suspended.block_number],
      ["log-not-on-chain", suspended.block_number],
    ]);
  });

  it("garbage block and transaction hashes", async () => {
    const use = row(db, "DataUsed");
    const garbage = `0x${"de".repeat(32)}`;
    const { self, chain } = await forge((f) => {
      f.sql.prepare("UPDATE events SET block_hash = ? WHERE rowid = ?").run(garbage, use.rowid);
      f.sql.prepare("UPDATE events SET tx_hash = ? WHERE rowid = ?").run(garbage, row(f, "DataShared").rowid);
    });
    const share = row(db, "DataShared");
    expect(self.violations).to.deep.equal([]);
    expect(rules(self)).to.deep.equal([
      ["log-digest-mismatch", use.block_number],
      ["log-digest-mismatch", share.block_number],
    ]);
    expect(vsChain(chain).map((x) => x.evidence)).to.deep.equal([
      {
        block: use.block_number,
        logIndex: use.log_index,
        differences: { block_hash: { stored: garbage, chain: use.block_hash } },
      },
      {
        block: share.block_number,
        logIndex: share.log_index,
        differences: { tx_hash: { stored: garbage, chain: share.tx_hash } },
      },
    ]);
  });

  it("an orphaned signed-request row", async () => {
    const { self, chain } = await forge((f) =>
      f.sql
        .prepare(
          `INSERT INTO signed_requests (chain_id, block_number, tx_hash, item_index, kind, owner, args_json, epoch, version, deadline, signature, erc1271_valid)
           SELECT chain_id, block_number, tx_hash, 5, kind, owner, args_json, epoch, '2', deadline, signature, NULL FROM signed_requests WHERE tx_hash = ?`,
        )
        .run(h.grantBySig),
    );
    const block = (
      db.sql.prepare("SELECT block_number FROM signed_requests WHERE tx_hash = ?").get(h.grantBySig) as {
        block_number: number;
      }
    ).block_number;
    for (const r of [self, chain]) {
      const orphan = r.integrity.findings.find((x) => x.rule === "signed-request-orphaned")!;
      expect([
        orphan.block,
        orphan.evidence.tx_hash,
        orphan.evidence.item_index,
        orphan.evidence.version,
      ]).to.deep.equal([block, h.grantBySig, 5, "2"]);
    }
    expect(rules(self)).to.deep.equal([
      ["log-digest-mismatch", block],
      ["signed-request-orphaned", block],
    ]);
  });
  /** Every block below `from` that still holds rows, as the digest check names it. */
  const rowsBelow = (f: AuditDb, from: number) =>
    (
      f.sql
        .prepare(
          `SELECT b AS block, SUM(e) AS events, SUM(s) AS signedRequests FROM (
             SELECT block_number AS b, 1 AS e, 0 AS s FROM events UNION ALL SELECT block_number, 0, 1 FROM signed_requests
           ) WHERE b < ? GROUP BY b ORDER BY b`,
        )
        .all(from) as { block: number; events: number; signedRequests: number }[]
    ).map((x) => ({ ...x, fromBlock: from, storedDigest: storedDigest(f, x.block) }));
  const headersBelow = (f: AuditDb, from: number) =>
    (
      f.sql
        .prepare(
          "SELECT block_number AS number, block_hash AS hash, block_timestamp AS timestamp FROM block_hashes WHERE block_number < ? ORDER BY block_number",
        )
        .all(from) as { number: number; hash: string; timestamp: number }[]
    ).map((x) => ({ block: x.number, fromBlock: from, keptHeader: x }));

  it("from_block raised past a deleted ConsentRevoked, digests recomputed: rows below the start and the registry's earlier code are findings", async () => {
    const revoke = row(db, "ConsentRevoked");
    const from = revoke.block_number + 1;
    const { forged, self, chain } = await forgeRecomputed((f) => {
      // Hide a's withdrawal from the processor, and the first use of a's data.
      f.sql.prepare("DELETE FROM events WHERE rowid IN (?, ?)").run(revoke.rowid, row(f, "DataUsed").rowid);
      f.sql.prepare("UPDATE sync_state SET from_block = ?").run(from);
    });
    const below = [
      ...rowsBelow(forged, from).map((e) => ["row-below-sync-start", e.block, e]),
      ...headersBelow(forged, from).map((e) => ["row-below-sync-start", e.block, e]),
    ];
    expect(below.length).to.be.greaterThan(5);
    const findings = (r: VerifyResult) => r.integrity.findings.map((f) => [f.rule, f.block, f.evidence]);
    expect(findings(self)).to.deep.equal(below);
    const first = self.integrity.findings[0];
    expect(first.message).to.equal(
      `block ${first.block} holds ${first.evidence.events} event(s) and 0 signed request(s) below the block the sync started at (${from}): sync never writes there, and verify --rpc does not compare them with the chain`,
    );
    const D = await deploymentBlock();
    const late = {
      registry: h.registry,
      fromBlock: from,
      deploymentBlock: D,
      exact: true,
    };
    expect(findings(chain)).to.deep.equal([["history-starts-after-deployment", from, late], ...below]);
    expect(chain.integrity.findings[0].message).to.equal(
      `the sync started at block ${from}, but registry ${h.registry} has code since block ${D}: its events of blocks ${D}..${from - 1} were not checked (nor are they in the database); sync again with --from-block ${D} or lower`,
    );
    expect(chain.integrity.statement).to.equal(
      `anchored to chain 31337 at block ${checkpoint.block} (${checkpoint.hash}), from block ${from}, registry ${h.registry}; the registry has code since block ${D}: blocks ${D}..${from - 1} were not checked`,
    );
    expect([self.ok, chain.ok, chain.integrity.chain!.deployment]).to.deep.equal([
      false,
      false,
      { result: "before-start", block: D },
    ]);

    // With every row below the start deleted too, offline verify cannot tell; the chain can.
    const bare = await forgeRecomputed((f) => {
      for (const t of ["events", "signed_requests", "block_hashes"])
        f.sql.prepare(`DELETE FROM ${t} WHERE block_number < ?`).run(from);
      f.sql.prepare("UPDATE sync_state SET from_block = ?").run(from);
    });
    // (The rules still trip over the missing purpose catalogue; the record itself looks intact.)
    expect(bare.self.integrity.findings).to.deep.equal([]);
    expect([bare.chain.ok, findings(bare.chain)]).to.deep.equal([
      false,
      [["history-starts-after-deployment", from, late]],
    ]);

    // A start past the checkpoint itself (nothing compared at all).
    const past = await forgeRecomputed((f) =>
      f.sql.prepare("UPDATE sync_state SET from_block = block_number + 2").run(),
    );
    expect(findings(past.self).slice(-1)).to.deep.equal([
      [
        "sync-start-after-checkpoint",
        checkpoint.block,
        { fromBlock: checkpoint.block + 2, checkpoint: checkpoint.block },
      ],
    ]);
    expect(past.chain.integrity.findings[0].evidence).to.deep.equal({ ...late, fromBlock: checkpoint.block + 2 });
  });

  it("a sync started at the registry's deployment block anchors; a row forged below its start is a finding", async () => {
    const D = await deploymentBlock();
    const g = openAuditDb(":memory:");
    await syncEvents({ db: g, rpc: ethers.provider, registry: h.registry, fromBlock: D, progress: "none" });
    const honest = await verifyHistory(g, { rpc: ethers.provider });
    expect([honest.ok, honest.violations, honest.integrity.findings]).to.deep.equal([true, [], []]);
    expect(honest.integrity.statement).to.equal(
      `anchored to chain 31337 at block ${checkpoint.block} (${checkpoint.hash}), from block ${D}, registry ${h.registry}`,
    );
    expect(honest.integrity.chain!.deployment).to.deep.equal({ result: "after-start" });
    // A node that keeps no state of old blocks cannot tell whether the registry existed before: said so.
    const pruned = {
      send: (method: string, params: unknown[]) =>
        method === "eth_getCode" && params[1] !== "latest"
          ? Promise.reject(
              Object.assign(new Error("missing trie node"), { error: { code: -32000, message: "missing trie node" } }),
            )
          : ethers.provider.send(method, params),
    };
    const unsure = await verifyHistory(g, { rpc: pruned });
    expect([unsure.ok, unsure.integrity.findings, unsure.integrity.chain!.deployment]).to.deep.equal([
      true,
      [],
      { result: "unknown", reason: `the node keeps no state of block ${D - 1} (missing trie node)` },
    ]);
    expect(unsure.integrity.statement).to.equal(
      `anchored to chain 31337 at block ${checkpoint.block} (${checkpoint.hash}), from block ${D}, registry ${h.registry}; whether the registry had events before block ${D} was not checked: the node keeps no state of block ${D - 1} (missing trie node)`,
    );

    const forged = openAuditDb(g.sql.serialize());
    const use = forged.sql.prepare("SELECT * FROM events WHERE event_name = 'DataUsed' LIMIT 1").get() as EventRow;
    forged.sql
      .prepare(
        `INSERT INTO events (chain_id, block_number, block_hash, log_index, tx_hash, address, event_name, args_json, block_timestamp, via, version)
         VALUES (?, ?, ?, 0, ?, ?, 'DataUsed', ?, ?, NULL, NULL)`,
      )
      .run(
        use.chain_id,
        D - 1,
        ethers.id("fake-block"),
        ethers.id("fake-tx"),
        use.address,
        JSON.stringify({ ...JSON.parse(use.args_json), evidence: ethers.id("never-happened") }),
        use.block_timestamp - 100,
      );
    recomputeDigests(forged);
    const r = await verifyHistory(forged, { rpc: ethers.provider });
    expect(r.integrity.findings.map((f) => [f.rule, f.block, f.evidence])).to.deep.equal([
      [
        "row-below-sync-start",
        D - 1,
        { block: D - 1, fromBlock: D, events: 1, signedRequests: 0, storedDigest: storedDigest(forged, D - 1) },
      ],
    ]);
  });

  it("the watched integrations and authority are the registry's: another address (its rows deleted) is watched-address-differs", async () => {
    const dead = "0x000000000000000000000000000000000000dead";
    const at = `0x${checkpoint.block.toString(16)}`;
    for (const field of ["integrations", "authority"] as const) {
      const { self, chain } = await forgeRecomputed((f) => {
        f.sql.prepare("DELETE FROM events WHERE address = ?").run(watched[field]);
        f.sql.prepare(`UPDATE sync_state SET ${field} = ?`).run(dead);
      });
      expect(self.integrity.findings).to.deep.equal([]);
      expect(chain.integrity.findings.map((f) => [f.rule, f.block, f.evidence])).to.deep.equal([
        [
          "watched-address-differs",
          checkpoint.block,
          { field, registry: h.registry, stored: dead, chain: watched[field], at },
        ],
      ]);
      expect(chain.integrity.findings[0].message).to.equal(
        `the database watches ${dead} as the registry's ${field}, but registry ${h.registry} answers ${field}() = ${watched[field]} at block ${checkpoint.block}: its events are another contract's`,
      );
      expect(chain.ok).to.equal(false);
      // Without its suspension and reinstatement the partner looks never registered: the share
      // is framed as a violation, which the finding explains.
      if (field === "integrations")
        expect(chain.violations.map((v) => v.rule)).to.deep.equal(["share-to-inactive-integration"]);
    }
  });

  it("a signed request rewritten as an internal marker, or its signature in EIP-2098 form: signed-request-differs-from-calldata", async () => {
    const orig = db.sql
      .prepare("SELECT * FROM signed_requests WHERE tx_hash = ?")
      .get(h.grantBySig) as SignedRequestRow;
    const marker = JSON.stringify({ to: "0x000000000000000000000000000000000000beef", selector: "0x12345678" });
    const internal = await forgeRecomputed((f) =>
      f.sql
        .prepare(
          `UPDATE signed_requests SET kind = 'internal', owner = '', args_json = ?, epoch = NULL, version = NULL, deadline = NULL, signature = NULL, erc1271_valid = NULL WHERE tx_hash = ?`,
        )
        .run(marker, h.grantBySig),
    );
    // Offline, the rules can only warn that the signature was not checked.
    expect([internal.self.ok, internal.self.warnings.map((w) => w.rule)]).to.deep.equal([
      true,
      ["signature-unverifiable-internal"],
    ]);
    expect(vsChain(internal.chain).map((f) => [f.rule, f.block, f.evidence])).to.deep.equal([
      [
        "signed-request-differs-from-calldata",
        orig.block_number,
        {
          tx: h.grantBySig,
          index: 0,
          differences: {
            kind: { stored: "internal", chain: "Grant" },
            owner: { stored: "", chain: orig.owner },
            args_json: { stored: marker, chain: orig.args_json },
            epoch: { stored: null, chain: orig.epoch },
            version: { stored: null, chain: orig.version },
            deadline: { stored: null, chain: orig.deadline },
            signature: { stored: null, chain: orig.signature },
          },
        },
      ],
    ]);
    expect(internal.chain.integrity.findings[0].message).to.equal(
      `signed request 0 of tx ${h.grantBySig}: the database's internal row differs from the Grant row of the transaction's calldata in kind, owner, args_json, epoch, version, deadline, signature`,
    );

    const compact = Signature.from(orig.signature!).compactSerialized;
    const short = await forgeRecomputed((f) =>
      f.sql.prepare("UPDATE signed_requests SET signature = ? WHERE tx_hash = ?").run(compact, h.grantBySig),
    );
    expect([short.self.ok, short.chain.ok]).to.deep.equal([true, false]);
    expect(short.chain.integrity.findings.map((f) => [f.rule, f.evidence])).to.deep.equal([
      [
        "signed-request-differs-from-calldata",
        { tx: h.grantBySig, index: 0, differences: { signature: { stored: compact, chain: orig.signature } } },
      ],
    ]);
  });

  it("via and version columns that disagree with their row's content: derived-column-mismatch for each", async () => {
    const forged = openAuditDb(db.sql.serialize());
    forged.sql.prepare("UPDATE events SET version = '999' WHERE event_name = 'ConsentGranted'").run();
    forged.sql.prepare("UPDATE events SET via = 1 WHERE event_name = 'DataUsed'").run();
    forged.sql.prepare("UPDATE events SET via = NULL WHERE event_name = 'ConsentRevoked'").run();
    const original = db.sql
      .prepare(
        "SELECT * FROM events WHERE event_name IN ('ConsentGranted', 'DataUsed', 'ConsentRevoked') ORDER BY block_number, log_index",
      )
      .all() as EventRow[];
    const expected = original.map((r) => {
      const [column, stored, derived] =
        r.event_name === "ConsentGranted"
          ? ["version", "999", r.version]
          : r.event_name === "DataUsed"
            ? ["via", 1, null]
            : ["via", null, r.via];
      return [
        "derived-column-mismatch",
        r.block_number,
        { block: r.block_number, logIndex: r.log_index, event: r.event_name, column, stored, derived },
      ];
    });
    expect(original.filter((r) => r.event_name === "ConsentRevoked").map((r) => r.via)).to.deep.equal([0]);
    expect(expected.length).to.equal(7);
    for (const r of [await verifyHistory(forged), await verifyHistory(forged, { rpc: ethers.provider })]) {
      // Outside the digest and the chain's logs: only this check sees them.
      expect(r.integrity.findings.map((f) => [f.rule, f.block, f.evidence])).to.deep.equal(expected);
    }
    const grant = original[0];
    expect((await verifyHistory(forged)).integrity.findings[0].message).to.equal(
      `block ${grant.block_number} log ${grant.log_index}: the ConsentGranted row's version column is "999", but its content says "${grant.version}"`,
    );
  });
});
