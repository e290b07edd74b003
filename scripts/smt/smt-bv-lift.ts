/**
 * bvLift: an equisatisfiable rewrite of solc's quantifier-free (BMC) queries for z3.
 *
 * solc models every integer as an SMT `Int` and each `&`, `|`, `<<`, `>>` and narrowing cast as
 * `bv2nat(bvop(int2bv x, ...))`. z3 decides such mixed Int/bit-vector formulas badly: every
 * int2bv of an integer variable needs 256 div/mod axioms, and a model must agree on both sides,
 * so even "pack then unpack" stays unknown for minutes. Yet solc asserts a range for nearly
 * every integer (0 <= x <= 2^k - 1). This module moves those integers to bit-vectors before z3
 * sees the query, with three rewrites, each of which keeps the set of models (up to renaming):
 *
 *  1. Bounded variables. After flattening, a top-level conjunct `0 <= x` and `x <= U` (x an
 *     uninterpreted Int constant) means every model has x in [0, U]. Replacing x everywhere by
 *     `bv2nat(X)`, X a fresh bit-vector of bitlength(U) bits, is then a bijection between the
 *     models (x = bv2nat(X)); the bounds stay in the formula.
 *  2. Definitions. A top-level `x = t` (or `ite(c, x = t1, x = t2)`, i.e. x = ite(c, t1, t2)),
 *     x an Int constant not occurring in t: x is replaced by t (substitution lemma: M satisfies
 *     the result iff M extended by x := M(t) satisfies the original).
 *  3. Comparisons. `bv2nat(A) op bv2nat(B)` → the unsigned bit-vector comparison of A and B
 *     (zero-extended to one width), and `bv2nat(A) op c` for a numeral c likewise (or true/false
 *     when c is out of A's range): bv2nat is the unsigned value, so these are equivalences.
 *
 * z3's own simplifier (equivalence-preserving) runs between the rounds, and turns int2bv of
 * bv2nat into extract / zero-extend. Models: the values solc asks for with get-value are the
 * requested constants after all substitutions, evaluated in z3's model of the rewritten query.
 * Anything unexpected (parse error, a command other than check-sat/get-value) returns null and
 * the caller sends the query to z3 unchanged.
 */

