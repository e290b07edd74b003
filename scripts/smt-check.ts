/**
 * Formal check with solc's SMTChecker: `npm run verify:smt`. See docs/FORMAL.md.
 *
 * solc-js (wasm) has no SMT solver inside; it hands each SMT-LIB2 query to the synchronous
 * `smtSolver` callback. The callback is answered by z3 from the npm package `z3-solver` (z3
 * compiled to wasm, async API) running in a worker thread, with the main thread blocked on a
 * SharedArrayBuffer until the answer is there (scripts/smt/z3-bridge.ts). No z3 binary needed.
 *
 * One job = one standard-JSON compilation of one harness with modelChecker settings, by one
 * engine: BMC for the pure properties (every input; loop-free code, so BMC is a complete proof)
 * and CHC for properties of reachable registry states (every sequence of calls). Each
 * verification target is printed with its verdict:
 *   proved   no input (BMC) / no reachable state (CHC) violates it;
 *   refuted  a violation exists: for a negative control that is the expected result; otherwise
 *            the run fails unless the finding is in ACCEPTED (reviewed, documented);
 *   unknown  z3 gave up at the per-query timeout, or the budget was spent.
 * Exit code 1 on ANY result other than the expected one: a refuted target not in ACCEPTED, a
 * negative control not refuted, an unknown target (except in a job of KNOWN_UNKNOWN), or a set-up
 * failure (compile error, solver error, no target reported); 2 on bad arguments.
 * `--allow-unknown` turns unknown verdicts into warnings (for exploring a job).
 *
 * Options: --timeout <ms> per query (default 30000), --budget <s> for the whole run (default
 * 300; queries past it are answered unknown without running z3), --job <name> (repeatable;
 * default: every job marked default).
 */
import { createRequire } from "node:module";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { Z3Bridge } from "./smt/z3-bridge.js";

const require = createRequire(import.meta.url);

interface SolcSourceLocation {
  file: string;
  start: number;
  end: number;
}
interface SolcError {
  severity: "error" | "warning" | "info";
  message: string;
  formattedMessage?: string;
  sourceLocation?: SolcSourceLocation;
}
interface SolcOutput {
  errors?: SolcError[];
  contracts?: Record<string, Record<string, { evm?: { methodIdentifiers?: Record<string, string> } }>>;
}
interface SolcCompiler {
  version(): string;
  compile(input: string, callbacks: { import: ImportCallback; smtSolver: SmtCallback }): string;
}
type ImportCallback = (path: string) => { contents: string } | { error: string };
type SmtCallback = (query: string) => { contents: string } | { error: unknown };

const solc = require("solc") as SolcCompiler;
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const HARNESS_DIR = "contracts/verification";

type Target = "assert" | "underflow" | "overflow" | "divByZero" | "outOfBounds" | "popEmptyArray";
type Engine = "chc" | "bmc";

interface Job {
  name: string;
  what: string;
  file: string;
  contract: string;
  engine: Engine;
  targets: Target[];
  /** a negative control: every target must be refuted */
  expectRefuted?: boolean;
  /** run when no --job is given */
  default: boolean;
}

const JOBS: Job[] = [
  {
    name: "negative-controls",
    what: "false properties the checker must refute (proves the set-up is not vacuous)",
    file: `${HARNESS_DIR}/SMTNegativeControls.sol`,
    contract: "SMTNegativeControls",
    engine: "bmc",
    targets: ["assert"],
    expectRefuted: true,
    default: true,
  },
  {
    name: "slot-properties",
    what: "consent word layout, nextGeneration, isActive, revoke-all, bit tricks (real ConsentSlot)",
    file: `${HARNESS_DIR}/ConsentSlotProperties.sol`,
    contract: "ConsentSlotProperties",
    engine: "bmc",
    targets: ["assert", "overflow", "underflow"],
    default: true,
  },
  {
    name: "ordering-properties",
    what: "the signed-message ordering rule (_checkSigned's condition, real nextGeneration and stores)",
    file: `${HARNESS_DIR}/ConsentOrderingProperties.sol`,
    contract: "ConsentOrderingProperties",
    engine: "bmc",
    targets: ["assert", "overflow", "underflow"],
    default: true,
  },
  {
    name: "registry-reachable",
    what: "_isAllowed of the real registry over every REACHABLE state (CHC; opt-in: --job registry-reachable)",
    file: `${HARNESS_DIR}/ConsentRegistryProperties.sol`,
    contract: "ConsentRegistryProperties",
    engine: "chc",
    targets: ["assert"],
    // Opt-in: its targets stay unknown (KNOWN_UNKNOWN) and solc alone needs minutes to encode it.
    default: false,
  },
  {
    name: "registry",
    what: "overflow/underflow/bounds targets of ConsentRegistry itself (CHC; opt-in: --job registry)",
    file: "contracts/ConsentRegistry.sol",
    contract: "ConsentRegistry",
    engine: "chc",
    targets: ["underflow", "overflow", "divByZero", "outOfBounds", "popEmptyArray"],
    default: false,
  },
];

