import { createInterface } from "node:readline/promises";

import { CliError } from "./failure.js";

/**
 * Warnings before risky writes. A risky write (a grant that replaces purposes, a grant to
 * yourself, a lockdown, …) first prints what it will do on stderr, then:
 * - with `--yes`: goes on (for scripts);
 * - on a terminal: asks `proceed? [y/N]`, and anything but y/yes stops it, nothing sent;
 * - elsewhere (no terminal, e.g. a script or CI without --yes): refuses in one line, nothing
 *   sent, naming --yes.
 * The questions are answered through {@link Asker}; tests replace it with {@link setAsker}.
 */

export interface Asker {
  /** Whether a person can answer (stdin and stderr are terminals). */
  interactive(): boolean;
  /** Asks `question` and returns the answer line. */
  ask(question: string): Promise<string>;
}

const terminal: Asker = {
  interactive: () => process.stdin.isTTY === true && process.stderr.isTTY === true,
  async ask(question) {
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      return await rl.question(question);
    } finally {
      rl.close();
    }
  },
};

let asker: Asker = terminal;

/** Replaces how questions are asked (tests); returns the previous asker. */
export function setAsker(next: Asker | null): Asker {
  const previous = asker;
  asker = next ?? terminal;
  return previous;
}

export interface Warning {
  /** The lines saying what the write will do (printed on stderr, prefixed `warning: `). */
  lines: string[];
  /** What is refused, for the one-line refusal: `grant replacing purposes`. */
  what: string;
}

/**
 * Shows `warning` and returns only when the user (or `--yes`) agrees; otherwise throws a
 * {@link CliError} saying nothing was sent.
 */
export async function confirmRisk(warning: Warning, yes: boolean): Promise<void> {
  for (const line of warning.lines) process.stderr.write(`warning: ${line}\n`);
  if (yes) return;
  if (!asker.interactive()) {
    throw new CliError(
      `${warning.what}: refused without confirmation (no terminal to ask); re-run with --yes to go ahead. Nothing was sent`,
    );
  }
  const answer = (await asker.ask("proceed? [y/N] ")).trim().toLowerCase();
  if (answer !== "y" && answer !== "yes") throw new CliError(`${warning.what}: not confirmed; nothing was sent`);
}
