/**
 * Branch coverage of contracts/ from the data `hardhat test --coverage` leaves behind:
 * `npm run coverage` runs it after the tests (`tsx scripts/branch-coverage.ts`).
 *
 * Hardhat 3 reports lines and statements only (EDR records no branch data). What it does record
 * is, per statement probe, in how many transactions the probe fired (coverage/data/{mocha,solidity}/
 * *.json: `{ "<tag hex>": transactions }`). Branches follow from those probes and the solc AST:
 *
 * - `if` true branch taken  ⇔ some probe inside the true body fired.
 * - `if` false branch taken ⇔ with an `else`: some probe inside the else body fired; without one:
 *   count(if probe) > count(entry probe of the true body). The entry probe is the first thing the
 *   body executes, so it fires in every transaction in which the body ran; a transaction that
 *   fired the `if` probe but not the entry probe skipped the body. (EDR deduplicates hits per
 *   transaction, so an `if` that went both ways within ONE transaction only counts as true: this
 *   rule can under-report, never over-report.)
 * - `else if` is an `if` in the else body: its own two branches, and the outer false branch.
 * - Not measurable with statement probes, reported as failures: ternaries (`c ? a : b`),
 *   `require`/`assert`, `try`/`catch`, assembly (Yul `if`/`switch`), and an `if` whose body holds
 *   no probe. `&&`/`||` are not counted as branches (neither does solidity-coverage).
 *
 * Output: a per-file table, every missed branch as `file:line true|false`, BRDA/BRF/BRH records in
 * coverage/lcov.info. Exit code 1 if branch coverage is below 100% or anything is unmeasurable.
 */
import { existsSync, readdirSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { addStatementCoverageInstrumentation } from "@nomicfoundation/edr";
import solc from "solc";

/** Same as `coverage.skipFiles` in hardhat.config.ts (test/scripts/branch-coverage.ts checks it). */
export const SKIP_FILES = ["contracts/mocks/**", "contracts/verification/**", "test/**"];

/** Statements whose AST `src` a probe's range can start at. */
const STATEMENT_TYPES = new Set([
  "Block",
  "UncheckedBlock",
  "PlaceholderStatement",
  "IfStatement",
  "TryStatement",
  "WhileStatement",
  "DoWhileStatement",
  "ForStatement",
  "Continue",
  "Break",
  "Return",
  "Throw",
  "EmitStatement",
  "RevertStatement",
  "VariableDeclarationStatement",
  "ExpressionStatement",
  "InlineAssembly",
]);

interface AstNode {
  nodeType: string;
  src: string;
  [key: string]: unknown;
}

/** A statement probe: its tag (hex, as in the coverage data) and the statement's UTF-16 range. */
export interface Probe {
  tag: string;
  start: number;
  end: number;
}

export interface BranchResult {
  /** 1-based line of the `if` keyword. */
  line: number;
  /** Index of the `if` in the file (lcov block number). */
  block: number;
  side: "true" | "false";
  /** Transactions in which the branch was taken (a lower bound); null if the `if` never ran. */
  taken: number | null;
}

export interface Unmeasurable {
  line: number;
  what: string;
}

export interface FileBranchReport {
  file: string;
  branches: BranchResult[];
  unmeasurable: Unmeasurable[];
}

const isNode = (v: unknown): v is AstNode =>
  typeof v === "object" && v !== null && typeof (v as { nodeType?: unknown }).nodeType === "string";

function* walk(node: AstNode): Generator<AstNode> {
  yield node;
  for (const value of Object.values(node)) {
    if (Array.isArray(value)) {
      for (const item of value) if (isNode(item)) yield* walk(item);
    } else if (isNode(value)) {
      yield* walk(value);
    }
  }
}

/** UTF-8 byte offset → UTF-16 index (solc's `src` counts bytes; EDR and JS strings count UTF-16). */
function byteToUtf16Map(content: string): Int32Array {
  const map = new Int32Array(Buffer.byteLength(content, "utf8") + 1);
  let byte = 0;
  let unit = 0;
  for (const ch of content) {
    const cp = ch.codePointAt(0)!;
    const bytes = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    for (let i = 0; i < bytes; i++) map[byte + i] = unit;
    byte += bytes;
    unit += ch.length;
  }
  map[byte] = unit;
  return map;
}

/** First index at or after `i` that is not whitespace or a comment. */
function skipTrivia(content: string, i: number): number {
  for (;;) {
    while (i < content.length && /\s/.test(content[i]!)) i++;
    if (content.startsWith("//", i)) {
      const nl = content.indexOf("\n", i);
      i = nl === -1 ? content.length : nl + 1;
    } else if (content.startsWith("/*", i)) {
      const close = content.indexOf("*/", i + 2);
      i = close === -1 ? content.length : close + 2;
    } else {
      return i;
    }
  }
}

function solcSemver(): string {
  const match = /^\d+\.\d+\.\d+/.exec(solc.version() as string);
  if (match === null) throw new Error(`branch-coverage: cannot read the solc version from "${solc.version()}"`);
  return match[0];
}

/** The statement probes EDR inserts into `content` (the same tags `hardhat test --coverage` records). */
export function statementProbes(file: string, content: string): Probe[] {
  const { metadata } = addStatementCoverageInstrumentation(content, `project/${file}`, solcSemver());
  return metadata
    .filter((m) => m.kind === "statement")
    .map((m) => ({ tag: Buffer.from(m.tag).toString("hex"), start: m.startUtf16, end: m.endUtf16 }));
}

function parseAst(file: string, content: string): AstNode {
  const input = {
    language: "Solidity",
    sources: { [`project/${file}`]: { content } },
    settings: { stopAfter: "parsing", outputSelection: { "*": { "": ["ast"] } } },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input)) as string) as {
    errors?: { severity: string; formattedMessage: string }[];
    sources?: Record<string, { ast: AstNode }>;
  };
  const errors = (output.errors ?? []).filter((e) => e.severity === "error");
  const ast = output.sources?.[`project/${file}`]?.ast;
  if (errors.length > 0 || ast === undefined) {
    throw new Error(`branch-coverage: solc cannot parse ${file}: ${errors[0]?.formattedMessage ?? "no AST"}`);
  }
  return ast;
}

