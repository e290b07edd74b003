/**
 * Mutation testing of `contracts/`: `npm run test:mutation [-- options]`.
 *
 * Each curated mutant of scripts/lib/mutants.ts is applied to a scratch copy of the project (the
 * work tree is never touched), compiled, and run against the FUNCTIONAL mocha tests (the contract
 * tests: test/*.ts, test/governance, test/libraries, test/examples; never test/bench-gas.ts, the
 * gas snapshot or a test asserting absolute gas, all of which flag any bytecode change). Results:
 * killed (a functional test failed), survived, equivalent (declared, with its reason, and it must
 * survive), compile-error. The score is killed / non-equivalent. Exit 1 if any non-equivalent
 * mutant survives, or anything else is off (a compile error, a killed "equivalent" mutant, a mutant
 * compiling to the same code without being declared equivalent, a run that failed without a
 * failing test).
 *
 * How, and why it is fast enough on 2 cores:
 * 1. One `hardhat build` of the copy gives the artifacts, types and build-info (the exact solc
 *    standard-JSON input Hardhat used). Deployable artifacts that no functional test names are
 *    deleted from the copy, so no test can silently use a stale, unmutated contract.
 * 2. Each worker (`--jobs`, default min(2, cores)) owns a clone of the copy and one loaded solc
 *    (the npm wasm build Hardhat uses). It first recompiles its share of the functional contracts
 *    from the build-info and checks the bytecode is byte-identical to Hardhat's: the mutant
 *    compile is Hardhat's compile.
 * 3. Per mutant, it recompiles only the contracts whose sources import the mutated file AND that
 *    the mutant's focused tests deploy (found by scanning the test files and their relative
 *    imports for contract names), writes their new bytecode into the artifacts, and hides the
 *    other affected artifacts (a focused test touching one fails the run as a runner error, never
 *    as a kill). Then `hardhat test mocha --no-compile --bail` on the focused tests.
 * 4. A mutant that survives its focused tests is run again, with every affected contract rebuilt,
 *    against every functional test file before it is reported as a survivor.
 *
 * Options: --jobs N, --only id[,id...] (ids or prefixes like "registry/"), --ci (CI_SUBSET of
 * scripts/lib/mutants.ts, about a third of the mutants), --list (check and
 * print the mutants, run nothing), --full (always run every functional test), --keep (keep the
 * scratch directory), --timeout S (per test run, default 300).
 * Writes reports/mutation.json (flat summary) and reports/mutation.md (the table).
 */
import { type ChildProcess, execFileSync, fork, spawn } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join, posix, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { CI_SUBSET, FOCUS, MUTANTS, type Mutant, applyMutant, mutantLine } from "./lib/mutants.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const SELF = fileURLToPath(import.meta.url);

/** Functional test files: the contract mocha tests. */
const FUNCTIONAL_DIRS = ["test", "test/governance", "test/libraries", "test/examples"];
/** Not functional: they flag any bytecode change, or check no contract behaviour. */
const NOT_FUNCTIONAL = new Set(["test/bench-gas.ts", "test/toolchain.ts"]);
/**
 * Tests asserting ABSOLUTE gas figures (they fail on any bytecode change, so a kill by them says
 * nothing about behaviour). Excluded with `--grep-exclude`. Relative gas checks (O(1) in the
 * number of consents, revoke cheaper than grant) compare two calls of the same code and stay.
 */
const ABSOLUTE_GAS_TESTS = "costs what the NatSpec says";

// ---------------------------------------------------------------------------------------------
// Shared types
// ---------------------------------------------------------------------------------------------

interface ContractInfo {
  name: string;
  /** e.g. contracts/ConsentRegistry.sol */
  sourceName: string;
  /** e.g. project/contracts/ConsentRegistry.sol (the build-info key) */
  inputSourceName: string;
  buildInfoId: string;
  /** artifact path relative to the project */
  artifact: string;
  /** input source names this contract's source imports, transitively (itself included) */
  closure: string[];
}