/**
 * Reviewed findings: reachable, accepted for the reason given (docs/FORMAL.md). Matched on job,
 * target kind, file and the exact source text, so a NEW finding still fails the run.
 */
const ACCEPTED: { job: string; kind: string; file: string; text: string; reason: string }[] = [
  {
    job: "slot-properties",
    kind: "Overflow",
    file: `${HARNESS_DIR}/ConsentSlotProperties.sol`,
    text: "epoch + 1",
    reason:
      "the checked uint32 increment of _revokeAll, copied into the harness: it reverts (never wraps) " +
      "after 2^32-1 lockdowns of ONE owner, each a transaction of >= 21,000 gas",
  },
  {
    job: "registry",
    kind: "Overflow",
    file: "contracts/ConsentRegistry.sol",
    text: "_epochs[owner] + 1",
    reason: "same checked increment in the registry itself: reverts, never wraps",
  },
];

/** Jobs where unknown is tolerated and why (printed, and written in docs/FORMAL.md). */
const KNOWN_UNKNOWN: Record<string, string> = {
  "registry-reachable":
    "CHC over the whole registry: z3's Spacer gets no answer on Horn clauses that mix Int and " +
    "bit-vector terms (every function of the registry packs words), and these properties need " +
    "invariants over the nested consent mappings; the bit-vector lifting applies only to " +
    "quantifier-free (BMC) queries, and BMC (any state) cannot show properties of reachable states",
  registry:
    "CHC over the whole registry (the same Spacer limit); the targets are loop counters and the " +
    "checked epoch increment, which the Solidity fuzz and invariant suites exercise",
};

interface Options {
  timeoutMs: number;
  budgetS: number;
  jobs: string[];
  allowUnknown: boolean;
}

function parseArgs(argv: string[]): Options {
  const opts: Options = { timeoutMs: 30_000, budgetS: 300, jobs: [], allowUnknown: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === "--allow-unknown") {
      opts.allowUnknown = true;
      continue;
    }
    const value = argv[++i];
    const num = Number(value);
    if (flag === "--timeout" && Number.isInteger(num) && num > 0) opts.timeoutMs = num;
    else if (flag === "--budget" && Number.isInteger(num) && num > 0) opts.budgetS = num;
    else if (flag === "--job" && JOBS.some((j) => j.name === value)) opts.jobs.push(value);
    else {
      console.error(
        `smt-check: bad argument ${JSON.stringify(flag)} ${JSON.stringify(value ?? "")}: use --timeout <ms>, ` +
          `--budget <seconds>, --allow-unknown, --job <${JOBS.map((j) => j.name).join("|")}>`,
      );
      process.exit(2);
    }
  }
  return opts;
}

