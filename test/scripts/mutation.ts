import { expect } from "chai";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { CI_SUBSET, FOCUS, MUTANTS, type Mutant, applyMutant } from "../../scripts/lib/mutants.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const read = (file: string) => readFileSync(join(ROOT, file), "utf8");

/**
 * Shipped Solidity sources: contracts/ without the test-only mocks, the verification-only
 * harnesses (contracts/verification, proved by `npm run verify:smt`) and the code-free interfaces.
 */
function shippedSources(dir = "contracts"): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory())
      return ["contracts/mocks", "contracts/verification", "contracts/interfaces"].includes(path)
        ? []
        : shippedSources(path);
    return e.name.endsWith(".sol") ? [path] : [];
  });
}

/** 1-based lines of `file` that some mutant's snippet covers. */
function mutatedLines(file: string): Set<number> {
  const text = read(file);
  const lines = new Set<number>();
  for (const m of MUTANTS.filter((x) => x.file === file)) {
    const start = text.slice(0, text.indexOf(m.original)).split("\n").length;
    for (let l = start; l < start + m.original.split("\n").length; l++) lines.add(l);
  }
  return lines;
}

describe("mutation testing: the curated mutants (scripts/lib/mutants.ts)", () => {
  it("every mutant's snippet occurs exactly once in its file, so a refactor breaks the definition loudly", () => {
    for (const m of MUTANTS) {
      expect(() => applyMutant(read(m.file), m), m.id).not.to.throw();
    }
  });

  it("ids are unique, each mutant says why, and its focused tests exist", () => {
    expect(new Set(MUTANTS.map((m) => m.id)).size).to.equal(MUTANTS.length);
    for (const m of MUTANTS) {
      expect(m.why.length, m.id).to.be.greaterThan(10);
      const tests = m.tests ?? FOCUS[m.file];
      expect(tests, `${m.id}: no focused tests for ${m.file}`).to.be.an("array").that.is.not.empty;
      for (const t of tests) expect(existsSync(join(ROOT, t)), `${m.id}: ${t}`).to.equal(true);
    }
  });

  it("every condition of every shipped contract is inside some mutant's snippet", () => {
    const uncovered: string[] = [];
    for (const file of shippedSources()) {
      const covered = mutatedLines(file);
      read(file)
        .split("\n")
        .forEach((line, i) => {
          const code = line
            .replace(/\/\/.*$/, "")
            .replaceAll("=>", "")
            .trim();
          // A condition: an `if`, or a comparison / boolean operator outside a shift, in code (not
          // NatSpec). Loop headers are left out: an off-by-one bound panics in every batch test.
          const condition = /\bif \(.|(?<![<>])(?:==|!=|<=|>=|&&|\|\||<(?![<])|>(?![>]))(?![<>])/.test(code);
          if (!condition || code.startsWith("*") || code.startsWith("for (") || code.includes("constant")) return;
          if (!covered.has(i + 1)) uncovered.push(`${file}:${i + 1}: ${code}`);
        });
    }
    expect(uncovered).to.deep.equal([]);
  });

  it("every shipped source with code has mutants (Purposes.sol holds only constants)", () => {
    const mutated = new Set(MUTANTS.map((m) => m.file));
    const missing = shippedSources().filter((f) => !mutated.has(f) && f !== "contracts/Purposes.sol");
    expect(missing).to.deep.equal([]);
    expect(read("contracts/Purposes.sol")).not.to.match(/\bfunction\b/);
  });

  it("applyMutant refuses a snippet that is missing or occurs twice, and applies a unique one", () => {
    const m: Mutant = { id: "t/x", file: "x.sol", original: "a < b", replacement: "a <= b", why: "a test mutant" };
    expect(applyMutant("if (a < b) x();", m)).to.equal("if (a <= b) x();");
    expect(() => applyMutant("if (a > b) x();", m)).to.throw("its original snippet is not in x.sol");
    expect(() => applyMutant("a < b; a < b;", m)).to.throw("occurs more than once in x.sol");
    expect(() => applyMutant("a < b", { ...m, replacement: "a < b" })).to.throw("replacement equals the original");
  });

  it("every entry of the CI subset selects a mutant", () => {
    for (const entry of CI_SUBSET) {
      expect(
        MUTANTS.some((m) => m.id === entry || m.id.startsWith(entry)),
        entry,
      ).to.equal(true);
    }
  });

  it("mutates only shipped contracts, never mocks or tests", () => {
    for (const m of MUTANTS) expect(shippedSources(), m.id).to.include(m.file);
  });
});
