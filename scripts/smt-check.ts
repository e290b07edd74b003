/**
 * Formal check with solc's SMTChecker (CHC engine): `npm run verify:smt`. See docs/FORMAL.md.
 *
 * solc-js (wasm) has no SMT solver inside; it hands each SMT-LIB2 query to the `smtSolver`
 * callback (built with `solc/smtchecker`'s smtCallback), which runs the local `z3` binary
 * (Debian: `apt-get install z3`). One job = one standard-JSON compilation with modelChecker
 * settings; every verification target solc reports is printed with its verdict:
 *   safe     proved for every input and, for CHC, every reachable state (any call sequence);
 *   unsafe   a violation is reachable (CHC); the counterexample comes from a BMC re-run of the
 *            same job, because solc does not ask for a CHC counterexample over SMT-LIB2;
 *   unknown  z3 answered unknown or hit the per-query timeout (reported as `timeout`).
 * Exit code 1 on any unsafe verdict that is not in ACCEPTED (reviewed, documented findings), on a
 * negative control proved SAFE (a vacuous set-up), or on a set-up failure (compile error, solver
 * error, no target reported); 2 on bad arguments or no z3. Unknown verdicts do not fail the run.
 *
 * Options: --timeout <ms> per query (default 5000), --budget <s> for the whole run (default
 * 240; queries past it are answered `unknown` without running z3), --job <name> (repeatable).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);

interface SolcSourceLocation {
  file: string;
  start: number;
  end: number;
}
interface SolcError {
  severity: "error" | "warning" | "info";
  errorCode?: string;
  message: string;
  formattedMessage?: string;
  sourceLocation?: SolcSourceLocation;
}
interface SolcOutput {
  errors?: SolcError[];
}
interface SolcCompiler {
  version(): string;
  compile(input: string, callbacks: { import: ImportCallback; smtSolver: SmtCallback }): string;
}
type ImportCallback = (path: string) => { contents: string } | { error: string };
type SmtCallback = (query: string) => { contents: string } | { error: unknown };
interface SolverConfig {
  name: string;
  command: string;
  params: string;
}
interface SmtCheckerModule {
  smtCallback(solve: (query: string, solver: SolverConfig) => string, solver: SolverConfig): SmtCallback;
}

const solc = require("solc") as SolcCompiler;
const smtchecker = require("solc/smtchecker") as SmtCheckerModule;

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

type Target = "assert" | "underflow" | "overflow" | "divByZero" | "outOfBounds" | "popEmptyArray";
type Engine = "chc" | "bmc";

interface Job {
  name: string;
  what: string;
  /** source unit name (repo-relative path) → contracts to check in it */
  contracts: Record<string, string[]>;
  targets: Target[];
  /** a negative control: every target should be refuted, and must never be proved safe */
  expectUnsafe?: boolean;
}

const ALL_TARGETS: Target[] = ["assert", "underflow", "overflow", "divByZero", "outOfBounds", "popEmptyArray"];

const JOBS: Job[] = [
  {
    name: "negative-controls",
    what: "false properties the checker must refute (proves the set-up is not vacuous)",
    contracts: { "contracts/mocks/SMTNegativeControls.sol": ["SMTNegativeControls"] },
    targets: ["assert"],
    expectUnsafe: true,
  },
  {
    name: "slot-properties",
    what: "ConsentSlot packing, expiry, epoch and bit-trick properties (harness asserts)",
    contracts: { "contracts/mocks/ConsentSlotProperties.sol": ["ConsentSlotProperties"] },
    targets: ALL_TARGETS,
  },
  {
    name: "registry-properties",
    what: "_isAllowed properties over every reachable registry state (harness asserts)",
    contracts: { "contracts/mocks/ConsentRegistryProperties.sol": ["ConsentRegistryProperties"] },
    targets: ["assert"],
  },
  {
    name: "registry",
    what: "ConsentRegistry (+ PurposeCatalog, ConsentSlot, ConsentHashes, SignatureVerification inlined)",
    contracts: { "contracts/ConsentRegistry.sol": ["ConsentRegistry"] },
    targets: ALL_TARGETS,
  },
];