/** Import callback: repo-relative paths, then node_modules (for @openzeppelin/...). */
function readSource(path: string): { contents: string } | { error: string } {
  for (const candidate of [join(ROOT, path), join(ROOT, "node_modules", path)]) {
    if (existsSync(candidate)) return { contents: readFileSync(candidate, "utf8") };
  }
  return { error: `not found: ${path}` };
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

/** What z3 did, across the run, and per function selector (BMC queries name their function). */
const stats = { queries: 0, killed: 0, skipped: 0, unknown: 0, solverMs: 0 };
let querySelectors: { selector: number | null; ms: number; answer: string }[] = [];

function makeCallback(bridge: Z3Bridge, opts: Options, deadline: number): SmtCallback {
  return (query: string) => {
    const sig = /\(= \(\|msg\.sig\| tx_0\) (\d+)\)/.exec(query);
    const selector = /\(set-logic HORN\)/.test(query) || sig === null ? null : Number(sig[1]);
    if (Date.now() > deadline) {
      stats.skipped++;
      querySelectors.push({ selector, ms: 0, answer: "skipped (budget)" });
      return { contents: "unknown\n" };
    }
    stats.queries++;
    const answer = bridge.solve(query, opts.timeoutMs);
    stats.solverMs += answer.ms;
    if (answer.killed) stats.killed++;
    const first = answer.output.split("\n")[0];
    if (first === "unknown") stats.unknown++;
    querySelectors.push({ selector, ms: answer.ms, answer: answer.killed ? "killed at the limit" : first });
    return { contents: answer.output };
  };
}

interface Verdict {
  kind: string;
  status: "proved" | "refuted" | "unknown";
  file: string;
  line: number;
  text: string;
  start: number;
  end: number;
  fn: string;
  counterexample?: string;
}

function compileJob(job: Job, engine: Engine, opts: Options, callback: SmtCallback): SolcOutput {
  const input = {
    language: "Solidity",
    sources: { [job.file]: { content: sourceOf(job.file) } },
    settings: {
      evmVersion: "cancun",
      // Analysis only: the selectors name the function of each BMC query; no bytecode.
      outputSelection: { [job.file]: { [job.contract]: ["evm.methodIdentifiers"] } },
      modelChecker: {
        engine,
        contracts: { [job.file]: [job.contract] },
        targets: job.targets,
        solvers: ["smtlib2"],
        timeout: opts.timeoutMs,
        showProvedSafe: true,
        showUnproved: true,
        showUnsupported: true,
        // External calls (the integration registry, ERC-1271 wallets) are trusted code that
        // does not re-enter: the registry only STATICCALLs them.
        extCalls: "trusted",
      },
    },
  };
  return JSON.parse(solc.compile(JSON.stringify(input), { import: readSource, smtSolver: callback })) as SolcOutput;
}

const VERDICT_RE = /^(CHC|BMC): (.+?) (check is safe!|happens here\.|might happen here\.)/;

/** The function whose body holds byte offset `start` of `file` (by the last `function x(` before it). */
function enclosingFunction(file: string, start: number): string {
  const before = Buffer.from(sourceOf(file), "utf8").subarray(0, start).toString("utf8");
  const all = [...before.matchAll(/function\s+([A-Za-z0-9_]+)\s*\(/g)];
  const name = all.length > 0 ? all[all.length - 1][1] : "(constants)";
  return file.startsWith(HARNESS_DIR) || file.startsWith("contracts/ConsentRegistry") ? name : `${name} (inlined)`;
}

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
      status: m[3] === "check is safe!" ? "proved" : m[3] === "happens here." ? "refuted" : "unknown",
      file,
      start,
      end,
      fn: enclosingFunction(file, start),
      line: src.subarray(0, start).toString("utf8").split("\n").length,
      text: src.subarray(start, end).toString("utf8").replace(/\s+/g, " "),
      counterexample: cex?.[1]
        ?.split("\n")
        .map((l) => l.replace(/^Note:\s*/, "").trim())
        .filter((l) => l.length > 0)
        .join(", "),
    });
  }
  // The same inlined library target can be reported once per call site: keep one per location.
  const unique = new Map<string, Verdict>();
  for (const v of verdicts) {
    const key = `${v.kind}|${v.file}|${v.start}|${v.end}`;
    const old = unique.get(key);
    const rank = { refuted: 2, unknown: 1, proved: 0 };
    if (old === undefined || rank[v.status] > rank[old.status]) unique.set(key, v);
  }
  return [...unique.values()].sort((a, b) => a.file.localeCompare(b.file) || a.start - b.start);
}

function shortKind(kind: string): string {
  return kind.replace(/ \(resulting value (larger|less) than .*\)/, "");
}