/**
 * Branches of one source file. `counts` maps a probe tag (hex) to the number of transactions in
 * which it fired; a missing tag never fired.
 */
export function analyzeSource(file: string, content: string, counts: ReadonlyMap<string, number>): FileBranchReport {
  const ast = parseAst(file, content);
  const toUtf16 = byteToUtf16Map(content);
  const range = (node: AstNode): [number, number] => {
    const [start, length] = node.src.split(":").map(Number) as [number, number];
    return [toUtf16[start]!, toUtf16[start + length]!];
  };
  const lineStarts = [0];
  for (let i = 0; i < content.length; i++) if (content[i] === "\n") lineStarts.push(i + 1);
  const lineOf = (offset: number): number => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };

  // Each probe belongs to the outermost statement starting where its range does after trivia
  // (EDR's ranges begin right after the previous token). A probe that matches no statement means
  // EDR instruments differently than this script assumes: stop rather than guess.
  const statementsByStart = new Map<number, AstNode>();
  for (const node of walk(ast)) {
    if (!STATEMENT_TYPES.has(node.nodeType)) continue;
    const [start, end] = range(node);
    const known = statementsByStart.get(start);
    if (known === undefined || range(known)[1] < end) statementsByStart.set(start, node);
  }
  const probeOf = new Map<AstNode, Probe>();
  const probes: Probe[] = [];
  for (const raw of statementProbes(file, content)) {
    const start = skipTrivia(content, raw.start);
    const node = statementsByStart.get(start);
    if (node === undefined || range(node)[1] > raw.end) {
      throw new Error(
        `branch-coverage: the probe at ${file}:${lineOf(start)} matches no statement; EDR's instrumentation changed`,
      );
    }
    const probe = { tag: raw.tag, start, end: range(node)[1] };
    probeOf.set(node, probe);
    probes.push(probe);
  }
  const count = (probe: Probe): number => counts.get(probe.tag) ?? 0;
  /** Most transactions in which any probe inside `node` fired; null if it holds no probe. */
  const hitsInside = (node: AstNode): number | null => {
    const [start, end] = range(node);
    const inside = probes.filter((p) => p.start >= start && p.end <= end);
    return inside.length === 0 ? null : Math.max(...inside.map(count));
  };
  /** The probe that fires first, and unconditionally, whenever `body` runs. */
  const entryProbe = (body: AstNode): Probe | null => {
    const own = probeOf.get(body);
    if (own !== undefined) return own;
    if (body.nodeType === "Block" || body.nodeType === "UncheckedBlock") {
      const first = (body.statements as AstNode[])[0];
      return first === undefined ? null : entryProbe(first);
    }
    return null;
  };

  const branches: BranchResult[] = [];
  const unmeasurable: Unmeasurable[] = [];
  let block = 0;
  for (const node of walk(ast)) {
    const line = lineOf(range(node)[0]);
    switch (node.nodeType) {
      case "IfStatement": {
        const ifProbe = probeOf.get(node);
        const trueBody = node.trueBody as AstNode;
        const falseBody = (node.falseBody as AstNode | undefined) ?? null;
        const trueHits = hitsInside(trueBody);
        let falseHits: number | null;
        if (falseBody !== null) {
          falseHits = hitsInside(falseBody);
        } else {
          const entry = entryProbe(trueBody);
          falseHits = ifProbe === undefined || entry === null ? null : Math.max(0, count(ifProbe) - count(entry));
        }
        if (ifProbe === undefined || trueHits === null || falseHits === null) {
          unmeasurable.push({ line, what: "if: a body without a statement probe" });
          break;
        }
        const ran = count(ifProbe) > 0;
        branches.push({ line, block, side: "true", taken: ran ? trueHits : null });
        branches.push({ line, block, side: "false", taken: ran ? falseHits : null });
        block++;
        break;
      }
      case "Conditional":
        unmeasurable.push({ line, what: "ternary ?: (no statement in its arms; write it as if/else)" });
        break;
      case "FunctionCall": {
        const callee = node.expression as AstNode;
        if (callee.nodeType === "Identifier" && (callee.name === "require" || callee.name === "assert")) {
          unmeasurable.push({ line, what: `${callee.name as string}() (write it as if (...) revert ...)` });
        }
        break;
      }
      case "TryStatement":
        unmeasurable.push({ line, what: "try/catch" });
        break;
      case "InlineAssembly":
        if (/"Yul(If|Switch)"/.test(JSON.stringify(node.AST ?? null))) {
          unmeasurable.push({ line, what: "assembly if/switch" });
        }
        break;
    }
  }
  return { file, branches, unmeasurable };
}

