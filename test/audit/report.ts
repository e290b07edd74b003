import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { expect } from "chai";
import { network } from "hardhat";

import {
  buildReport,
  type EventRow,
  expiryText,
  ownerScoped,
  stateAt,
  syncEvents,
  writeReport,
} from "../../src/audit/index.js";
import { ALL_DATA, NO_EXPIRY } from "../../src/sdk/constants.js";
import { deploySystem } from "../helpers/fixture.js";
import { rejection } from "./helpers/chain.js";
import { backends } from "./helpers/stores.js";

const { ethers, networkHelpers } = await network.create();

for (const backend of backends())
  describe(`audit: state and reports (${backend.name})`, function () {
    this.timeout(60_000);
    const dir = mkdtempSync(join(tmpdir(), "omni-report-"));
    after(() => rmSync(dir, { recursive: true, force: true }));

    it("builds subject-access, processor and Art. 30 reports in JSON, CSV and self-contained HTML", async () => {
      const { admin, accounts, registry, integrations } = await deploySystem(ethers);
      const [owner, processor, partner, other] = accounts;
      const o = owner.address.toLowerCase();
      const p = processor.address.toLowerCase();
      const data = ethers.id("photos");
      await integrations.connect(admin).registerIntegration(partner.address, ethers.id("partner"), 0b1000100n);
      const expiresAt = (await networkHelpers.time.latest()) + 3600;
      await registry.connect(owner).grant(processor.address, ALL_DATA, 0b101n, expiresAt, ethers.id("notice-v1"));
      await registry.connect(owner).grant(partner.address, data, 0b100n, NO_EXPIRY, ethers.id("notice-v1"));
      await registry.connect(owner).setManager(other.address, true);
      const use1 = await (
        await registry.connect(processor).recordUse(owner.address, data, 0, ethers.id("job-1"))
      ).wait();
      const use2 = await (
        await registry.connect(processor).recordUse(owner.address, data, 2, ethers.id("job-2"))
      ).wait();
      const share = await (
        await registry.connect(processor).recordShare(owner.address, partner.address, data, 2, ethers.id("share-1"))
      ).wait();
      await registry.connect(other).revokeFor(owner.address, partner.address, data);

      const db = await backend.open(join(dir, "r.db"));
      await syncEvents({ db, rpc: ethers.provider, registry: await registry.getAddress(), progress: "none" });

      const state = (await stateAt(db)).toJSON();
      expect(
        state.consents.map((c) => [
          c.owner,
          c.grantee,
          c.dataId,
          c.purposes,
          c.expiresAt,
          c.epoch,
          c.version,
          c.active,
        ]),
      ).to.deep.equal([[o, p, ALL_DATA, [0, 2], String(expiresAt), "0", "65536", true]]);
      expect(state.managers).to.deep.equal([{ owner: o, manager: other.address.toLowerCase() }]);
      expect(state.integrations).to.deep.equal([
        {
          address: partner.address.toLowerCase(),
          status: "Active",
          purposes: [2, 6],
          metadataHash: ethers.id("partner"),
          since: state.integrations[0].since,
        },
      ]);
      expect(state.purposes.map((x) => x.name)).to.deep.equal([
        "MODEL_TRAINING",
        "FINE_TUNING",
        "INFERENCE",
        "EVALUATION",
        "ANALYTICS",
        "PRODUCT_IMPROVEMENT",
        "THIRD_PARTY_SHARING",
        "RESEARCH",
      ]);
      // After the expiry the consent is no longer active at that time.
      expect((await stateAt(db, undefined, { timestamp: expiresAt })).consents()[0].active).to.equal(false);
      expect((await stateAt(db, undefined, { timestamp: expiresAt - 1 })).consents()[0].active).to.equal(true);

      const owned = await buildReport(db, { kind: "owner", subject: owner.address });
      // Through the owner index: the same report.
      const viaIndex = await buildReport(ownerScoped(db, owner.address), {
        kind: "owner",
        subject: owner.address,
        generatedAt: owned.generatedAt,
      });
      expect(viaIndex).to.deep.equal(owned);
      expect(owned.summary).to.deep.equal({
        activeConsents: 1,
        consentChanges: 3,
        uses: 2,
        shares: 1,
        revokeAllEpoch: "0",
      });
      const section = (name: string) => owned.sections.find((s) => s.name === name)!.rows;
      expect(section("uses").map((r) => [r.tx, r.party, r.purposes])).to.deep.equal([
        [use1!.hash, p, "MODEL_TRAINING"],
        [use2!.hash, p, "INFERENCE"],
      ]);
      expect(section("shares").map((r) => [r.tx, r.party, r.recipient, r.purposes])).to.deep.equal([
        [share!.hash, p, partner.address.toLowerCase(), "INFERENCE"],
      ]);
      expect(section("consents").map((r) => [r.party, r.dataId, r.purposes, r.expiresAt, r.status])).to.deep.equal([
        [p, "ALL_DATA", "MODEL_TRAINING INFERENCE", new Date(expiresAt * 1000).toISOString(), "active"],
      ]);
      expect(section("history").map((r) => r.status)).to.deep.equal(["granted", "granted", "withdrawn"]);
      // The manager's revocation moved the key (owner, partner, data) to generation 2.
      expect(section("history")[2].detail).to.equal(`by ${other.address.toLowerCase()} via Manager; version 131072`);
      expect(section("consents")[0].detail).to.equal(
        `notice ${ethers.id("notice-v1")}; version 65536; covers every data id of the owner, also those whose specific consent was withdrawn`,
      );

      const proc = await buildReport(db, { kind: "processor", subject: processor.address });
      expect(proc.summary).to.deep.equal({
        activeConsents: 1,
        uses: 2,
        sharesSent: 1,
        sharesReceived: 0,
        integration: "not an integration",
      });

      const ropa = await buildReport(db, { kind: "ropa" });
      const rows = ropa.sections[0].rows;
      expect(rows.length).to.equal(8);
      expect(rows[2].purposes).to.equal("INFERENCE");
      expect(rows[2].recipient).to.equal(`${partner.address.toLowerCase()} (Active)`);
      expect(rows[2].detail).to.match(/^dpv:ServiceProvision: .*; 1 uses, 1 shares; metadata 0x[0-9a-f]{64}$/);
      expect(ropa.summary).to.deep.equal({
        purposes: 8,
        liveConsents: 1,
        dataSubjects: 1,
        integrations: 1,
        uses: 2,
        shares: 1,
      });

      const csvPath = join(dir, "owner.csv");
      await writeReport(db, { kind: "owner", subject: owner.address, format: "csv", out: csvPath });
      const csv = readFileSync(csvPath, "utf8").trim().split("\n");
      expect(csv[0]).to.equal("section,block,time,tx,owner,party,recipient,dataId,purposes,expiresAt,status,detail");
      expect(csv.length).to.equal(1 + 1 + 1 + 3 + 2 + 1); // header, consent, manager, history, uses, shares

      const htmlPath = join(dir, "owner.html");
      await writeReport(db, { kind: "owner", subject: owner.address, format: "html", out: htmlPath });
      const html = readFileSync(htmlPath, "utf8");
      expect(html.startsWith("<!doctype html>")).to.equal(true);
      expect(html.match(/<svg /g)?.length).to.equal(3);
      expect(html).to.not.match(/<script|<link|\ssrc=|\shref=|url\(/i); // self-contained
      expect(html).to.include(use1!.hash);

      const json = JSON.parse((await writeReport(db, { kind: "ropa", format: "json" })).text) as {
        kind: string;
        view: { kind: string; totals: Record<string, number> };
      };
      expect(json.kind).to.equal("ropa");
      // The JSON holds the views' data the HTML renders (the dashboard's model).
      expect(json.view.kind).to.equal("ropa");
      expect(json.view.totals).to.deep.equal({ liveConsents: 1, dataSubjects: 1, uses: 2, shares: 1 });
      expect(owned.view?.kind).to.equal("owner");
      // Names in the HTML when the caller knows them; the hex stays one click away.
      const named = (
        await writeReport(db, {
          kind: "owner",
          subject: owner.address,
          format: "html",
          accounts: { [processor.address]: "trainer-A" },
        })
      ).text;
      expect(named).to.include('<summary><span class="name">trainer-A</span></summary>');
      expect(named).to.include(`<code class="hex">${p}</code>`);
      expect((await rejection(buildReport(db, { kind: "owner", subject: "bob" }))).message).to.include(
        "the owner report needs --owner <0x address>",
      );
      await db.close();
    });
    it("a lockdown ends consents and managers in the state and the owner report; expiry and epoch are exact", async () => {
      const { accounts, registry } = await deploySystem(ethers);
      const [owner, processor, manager] = accounts;
      const o = owner.address.toLowerCase();
      const data = ethers.id("photos");
      await registry.connect(owner).grant(processor.address, data, 0b1n, NO_EXPIRY, ethers.id("n"));
      await registry.connect(owner).setManager(manager.address, true);
      const db = await backend.open();
      const addr = await registry.getAddress();
      await syncEvents({ db, rpc: ethers.provider, registry: addr, progress: "none" });
      const before = await ethers.provider.getBlockNumber();
      expect((await stateAt(db)).toJSON().managers).to.deep.equal([
        { owner: o, manager: manager.address.toLowerCase() },
      ]);

      await registry.connect(manager).revokeAllFor(owner.address);
      await syncEvents({ db, rpc: ethers.provider, registry: addr, progress: "none" });
      const head = await ethers.provider.getBlockNumber();
      const state = await stateAt(db);
      expect(await registry.isManager(owner.address, manager.address)).to.equal(false);
      expect(state.isManager(owner.address, manager.address)).to.equal(false);
      expect(state.toJSON().managers).to.deep.equal([]);
      expect(state.toJSON().epochs).to.deep.equal({ [o]: "1" });
      expect(state.consent(owner.address, processor.address, data)).to.deep.equal({
        purposes: 1n,
        expiresAt: 0n,
        epoch: 0n,
        version: 65536n,
        active: false,
      });
      const c = await registry.getConsent(owner.address, processor.address, data);
      expect([c.purposes, c.expiresAt, c.epoch, c.version, c.active]).to.deep.equal([1n, 0n, 0n, 65536n, false]);
      // The state one block before the lockdown still has the manager.
      expect((await stateAt(db, before)).isManager(owner.address, manager.address)).to.equal(true);

      const rep = await buildReport(db, { kind: "owner", subject: owner.address });
      const section = (name: string) => rep.sections.find((s) => s.name === name)!.rows;
      expect(section("managers")).to.deep.equal([]);
      expect(section("consents").map((r) => r.status)).to.deep.equal(["withdrawn (revoke-all)"]);
      expect(section("history").map((r) => [r.status, r.detail])).to.deep.equal([
        ["granted", `by ${o} via Owner; version 65536; notice ${ethers.id("n")}`],
        [
          "withdrew all",
          `lockdown to epoch 1 by ${manager.address.toLowerCase()} via Manager: every consent, signed message and manager of earlier epochs ended`,
        ],
      ]);
      expect(rep.summary.revokeAllEpoch).to.equal("1");

      // audit state --block past the last synced block is refused, naming it.
      expect((await rejection(stateAt(db, head + 1))).message).to.include(
        `block ${head + 1} is past the last synced block ${head} of chain 31337: the database does not know what happened after it; run \`omni-consent audit sync\` first, or ask for a block up to ${head}`,
      );
      expect((await stateAt(db, head)).block).to.equal(head);

      // 64-bit values read exactly (a forged row: the ABI's uint40 / uint32 cannot carry them).
      const top = 2n ** 64n - 1n;
      const ts = (await ethers.provider.getBlock(head))!.timestamp;
      const forged: EventRow = {
        chain_id: 31337,
        block_number: head,
        block_hash: ethers.ZeroHash,
        log_index: 5,
        tx_hash: ethers.id("forged"),
        address: addr.toLowerCase(),
        event_name: "ConsentGranted",
        args_json: JSON.stringify({
          owner: o,
          grantee: manager.address.toLowerCase(),
          dataId: data,
          purposes: "2",
          expiresAt: top.toString(),
          noticeHash: ethers.ZeroHash,
          actor: o,
          version: "65536",
        }),
        block_timestamp: ts,
        via: 0,
        version: "65536",
      };
      const m = (await db.meta(31337))!;
      await db.commitChunk({
        chainId: 31337,
        events: [forged],
        signed: [],
        headers: [],
        checkpoint: { number: m.blockNumber, hash: m.blockHash },
        blockDigests: [],
        digest: m.digest,
        keepHashes: 256,
      });
      const exact = (await stateAt(db)).consents().find((x) => x.grantee === manager.address.toLowerCase())!;
      expect([exact.expiresAt, exact.epoch, exact.active]).to.deep.equal([top, 1n, true]);
      expect(
        (await stateAt(db)).toJSON().consents.find((x) => x.grantee === manager.address.toLowerCase())!.expiresAt,
      ).to.equal("18446744073709551615");
      expect(expiryText(top)).to.equal("unix time 18446744073709551615 (after the year 275760)");
      expect((await stateAt(db)).isAllowed(owner.address, manager.address, data, 1, Number.MAX_SAFE_INTEGER)).to.equal(
        true,
      );
      expect(expiryText(2n ** 40n - 1n)).to.equal("+036812-02-20T00:36:15.000Z");
      await db.close();
    });

    it("reports are as of the last block read, not the last event: a consent that expired in later empty blocks is expired", async () => {
      const { accounts, registry } = await deploySystem(ethers);
      const [owner, processor] = accounts;
      const data = ethers.id("expires-later");
      const expiresAt = (await networkHelpers.time.latest()) + 100;
      const granted = (await (
        await registry.connect(owner).grant(processor.address, data, 1n, expiresAt, ethers.ZeroHash)
      ).wait())!;
      // Blocks without any watched event, past the expiry.
      await networkHelpers.time.increase(10_000);
      await networkHelpers.mine(5);
      const db = await backend.open();
      const res = await syncEvents({
        db,
        rpc: ethers.provider,
        registry: await registry.getAddress(),
        progress: "none",
      });
      const last = (await ethers.provider.getBlock(res.toBlock))!;
      expect(res.toBlock).to.be.greaterThan(granted.blockNumber);
      expect(last.timestamp).to.be.greaterThan(expiresAt);

      const rep = await buildReport(db, { kind: "owner", subject: owner.address });
      expect([rep.lastBlock, rep.asOf]).to.deep.equal([res.toBlock, last.timestamp]);
      expect(rep.sections.find((s) => s.name === "consents")!.rows.map((r) => [r.dataId, r.status])).to.deep.equal([
        [data, "expired"],
      ]);
      expect(rep.summary.activeConsents).to.equal(0);
      const view = rep.view as { meta: { asOf: number; lastBlock: number } };
      expect([view.meta.lastBlock, view.meta.asOf]).to.deep.equal([res.toBlock, last.timestamp]);
      const processorReport = await buildReport(db, { kind: "processor", subject: processor.address });
      expect([processorReport.lastBlock, processorReport.asOf, processorReport.summary.activeConsents]).to.deep.equal([
        res.toBlock,
        last.timestamp,
        0,
      ]);
      // The report agrees with stateAt, which judges at the checkpoint's kept timestamp.
      const st = await stateAt(db);
      expect([st.block, st.timestamp, st.isAllowed(owner.address, processor.address, data, 0)]).to.deep.equal([
        res.toBlock,
        last.timestamp,
        false,
      ]);
      await db.close();
    });
  });