/** The part of z3-solver's low-level API used here (pointers are numbers). */
export interface Z3Low {
  get_full_version(): string;
  global_param_set(key: string, value: string): void;
  mk_config(): number;
  set_param_value(cfg: number, key: string, value: string): void;
  mk_context(cfg: number): number;
  del_config(cfg: number): void;
  del_context(ctx: number): void;
  interrupt(ctx: number): void;
  eval_smtlib2_string(ctx: number, text: string): Promise<string>;
  parse_smtlib2_string(ctx: number, text: string, a: [], b: [], c: [], d: []): number;
  ast_vector_inc_ref(ctx: number, v: number): void;
  ast_vector_size(ctx: number, v: number): number;
  ast_vector_get(ctx: number, v: number, i: number): number;
  mk_and(ctx: number, args: number[]): number;
  mk_ite(ctx: number, c: number, t: number, e: number): number;
  mk_eq(ctx: number, a: number, b: number): number;
  mk_true(ctx: number): number;
  mk_false(ctx: number): number;
  mk_bvule(ctx: number, a: number, b: number): number;
  mk_bvuge(ctx: number, a: number, b: number): number;
  mk_bvult(ctx: number, a: number, b: number): number;
  mk_bvugt(ctx: number, a: number, b: number): number;
  mk_zero_ext(ctx: number, i: number, a: number): number;
  mk_extract(ctx: number, high: number, low: number, a: number): number;
  mk_bvadd(ctx: number, a: number, b: number): number;
  mk_bvsub(ctx: number, a: number, b: number): number;
  mk_bvmul(ctx: number, a: number, b: number): number;
  mk_bvneg(ctx: number, a: number): number;
  mk_bvsle(ctx: number, a: number, b: number): number;
  mk_bvsge(ctx: number, a: number, b: number): number;
  mk_bvslt(ctx: number, a: number, b: number): number;
  mk_bvsgt(ctx: number, a: number, b: number): number;
  mk_int2bv(ctx: number, n: number, a: number): number;
  mk_bv_sort(ctx: number, size: number): number;
  mk_int_sort(ctx: number): number;
  mk_bool_sort(ctx: number): number;
  mk_numeral(ctx: number, value: string, sort: number): number;
  mk_fresh_const(ctx: number, prefix: string, sort: number): number;
  mk_const(ctx: number, symbol: number, sort: number): number;
  mk_string_symbol(ctx: number, name: string): number;
  mk_bv2int(ctx: number, a: number, signed: boolean): number;
  simplify(ctx: number, a: number): Promise<number>;
  substitute(ctx: number, a: number, from: number[], to: number[]): number;
  update_term(ctx: number, a: number, args: number[]): number;
  get_ast_kind(ctx: number, a: number): number;
  to_app(ctx: number, a: number): number;
  get_app_decl(ctx: number, app: number): number;
  get_decl_kind(ctx: number, decl: number): number;
  get_app_num_args(ctx: number, app: number): number;
  get_app_arg(ctx: number, app: number, i: number): number;
  get_sort(ctx: number, a: number): number;
  get_sort_kind(ctx: number, sort: number): number;
  get_bv_sort_size(ctx: number, sort: number): number;
  get_numeral_string(ctx: number, a: number): string;
  ast_to_string(ctx: number, a: number): string;
  mk_solver(ctx: number): number;
  solver_inc_ref(ctx: number, s: number): void;
  mk_params(ctx: number): number;
  params_inc_ref(ctx: number, p: number): void;
  params_set_uint(ctx: number, p: number, key: number, value: number): void;
  solver_set_params(ctx: number, s: number, p: number): void;
  solver_assert(ctx: number, s: number, a: number): void;
  solver_check(ctx: number, s: number): Promise<number>;
  solver_get_model(ctx: number, s: number): number;
  model_inc_ref(ctx: number, m: number): void;
  model_eval(ctx: number, m: number, t: number, completion: boolean): number | null;
}

// Z3_ast_kind, Z3_sort_kind and Z3_decl_kind values (z3_api.h).
const NUMERAL_AST = 0;
const APP_AST = 1;
const BOOL_SORT = 1;
const INT_SORT = 2;
const OP = {
  TRUE: 256,
  EQ: 258,
  ITE: 260,
  AND: 261,
  NOT: 265,
  IMPLIES: 266,
  LE: 514,
  GE: 515,
  LT: 516,
  GT: 517,
  ADD: 518,
  SUB: 519,
  UMINUS: 520,
  MUL: 521,
  INT2BV: 1072,
  BV2INT: 1073,
  UNINTERPRETED: 49167,
} as const;

const MAX_ROUNDS = 64;

