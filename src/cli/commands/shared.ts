import type { Command } from "commander";

import { CliContext } from "../context.js";
import { isoOf } from "../parse.js";
import { formatFields, printJson, printLines } from "../output.js";
import { maskToPurposes, purposeName } from "../../sdk/purposes.js";

/**
 * Glue shared by the command modules: the action wrapper that builds the context, and the
 * printing of a sent transaction.
 */

/** Wraps a commander action: `fn(ctx, options, args)`; errors propagate to `main`, which prints one line. */
export function withContext<O>(
  fn: (ctx: CliContext, options: O, args: string[]) => Promise<void>,
): (...received: unknown[]) => Promise<void> {
  return async (...received: unknown[]) => {
    const command = received[received.length - 1] as Command;
    const options = received[received.length - 2] as O;
    const args = received.slice(0, -2).flat() as string[];
    await fn(CliContext.of(command), options, args);
  };
}

export interface SentTransaction<T> {
  txHash: string;
  block: number;
  gasUsed: bigint;
  result: T;
}

/** Prints a sent transaction: the JSON document, or `summary` plus the tx hash and block. */
export function printSent<T>(ctx: CliContext, summary: string, sent: SentTransaction<T>): void {
  if (ctx.json) {
    printJson(sent);
    return;
  }
  printLines(summary, formatFields([["tx", `${sent.txHash} (block ${sent.block}, gas ${sent.gasUsed})`]]));
}

/** `INFERENCE(2), MODEL_TRAINING(0)` for a purpose list or bitmap. */
export function purposesWords(purposes: readonly number[] | bigint): string {
  const ids = typeof purposes === "bigint" ? maskToPurposes(purposes) : purposes;
  return ids.map((id) => `${purposeName(id)}(${id})`).join(", ");
}

/** `until 2026-12-01T00:00:00Z` or `with no expiry`. */
export function expiryWords(expiresAt: bigint): string {
  return expiresAt === 0n ? "with no expiry" : `until ${isoOf(expiresAt)}`;
}