interface Setup {
  dir: string;
  contracts: ContractInfo[];
  /** test file -> names of the functional contracts it (or what it imports) deploys or reads */
  needs: Record<string, string[]>;
  functionalTests: string[];
  /** user source name -> input source name */
  inputNames: Record<string, string>;
  selfCheck: string[];
  timeoutSeconds: number;
}

type Status = "killed" | "survived" | "equivalent" | "compile-error" | "same-bytecode" | "error";

interface Result {
  id: string;
  status: Status;
  /** The failing test and its first error line, the compile error, or the error. */
  detail: string;
  /** Which test set decided: "focus" or "all". */
  by: "focus" | "all" | "-";
  seconds: number;
  /** Of which compiling, and running tests. */
  compileSeconds: number;
  testSeconds: number;
}

interface RunJob {
  mutant: Mutant;
  tests: string[];
}

type ToWorker = { kind: "init"; setup: Setup } | { kind: "run"; job: RunJob };
type FromWorker = { kind: "ready" } | { kind: "fatal"; message: string } | { kind: "result"; result: Result };

// ---------------------------------------------------------------------------------------------
// Test runs
// ---------------------------------------------------------------------------------------------

interface TestRun {
  code: number | null;
  /** Set when the process died by a signal it was not sent by us (timeout). */
  signal: NodeJS.Signals | null;
  output: string;
  timedOut: boolean;
}

const running = new Set<ChildProcess>();

function killGroup(child: ChildProcess): void {
  if (child.pid !== undefined && child.exitCode === null) {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

/** `hardhat test mocha --no-compile --bail` on `tests` in `dir`. */
function runTests(dir: string, tests: string[], timeoutSeconds: number): Promise<TestRun> {
  return new Promise((done) => {
    const args = ["test", "mocha", "--no-compile", "--bail", "--grep-exclude", ABSOLUTE_GAS_TESTS, ...tests];
    const child = spawn(join(dir, "node_modules", ".bin", "hardhat"), args, {
      cwd: dir,
      env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" },
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    running.add(child);
    let output = "";
    child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child);
    }, timeoutSeconds * 1000);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      done({ code, signal: timedOut ? null : signal, output, timedOut });
    });
  });
}

/** The first failing test of a mocha run and its first error line. */
function firstFailure(output: string): string | undefined {
  const at = output.search(/\n\s+\d+ failing/);
  if (at < 0) return undefined;
  const lines = output
    .slice(at)
    .split("\n")
    .slice(2)
    .map((l) => l.trim());
  const title: string[] = [];
  let i = 0;
  while (i < lines.length && lines[i] === "") i++;
  for (; i < lines.length && lines[i] !== ""; i++) {
    title.push(lines[i].replace(/^\d+\)\s*/, ""));
    if (lines[i].endsWith(":")) {
      i++;
      break;
    }
  }
  const error = lines.slice(i).find((l) => l !== "") ?? "";
  return `${title.join(" › ").replace(/:$/, "")} — ${error}`.slice(0, 300);
}

// ---------------------------------------------------------------------------------------------
// Worker: one scratch clone, one solc
// ---------------------------------------------------------------------------------------------

interface SolcOutput {
  errors?: { severity: string; formattedMessage: string }[];
  contracts?: Record<
    string,
    Record<
      string,
      {
        abi: unknown[];
        evm: {
          bytecode: { object: string; linkReferences: unknown };
          deployedBytecode: { object: string; linkReferences: unknown; immutableReferences: unknown };
        };
      }
    >
  >;
}

interface BuildInfoInput {
  sources: Record<string, { content: string }>;
  settings: { outputSelection: unknown } & Record<string, unknown>;
}