/**
 * Reviewed findings: reachable in the CHC model, accepted for the reason given (docs/FORMAL.md).
 * Matched on job, target kind, file and the exact source text, so a NEW finding still fails.
 */
const ACCEPTED: { job: string; kind: string; file: string; text: string; reason: string }[] = [
  {
    job: "registry",
    kind: "Overflow",
    file: "contracts/ConsentRegistry.sol",
    text: "_epochs[owner] + 1",
    reason:
      "checked: reverts (never wraps) after 2^64-1 revoke-alls of ONE owner, each a transaction of " +
      ">= 21,000 gas; at a whole 30M-gas block every 12 s that is ~5e9 years",
  },
  {
    job: "slot-properties",
    kind: "Overflow",
    file: "contracts/mocks/ConsentSlotProperties.sol",
    text: "epoch + 1",
    reason: "the same checked increment as _revokeAll, copied into the harness on purpose",
  },
];

interface Options {
  timeoutMs: number;
  budgetS: number;
  jobs: string[];
}

function parseArgs(argv: string[]): Options {
  const opts: Options = { timeoutMs: 5_000, budgetS: 240, jobs: [] };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    const num = Number(value);
    if (flag === "--timeout" && Number.isInteger(num) && num > 0) opts.timeoutMs = num;
    else if (flag === "--budget" && Number.isInteger(num) && num > 0) opts.budgetS = num;
    else if (flag === "--job" && JOBS.some((j) => j.name === value)) opts.jobs.push(value);
    else {
      fail(
        `bad argument ${JSON.stringify(flag)} ${JSON.stringify(value ?? "")}: use --timeout <ms>, ` +
          `--budget <seconds>, --job <${JOBS.map((j) => j.name).join("|")}>`,
      );
    }
    i++;
  }
  return opts;
}

function fail(message: string): never {
  console.error(`smt-check: ${message}`);
  process.exit(2);
}

/** Import callback: repo-relative paths, then node_modules (for @openzeppelin/...). */
function readSource(path: string): { contents: string } | { error: string } {
  for (const candidate of [join(ROOT, path), join(ROOT, "node_modules", path)]) {
    if (existsSync(candidate)) return { contents: readFileSync(candidate, "utf8") };
  }
  return { error: `not found: ${path}` };
}

/** Counts what z3 did, across the whole run. */
const stats = { queries: 0, timeouts: 0, skipped: 0, solverMs: 0 };

function z3Version(): string {
  try {
    return execFileSync("z3", ["--version"], { encoding: "utf8" }).trim();
  } catch {
    fail("z3 not found on PATH: install it (Debian/Ubuntu: apt-get install -y z3)");
  }
}

/**
 * The solver function handed to solc/smtchecker's smtCallback. Same z3 options as solc-js's
 * own smtsolver.js (which are the ones solc uses for its linked z3), but our own timeout:
 * solc already sets `(set-option :timeout N)` in each query, and the process is killed 2 s
 * later as a backstop. A killed or over-budget query is answered `unknown`.
 */
function makeSolver(tmp: string, timeoutMs: number, deadline: number) {
  return (query: string, solver: SolverConfig): string => {
    if (Date.now() > deadline) {
      stats.skipped++;
      return "unknown\n";
    }
    stats.queries++;
    const file = join(tmp, `q${stats.queries}.smt2`);
    writeFileSync(file, query);
    const started = Date.now();
    try {
      return execFileSync(solver.command, [...solver.params.split(" "), file], {
        encoding: "utf8",
        maxBuffer: 1024 * 1024 * 1024,
        stdio: "pipe",
        timeout: timeoutMs + 2_000,
      });
    } catch (e) {
      // z3 exits non-zero e.g. when asked for a model of an unsat query: stdout is still valid.
      const out = (e as { stdout?: string }).stdout ?? "";
      if (/^(sat|unsat|unknown)/.test(out)) return out;
      stats.timeouts++;
      return "unknown\n";
    } finally {
      stats.solverMs += Date.now() - started;
      rmSync(file, { force: true });
    }
  };
}