export async function liftAndSolve(
  Z3: Z3Low,
  ctx: number,
  query: string,
  timeoutMs: number,
  /** receives the rewritten formula (for debugging the rewrite) */
  inspect?: (formula: string) => void,
): Promise<string | null> {
  // Only `(check-sat)` and an optional `(get-value (...))` may follow the assertions.
  const check = query.indexOf("(check-sat)");
  if (check < 0) return null;
  const tail = query.slice(check + "(check-sat)".length).trim();
  const getValue = /^\(get-value \(([^()]*)\)\)$/.exec(tail);
  if (tail !== "" && getValue === null) return null;
  const body = query.slice(0, check).replace(/\(set-option :[a-z-]+ [^()]*\)/g, "");

  const kind = (a: number): number =>
    Z3.get_ast_kind(ctx, a) === APP_AST ? Z3.get_decl_kind(ctx, Z3.get_app_decl(ctx, Z3.to_app(ctx, a))) : -1;
  const args = (a: number): number[] => {
    const app = Z3.to_app(ctx, a);
    const n = Z3.get_app_num_args(ctx, app);
    return Array.from({ length: n }, (_, i) => Z3.get_app_arg(ctx, app, i));
  };
  const numeral = (a: number): bigint | null =>
    Z3.get_ast_kind(ctx, a) === NUMERAL_AST ? BigInt(Z3.get_numeral_string(ctx, a)) : null;
  const isInt = (a: number): boolean => Z3.get_sort_kind(ctx, Z3.get_sort(ctx, a)) === INT_SORT;
  const isIntConst = (a: number): boolean =>
    kind(a) === OP.UNINTERPRETED && Z3.get_app_num_args(ctx, Z3.to_app(ctx, a)) === 0 && isInt(a);
  const isBoolConst = (a: number): boolean =>
    kind(a) === OP.UNINTERPRETED &&
    Z3.get_app_num_args(ctx, Z3.to_app(ctx, a)) === 0 &&
    Z3.get_sort_kind(ctx, Z3.get_sort(ctx, a)) === BOOL_SORT;
  const width = (a: number): number => Z3.get_bv_sort_size(ctx, Z3.get_sort(ctx, a));
  const zext = (a: number, w: number): number => (width(a) === w ? a : Z3.mk_zero_ext(ctx, w - width(a), a));
  const isTrivial = (a: number): boolean => kind(a) === OP.TRUE || (kind(a) === OP.AND && args(a).every(isTrivial));
  const conjuncts = (root: number): number[] => {
    const out: number[] = [];
    const stack = [root];
    while (stack.length > 0) {
      const a = stack.pop()!;
      const k = kind(a);
      if (k === OP.AND) stack.push(...args(a));
      else if (k === OP.IMPLIES && isTrivial(args(a)[0])) stack.push(args(a)[1]);
      else out.push(a);
    }
    return out;
  };

  const vector = Z3.parse_smtlib2_string(ctx, body, [], [], [], []);
  Z3.ast_vector_inc_ref(ctx, vector);
  const asserted = Array.from({ length: Z3.ast_vector_size(ctx, vector) }, (_, i) => Z3.ast_vector_get(ctx, vector, i));
  let formula = asserted.length === 1 ? asserted[0] : Z3.mk_and(ctx, asserted);
  const rounds: [number[], number[]][] = [];

  // 1. bounded Int constants → bv2nat of a fresh bit-vector
  const low = new Map<number, bigint>();
  const high = new Map<number, bigint>();
  for (const c of conjuncts(formula)) {
    const k = kind(c);
    if (k !== OP.LE && k !== OP.GE && k !== OP.LT && k !== OP.GT) continue;
    const [x, y] = args(c);
    let v: number, n: bigint | null, op: number;
    if (isIntConst(x) && (n = numeral(y)) !== null) [v, op] = [x, k];
    else if (isIntConst(y) && (n = numeral(x)) !== null)
      [v, op] = [y, k === OP.LE ? OP.GE : k === OP.GE ? OP.LE : k === OP.LT ? OP.GT : OP.LT];
    else continue;
    if (op === OP.GT) [op, n] = [OP.GE, n + 1n];
    if (op === OP.LT) [op, n] = [OP.LE, n - 1n];
    if (op === OP.GE) low.set(v, low.has(v) && low.get(v)! > n ? low.get(v)! : n);
    else high.set(v, high.has(v) && high.get(v)! < n ? high.get(v)! : n);
  }
  const from: number[] = [];
  const to: number[] = [];
  for (const [v, lo] of low) {
    const hi = high.get(v);
    if (lo < 0n || hi === undefined || hi < lo) continue;
    const bits = Math.max(1, hi.toString(2).length);
    from.push(v);
    to.push(Z3.mk_bv2int(ctx, Z3.mk_fresh_const(ctx, "lift", Z3.mk_bv_sort(ctx, bits)), false));
  }
  if (from.length > 0) {
    formula = Z3.substitute(ctx, formula, from, to);
    rounds.push([from, to]);
  }

  // 3. bv2nat comparisons → bit-vector comparisons (memoised over the DAG)
  const compare = (root: number): number => {
    const memo = new Map<number, number>();
    const visit = (a: number): number => {
      const seen = memo.get(a);
      if (seen !== undefined) return seen;
      let r = a;
      if (Z3.get_ast_kind(ctx, a) === APP_AST) {
        const old = args(a);
        const fresh = old.map(visit);
        if (fresh.some((x, i) => x !== old[i])) r = Z3.update_term(ctx, a, fresh);
        if (kind(r) === OP.INT2BV) r = int2bvOf(width(r), args(r)[0]);
        r = liftComparison(r);
      }
      memo.set(a, r);
      return r;
    };
    return visit(root);
  };
  const liftComparison = (a: number): number => {
    const k = kind(a);
    if (k !== OP.EQ && k !== OP.LE && k !== OP.GE && k !== OP.LT && k !== OP.GT) return a;
    const [x, y] = args(a);
    if (!isInt(x)) return a;
    const bx = kind(x) === OP.BV2INT ? args(x)[0] : null;
    const by = kind(y) === OP.BV2INT ? args(y)[0] : null;
    let A: number, B: number;
    if (bx !== null && by !== null) {
      const w = Math.max(width(bx), width(by));
      [A, B] = [zext(bx, w), zext(by, w)];
    } else if (bx !== null || by !== null) {
      const bv = (bx ?? by)!;
      const n = numeral(bx !== null ? y : x);
      if (n === null) return liftLinear(a, k, x, y);
      const w = width(bv);
      if (n < 0n || n >= 1n << BigInt(w)) {
        // bv2nat(bv) in [0, 2^w): the comparison with an out-of-range numeral is constant.
        const bvIsLeft = bx !== null;
        const bvBelow = n >= 0n; // numeral above the range: bv < n; below (negative): bv > n
        if (k === OP.EQ) return Z3.mk_false(ctx);
        const lessSide = (k === OP.LE || k === OP.LT) === bvIsLeft; // "bv <= n" form
        return lessSide === bvBelow ? Z3.mk_true(ctx) : Z3.mk_false(ctx);
      }
      const c = Z3.mk_numeral(ctx, n.toString(), Z3.mk_bv_sort(ctx, w));
      [A, B] = bx !== null ? [bv, c] : [c, bv];
    } else return liftLinear(a, k, x, y);
    if (k === OP.EQ) return Z3.mk_eq(ctx, A, B);
    if (k === OP.LE) return Z3.mk_bvule(ctx, A, B);
    if (k === OP.GE) return Z3.mk_bvuge(ctx, A, B);
    if (k === OP.LT) return Z3.mk_bvult(ctx, A, B);
    return Z3.mk_bvugt(ctx, A, B);
  };

  // int2bv_n distributes over + - * and ite, and int2bv_n(bv2nat X) is X cut or zero-extended
  // to n bits: identities modulo 2^n.
  const int2bvOf = (n: number, t: number): number => {
    const k = kind(t);
    const c = numeral(t);
    const fold = (f: (a: number, b: number) => number): number =>
      args(t)
        .map((x) => int2bvOf(n, x))
        .reduce((a, b) => f(a, b));
    if (c !== null) {
      const m = 1n << BigInt(n);
      return Z3.mk_numeral(ctx, (((c % m) + m) % m).toString(), Z3.mk_bv_sort(ctx, n));
    }
    if (k === OP.BV2INT) {
      const X = args(t)[0];
      const w = width(X);
      return w === n ? X : w < n ? Z3.mk_zero_ext(ctx, n - w, X) : Z3.mk_extract(ctx, n - 1, 0, X);
    }
    if (k === OP.ADD) return fold((a, b) => Z3.mk_bvadd(ctx, a, b));
    if (k === OP.SUB) return fold((a, b) => Z3.mk_bvsub(ctx, a, b));
    if (k === OP.MUL) return fold((a, b) => Z3.mk_bvmul(ctx, a, b));
    if (k === OP.UMINUS) return Z3.mk_bvneg(ctx, int2bvOf(n, args(t)[0]));
    if (k === OP.ITE) {
      const [cond, e1, e2] = args(t);
      return Z3.mk_ite(ctx, cond, int2bvOf(n, e1), int2bvOf(n, e2));
    }
    return Z3.mk_int2bv(ctx, n, t);
  };

  // A comparison of linear integer terms over bv2nat leaves and numerals: every subterm's value is
  // bounded by mag(), so signed bit-vector arithmetic of a width holding +-mag is exact.
  const magnitude = (t: number): { mag: bigint; leaf: boolean } | null => {
    const k = kind(t);
    const c = numeral(t);
    if (c !== null) return { mag: c < 0n ? -c : c, leaf: false };
    if (k === OP.BV2INT) return { mag: (1n << BigInt(width(args(t)[0]))) - 1n, leaf: true };
    const parts = (k === OP.ITE ? args(t).slice(1) : args(t)).map(magnitude);
    if (parts.some((p) => p === null)) return null;
    const ps = parts as { mag: bigint; leaf: boolean }[];
    const leaf = ps.some((p) => p.leaf);
    if (k === OP.ADD || k === OP.SUB) return { mag: ps.reduce((a, p) => a + p.mag, 0n), leaf };
    if (k === OP.UMINUS) return ps[0];
    if (k === OP.ITE) return { mag: ps[0].mag > ps[1].mag ? ps[0].mag : ps[1].mag, leaf };
    if (k === OP.MUL && args(t).filter((x) => numeral(x) === null).length <= 1) {
      // At least every factor's own bound (a factor 0 must not shrink the width below it).
      const product = ps.reduce((a, p) => a * p.mag, 1n);
      return { mag: ps.reduce((a, p) => (p.mag > a ? p.mag : a), product), leaf };
    }
    return null;
  };
  const signedOf = (W: number, t: number): number => {
    const k = kind(t);
    const c = numeral(t);
    const fold = (f: (a: number, b: number) => number): number =>
      args(t)
        .map((x) => signedOf(W, x))
        .reduce((a, b) => f(a, b));
    if (c !== null) {
      const m = 1n << BigInt(W);
      return Z3.mk_numeral(ctx, (((c % m) + m) % m).toString(), Z3.mk_bv_sort(ctx, W));
    }
    if (k === OP.BV2INT) return zext(args(t)[0], W);
    if (k === OP.ADD) return fold((a, b) => Z3.mk_bvadd(ctx, a, b));
    if (k === OP.SUB) return fold((a, b) => Z3.mk_bvsub(ctx, a, b));
    if (k === OP.MUL) return fold((a, b) => Z3.mk_bvmul(ctx, a, b));
    if (k === OP.UMINUS) return Z3.mk_bvneg(ctx, signedOf(W, args(t)[0]));
    const [cond, e1, e2] = args(t); // ITE (magnitude() admits nothing else)
    return Z3.mk_ite(ctx, cond, signedOf(W, e1), signedOf(W, e2));
  };
  const liftLinear = (a: number, k: number, x: number, y: number): number => {
    const mx = magnitude(x);
    const my = magnitude(y);
    if (mx === null || my === null || !(mx.leaf || my.leaf)) return a;
    const W = (mx.mag > my.mag ? mx.mag : my.mag).toString(2).length + 2;
    if (W > 1024) return a;
    const [A, B] = [signedOf(W, x), signedOf(W, y)];
    if (k === OP.EQ) return Z3.mk_eq(ctx, A, B);
    if (k === OP.LE) return Z3.mk_bvsle(ctx, A, B);
    if (k === OP.GE) return Z3.mk_bvsge(ctx, A, B);
    if (k === OP.LT) return Z3.mk_bvslt(ctx, A, B);
    return Z3.mk_bvsgt(ctx, A, B);
  };

  formula = compare(formula);
  // 2. definitions, then simplify and compare again, to a fixpoint
  for (let round = 0; round < MAX_ROUNDS; round++) {
    formula = compare(await Z3.simplify(ctx, formula));
    const defFrom: number[] = [];
    const defTo: number[] = [];
    const chosen = new Set<number>();
    for (const c of conjuncts(formula)) {
      let v: number, t: number;
      if (kind(c) === OP.ITE) {
        const [cond, e1, e2] = args(c);
        if (kind(e1) !== OP.EQ || kind(e2) !== OP.EQ) continue;
        const [x1, t1] = args(e1);
        const [x2, t2] = args(e2);
        if (x1 !== x2 || !isIntConst(x1)) continue;
        [v, t] = [x1, Z3.mk_ite(ctx, cond, t1, t2)];
      } else if (kind(c) === OP.EQ) {
        const [x, y] = args(c);
        if (isIntConst(x) || isBoolConst(x)) [v, t] = [x, y];
        else if (isIntConst(y) || isBoolConst(y)) [v, t] = [y, x];
        else continue;
      } else if (isBoolConst(c)) {
        // a unit fact (typically the path condition of the checked assert): guards under it go
        [v, t] = [c, Z3.mk_true(ctx)];
      } else if (kind(c) === OP.NOT && isBoolConst(args(c)[0])) {
        [v, t] = [args(c)[0], Z3.mk_false(ctx)];
      } else continue;
      if (chosen.has(v)) continue;
      // Compose with this round's earlier choices, so that no chosen variable is left inside a
      // replacement (a simultaneous substitution would re-introduce it without its definition).
      if (defFrom.length > 0) t = Z3.substitute(ctx, t, defFrom, defTo);
      if (Z3.ast_to_string(ctx, t).includes(Z3.ast_to_string(ctx, v))) continue;
      for (let i = 0; i < defTo.length; i++) defTo[i] = Z3.substitute(ctx, defTo[i], [v], [t]);
      chosen.add(v);
      defFrom.push(v);
      defTo.push(t);
    }
    if (defFrom.length === 0) break;
    formula = compare(Z3.substitute(ctx, formula, defFrom, defTo));
    rounds.push([defFrom, defTo]);
  }

  inspect?.(Z3.ast_to_string(ctx, formula));
  const solver = Z3.mk_solver(ctx);
  Z3.solver_inc_ref(ctx, solver);
  const params = Z3.mk_params(ctx);
  Z3.params_inc_ref(ctx, params);
  Z3.params_set_uint(ctx, params, Z3.mk_string_symbol(ctx, "timeout"), timeoutMs);
  Z3.solver_set_params(ctx, solver, params);
  Z3.solver_assert(ctx, solver, formula);
  const result = await Z3.solver_check(ctx, solver); // Z3_lbool: -1 unsat, 0 undef, 1 sat
  if (result !== 1) return result === -1 ? "unsat\n" : "unknown\n";
  if (getValue === null) return "sat\n";

  const model = Z3.solver_get_model(ctx, solver);
  Z3.model_inc_ref(ctx, model);
  const values: string[] = [];
  for (const name of getValue[1].trim().split(/\s+/)) {
    const bare = name.replace(/^\|(.*)\|$/, "$1");
    const sortName = new RegExp(`\\(declare-(?:const|fun) \\|?${escape(bare)}\\|? (?:\\(\\) )?(Int|Bool)\\)`).exec(
      body,
    )?.[1];
    if (sortName === undefined) return null;
    let term = Z3.mk_const(
      ctx,
      Z3.mk_string_symbol(ctx, bare),
      sortName === "Int" ? Z3.mk_int_sort(ctx) : Z3.mk_bool_sort(ctx),
    );
    for (const [f, t] of rounds) term = Z3.substitute(ctx, term, f, t);
    const value = Z3.model_eval(ctx, model, term, true);
    if (value === null) return null;
    values.push(`(${name} ${Z3.ast_to_string(ctx, await Z3.simplify(ctx, value))})`);
  }
  return `sat\n(${values.join("\n ")})\n`;
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