const isTaken = (b: BranchResult): boolean => b.taken !== null && b.taken > 0;

/** `lcov` with BRDA/BRF/BRH records (replacing any) in the section of each reported file. */
export function addBranchesToLcov(lcov: string, reports: readonly FileBranchReport[]): string {
  const records = (r: FileBranchReport): string[] => [
    ...r.branches.map(
      (b) => `BRDA:${b.line},${b.block},${b.side === "true" ? 0 : 1},${b.taken === null ? "-" : b.taken}`,
    ),
    `BRF:${r.branches.length}`,
    `BRH:${r.branches.filter(isTaken).length}`,
  ];
  const byFile = new Map(reports.map((r) => [r.file, r]));
  const done = new Set<string>();
  const out: string[] = [];
  let current: FileBranchReport | undefined;
  for (const line of lcov.split("\n")) {
    if (line.startsWith("SF:")) current = byFile.get(line.slice(3));
    if (current !== undefined && /^(BRDA|BRF|BRH):/.test(line)) continue;
    if (line === "end_of_record" && current !== undefined) {
      out.push(...records(current));
      done.add(current.file);
      current = undefined;
    }
    out.push(line);
  }
  if (out.at(-1) === "") out.pop();
  // A file without an SF section has no statements; add one only if it somehow has branches.
  for (const r of reports) {
    if (!done.has(r.file) && r.branches.length > 0) out.push(`SF:${r.file}`, ...records(r), "end_of_record");
  }
  return `${out.join("\n")}\n`;
}