interface Verdict {
  kind: string; // "Assertion violation", "Overflow (resulting value larger than 2**64 - 1)", ...
  status: "safe" | "unsafe" | "unknown";
  file: string;
  line: number;
  text: string;
  start: number;
  end: number;
  counterexample?: string;
}

const sourceCache = new Map<string, string>();
function sourceOf(file: string): string {
  let text = sourceCache.get(file);
  if (text === undefined) {
    const read = readSource(file);
    text = "contents" in read ? read.contents : "";
    sourceCache.set(file, text);
  }
  return text;
}

function compileJob(job: Job, engine: Engine, opts: Options, callback: SmtCallback): SolcError[] {
  const input = {
    language: "Solidity",
    sources: Object.fromEntries(Object.keys(job.contracts).map((f) => [f, { content: sourceOf(f) }])),
    settings: {
      evmVersion: "cancun",
      // Analysis only: no bytecode wanted.
      outputSelection: { "*": { "": [] } },
      modelChecker: {
        engine,
        contracts: job.contracts,
        targets: job.targets,
        solvers: ["smtlib2"],
        timeout: opts.timeoutMs,
        showProvedSafe: true,
        showUnproved: true,
        showUnsupported: true,
        // Assume external calls (to the integration registry, ERC-1271 wallets) are trusted
        // code that does not re-enter: the registry only STATICCALLs them.
        extCalls: "trusted",
      },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: readSource, smtSolver: callback }));
  return (output as SolcOutput).errors ?? [];
}

const VERDICT_RE = /^(CHC|BMC): (.+?) (check is safe!|happens here\.|might happen here\.)/;

function verdictsOf(errors: SolcError[]): Verdict[] {
  const verdicts: Verdict[] = [];
  for (const err of errors) {
    const m = VERDICT_RE.exec(err.message);
    if (!m || !err.sourceLocation) continue;
    const { file, start, end } = err.sourceLocation;
    const src = Buffer.from(sourceOf(file), "utf8"); // solc offsets are byte offsets
    const cex = /Counterexample:\n([\s\S]*?)(?:\n\s*\n|\nTransaction trace|\nNote: Callstack|$)/.exec(
      err.formattedMessage ?? err.message,
    );
    verdicts.push({
      kind: m[2],
      status: m[3] === "check is safe!" ? "safe" : m[3] === "happens here." ? "unsafe" : "unknown",
      file,
      start,
      end,
      line: src.subarray(0, start).toString("utf8").split("\n").length,
      text: src.subarray(start, end).toString("utf8").replace(/\s+/g, " "),
      counterexample: cex?.[1]
        ?.split("\n")
        .map((l) => l.replace(/^Note:\s*/, "").trim())
        .filter((l) => l.length > 0)
        .join(", "),
    });
  }
  return verdicts.sort((a, b) => a.file.localeCompare(b.file) || a.start - b.start);
}

function shortKind(kind: string): string {
  return kind.replace(/ \(resulting value (larger|less) than .*\)/, "");
}

