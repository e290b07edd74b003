#!/usr/bin/env node
// `npm run demo`: says what happens while the contracts compile (the first run on a fresh clone
// spends most of its time there, in solc), then runs scripts/demo.ts without compiling again.
// Only the contracts are compiled (`--no-tests`: the demo needs no Solidity test), which is the
// fastest first run the toolchain allows; later runs find everything compiled and start at once.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const hardhat = join(root, "node_modules", "hardhat", "dist", "src", "cli.js");
const started = Date.now();
const first = !existsSync(join(root, "artifacts", "build-info"));

function run(args, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [hardhat, ...args], {
      cwd: root,
      stdio: "inherit",
      env: { ...process.env, ...env },
    });
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

console.log(
  first
    ? "demo: compiling the contracts with solc (first run only; measured about 60 s on 2 busy cores, later runs skip this) …"
    : "demo: checking that the contracts are compiled …",
);
const ticker = setInterval(() => {
  console.log(`demo: still compiling (${Math.round((Date.now() - started) / 1000)} s) …`);
}, 15_000);
const built = await run(["build", "--no-tests", "--quiet"]);
clearInterval(ticker);
if (built !== 0) {
  console.error(`demo: compiling failed (exit ${built}); see the messages above`);
  process.exit(built);
}
console.log(
  `demo: contracts ready in ${((Date.now() - started) / 1000).toFixed(1)} s; deploying and playing the scenario …`,
);
process.exit(await run(["run", "--no-compile", "scripts/demo.ts"], { OMNI_DEMO_STARTED_MS: String(started) }));
