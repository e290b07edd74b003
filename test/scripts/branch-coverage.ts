/**
 * scripts/branch-coverage.ts on a synthetic source with made-up probe counts: which branches it
 * calls taken, including the count rule for an `if` without `else`, without a coverage run.
 */
import { expect } from "chai";

import config from "../../hardhat.config.js";
import {
  SKIP_FILES,
  addBranchesToLcov,
  analyzeSource,
  statementProbes,
  type FileBranchReport,
  type Probe,
} from "../../scripts/branch-coverage.js";

const FILE = "contracts/Synthetic.sol";
// The non-ASCII comment moves every UTF-8 byte offset (solc) away from the UTF-16 offset (EDR):
// if the script mixed them up, no probe would match its statement.
const SOURCE = `// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// Ünïcödé — «ąčęėįšųūž» makes UTF-8 byte offsets differ from UTF-16 ones: éééééééééééééééééééé 🚀
contract Synthetic {
    uint256 private _x;

    function withElse(uint256 a) external {
        if (a > 10) {
            _x = 1;
        } else {
            _x = 2;
        }
    }

    function noElse(uint256 a) external {
        if (a == 0) return; // one-statement body
        _x = a;
    }

    function noElseBlock(uint256 a) external {
        if (a == 7) {
            /* a comment before the first statement */
            _x = 7;
            _x += 1;
        }
    }

    function chain(uint256 a) external {
        if (a == 1) {
            _x = 10;
        } else if (a == 2) {
            _x = 20;
        } else {
            _x = 30;
        }
    }

    function emptyBody(uint256 a) external {
        if (a == 9) {}
    }

    function ternary(uint256 a) external pure returns (uint256) {
        return a > 1 ? 1 : 2;
    }

    function requires(uint256 a) external pure {
        require(a > 1);
    }
}
`;

const probes = statementProbes(FILE, SOURCE);
const code = (p: Probe) => SOURCE.slice(p.start, p.end).replace(/^(\s|\/\*[\s\S]*?\*\/)+/, "");

/** The one probe whose statement starts with `prefix`. */
function at(prefix: string): Probe {
  const found = probes.filter((p) => code(p).startsWith(prefix));
  if (found.length !== 1) throw new Error(`${found.length} probes start with "${prefix}"`);
  return found[0]!;
}

/** The probe of the first `{ ... }` block after `p` (an if/else body). */
function blockAfter(p: Probe): Probe {
  const found = probes.find((q) => q.start > p.start && code(q).startsWith("{"));
  if (found === undefined) throw new Error(`no block after "${code(p)}"`);
  return found;
}

/** 1-based line of the unique line containing `text`. */
function lineOf(text: string): number {
  const lines = SOURCE.split("\n");
  const idx = lines.findIndex((l) => l.includes(text));
  if (idx === -1 || lines.findIndex((l, i) => i > idx && l.includes(text)) !== -1) throw new Error(text);
  return idx + 1;
}

/** Per-transaction hit counts: a statement and the block that wraps it fire together. */
function counts(entries: [Probe, number][]): Map<string, number> {
  return new Map(entries.filter(([, n]) => n > 0).map(([p, n]) => [p.tag, n]));
}

/** `line side` of every branch with `taken` as given (null = the if never ran). */
const summary = (r: FileBranchReport) => r.branches.map((b) => `${b.line} ${b.side} ${b.taken ?? "-"}`);

