/**
 * The package as a dApp team gets it (`npm run test:consumer`, run by .ci/run after the build):
 *
 * 1. `npm pack` the package;
 * 2. a fresh Hardhat 3 project in a temporary directory installs the tarball and Hardhat,
 *    hardhat-ethers, ethers, solc, TypeScript **offline** (`npm install --offline`): from the npm
 *    cache that `npm ci` filled, at exactly our lockfile's versions (the project's lockfile is cut
 *    from ours: the closure of what it needs, so nothing is resolved or fetched);
 * 3. `hardhat build` compiles `contracts/MyTrainer.sol`, which inherits
 *    `omnitensor-consent/contracts/ConsentGated.sol` (resolved through the package's `exports`),
 *    with the npm `solc` wasm build (`solidity.path`), as our hardhat.config.ts does;
 * 4. `tsc --noEmit` type-checks the project's scripts strictly (`strict`, `skipLibCheck: false`),
 *    among them one that imports `omnitensor-consent/audit`;
 * 5. `hardhat run scripts/flow.ts` on the in-process chain: deploys the system with the SDK's
 *    `deployConsentSystem` (the bytecode shipped in the package) and MyTrainer, grants, checks,
 *    calls the gated function, signs and relays a grant, and catches decoded reverts; then imports
 *    `omnitensor-consent/audit` without better-sqlite3 installed and expects a clear error naming
 *    the package only when a store is opened.
 *
 * It also checks that an SDK-only install has no native module (no better-sqlite3). Every step
 * has a time limit; the time of each is printed. Exit code 0 only if every step passed.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const started = performance.now();
const keep = process.env.OMNI_KEEP_CONSUMER === "1";

interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  optional?: boolean;
  dev?: boolean;
  devOptional?: boolean;
  peer?: boolean;
  [key: string]: unknown;
}

type Lock = { packages: Record<string, LockEntry> };

const timings: [string, number][] = [];
const failures: string[] = [];

function step<T>(name: string, run: () => T): T {
  const t0 = performance.now();
  process.stdout.write(`consumer: ${name} … `);
  try {
    const out = run();
    const ms = performance.now() - t0;
    timings.push([name, ms]);
    process.stdout.write(`ok (${(ms / 1000).toFixed(1)} s)\n`);
    return out;
  } catch (err) {
    process.stdout.write("FAILED\n");
    throw err;
  }
}

/** A check that does not stop the others: its failure is reported and fails the run at the end. */
function check(name: string, run: () => string | void): void {
  try {
    const out = step(name, run);
    if (typeof out === "string" && out !== "") process.stdout.write(out.replace(/^/gm, "  | "));
  } catch (err) {
    failures.push(name);
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  }
}

/** Runs a command in `cwd` with a time limit; its output is shown only when it fails. */
function sh(cwd: string, cmd: string, args: string[], timeoutMs: number, env: NodeJS.ProcessEnv = {}): string {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: "utf8",
    timeout: timeoutMs,
    env: { ...process.env, NODE_OPTIONS: "", ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) {
    const why = r.error ? String(r.error) : `exit ${r.status}${r.signal ? ` (${r.signal})` : ""}`;
    throw new Error(`${cmd} ${args.join(" ")} in ${cwd}: ${why}\n${r.stdout}\n${r.stderr}`);
  }
  return r.stdout;
}

/** The lockfile entry that `name` resolves to from the package at `from` (Node's lookup, in lockfile paths). */
function resolveIn(lock: Lock, from: string, name: string): string | undefined {
  let base = from;
  for (;;) {
    const candidate = `${base === "" ? "" : `${base}/`}node_modules/${name}`;
    if (lock.packages[candidate] !== undefined) return candidate;
    if (base === "") return undefined;
    const i = base.lastIndexOf("/node_modules/");
    base = i === -1 ? "" : base.slice(0, i);
  }
}

