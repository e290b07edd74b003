import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import hre, { network } from "hardhat";

import { evaluate, formatTable, runGasBench, writeGasReport } from "../scripts/lib/gas-bench.js";
import type { GasReport } from "../scripts/lib/gas-bench.js";

const { ethers } = await network.create();

/**
 * The targets from the issues, written here independently of `scripts/lib/gas-bench.ts`, so that
 * loosening a target there does not loosen the test.
 */
const CEILINGS: ReadonlyArray<readonly [string, number]> = [
  ["registry.grant", 54_000],
  ["registry.revoke", 31_000],
  ["registry.revokeAll", 46_000],
  ["registry.revokeAll.later", 31_000],
  ["registry.isAllowed.cold.hit", 9_000],
  ["registry.isAllowed.cold", 11_000],
  ["log.use", 36_000],
  ["log.share", 44_000],
  ["log.use.batch.perItem", 15_000],
  ["registry.grantBySig", 70_000],
  ["registry.revokeBySig", 50_000],
  ["registry.revokeBySig.batch.perItem", 22_000],
  ["registry.grant.batch.perItem", 28_600],
];

const REQUIRED_IDS = [
  ...CEILINGS.map(([id]) => id),
  "registry.revokeAll.after50",
  "eas.attest",
  "eas.revoke",
  "eas.attestByDelegation",
  "eas.attestByDelegation.firstNonce",
  "eas.multiAttest.perItem",
  "eas.isValid",
];

/** A fresh non-zero storage slot costs 22,100 and updating a used one 5,000 − 2,100 (EIP-2929). */
const FRESH_SLOT_PREMIUM = 20_000 - 2_900;

describe("gas benchmark (npm run bench:gas)", () => {
  let report: GasReport;

  before(async function () {
    // Coverage instruments the bytecode, so its gas says nothing about the real contracts:
    // these targets are checked by every plain `npm test` (and `npm run bench:gas`) instead.
    if (hre.globalOptions.coverage) this.skip();
    this.timeout(60_000);
    report = await runGasBench(ethers);
  });

  it("reports exactly the required ids, each a positive integer", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "gas-bench-"));
    try {
      const file = path.join(dir, "reports", "gas.json");
      await writeGasReport(report, file);
      const json = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
      expect(Object.keys(json).sort()).to.deep.equal([...REQUIRED_IDS].sort());
      for (const id of REQUIRED_IDS) {
        expect(json[id], id).to.be.a("number");
        expect(Number.isInteger(json[id]) && (json[id] as number) > 0, id).to.equal(true);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  for (const [id, max] of CEILINGS) {
    it(`${id} ≤ ${max.toLocaleString("en-US")} gas`, () => {
      expect(report[id as keyof GasReport]).to.be.at.most(max);
    });
  }

  it("registry.revokeAll.after50 is within 100 gas of registry.revokeAll (O(1) in the number of consents)", () => {
    expect(Math.abs(report["registry.revokeAll.after50"] - report["registry.revokeAll"])).to.be.at.most(100);
  });

  it("the first-revoke-all and first-nonce (EAS) rows differ from the later ones by exactly one fresh slot", () => {
    // Checks that each pair measured what it claims: the same work, once on a fresh slot.
    expect(report["registry.revokeAll"] - report["registry.revokeAll.later"]).to.equal(FRESH_SLOT_PREMIUM);
    // EAS's ordered nonce: 0 → 1 writes a fresh slot, 1 → 2 updates it. (The registry has no
    // nonce slot: a signed message is ordered by the consent word it changes anyway.)
    const easDelta = report["eas.attestByDelegation.firstNonce"] - report["eas.attestByDelegation"];
    expect(easDelta).to.be.within(FRESH_SLOT_PREMIUM - 100, FRESH_SLOT_PREMIUM + 100);
  });

  it("the EAS anchors measured real attestations (each costs more than the registry's equivalent)", () => {
    expect(report["eas.attest"]).to.be.above(4 * report["registry.grant"]);
    expect(report["eas.attestByDelegation"]).to.be.above(report["eas.attest"]);
    // A batch item saves at least the 21,000 transaction base of a single attest.
    expect(report["eas.attest"] - report["eas.multiAttest.perItem"]).to.be.at.least(21_000);
    expect(report["eas.revoke"]).to.be.above(report["registry.revoke"]);
    expect(report["eas.isValid"]).to.be.above(report["registry.isAllowed.cold.hit"]);
  });

  it("evaluate() passes this run and the table shows every registry row with its anchor", () => {
    const rows = evaluate(report);
    expect(rows.filter((r) => !r.ok).map((r) => r.problem)).to.deep.equal([]);
    const table = formatTable(rows);
    expect(table.split("\n")).to.have.length(2 + 14);
    const grantRow = table.split("\n").find((line) => line.startsWith("| registry.grant |"));
    expect(grantRow).to.equal(
      `| registry.grant | ${report["registry.grant"].toLocaleString("en-US")} | ≤ 54,000 | eas.attest ` +
        `${report["eas.attest"].toLocaleString("en-US")} | yes |`,
    );
  });

  it("evaluate() fails a missed ceiling and a drifting revokeAll.after50, naming the numbers", () => {
    const worse: GasReport = {
      ...report,
      "registry.grant": 54_001,
      "registry.revokeAll.after50": report["registry.revokeAll"] + 101,
    };
    const failed = evaluate(worse).filter((r) => !r.ok);
    expect(failed.map((r) => r.problem)).to.deep.equal([
      "registry.grant used 54,001 gas, above its target 54,000",
      `registry.revokeAll.after50 used ${(report["registry.revokeAll"] + 101).toLocaleString("en-US")} gas, ` +
        "101 from registry.revokeAll (allowed 100)",
    ]);
    expect(formatTable(evaluate(worse))).to.contain("| registry.grant | 54,001 | ≤ 54,000 | ");
  });
});