function main(): void {
  const opts = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const deadline = started + opts.budgetS * 1000;
  // The options solc uses for its own linked z3 (and solc-js's smtsolver.js) for Spacer.
  const bridge = new Z3Bridge({
    "rewriter.pull_cheap_ite": "true",
    "fp.spacer.q3.use_qgen": "true",
    "fp.spacer.mbqi": "false",
    "fp.spacer.ground_pobs": "false",
  });
  console.log(
    `solc ${solc.version()}, ${bridge.version} (npm z3-solver, wasm, in a worker thread), ` +
      `per-query timeout ${opts.timeoutMs} ms, budget ${opts.budgetS} s`,
  );
  const callback = makeCallback(bridge, opts, deadline);

  const problems: string[] = [];
  const totals = { proved: 0, refutedExpected: 0, accepted: 0, refuted: 0, unknown: 0 };
  const jobs = JOBS.filter((j) => (opts.jobs.length === 0 ? j.default : opts.jobs.includes(j.name)));
  try {
    for (const job of jobs) {
      const jobStart = Date.now();
      querySelectors = [];
      const output = compileJob(job, job.engine, opts, callback);
      const errors = output.errors ?? [];
      const fatal = errors.filter((e) => e.severity === "error");
      if (fatal.length > 0) {
        problems.push(`${job.name}: compile error: ${fatal[0].formattedMessage ?? fatal[0].message}`);
        continue;
      }
      const solverTrouble = errors.find((e) => /No Horn solver|Error trying to invoke SMT solver/i.test(e.message));
      if (solverTrouble) problems.push(`${job.name}: ${solverTrouble.message}`);
      const verdicts = verdictsOf(errors);

      // CHC does not return counterexamples over SMT-LIB2; BMC does (function-local).
      if (job.engine === "chc" && verdicts.some((v) => v.status === "refuted")) {
        const bmc = verdictsOf(compileJob(job, "bmc", opts, callback).errors ?? []);
        for (const v of verdicts.filter((x) => x.status === "refuted")) {
          const same = bmc.find((b) => b.file === v.file && b.start === v.start && b.end === v.end);
          v.counterexample = same?.counterexample ?? "(BMC found none: reachable only across transactions)";
        }
      }

      // Time per function: BMC queries carry the function's selector.
      const names = new Map<number, string>();
      const ids = output.contracts?.[job.file]?.[job.contract]?.evm?.methodIdentifiers ?? {};
      for (const [signature, hex] of Object.entries(ids)) names.set(parseInt(hex, 16), signature.split("(")[0]);
      const fnMs = new Map<string, number>();
      for (const q of querySelectors) {
        const fn = q.selector === null ? "(whole contract)" : (names.get(q.selector) ?? "?");
        fnMs.set(fn, (fnMs.get(fn) ?? 0) + q.ms);
      }

      const secs = ((Date.now() - jobStart) / 1000).toFixed(1);
      console.log(
        `\n== ${job.name} [${job.engine.toUpperCase()}] (${secs} s, ${querySelectors.length} queries): ${job.what}`,
      );
      if (verdicts.length === 0) problems.push(`${job.name}: solc reported no verification target`);
      let lastFn = "";
      for (const v of verdicts) {
        if (v.fn !== lastFn) {
          const ms = fnMs.get(v.fn.replace(/ \(inlined\)$/, ""));
          console.log(`  ${v.fn}${ms === undefined ? "" : `  (z3 ${(ms / 1000).toFixed(1)} s)`}`);
          lastFn = v.fn;
        }
        const label = `${shortKind(v.kind)} @ ${v.file.replace(/^contracts\//, "")}:${v.line}  ${
          v.text.length > 60 ? v.text.slice(0, 57) + "..." : v.text
        }`;
        if (job.expectRefuted) {
          if (v.status === "refuted") {
            totals.refutedExpected++;
            console.log(`    refuted (good: negative control)  ${label}\n        counterexample: ${v.counterexample}`);
          } else {
            problems.push(`${job.name}: negative control ${v.status.toUpperCase()}, not refuted: ${v.file}:${v.line}`);
            console.log(`    ${v.status.toUpperCase()} (must be refuted)  ${label}`);
          }
          continue;
        }
        if (v.status === "proved") {
          totals.proved++;
          console.log(`    proved   ${label}`);
        } else if (v.status === "unknown") {
          totals.unknown++;
          const known = KNOWN_UNKNOWN[job.name];
          if (!opts.allowUnknown && known === undefined)
            problems.push(`${job.name}: UNKNOWN ${v.file}:${v.line}: ${v.text}`);
          console.log(`    UNKNOWN  ${label}`);
        } else {
          const ok = ACCEPTED.find(
            (a) => a.job === job.name && v.kind.startsWith(a.kind) && a.file === v.file && a.text === v.text,
          );
          if (ok) totals.accepted++;
          else {
            totals.refuted++;
            problems.push(`${job.name}: REFUTED ${shortKind(v.kind)} at ${v.file}:${v.line}: ${v.text}`);
          }
          console.log(`    REFUTED${ok ? " (accepted)" : ""}  ${label}\n        counterexample: ${v.counterexample}`);
          if (ok) console.log(`        accepted: ${ok.reason}`);
        }
      }
      if (KNOWN_UNKNOWN[job.name] !== undefined && verdicts.some((v) => v.status === "unknown")) {
        console.log(`  unknown here is documented: ${KNOWN_UNKNOWN[job.name]}`);
      }
    }
  } finally {
    bridge.close();
  }

  const wall = ((Date.now() - started) / 1000).toFixed(1);
  console.log(
    `\nproved ${totals.proved}, negative controls refuted ${totals.refutedExpected}, accepted findings ` +
      `${totals.accepted}, refuted ${totals.refuted}, unknown ${totals.unknown}; z3 queries ${stats.queries} ` +
      `(${(stats.solverMs / 1000).toFixed(1)} s in z3, ${stats.unknown} unknown, ${stats.killed} killed at the ` +
      `limit), ${stats.skipped} skipped by the budget; wall ${wall} s`,
  );
  if (problems.length > 0) {
    console.error(`\nsmt-check FAILED:\n  ${problems.join("\n  ")}`);
    process.exit(1);
  }
  console.log(
    totals.unknown > 0
      ? `smt-check: as expected; ${totals.unknown} target(s) unknown where documented (NOT proved)`
      : "smt-check: every target proved (or refuted, for the negative controls)",
  );
}

main();
