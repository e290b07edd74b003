/**
 * Worker thread of the z3 bridge (see z3-bridge.ts): runs z3 (npm `z3-solver`, z3 compiled to
 * wasm, async API) and answers each SMT-LIB2 query posted by the main thread. The answer goes
 * back on `port`, and the shared `flag` is set and notified, so that the main thread, blocked in
 * Atomics.wait inside solc's synchronous SMT callback, wakes up and reads it with
 * receiveMessageOnPort.
 *
 * Horn queries (CHC engine) go to z3's Spacer as they are. Quantifier-free queries (BMC engine)
 * are first rewritten by bvLift (smt-bv-lift.ts) into an equisatisfiable query where the
 * integers that solc bounds are bit-vectors, and answered with a model when satisfiable.
 */
import { createRequire } from "node:module";
import { parentPort, workerData, type MessagePort } from "node:worker_threads";

import { liftAndSolve, type Z3Low } from "./smt-bv-lift.js";

interface Request {
  query: string;
  timeoutMs: number;
}
interface InitData {
  flag: Int32Array;
  port: MessagePort;
  params: Record<string, string>;
}

const require = createRequire(import.meta.url);
const { init } = require("z3-solver") as { init(): Promise<{ Z3: Z3Low }> };
const { flag, port, params } = workerData as InitData;

function reply(message: unknown): void {
  port.postMessage(message);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
}

/** solc writes int2bv of a signed value as `(ite (>= x 0) (int2bv x) (bvneg (int2bv (- x))))`;
 * since int2bv is `x mod 2^n` for every integer, that is exactly `(int2bv x)`. */
const SIGNED_INT2BV = /\(ite \(>= ([^\s()]+) 0\) \(\(_ int2bv (\d+)\) \1\) \(bvneg \(\(_ int2bv \2\) \(- \1\)\)\)\)/g;

const { Z3 } = await init();
for (const [key, value] of Object.entries(params)) Z3.global_param_set(key, value);
reply({ ready: Z3.get_full_version() });

parentPort!.on("message", (request: Request) => {
  void answer(request).then(reply, (e: unknown) => reply({ output: `unknown\n;; worker error: ${String(e)}\n` }));
});

async function answer({ query, timeoutMs }: Request): Promise<{ output: string; lifted: boolean }> {
  const text = query.replace(SIGNED_INT2BV, "((_ int2bv $2) $1)");
  if (/\(set-logic HORN\)/.test(text)) return { output: await plain(text, timeoutMs), lifted: false };
  // A portfolio in time slices: the lifted query, the query as solc wrote it (better where
  // integer arithmetic rather than bits decides, e.g. an unchecked `x + 1`), the lifted one again.
  const deadline = Date.now() + timeoutMs;
  const slices: ["lift" | "plain", number][] = [
    ["lift", 0.25],
    ["plain", 0.25],
    ["lift", 1],
  ];
  for (const [how, share] of slices) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    const ms = Math.max(1, Math.min(left, Math.floor(timeoutMs * share)));
    if (how === "plain") {
      const output = await plain(text, ms);
      if (!output.startsWith("unknown")) return { output, lifted: false };
      continue;
    }
    const ctx = Z3.mk_context(cfgWithModels());
    try {
      const output = await liftAndSolve(Z3, ctx, text, ms).catch(() => null);
      if (output === null) return { output: await plain(text, Math.max(1, deadline - Date.now())), lifted: false };
      if (!output.startsWith("unknown")) return { output, lifted: true };
    } finally {
      Z3.del_context(ctx);
    }
  }
  return { output: "unknown\n", lifted: false };
}

/** The query as it is, with its timeout set to `ms` and an interrupt as a backstop. */
async function plain(text: string, ms: number): Promise<string> {
  const ctx = Z3.mk_context(cfgWithModels());
  const timer = setTimeout(() => Z3.interrupt(ctx), ms);
  try {
    return await Z3.eval_smtlib2_string(
      ctx,
      text.replace(/\(set-option :timeout \d+\)/, `(set-option :timeout ${ms})`),
    );
  } finally {
    clearTimeout(timer);
    Z3.del_context(ctx);
  }
}

function cfgWithModels(): number {
  const cfg = Z3.mk_config();
  Z3.set_param_value(cfg, "model", "true");
  return cfg;
}