describe("scripts/branch-coverage", () => {
  it("uses the same skipFiles as hardhat.config.ts coverage.skipFiles", () => {
    expect(config.coverage?.skipFiles).to.deep.equal(SKIP_FILES);
  });

  const withElse = at("if (a > 10)");
  const noElse = at("if (a == 0)");
  const noElseBlock = at("if (a == 7)");
  const outer = at("if (a == 1)");
  const inner = at("if (a == 2)");
  const L = {
    withElse: lineOf("if (a > 10)"),
    noElse: lineOf("if (a == 0)"),
    noElseBlock: lineOf("if (a == 7)"),
    outer: lineOf("if (a == 1)"),
    inner: lineOf("if (a == 2)"),
    empty: lineOf("if (a == 9)"),
  };

  /** 5 txs took withElse's true side; noElse ran `ifCount` times, its body `bodyCount` times. */
  function scenario(ifCount: number, bodyCount: number): Map<string, number> {
    return counts([
      [withElse, 5],
      [blockAfter(withElse), 5],
      [at("_x = 1;"), 5],
      [noElse, ifCount],
      [at("return;"), bodyCount],
      [at("_x = a;"), ifCount - bodyCount],
      // noElseBlock: ran in 3 txs, its body in 2 (so 1 skipped it).
      [noElseBlock, 3],
      [blockAfter(noElseBlock), 2],
      [at("_x = 7;"), 2],
      [at("_x += 1;"), 2],
      // chain: 3 txs, all with a == 2.
      [outer, 3],
      [inner, 3],
      [blockAfter(inner), 3],
      [at("_x = 20;"), 3],
    ]);
  }

  it("marks if/else, if without else, else-if and never-run ifs taken or not", () => {
    const report = analyzeSource(FILE, SOURCE, scenario(4, 3));
    expect(summary(report)).to.deep.equal([
      `${L.withElse} true 5`,
      `${L.withElse} false 0`, // the else body never ran
      `${L.noElse} true 3`,
      `${L.noElse} false 1`, // 4 txs ran the if, 3 the body
      `${L.noElseBlock} true 2`,
      `${L.noElseBlock} false 1`,
      `${L.outer} true 0`, // a == 1 never happened
      `${L.outer} false 3`, // the else-if ran
      `${L.inner} true 3`,
      `${L.inner} false 0`, // the final else never ran
      `${L.empty} true -`, // emptyBody never ran: lcov "-"
      `${L.empty} false -`,
    ]);
    expect(report.branches.map((b) => b.block)).to.deep.equal([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
  });

  it("count rule: equal if/body counts do not prove the false side; one more if count does", () => {
    const sideOf = (r: FileBranchReport, line: number, side: "true" | "false") =>
      r.branches.find((b) => b.line === line && b.side === side)?.taken;
    // Every tx that ran the if also ran the body: the body may have been skipped only in a tx that
    // also ran it (EDR dedupes per tx), which cannot be told apart from never: not taken.
    const equal = analyzeSource(FILE, SOURCE, scenario(4, 4));
    expect(sideOf(equal, L.noElse, "true")).to.equal(4);
    expect(sideOf(equal, L.noElse, "false")).to.equal(0);
    const more = analyzeSource(FILE, SOURCE, scenario(5, 4));
    expect(sideOf(more, L.noElse, "false")).to.equal(1);
    // The entry probe of a block body is the block's own, not a later statement's.
    const laterOnly = scenario(4, 3);
    laterOnly.set(at("_x += 1;").tag, 3);
    expect(sideOf(analyzeSource(FILE, SOURCE, laterOnly), L.noElseBlock, "false")).to.equal(1);
  });

  it("reports the ternary and the require as unmeasurable, with their lines", () => {
    const report = analyzeSource(FILE, SOURCE, new Map());
    expect(report.unmeasurable).to.deep.equal([
      { line: lineOf("a > 1 ? 1 : 2"), what: "ternary ?: (no statement in its arms; write it as if/else)" },
      { line: lineOf("require(a > 1)"), what: "require() (write it as if (...) revert ...)" },
    ]);
  });

  it("writes BRDA/BRF/BRH into the file's lcov section, replacing old ones, and adds files that have branches", () => {
    const report = analyzeSource(FILE, SOURCE, scenario(4, 3));
    const other: FileBranchReport = {
      file: "contracts/Other.sol",
      branches: [{ line: 3, block: 0, side: "true", taken: 2 }],
      unmeasurable: [],
    };
    const lcov = [
      "TN:",
      `SF:${FILE}`,
      "DA:9,1",
      "BRDA:1,0,0,9",
      "BRF:1",
      "BRH:1",
      "LH:1",
      "LF:1",
      "end_of_record",
      "SF:contracts/Untouched.sol",
      "DA:1,1",
      "end_of_record",
      "",
    ].join("\n");
    const noBranches: FileBranchReport = { file: "contracts/Constants.sol", branches: [], unmeasurable: [] };
    expect(addBranchesToLcov(lcov, [report, other, noBranches]).split("\n")).to.deep.equal([
      "TN:",
      `SF:${FILE}`,
      "DA:9,1",
      "LH:1",
      "LF:1",
      `BRDA:${L.withElse},0,0,5`,
      `BRDA:${L.withElse},0,1,0`,
      `BRDA:${L.noElse},1,0,3`,
      `BRDA:${L.noElse},1,1,1`,
      `BRDA:${L.noElseBlock},2,0,2`,
      `BRDA:${L.noElseBlock},2,1,1`,
      `BRDA:${L.outer},3,0,0`,
      `BRDA:${L.outer},3,1,3`,
      `BRDA:${L.inner},4,0,3`,
      `BRDA:${L.inner},4,1,0`,
      `BRDA:${L.empty},5,0,-`,
      `BRDA:${L.empty},5,1,-`,
      "BRF:12",
      "BRH:7",
      "end_of_record",
      "SF:contracts/Untouched.sol",
      "DA:1,1",
      "end_of_record",
      "SF:contracts/Other.sol",
      "BRDA:3,0,0,2",
      "BRF:1",
      "BRH:1",
      "end_of_record",
      "",
    ]);
  });
});