function listSolidityFiles(root: string, dir: string): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true })
    .flatMap((e) => {
      const rel = path.posix.join(dir, e.name);
      if (e.isDirectory()) return listSolidityFiles(root, rel);
      return e.isFile() && e.name.endsWith(".sol") ? [rel] : [];
    })
    .sort();
}

function readCounts(root: string): Map<string, number> {
  const dataDir = path.join(root, "coverage", "data");
  const files = existsSync(dataDir)
    ? readdirSync(dataDir, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".json"))
    : [];
  if (files.length === 0) {
    throw new Error("branch-coverage: no coverage data in coverage/data; run `npx hardhat test --coverage` first");
  }
  const counts = new Map<string, number>();
  for (const f of files) {
    const entries = JSON.parse(readFileSync(path.join(dataDir, f), "utf8")) as Record<string, number>;
    for (const [tag, n] of Object.entries(entries)) counts.set(tag, (counts.get(tag) ?? 0) + n);
  }
  return counts;
}

/** Measures every non-skipped contracts/ file, prints the report, updates lcov; returns the exit code. */
export function main(root: string): number {
  const counts = readCounts(root);
  const files = listSolidityFiles(root, "contracts").filter((f) => !SKIP_FILES.some((g) => path.matchesGlob(f, g)));
  const reports: FileBranchReport[] = [];
  const knownTags = new Set<string>();
  for (const file of files) {
    const content = readFileSync(path.join(root, file), "utf8");
    for (const p of statementProbes(file, content)) knownTags.add(p.tag);
    reports.push(analyzeSource(file, content, counts));
  }
  const stale = [...counts.keys()].filter((t) => !knownTags.has(t)).length;
  if (stale > 0) {
    throw new Error(
      `branch-coverage: ${stale} recorded probes match no statement of today's contracts/ (sources changed since the run); run \`npm run coverage\` again`,
    );
  }

  const rows = reports.map((r) => [r.file, r.branches.length, r.branches.filter(isTaken).length] as const);
  const found = rows.reduce((s, r) => s + r[1], 0);
  const hit = rows.reduce((s, r) => s + r[2], 0);
  const pct = (h: number, f: number) => (f === 0 ? "-" : `${((100 * h) / f).toFixed(2)}%`);
  const width = Math.max(5, ...rows.map((r) => r[0].length));
  const row = (a: string, b: string, c: string, d: string) =>
    `| ${a.padEnd(width)} | ${b.padStart(8)} | ${c.padStart(5)} | ${d.padStart(7)} |`;
  console.log("Branch coverage (if/else, both directions; && and || are not counted as branches)");
  console.log(row("File", "Branches", "Hit", "%"));
  console.log(`| ${"-".repeat(width)} | ${"-".repeat(8)} | ${"-".repeat(5)} | ${"-".repeat(7)} |`);
  for (const [f, n, h] of rows) console.log(row(f, String(n), String(h), pct(h, n)));
  console.log(row("Total", String(found), String(hit), pct(hit, found)));

  const missed = reports.flatMap((r) =>
    r.branches.filter((b) => !isTaken(b)).map((b) => `${r.file}:${b.line} ${b.side}`),
  );
  const unmeasurable = reports.flatMap((r) => r.unmeasurable.map((u) => `${r.file}:${u.line} ${u.what}`));
  if (missed.length > 0) console.log(`\nMissed branches (${missed.length}):\n${missed.join("\n")}`);
  if (unmeasurable.length > 0) {
    console.log(`\nNot measurable with statement probes (${unmeasurable.length}):\n${unmeasurable.join("\n")}`);
  }

  const lcovPath = path.join(root, "coverage", "lcov.info");
  const lcov = existsSync(lcovPath) ? readFileSync(lcovPath, "utf8") : "TN:\n";
  writeFileSync(lcovPath, addBranchesToLcov(lcov, reports));
  console.log(`\nBranch records added to ${path.relative(root, lcovPath)}`);

  if (missed.length > 0 || unmeasurable.length > 0) {
    console.error(
      `branch-coverage: FAILED, ${missed.length} missed and ${unmeasurable.length} unmeasurable branch points; 100% is required`,
    );
    return 1;
  }
  return 0;
}

if (process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = main(process.cwd());
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    process.exitCode = 1;
  }
}