function worker(): void {
  const require = createRequire(import.meta.url);
  const solc = require("solc") as { compile(input: string): string; version(): string };
  let setup: Setup;
  const inputs = new Map<string, BuildInfoInput>();
  const artifacts = new Map<string, string>();
  const send = (m: FromWorker) => process.send!(m);

  const input = (id: string): BuildInfoInput => {
    let value = inputs.get(id);
    if (!value) {
      value = (
        JSON.parse(readFileSync(join(setup.dir, "artifacts", "build-info", `${id}.json`), "utf8")) as {
          input: BuildInfoInput;
        }
      ).input;
      inputs.set(id, value);
    }
    return value;
  };
  const originalArtifact = (c: ContractInfo): string => {
    let text = artifacts.get(c.artifact);
    if (text === undefined) {
      text = readFileSync(join(setup.dir, c.artifact), "utf8");
      artifacts.set(c.artifact, text);
    }
    return text;
  };

  /** Compiles `targets` with `sources` overridden; the new artifacts, or the first error. */
  const compile = (targets: ContractInfo[], overrides: Record<string, string>) => {
    const out = new Map<ContractInfo, Record<string, unknown>>();
    const byBuild = new Map<string, ContractInfo[]>();
    for (const c of targets) byBuild.set(c.buildInfoId, [...(byBuild.get(c.buildInfoId) ?? []), c]);
    for (const [id, group] of byBuild) {
      const base = input(id);
      const sources = { ...base.sources };
      for (const [name, content] of Object.entries(overrides)) {
        if (!(name in sources)) throw new Error(`${name} is not in build ${id}`);
        sources[name] = { content };
      }
      const outputSelection: Record<string, Record<string, string[]>> = {};
      for (const c of group) {
        outputSelection[c.inputSourceName] ??= {};
        outputSelection[c.inputSourceName][c.name] = [
          "abi",
          "evm.bytecode.object",
          "evm.bytecode.linkReferences",
          "evm.deployedBytecode.object",
          "evm.deployedBytecode.linkReferences",
          "evm.deployedBytecode.immutableReferences",
        ];
      }
      const result = JSON.parse(
        solc.compile(JSON.stringify({ ...base, sources, settings: { ...base.settings, outputSelection } })),
      ) as SolcOutput;
      const error = result.errors?.find((e) => e.severity === "error");
      if (error) return { error: error.formattedMessage.split("\n").slice(0, 3).join(" ").slice(0, 300) };
      for (const c of group) {
        const compiled = result.contracts?.[c.inputSourceName]?.[c.name];
        if (!compiled) throw new Error(`solc produced no ${c.name}`);
        const artifact = JSON.parse(originalArtifact(c)) as Record<string, unknown>;
        out.set(c, {
          ...artifact,
          abi: compiled.abi,
          bytecode: `0x${compiled.evm.bytecode.object}`,
          deployedBytecode: `0x${compiled.evm.deployedBytecode.object}`,
          linkReferences: compiled.evm.bytecode.linkReferences,
          deployedLinkReferences: compiled.evm.deployedBytecode.linkReferences,
          immutableReferences: compiled.evm.deployedBytecode.immutableReferences,
        });
      }
    }
    return { artifacts: out };
  };

  /** Bytecode without its trailing CBOR metadata (which hashes the source text). */
  const code = (hex: string): string => {
    if (hex.length < 6) return hex;
    const metadataBytes = parseInt(hex.slice(-4), 16) + 2;
    return hex.slice(0, hex.length - 2 * metadataBytes);
  };

  const runMutant = async ({ mutant, tests }: RunJob): Promise<Result> => {
    const started = Date.now();
    let compileSeconds = 0;
    let testSeconds = 0;
    const result = (status: Status, detail: string, by: Result["by"]): Result => ({
      id: mutant.id,
      status,
      detail,
      by,
      seconds: (Date.now() - started) / 1000,
      compileSeconds,
      testSeconds,
    });
    const sourcePath = join(setup.dir, mutant.file);
    const original = readFileSync(sourcePath, "utf8");
    const mutated = applyMutant(original, mutant);
    const inputName = setup.inputNames[mutant.file];
    if (!inputName) return result("error", `${mutant.file} is in no build`, "-");
    const affected = setup.contracts.filter((c) => c.closure.includes(inputName));
    if (affected.length === 0) return result("error", `no functional contract compiles ${mutant.file}`, "-");

    const attempt = async (testFiles: string[], by: "focus" | "all"): Promise<Result | "survived"> => {
      const needed = new Set(testFiles.flatMap((t) => setup.needs[t] ?? []));
      const fresh = affected.filter((c) => needed.has(c.name));
      const hidden = affected.filter((c) => !needed.has(c.name));
      if (fresh.length === 0) return "survived"; // these tests deploy nothing the mutant reaches
      const compileStart = Date.now();
      const compiled = compile(fresh, { [inputName]: mutated });
      compileSeconds += (Date.now() - compileStart) / 1000;
      if ("error" in compiled) return result("compile-error", compiled.error ?? "", by);
      const built = compiled.artifacts;
      const same = [...built].every(([c, a]) => {
        const before = JSON.parse(originalArtifact(c)) as { bytecode: string; deployedBytecode: string };
        return (
          code(before.bytecode) === code(a.bytecode as string) &&
          code(before.deployedBytecode) === code(a.deployedBytecode as string)
        );
      });
      if (same) {
        return mutant.equivalent
          ? result("equivalent", `identical bytecode; ${mutant.equivalent}`, by)
          : result("same-bytecode", "compiles to the same code: declare it equivalent, with the reason", by);
      }
      try {
        writeFileSync(sourcePath, mutated);
        for (const [c, a] of built) writeFileSync(join(setup.dir, c.artifact), JSON.stringify(a));
        for (const c of hidden) rmSync(join(setup.dir, c.artifact));
        const testStart = Date.now();
        let run = await runTests(setup.dir, testFiles, setup.timeoutSeconds);
        if (run.signal) {
          // Killed from outside (the machine is shared): that says nothing about the mutant. Once more.
          process.stderr.write(`mutation: ${mutant.id}: the test process died by ${run.signal}; running it again\n`);
          run = await runTests(setup.dir, testFiles, setup.timeoutSeconds);
        }
        testSeconds += (Date.now() - testStart) / 1000;
        if (run.timedOut) return result("killed", `timed out after ${setup.timeoutSeconds} s`, by);
        const missing = /HHE1000: Artifact for contract "(\w+)" not found/.exec(run.output);
        if (missing) {
          return result("error", `a test needs ${missing[1]}, which the runner did not rebuild: fix needs()`, by);
        }
        if (run.code === 0) return "survived";
        const failure = firstFailure(run.output);
        if (failure) return result("killed", failure, by);
        return result(
          "error",
          `tests exited ${run.code ?? run.signal} without a failing test: ${run.output.slice(-300)}`,
          by,
        );
      } finally {
        writeFileSync(sourcePath, original);
        for (const c of affected) {
          if (artifacts.has(c.artifact)) writeFileSync(join(setup.dir, c.artifact), originalArtifact(c));
        }
      }
    };

    for (const c of affected) originalArtifact(c);
    const focused = await attempt(tests, "focus");
    if (focused !== "survived") return focused;
    const everything =
      tests.length === setup.functionalTests.length ? "survived" : await attempt(setup.functionalTests, "all");
    if (everything !== "survived") return everything;
    return mutant.equivalent
      ? result("equivalent", mutant.equivalent, "all")
      : result("survived", "no functional test failed", "all");
  };

  process.on("message", (message: ToWorker) => {
    if (message.kind === "init") {
      setup = message.setup;
      try {
        if (!solc.version().startsWith("0.8.30")) throw new Error(`solc ${solc.version()} is not 0.8.30`);
        const targets = setup.contracts.filter((c) => setup.selfCheck.includes(c.name));
        const compiled = compile(targets, {});
        if ("error" in compiled) throw new Error(`the unmutated sources do not compile: ${compiled.error}`);
        for (const [c, a] of compiled.artifacts) {
          const hardhat = JSON.parse(originalArtifact(c)) as { bytecode: string; deployedBytecode: string };
          if (hardhat.bytecode !== a.bytecode || hardhat.deployedBytecode !== a.deployedBytecode) {
            throw new Error(`recompiling ${c.name} from its build-info does not give Hardhat's bytecode`);
          }
        }
        send({ kind: "ready" });
      } catch (e) {
        send({ kind: "fatal", message: (e as Error).message });
      }
    } else {
      runMutant(message.job).then(
        (result) => send({ kind: "result", result }),
        (e: Error) => send({ kind: "fatal", message: `${message.job.mutant.id}: ${e.stack ?? e.message}` }),
      );
    }
  });
  process.on("disconnect", () => {
    for (const child of running) killGroup(child);
    process.exit(0);
  });
}