function main(): void {
  const opts = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const deadline = started + opts.budgetS * 1000;
  console.log(
    `solc ${solc.version()}, ${z3Version()}, per-query timeout ${opts.timeoutMs} ms, budget ${opts.budgetS} s`,
  );

  const tmp = mkdtempSync(join(tmpdir(), "smt-check-"));
  const z3: SolverConfig = {
    name: "z3",
    command: "z3",
    params:
      "-smt2 rewriter.pull_cheap_ite=true fp.spacer.q3.use_qgen=true fp.spacer.mbqi=false fp.spacer.ground_pobs=false",
  };
  const callback = smtchecker.smtCallback(makeSolver(tmp, opts.timeoutMs, deadline), z3);

  const problems: string[] = [];
  const totals = { safe: 0, unsafe: 0, accepted: 0, refuted: 0, unknown: 0 };
  try {
    for (const job of JOBS.filter((j) => opts.jobs.length === 0 || opts.jobs.includes(j.name))) {
      const jobStart = Date.now();
      const timeoutsBefore = stats.timeouts + stats.skipped;
      const errors = compileJob(job, "chc", opts, callback);
      const fatal = errors.filter((e) => e.severity === "error");
      if (fatal.length > 0) {
        problems.push(`${job.name}: compile error: ${fatal[0].formattedMessage ?? fatal[0].message}`);
        continue;
      }
      const solverTrouble = errors.find((e) => /No Horn solver|Error trying to invoke SMT solver/i.test(e.message));
      if (solverTrouble) problems.push(`${job.name}: ${solverTrouble.message}`);
      const verdicts = verdictsOf(errors);
      const jobTimeouts = stats.timeouts + stats.skipped - timeoutsBefore;

      // CHC does not return counterexamples over SMT-LIB2; BMC does (function-local: it
      // assumes any state, so its counterexample shows the values, not how to reach them).
      if (verdicts.some((v) => v.status === "unsafe")) {
        const bmc = verdictsOf(compileJob(job, "bmc", opts, callback));
        for (const v of verdicts.filter((x) => x.status === "unsafe")) {
          const same = bmc.find((b) => b.file === v.file && b.start === v.start && b.end === v.end);
          v.counterexample = same?.counterexample ?? "(BMC found none: reachable only across transactions)";
        }
      }

      const secs = ((Date.now() - jobStart) / 1000).toFixed(1);
      console.log(`\n== ${job.name} (${secs} s): ${job.what}`);
      if (verdicts.length === 0) problems.push(`${job.name}: solc reported no verification target`);
      for (const v of verdicts) {
        const where = `${v.file}:${v.line}`;
        const label = `${shortKind(v.kind)} @ ${where}  ${v.text.length > 70 ? v.text.slice(0, 67) + "..." : v.text}`;
        if (job.expectUnsafe) {
          if (v.status === "unsafe") {
            totals.refuted++;
            console.log(`  refuted (as expected)  ${label}\n      counterexample: ${v.counterexample}`);
          } else if (v.status === "safe") {
            problems.push(`${job.name}: negative control PROVED SAFE (vacuous set-up?): ${where}`);
            console.log(`  PROVED SAFE (must not be)  ${label}`);
          } else {
            totals.unknown++;
            console.log(`  inconclusive (not refuted in time)  ${label}`);
          }
          continue;
        }
        if (v.status === "safe") {
          totals.safe++;
          console.log(`  safe     ${label}`);
        } else if (v.status === "unknown") {
          totals.unknown++;
          console.log(`  ${jobTimeouts > 0 ? "unknown/timeout" : "unknown"}  ${label}`);
        } else {
          const ok = ACCEPTED.find(
            (a) => a.job === job.name && v.kind.startsWith(a.kind) && a.file === v.file && a.text === v.text,
          );
          if (ok) totals.accepted++;
          else {
            totals.unsafe++;
            problems.push(`${job.name}: UNSAFE ${shortKind(v.kind)} at ${where}: ${v.text}`);
          }
          console.log(`  UNSAFE${ok ? " (accepted)" : ""}  ${label}\n      counterexample: ${v.counterexample}`);
          if (ok) console.log(`      accepted: ${ok.reason}`);
        }
      }
      if (jobTimeouts > 0) console.log(`  (${jobTimeouts} z3 queries hit the timeout or the budget in this job)`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }

  const wall = ((Date.now() - started) / 1000).toFixed(1);
  console.log(
    `\nsafe ${totals.safe}, unsafe ${totals.unsafe}, accepted ${totals.accepted}, unknown ${totals.unknown}, ` +
      `negative controls refuted ${totals.refuted}; z3 queries ${stats.queries} ` +
      `(${(stats.solverMs / 1000).toFixed(1)} s), timeouts ${stats.timeouts}, skipped ${stats.skipped}; wall ${wall} s`,
  );
  if (problems.length > 0) {
    console.error(`\nsmt-check FAILED:\n  ${problems.join("\n  ")}`);
    process.exit(1);
  }
  console.log(
    totals.unknown > 0
      ? `smt-check: no unsafe verdict, but ${totals.unknown} target(s) unknown: those are NOT proved`
      : "smt-check: every target proved safe (or accepted)",
  );
}

main();
