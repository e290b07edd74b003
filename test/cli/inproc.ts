import { runCli as runProgram } from "../../src/cli/main.js";
import { setAsker } from "../../src/cli/confirm.js";
import { setCurrentPurposeNames, BUILT_IN_NAMES } from "../../src/cli/purposes.js";
import type { CliRun } from "./harness.js";

/**
 * The CLI run inside the test process: the same `runCli` that `bin/omni-consent.js` calls, with
 * stdout and stderr captured and the environment reduced to `env` (every OMNI_* variable of the
 * developer is hidden). Milliseconds instead of a process start per command; the subprocess
 * tests (bad-input.ts, …) keep covering the real entry point. `answers` plays a person at a
 * terminal for the warnings (each question takes the next answer); without it there is no
 * terminal, as in a script.
 */
export async function runInProcess(
  args: readonly string[],
  env: Record<string, string> = {},
  answers?: string[],
): Promise<CliRun & { asked: string[] }> {
  const saved: Record<string, string | undefined> = {};
  const keys = new Set([...Object.keys(process.env).filter((k) => k.startsWith("OMNI_")), ...Object.keys(env)]);
  for (const k of keys) {
    saved[k] = process.env[k];
    if (k in env) process.env[k] = env[k];
    else delete process.env[k];
  }
  let stdout = "";
  let stderr = "";
  const asked: string[] = [];
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout += chunk.toString();
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += chunk.toString();
    return true;
  }) as typeof process.stderr.write;
  const previous = setAsker(
    answers === undefined
      ? { interactive: () => false, ask: () => Promise.reject(new Error("no terminal")) }
      : {
          interactive: () => true,
          ask: (q) => {
            asked.push(q);
            return Promise.resolve(answers.shift() ?? "");
          },
        },
  );
  setCurrentPurposeNames(BUILT_IN_NAMES);
  try {
    const code = await runProgram(["node", "omni-consent", ...args]);
    return { code, stdout, stderr, asked };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
    setAsker(previous);
    for (const k of keys) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  }
}
