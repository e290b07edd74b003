/**
 * scripts/smt/smt-bv-lift.ts against plain z3 on small queries written the way solc writes them
 * (8-bit values): the lifted query must get the known answer, plain z3 must not contradict it,
 * and a counterexample's get-value values must satisfy the original query. A rewrite that lost models
 * would make verify:smt "prove" false properties; the negative controls catch it in the real run,
 * these catch it per rewrite rule.
 */
import { createRequire } from "node:module";

import { expect } from "chai";

import { liftAndSolve, type Z3Low } from "../../scripts/smt/smt-bv-lift.js";

const require = createRequire(import.meta.url);
const { init, killThreads } = require("z3-solver") as {
  init(): Promise<{ Z3: Z3Low; em: unknown }>;
  killThreads(em: unknown): Promise<void>;
};

const int2bv = (x: string) => `(ite (>= ${x} 0) ((_ int2bv 8) ${x}) (bvneg ((_ int2bv 8) (- ${x}))))`;
const range = (x: string) => `(=> (and true true) (and (>= ${x} 0) (<= ${x} 255)))`;

function query(body: string, names: string[]): string {
  const decls = names.map((n) => `(declare-fun |${n}| () Int)`).join("\n");
  const evals = names.map((n, i) => `(declare-const |EVALEXPR_${i}| Int)\n(assert (= |EVALEXPR_${i}| ${n}))`);
  return (
    `(set-option :produce-models true)\n(set-option :timeout 10000)\n(set-logic ALL)\n${decls}\n` +
    `(assert ${body})\n${evals.join("\n")}\n(check-sat)\n` +
    `(get-value (${names.map((_, i) => `|EVALEXPR_${i}|`).join(" ")}))\n`
  );
}

// [name, body, variables, expected first line]
const CASES: [string, string, string[], "sat" | "unsat"][] = [
  [
    "x & y <= x (unsat)",
    `(and ${range("x")} ${range("y")} (= z (bv2nat (bvand ${int2bv("x")} ${int2bv("y")}))) (> z x))`,
    ["x", "y", "z"],
    "unsat",
  ],
  [
    "x | y == x is possible with y != 0 (sat)",
    `(and ${range("x")} ${range("y")} (= z (bv2nat (bvor ${int2bv("x")} ${int2bv("y")}))) (= z x) (not (= y 0)))`,
    ["x", "y", "z"],
    "sat",
  ],
  ["checked add: x + 1 overflows only at 255 (sat)", `(and ${range("x")} (= z (+ x 1)) (> z 255))`, ["x", "z"], "sat"],
  [
    "guarded definition under a unit path condition (unsat)",
    `(and g ${range("x")} (=> g (= w (bv2nat ((_ extract 3 0) ${int2bv("x")})))) (=> g (> w 15)))`,
    ["x", "w"],
    "unsat",
  ],
  [
    "linear comparison over bv2nat: (x >> 4) * 16 + (x & 15) == x (unsat)",
    `(and ${range("x")} (= h (bv2nat (bvlshr ${int2bv("x")} #x04))) (= l (bv2nat (bvand ${int2bv("x")} #x0f)))` +
      ` (not (= (+ (* 16 h) l) x)))`,
    ["x", "h", "l"],
    "unsat",
  ],
  [
    "ite definition: v = c ? x : y, v > 200 with x, y <= 100 (unsat)",
    `(and ${range("x")} ${range("y")} (<= x 100) (<= y 100) (ite c (= v x) (= v y)) (> v 200))`,
    ["x", "y", "v"],
    "unsat",
  ],
];

describe("scripts/smt/smt-bv-lift.ts (bit-vector lifting of solc's BMC queries)", function () {
  this.timeout(120_000);
  let api: { Z3: Z3Low; em: unknown };
  before(async () => {
    api = await init();
  });
  after(async () => {
    await killThreads(api.em);
  });

  for (const [name, body, names, expected] of CASES) {
    it(`${name}: the known answer, plain z3 agrees or gives up, values satisfy the original`, async () => {
      const { Z3 } = api;
      const q = query(body, names).replace(
        "(set-logic ALL)\n",
        "(set-logic ALL)\n(declare-fun g () Bool)\n(declare-fun c () Bool)\n",
      );
      const fresh = (): number => {
        const cfg = Z3.mk_config();
        Z3.set_param_value(cfg, "model", "true");
        return Z3.mk_context(cfg);
      };
      const ctx = fresh();
      const lifted = await liftAndSolve(Z3, ctx, q, 10_000);
      Z3.del_context(ctx);
      expect(lifted, "lifted answer").to.be.a("string");
      const plainCtx = fresh();
      const plain = await Z3.eval_smtlib2_string(plainCtx, q.replace(":timeout 10000", ":timeout 2000"));
      Z3.del_context(plainCtx);
      expect(lifted!.split("\n")[0]).to.equal(expected);
      // Plain z3 may give up (that is why the lifting exists: even at 8 bits it does on x & y <= x),
      // but it must never contradict.
      expect(plain.split("\n")[0]).to.be.oneOf([expected, "unknown"]);
      if (expected === "sat") {
        // Pin the lifted counterexample's values in the original query: still satisfiable.
        const values = [...lifted!.matchAll(/\(\|EVALEXPR_(\d+)\| (\(- \d+\)|\d+)\)/g)];
        expect(values.length).to.equal(names.length);
        const pins = values.map(([, i, v]) => `(assert (= |EVALEXPR_${i}| ${v}))`).join("\n");
        const checkCtx = fresh();
        const check = await Z3.eval_smtlib2_string(checkCtx, q.replace("(check-sat)", `${pins}\n(check-sat)`));
        Z3.del_context(checkCtx);
        expect(check.split("\n")[0]).to.equal("sat");
      }
    });
  }
});
