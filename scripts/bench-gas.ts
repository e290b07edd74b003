/**
 * `npm run bench:gas`: measures the registry's gas beside the EAS 1.9.0 anchors on the
 * in-process network, writes `reports/gas.json` (`{ "<id>": gasUsed }`) and prints the table.
 * Exits non-zero when a target is missed. See BENCHMARKS.md for what each row measures.
 */
import path from "node:path";

import { network } from "hardhat";

import { evaluate, formatTable, runGasBench, writeGasReport } from "./lib/gas-bench.js";

const REPORT = path.join("reports", "gas.json");

const { ethers } = await network.create();
const report = await runGasBench(ethers);
await writeGasReport(report, REPORT);

const rows = evaluate(report);
console.log(formatTable(rows));
console.log(`\nwrote ${REPORT}`);

const failed = rows.filter((r) => !r.ok);
for (const r of failed) console.error(`gas target missed: ${r.problem}`);
if (failed.length > 0) process.exitCode = 1;