// ---------------------------------------------------------------------------------------------
// Main: scratch copy, baseline, dispatch, report
// ---------------------------------------------------------------------------------------------

function option(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** The project's files as git sees them (tracked and untracked, not ignored), into `dir`. */
function copyProject(dir: string): void {
  const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: ROOT,
    encoding: "utf8",
  })
    .split("\0")
    .filter((f) => f !== "" && existsSync(join(ROOT, f)));
  for (const f of files) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    cpSync(join(ROOT, f), join(dir, f));
  }
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"), "dir");
}

function functionalTestFiles(dir: string): string[] {
  return FUNCTIONAL_DIRS.flatMap((d) =>
    readdirSync(join(dir, d), { withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith(".ts"))
      .map((e) => `${d}/${e.name}`),
  )
    .filter((f) => !NOT_FUNCTIONAL.has(f))
    .sort();
}

/** Quoted identifiers in `file` and in the project files it imports relatively (transitively). */
function quotedNames(dir: string, file: string, seen = new Set<string>()): Set<string> {
  const names = new Set<string>();
  if (seen.has(file)) return names;
  seen.add(file);
  const text = readFileSync(join(dir, file), "utf8");
  // A test or helper that deploys through a TypeChain factory would deploy the unmutated
  // bytecode frozen in types/. src/sdk/deploy.ts has such a path for consumers (the shipped
  // bytecode); the test fixture always passes `deployContract` (Hardhat's artifacts) instead.
  if (!file.startsWith("src/") && /new\s+\w+__factory\s*\(/.test(text)) {
    throw new Error(
      `${file} deploys through a typechain factory (bytecode frozen in types/): use ethers.deployContract`,
    );
  }
  for (const m of text.matchAll(/["'`]([A-Za-z_][A-Za-z0-9_]*)["'`]/g)) names.add(m[1]);
  for (const m of text.matchAll(/from\s+["'](\.{1,2}\/[^"']+)["']/g)) {
    const target = posix.join(posix.dirname(file), m[1]).replace(/\.js$/, ".ts");
    if (existsSync(join(dir, target)) && !target.startsWith("types/")) {
      for (const n of quotedNames(dir, target, seen)) names.add(n);
    }
  }
  return names;
}

interface Artifact {
  contractName: string;
  sourceName: string;
  inputSourceName: string;
  buildInfoId: string;
  bytecode: string;
}

function listArtifacts(dir: string, sub = "artifacts"): { path: string; artifact: Artifact }[] {
  const found: { path: string; artifact: Artifact }[] = [];
  for (const e of readdirSync(join(dir, sub), { withFileTypes: true })) {
    const path = `${sub}/${e.name}`;
    if (e.isDirectory() && e.name !== "build-info") found.push(...listArtifacts(dir, path));
    else if (e.isFile() && e.name.endsWith(".json")) {
      found.push({ path, artifact: JSON.parse(readFileSync(join(dir, path), "utf8")) as Artifact });
    }
  }
  return found;
}

/** Transitive imports of every source of a build-info input. */
function importClosures(sources: Record<string, { content: string }>, remappings: string[]): Map<string, Set<string>> {
  const direct = new Map<string, string[]>();
  for (const [name, { content }] of Object.entries(sources)) {
    const deps: string[] = [];
    for (const m of content.matchAll(/^\s*import\s+(?:[^"';]*?\s+from\s+)?["']([^"']+)["']/gm)) {
      let target = m[1];
      if (target.startsWith(".")) target = posix.join(posix.dirname(name), target);
      else {
        for (const r of remappings) {
          const [context, rest] = r.includes(":") ? r.split(/:(.*)/s) : ["", r];
          const [prefix, replacement] = rest.split("=");
          if (name.startsWith(context) && target.startsWith(prefix)) {
            target = replacement + target.slice(prefix.length);
            break;
          }
        }
      }
      if (!(target in sources)) throw new Error(`cannot resolve import "${m[1]}" of ${name}`);
      deps.push(target);
    }
    direct.set(name, deps);
  }
  const closures = new Map<string, Set<string>>();
  const visit = (name: string): Set<string> => {
    const known = closures.get(name);
    if (known) return known;
    const all = new Set<string>([name]);
    closures.set(name, all);
    for (const d of direct.get(name) ?? []) for (const x of visit(d)) all.add(x);
    return all;
  };
  for (const name of direct.keys()) visit(name);
  return closures;
}

/** The results as a markdown table: what each mutant stands for, and what killed it. */
function table(results: Result[], lines: Map<string, string>): string {
  const why = new Map(MUTANTS.map((m) => [m.id, m.why]));
  const cell = (s: string) => s.replaceAll("|", "\\|").replaceAll("\n", " ");
  const rows = results.map(
    (r, i) =>
      `| ${i + 1} | \`${r.id}\` | ${lines.get(r.id)} | ${cell(why.get(r.id) ?? "")} | ${r.status} | ${cell(r.detail)} |`,
  );
  return [
    "| # | mutant | where | a test must notice | result | killed by (first failing test) / reason |",
    "| --- | --- | --- | --- | --- | --- |",
    ...rows,
  ].join("\n");
}

async function main(): Promise<void> {
  const started = Date.now();
  const jobs = Number(option("--jobs") ?? Math.min(2, availableParallelism()));
  const timeoutSeconds = Number(option("--timeout") ?? 300);
  const only = process.argv.includes("--ci") ? CI_SUBSET : option("--only")?.split(",");
  const full = process.argv.includes("--full");
  const keep = process.argv.includes("--keep");

  // Every definition must match exactly once in the current sources, selected or not.
  const ids = new Set<string>();
  const where = new Map<string, string>();
  for (const m of MUTANTS) {
    if (ids.has(m.id)) throw new Error(`duplicate mutant id ${m.id}`);
    ids.add(m.id);
    const text = readFileSync(join(ROOT, m.file), "utf8");
    applyMutant(text, m);
    where.set(m.id, `${m.file.replace(/^contracts\//, "")}:${mutantLine(text, m)}`);
    if (!FOCUS[m.file] && !m.tests) throw new Error(`mutant ${m.id}: no focused tests for ${m.file}`);
  }
  const selected = only ? MUTANTS.filter((m) => only.some((o) => m.id === o || m.id.startsWith(o))) : MUTANTS;
  if (selected.length === 0) throw new Error(`--only ${only?.join(",")} selects no mutant`);
  if (process.argv.includes("--list")) {
    for (const m of selected)
      log(`${m.id.padEnd(48)} ${where.get(m.id)!.padEnd(34)} ${m.equivalent ? "[equivalent] " : ""}${m.why}`);
    log(`${selected.length} mutants, every definition matches exactly once`);
    return;
  }

  const scratch = mkdtempSync(join(tmpdir(), "omni-mutation-"));
  const workers: ChildProcess[] = [];
  const cleanup = () => {
    for (const w of workers) w.kill();
    for (const child of running) killGroup(child);
    if (!keep) rmSync(scratch, { recursive: true, force: true });
  };
  process.on("SIGINT", () => {
    cleanup();
    process.exit(130);
  });
  process.on("SIGTERM", () => {
    cleanup();
    process.exit(143);
  });

  try {
    const base = join(scratch, "base");
    copyProject(base);
    log(`mutation: scratch copy in ${scratch}; building it (hardhat build --no-tests)`);
    execFileSync(join(base, "node_modules", ".bin", "hardhat"), ["build", "--quiet", "--no-tests"], {
      cwd: base,
      stdio: "inherit",
    });
    const elapsed = () => `${Math.round((Date.now() - started) / 1000)} s`;
    log(`mutation: built (${elapsed()})`);

    // What the functional tests deploy; everything else deployable is removed from the copy.
    const functionalTests = functionalTestFiles(base);
    const all = listArtifacts(base);
    const deployable = new Map(
      all.filter((a) => a.artifact.bytecode !== "0x").map((a) => [a.artifact.contractName, a]),
    );
    const needs: Record<string, string[]> = {};
    for (const t of functionalTests) needs[t] = [...quotedNames(base, t)].filter((n) => deployable.has(n)).sort();
    const used = new Set(Object.values(needs).flat());
    for (const [name, a] of deployable) if (!used.has(name)) rmSync(join(base, a.path));

    const buildInputs = new Map<
      string,
      { sources: Record<string, { content: string }>; settings: { remappings?: string[] } }
    >();
    const inputNames: Record<string, string> = {};
    const contracts: ContractInfo[] = [];
    for (const name of [...used].sort()) {
      const { path, artifact } = deployable.get(name)!;
      let build = buildInputs.get(artifact.buildInfoId);
      if (!build) {
        const info = JSON.parse(
          readFileSync(join(base, "artifacts", "build-info", `${artifact.buildInfoId}.json`), "utf8"),
        ) as {
          input: { sources: Record<string, { content: string }>; settings: { remappings?: string[] } };
          userSourceNameMap: Record<string, string>;
        };
        build = info.input;
        buildInputs.set(artifact.buildInfoId, build);
        Object.assign(inputNames, info.userSourceNameMap);
      }
      const closure = importClosures(build.sources, build.settings.remappings ?? []).get(artifact.inputSourceName);
      if (!closure) throw new Error(`${artifact.inputSourceName} is not in its build-info`);
      contracts.push({
        name,
        sourceName: artifact.sourceName,
        inputSourceName: artifact.inputSourceName,
        buildInfoId: artifact.buildInfoId,
        artifact: path,
        closure: [...closure],
      });
    }
    for (const m of selected) {
      for (const t of m.tests ?? FOCUS[m.file]) {
        if (!functionalTests.includes(t)) throw new Error(`mutant ${m.id}: ${t} is not a functional test file`);
      }
    }

    // Workers: clone, self-check the compile (split between them), then mutants.
    const n = Math.max(1, Math.min(jobs, selected.length));
    const project = contracts.filter((c) => c.sourceName.startsWith("contracts/"));
    const ready: Promise<void>[] = [];
    for (let i = 0; i < n; i++) {
      const dir = join(scratch, `w${i}`);
      cpSync(base, dir, { recursive: true, verbatimSymlinks: true });
      const w = fork(SELF, ["--worker"], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
      workers.push(w);
      const setup: Setup = {
        dir,
        contracts,
        needs,
        functionalTests,
        inputNames,
        selfCheck: project.filter((_, k) => k % n === i).map((c) => c.name),
        timeoutSeconds,
      };
      ready.push(
        new Promise((ok, fail) => {
          w.once("message", (m: FromWorker) =>
            m.kind === "ready" ? ok() : fail(new Error(m.kind === "fatal" ? m.message : "?")),
          );
          w.send({ kind: "init", setup } satisfies ToWorker);
        }),
      );
    }
    log(
      `mutation: baseline (unmutated) run of ${functionalTests.length} functional test files; ${n} workers check their compile`,
    );
    const baseline = await runTests(base, functionalTests, timeoutSeconds);
    const passing = /(\d+) passing/.exec(baseline.output)?.[1];
    if (baseline.code !== 0) {
      throw new Error(`the unmutated functional tests fail: fix them first\n${baseline.output.slice(-3000)}`);
    }
    await Promise.all(ready);
    log(
      `mutation: baseline ${passing} passing; compile reproduces Hardhat's bytecode; ${selected.length} mutants, ${n} at a time`,
    );

    // Dispatch.
    const results = new Map<string, Result>();
    const queue = selected.map((mutant) => ({
      mutant,
      tests: full ? functionalTests : (mutant.tests ?? FOCUS[mutant.file]),
    }));
    let done = 0;
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((ok, fail) => {
            const next = () => {
              const job = queue.shift();
              if (!job) return ok();
              w.send({ kind: "run", job } satisfies ToWorker);
            };
            w.on("message", (m: FromWorker) => {
              if (m.kind === "fatal") return fail(new Error(m.message));
              if (m.kind !== "result") return;
              const r = m.result;
              results.set(r.id, r);
              done++;
              log(
                `[${String(done).padStart(3)}/${selected.length}] ${r.status.padEnd(13)} ${r.id.padEnd(48)} ${r.seconds.toFixed(1).padStart(5)} s (solc ${r.compileSeconds.toFixed(1)}, tests ${r.testSeconds.toFixed(1)})  ${r.detail.slice(0, 110)}`,
              );
              next();
            });
            w.on("exit", (code) => {
              if (queue.length > 0 || code) fail(new Error(`a worker exited (${code})`));
            });
            next();
          }),
      ),
    );

    // Report.
    const ordered = selected.map((m) => results.get(m.id)!);
    const count = (s: Status) => ordered.filter((r) => r.status === s).length;
    const killed = count("killed");
    const equivalent = count("equivalent");
    const declaredEquivalent = selected.filter((m) => m.equivalent).length;
    const seconds = Math.round((Date.now() - started) / 1000);
    const summary = {
      mutants: selected.length,
      killed,
      survived: count("survived"),
      equivalent,
      compileErrors: count("compile-error"),
      errors: count("error") + count("same-bytecode") + (declaredEquivalent - equivalent),
      score: Number((killed / (selected.length - declaredEquivalent)).toFixed(4)),
      seconds,
      jobs: n,
      survivors: ordered.filter((r) => r.status === "survived").map((r) => r.id),
    };
    const md = table(ordered, where);
    mkdirSync(join(ROOT, "reports"), { recursive: true });
    writeFileSync(join(ROOT, "reports", "mutation.json"), `${JSON.stringify(summary, null, 2)}\n`);
    writeFileSync(join(ROOT, "reports", "mutation.md"), `${md}\n`);
    log(`\n${md}\n`);
    for (const m of selected.filter((x) => x.equivalent)) {
      const r = results.get(m.id)!;
      if (r.status !== "equivalent")
        log(`mutation: ${m.id} is declared equivalent but was ${r.status}: fix its definition`);
    }
    log(
      `mutation: ${killed} killed, ${summary.survived} survived, ${equivalent} equivalent, ${summary.compileErrors} compile errors, ${summary.errors} errors of ${selected.length} mutants; score ${killed}/${selected.length - declaredEquivalent} = ${(summary.score * 100).toFixed(1)}%; ${seconds} s with ${n} workers (reports/mutation.json)`,
    );
    if (summary.survived + summary.compileErrors + summary.errors > 0) process.exitCode = 1;
  } finally {
    cleanup();
  }
}

if (process.argv.includes("--worker")) {
  worker();
} else {
  await main().catch((e: Error) => {
    process.stderr.write(`mutation: ${e.message}\n`);
    process.exit(1);
  });
}
