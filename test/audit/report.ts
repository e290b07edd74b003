import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { expect } from "chai";
import { network } from "hardhat";

import { buildReport, openAuditDb, stateAt, syncEvents, writeReport } from "../../src/audit/index.js";
import { ALL_DATA, NO_EXPIRY } from "../../src/sdk/constants.js";
import { deploySystem } from "../helpers/fixture.js";

const { ethers, networkHelpers } = await network.create();

describe("audit: state and reports", function () {
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
    const use1 = await (await registry.connect(processor).recordUse(owner.address, data, 0, ethers.id("job-1"))).wait();
    const use2 = await (await registry.connect(processor).recordUse(owner.address, data, 2, ethers.id("job-2"))).wait();
    const share = await (
      await registry.connect(processor).recordShare(owner.address, partner.address, data, 2, ethers.id("share-1"))
    ).wait();
    await registry.connect(other).revokeFor(owner.address, partner.address, data);

    const db = openAuditDb(join(dir, "r.db"));
    await syncEvents({ db, rpc: ethers.provider, registry: await registry.getAddress(), progress: "none" });

    const state = stateAt(db).toJSON();
    expect(state.consents.map((c) => [c.owner, c.grantee, c.dataId, c.purposes, c.expiresAt, c.active])).to.deep.equal([
      [o, p, ALL_DATA, [0, 2], expiresAt, true],
    ]);
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
    expect(stateAt(db, undefined, { timestamp: expiresAt }).consents()[0].active).to.equal(false);

    const owned = buildReport(db, { kind: "owner", subject: owner.address });
    expect(owned.summary).to.deep.equal({
      activeConsents: 1,
      consentChanges: 3,
      uses: 2,
      shares: 1,
      revokeAllEpoch: 0,
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
    expect(section("history")[2].detail).to.equal(`by ${other.address.toLowerCase()} via Manager`);

    const proc = buildReport(db, { kind: "processor", subject: processor.address });
    expect(proc.summary).to.deep.equal({
      activeConsents: 1,
      uses: 2,
      sharesSent: 1,
      sharesReceived: 0,
      integration: "not an integration",
    });

    const ropa = buildReport(db, { kind: "ropa" });
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
    writeReport(db, { kind: "owner", subject: owner.address, format: "csv", out: csvPath });
    const csv = readFileSync(csvPath, "utf8").trim().split("\n");
    expect(csv[0]).to.equal("section,block,time,tx,owner,party,recipient,dataId,purposes,expiresAt,status,detail");
    expect(csv.length).to.equal(1 + 1 + 1 + 3 + 2 + 1); // header, consent, manager, history, uses, shares

    const htmlPath = join(dir, "owner.html");
    writeReport(db, { kind: "owner", subject: owner.address, format: "html", out: htmlPath });
    const html = readFileSync(htmlPath, "utf8");
    expect(html.startsWith("<!doctype html>")).to.equal(true);
    expect(html.match(/<svg /g)?.length).to.equal(3);
    expect(html).to.not.match(/<script|<link|\ssrc=|\shref=|url\(/i); // self-contained
    expect(html).to.include(use1!.hash);

    const json = JSON.parse(writeReport(db, { kind: "ropa", format: "json" }).text) as { kind: string };
    expect(json.kind).to.equal("ropa");
    expect(() => buildReport(db, { kind: "owner", subject: "bob" })).to.throw(
      "the owner report needs --owner <0x address>",
    );
    db.close();
  });
});
