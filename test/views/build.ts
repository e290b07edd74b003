import { expect } from "chai";

import { ALL_DATA } from "../../src/sdk/constants.js";
import { buildOwnerView, buildRopaView, ViewBuilder } from "../../src/views/build.js";
import { LAB, MANAGER, MARKET, OLD_MANAGER, OWNER, RELAYER, sampleHistory, T0, TRAINER } from "./helpers/history.js";

const DAY = 86_400;
const src = (asOf: number) => ({ chainId: 31337, source: "test events", asOf, generatedAt: "2026-10-21T09:00:00Z" });
const tx = (block: number) => `0x${(0xbeef0000 + block).toString(16).padStart(64, "0")}`;

describe("views: the data model built from events", () => {
  const h = sampleHistory();
  const view = buildOwnerView(h.events, OWNER.toUpperCase().replace("0X", "0x"), src(h.asOf));

  it("an owner's consents: live and ended, how each was given, ALL_DATA marked, no zero notice", () => {
    expect(
      view.consents.map((c) => [
        c.grantee,
        c.dataId,
        c.allData,
        c.purposes.map((p) => p.name),
        c.expiresAt,
        c.status,
        c.given.via,
        c.given.by,
        c.noticeHash,
      ]),
    ).to.deep.equal([
      [TRAINER, ALL_DATA, true, ["INFERENCE"], null, "active", "Manager", OLD_MANAGER, null],
      [
        LAB,
        h.wearable,
        false,
        ["RESEARCH"],
        T0 + 10 * DAY,
        "expired",
        "Signature",
        RELAYER,
        `0x${"5eed".padStart(64, "0")}`,
      ],
      [MARKET, h.photos, false, ["INFERENCE"], null, "active", "Owner", OWNER, `0x${"5eee".padStart(64, "0")}`],
    ]);
    expect(view.consents[0].given).to.deep.equal({
      at: T0 + 3 * DAY,
      block: 113,
      tx: tx(113),
      by: OLD_MANAGER,
      via: "Manager",
    });
  });

  it("uses and shares say when only the ALL_DATA consent allowed them", () => {
    expect(
      view.uses.map((u) => [u.when.block, u.processor, u.dataId, u.purpose.name, u.onlyThroughAllData]),
    ).to.deep.equal([
      [116, TRAINER, h.photos, "MODEL_TRAINING", false],
      [117, TRAINER, h.wearable, "INFERENCE", true],
    ]);
    expect(view.shares.map((s) => [s.from, s.to, s.purpose.name, s.onlyThroughAllData])).to.deep.equal([
      [TRAINER, MARKET, "INFERENCE", { sender: true, recipient: false }],
    ]);
  });

  it("withdrawals, with what ALL_DATA still allows, and managers current and past", () => {
    expect(view.withdrawals).to.deep.equal([
      {
        kind: "revoked",
        when: { at: T0 + 9 * DAY, block: 121, tx: tx(121) },
        grantee: TRAINER,
        dataId: h.photos,
        by: OWNER,
        via: "Owner",
        stillAllowedThroughAllData: [
          {
            id: 2,
            name: "INFERENCE",
            description: "Running a model on the data to produce outputs",
            dpv: "dpv:ServiceProvision",
          },
        ],
      },
      {
        kind: "signed-not-applied",
        when: { at: T0 + 9.5 * DAY, block: 122, tx: tx(122) },
        grantee: MARKET,
        dataId: h.photos,
        reason: "undecodable error 0x",
      },
    ]);
    expect(
      view.managers.map((m) => [m.manager, m.appointed.block, m.ended && [m.ended.block, m.ended.how]]),
    ).to.deep.equal([
      [OLD_MANAGER, 111, [119, "removed"]],
      [MANAGER, 120, null],
    ]);
  });

  it("integrations: current status, time of the change, consent held, shares of the owner's data", () => {
    expect(
      view.integrations.map((i) => [
        i.address,
        i.status,
        i.since,
        i.holdsConsent,
        i.sharesReceived,
        i.purposes.map((p) => p.id),
      ]),
    ).to.deep.equal([
      [LAB, "Suspended", { at: T0 + 12 * DAY, block: 123 }, false, 0, [0, 7]],
      [MARKET, "Active", { at: T0 + Math.round(0.1 * DAY), block: 110 }, true, 1, [2]],
    ]);
  });

  it("the history holds the owner's events only, in chain order, and the data is plain JSON", () => {
    expect(view.history.map((x) => `${x.when.block}:${x.kind}`)).to.deep.equal([
      "111:manager-appointed",
      "112:granted",
      "113:granted",
      "114:granted",
      "115:granted",
      "116:used",
      "117:used",
      "118:shared",
      "119:manager-removed",
      "120:manager-appointed",
      "121:withdrawn",
      "122:signed-withdrawal-not-applied",
    ]);
    expect(JSON.parse(JSON.stringify(view))).to.deep.equal(view);
    expect(view.meta).to.deep.equal({
      chainId: 31337,
      lastBlock: 124,
      asOf: h.asOf,
      generatedAt: "2026-10-21T09:00:00Z",
      source: "test events",
    });
  });

  it("a lockdown ends every consent in force and every manager, and says how many", () => {
    const b = new ViewBuilder({ owner: OWNER });
    for (const e of h.events) b.add(e);
    b.add({
      blockNumber: 200,
      logIndex: 0,
      txHash: tx(200),
      blockTimestamp: T0 + 15 * DAY,
      name: "AllConsentsRevoked",
      args: { owner: OWNER, newEpoch: "1", actor: OWNER, via: "0" },
    });
    const v = b.ownerView(src(T0 + 16 * DAY));
    expect(v.withdrawals.at(-1)).to.deep.equal({
      kind: "lockdown",
      when: { at: T0 + 15 * DAY, block: 200, tx: tx(200) },
      by: OWNER,
      via: "Owner",
      epoch: "1",
      consentsEnded: 2,
      managersEnded: 1,
    });
    expect(v.consents.map((c) => c.status)).to.deep.equal([
      "ended-by-lockdown",
      "ended-by-lockdown",
      "ended-by-lockdown",
    ]);
    expect(v.managers.map((m) => m.ended?.how ?? null)).to.deep.equal(["removed", "lockdown"]);
  });

  it("ownerView needs an owner; the Art. 30 record counts every owner", () => {
    expect(() => new ViewBuilder().ownerView(src(0))).to.throw("ownerView needs a ViewBuilder made with { owner }");
    const ropa = buildRopaView(h.events, src(h.asOf));
    expect(ropa.totals).to.deep.equal({ liveConsents: 3, dataSubjects: 2, uses: 2, shares: 1 });
    const inference = ropa.purposes.find((p) => p.purpose.name === "INFERENCE")!;
    expect([inference.dataSubjects, inference.processors, inference.uses, inference.shares]).to.deep.equal([
      1, 2, 1, 1,
    ]);
    expect(inference.recipients).to.deep.equal([{ address: MARKET, status: "Active" }]);
    const training = ropa.purposes.find((p) => p.purpose.name === "MODEL_TRAINING")!;
    expect(training.retention).to.deep.equal({ noExpiry: 1, expiring: 0, first: null, last: null });
  });
});