/** Every lockfile entry reachable from the top-level packages `roots` (dependencies, optional ones, required peers). */
function closure(lock: Lock, roots: readonly string[]): Record<string, LockEntry> {
  const out: Record<string, LockEntry> = {};
  const queue = roots.map((r) => `node_modules/${r}`);
  while (queue.length > 0) {
    const path = queue.pop()!;
    if (out[path] !== undefined) continue;
    const entry = lock.packages[path];
    if (entry === undefined) throw new Error(`our lockfile has no ${path}`);
    const { dev: _d, devOptional: _o, peer: _p, ...kept } = entry;
    out[path] = kept;
    const peers = Object.keys(entry.peerDependencies ?? {}).filter((p) => !entry.peerDependenciesMeta?.[p]?.optional);
    for (const dep of [
      ...Object.keys(entry.dependencies ?? {}),
      ...Object.keys(entry.optionalDependencies ?? {}),
      ...peers,
    ]) {
      const found = resolveIn(lock, path, dep);
      if (found !== undefined) queue.push(found);
      else if (!(dep in (entry.optionalDependencies ?? {})))
        throw new Error(`${path} needs ${dep}, not in our lockfile`);
    }
  }
  return out;
}

const ours = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as Lock;
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  name: string;
  version: string;
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
  engines: Record<string, string>;
  bin: Record<string, string>;
};
const versionOf = (name: string): string => {
  const v = ours.packages[`node_modules/${name}`]?.version;
  if (v === undefined) throw new Error(`our lockfile has no ${name}`);
  return v;
};

if (!existsSync(join(ROOT, "dist", "src", "sdk", "index.js"))) {
  throw new Error("dist/ is missing: run `npm run build` first (npm test does)");
}

