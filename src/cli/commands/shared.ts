import { ZeroHash } from "ethers";
import type { Command } from "commander";

import { CliContext } from "../context.js";
import {
  PURPOSE_WORDS,
  builtInTokens,
  parseAddress,
  parseDataId,
  parseHashOrText,
  parseOnePurpose,
  purposeTokens,
  whenOf,
} from "../parse.js";
import { formatFields, printJson, printLines } from "../output.js";
import { BUILT_IN_NAMES, currentPurposeNames } from "../purposes.js";
import type { PurposeNames } from "../purposes.js";
import type { Repricing } from "../../sdk/transaction.js";

/**
 * Glue shared by the command modules: the action wrapper that builds the context, and the
 * printing of a sent transaction.
 */

/**
 * Wraps a commander action: `fn(ctx, options, args, command)`; errors propagate to `main`, which
 * prints one line.
 */
export function withContext<O>(
  fn: (ctx: CliContext, options: O, args: string[], command: Command) => Promise<void>,
): (...received: unknown[]) => Promise<void> {
  return async (...received: unknown[]) => {
    const command = received[received.length - 1] as Command;
    const options = received[received.length - 2] as O;
    const args = received.slice(0, -2).flat() as string[];
    await fn(CliContext.of(command), options, args, command);
  };
}

export interface SentTransaction<T> {
  txHash: string;
  block: number;
  gasUsed: bigint;
  result: T;
  /** Set when a re-priced copy (a wallet's speed-up) was mined instead of the transaction sent. */
  repriced?: Repricing;
}

/**
 * Prints a sent transaction: the JSON document, or `summary` plus the tx hash and block (and,
 * when a sped-up copy was mined instead, which transaction it replaced). `notes` follow.
 */
export function printSent<T>(ctx: CliContext, summary: string, sent: SentTransaction<T>, notes: string[] = []): void {
  if (ctx.json) {
    printJson(notes.length > 0 ? { ...sent, notes } : sent);
    return;
  }
  const fields: [string, string][] = [["tx", `${sent.txHash} (block ${sent.block}, gas ${sent.gasUsed})`]];
  if (sent.repriced) {
    fields.push([
      "replaced",
      `${sent.repriced.original}: the transaction sent was re-sent with a higher fee (sped up); the copy above applied`,
    ]);
  }
  printLines(summary, formatFields(fields), ...notes.map((n) => `note: ${n}`));
}

/** `MODEL_TRAINING(0), INFERENCE(2)` for a purpose list or bitmap (governance's purposes by their documents' names). */
export function purposesWords(
  purposes: readonly number[] | bigint,
  names: PurposeNames = currentPurposeNames(),
): string {
  return names.list(purposes);
}

/** `until 2026-12-01T00:00:00Z (in 30 days)` or `with no expiry`. */
export function expiryWords(expiresAt: bigint, now: bigint): string {
  return expiresAt === 0n ? "with no expiry" : `until ${whenOf(expiresAt, now)}`;
}

/**
 * Purpose ids from checked tokens: ids and built-in names need no chain; any other name is looked
 * up in the chain's catalogue and its documents (`--documents`), and refused with every known name.
 */
export async function resolvePurposes(ctx: CliContext, option: string, tokens: readonly string[]): Promise<number[]> {
  const names = builtInTokens(tokens) ? BUILT_IN_NAMES : await ctx.purposeNames();
  const ids = new Set(tokens.map((t) => parseOnePurpose(option, t, names)));
  return [...ids].sort((a, b) => a - b);
}

// Options of the grant and key commands (owner.ts and sign.ts) --------------------------------

export interface GrantOptions {
  grantee: string;
  data: string;
  purposes: string;
  expires?: string;
  notice?: string;
}

export interface KeyOptions {
  grantee: string;
  data: string;
}

export const PURPOSES_HELP = `comma-separated purposes: ${PURPOSE_WORDS.join(", ")} (or MODEL_TRAINING, model_training: any case, - or _), or ids 0..127`;
export const DATA_HELP =
  "data id: 0x + 64 hex digits (a salted hash of the asset; `data-id <label>` makes one), or ALL / ALL_DATA for all of the owner's data";

/** Validates the grant options that need no chain; the expiry needs the chain's clock. */
export function grantBasics(o: GrantOptions): {
  grantee: string;
  dataId: string;
  purposeTokens: string[];
  noticeHash: string;
} {
  return {
    grantee: parseAddress("--grantee", o.grantee),
    dataId: parseDataId("--data", o.data),
    purposeTokens: purposeTokens("--purposes", o.purposes),
    noticeHash: o.notice === undefined ? ZeroHash : parseHashOrText("--notice", o.notice),
  };
}

export function addGrantOptions(cmd: Command): Command {
  return cmd
    .requiredOption("--grantee <address>", "who receives the consent")
    .requiredOption("--data <id|ALL>", DATA_HELP)
    .requiredOption("--purposes <list>", PURPOSES_HELP)
    .option(
      "--expires <time>",
      "a date-time with its zone (2027-01-01T12:00Z, 2027-01-01T12:00+02:00), a duration (+30d, 30 days, P2W) or never",
      "never",
    )
    .option("--notice <text|0xhash>", "the consent notice shown to the owner (text is hashed with keccak256)");
}