const work = mkdtempSync(join(tmpdir(), "omni-consumer-"));
const project = join(work, "dapp");
mkdirSync(join(project, "contracts"), { recursive: true });
mkdirSync(join(project, "scripts"), { recursive: true });
let failed = false;
try {
  const tarball = step("npm pack", () => {
    const name = sh(ROOT, "npm", ["pack", "--silent", "--pack-destination", work], 120_000).trim().split("\n").pop()!;
    return join(work, name);
  });

  step("write the project and its lockfile (cut from ours)", () => {
    const tools = ["hardhat", "@nomicfoundation/hardhat-ethers", "ethers", "solc", "typescript", "@types/node"];
    const deps: Record<string, string> = { [pkg.name]: `file:../${tarball.split("/").pop()}` };
    for (const t of tools) deps[t] = versionOf(t);
    writeFileSync(
      join(project, "package.json"),
      JSON.stringify({ name: "dapp", version: "1.0.0", private: true, type: "module", dependencies: deps }, null, 2),
    );
    const integrity = `sha512-${createHash("sha512").update(readFileSync(tarball)).digest("base64")}`;
    const packages = closure(ours, [...tools, ...Object.keys(pkg.dependencies)]);
    packages[`node_modules/${pkg.name}`] = {
      version: pkg.version,
      resolved: `file:../${tarball.split("/").pop()}`,
      integrity,
      license: "MIT",
      dependencies: pkg.dependencies,
      bin: pkg.bin,
      engines: pkg.engines,
      peerDependencies: pkg.peerDependencies,
      peerDependenciesMeta: pkg.peerDependenciesMeta,
    };
    const lock = {
      name: "dapp",
      version: "1.0.0",
      lockfileVersion: 3,
      requires: true,
      packages: { "": { name: "dapp", version: "1.0.0", dependencies: deps }, ...packages },
    };
    writeFileSync(join(project, "package-lock.json"), JSON.stringify(lock, null, 2));
  });

  step("npm install --offline (from the cache npm ci filled)", () =>
    sh(project, "npm", ["install", "--offline", "--no-audit", "--no-fund", "--loglevel=error"], 300_000),
  );

  step("an SDK-only install has no native module (no better-sqlite3) and no database driver (no pg)", () => {
    for (const native of ["better-sqlite3", "pg", "@openzeppelin/contracts"]) {
      if (existsSync(join(project, "node_modules", native))) throw new Error(`${native} was installed`);
    }
  });

  writeFileSync(
    join(project, "hardhat.config.ts"),
    `import { createRequire } from "node:module";
import hardhatEthers from "@nomicfoundation/hardhat-ethers";
import { defineConfig } from "hardhat/config";

const require = createRequire(import.meta.url);

export default defineConfig({
  plugins: [hardhatEthers],
  solidity: {
    compilers: [{ version: "0.8.30", path: require.resolve("solc/soljson.js"), settings: { evmVersion: "cancun" } }],
  },
});
`,
  );
  writeFileSync(
    join(project, "contracts", "MyTrainer.sol"),
    `// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ConsentGated} from "omnitensor-consent/contracts/ConsentGated.sol";
import {IConsentRegistry} from "omnitensor-consent/contracts/interfaces/IConsentRegistry.sol";
import {Purposes} from "omnitensor-consent/contracts/Purposes.sol";

/// The README's "gate on consent in one line", in a project outside the repository.
contract MyTrainer is ConsentGated {
    event Trained(address owner, bytes32 dataId);

    constructor(IConsentRegistry r) ConsentGated(r) {}

    function train(address owner, bytes32 dataId) external onlyWithConsent(owner, dataId, Purposes.MODEL_TRAINING) {
        emit Trained(owner, dataId);
    }
}
`,
  );
  const tsconfig = (include: string[]) =>
    JSON.stringify(
      {
        compilerOptions: {
          lib: ["es2023"],
          module: "node16",
          target: "es2022",
          strict: true,
          skipLibCheck: false,
          noEmit: true,
          types: ["node"],
        },
        include,
      },
      null,
      2,
    );
  writeFileSync(join(project, "tsconfig.json"), tsconfig(["hardhat.config.ts", "scripts/flow.ts"]));
  writeFileSync(join(project, "tsconfig.audit.json"), tsconfig(["scripts/audit.ts"]));
  for (const script of ["flow.ts", "audit.ts"]) {
    writeFileSync(join(project, "scripts", script), readFileSync(join(ROOT, "scripts", "consumer", script), "utf8"));
  }

  step("hardhat build: MyTrainer inherits omnitensor-consent/contracts/ConsentGated.sol", () =>
    sh(project, "npx", ["hardhat", "build", "--quiet"], 300_000),
  );
  check("tsc --noEmit, strict, skipLibCheck false: hardhat.config.ts and a script over the SDK", () => {
    sh(project, "npx", ["tsc", "--noEmit", "-p", "tsconfig.json"], 180_000);
  });
  check("hardhat run scripts/flow.ts: deploy, grant, check, gate, sign, relay, decoded reverts", () =>
    sh(project, "npx", ["hardhat", "run", "scripts/flow.ts"], 180_000),
  );
  check(
    "tsc --noEmit, strict, skipLibCheck false: a script over omnitensor-consent/audit (no @types/better-sqlite3)",
    () => {
      sh(project, "npx", ["tsc", "--noEmit", "-p", "tsconfig.audit.json"], 180_000);
    },
  );
  check("omnitensor-consent/audit without better-sqlite3: loads, and names the package when a store opens", () =>
    sh(project, "node", ["--experimental-strip-types", "--no-warnings", "scripts/audit.ts"], 60_000),
  );
  if (failures.length > 0) throw new Error(`${failures.length} check(s) failed: ${failures.join("; ")}`);
} catch (err) {
  failed = true;
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
} finally {
  if (keep) process.stdout.write(`consumer: kept ${work}\n`);
  else rmSync(work, { recursive: true, force: true });
}
const total = (performance.now() - started) / 1000;
process.stdout.write(
  `consumer: ${failed ? "FAILED" : "passed"} in ${total.toFixed(1)} s (${timings.map(([n, ms]) => `${n.split(":")[0]} ${(ms / 1000).toFixed(1)} s`).join("; ")})\n`,
);
process.exit(failed ? 1 : 0);
