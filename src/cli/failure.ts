import { ConsentSdkError, decodeConsentError } from "../sdk/errors.js";
import type { SentTransactionInfo } from "../sdk/errors.js";

/**
 * How the CLI fails: one line on stderr, no stack trace, and an exit code a script can test.
 * - 1: the input or the chain said no (bad value, revert, no funds, unreachable node, …); nothing
 *      of the refused transaction was sent.
 * - 2: the command line itself is malformed (unknown option, missing argument) — commander's
 *      own errors, mapped in `main.ts`.
 * - 3: sent, not confirmed: a transaction was handed to the node but the connection was lost
 *      before its outcome was known. It may be mined; the line names it (hash, or sender and
 *      nonce). Look it up before sending again.
 * - 4: partly applied: `relay` sent what could apply, but some signed messages did not (each
 *      one is listed on stdout with its reason).
 */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
export const EXIT_NOT_CONFIRMED = 3;
export const EXIT_PARTIAL = 4;

/** A failure to report as is: a wrong value (the message names the option and what to fix) or an unusable environment. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_FAILURE,
  ) {
    super(message);
    this.name = "CliError";
  }
}

interface EthersLikeError {
  code?: unknown;
  shortMessage?: unknown;
  message?: unknown;
  cause?: unknown;
}

function firstLine(text: string): string {
  return text.split("\n")[0].trim();
}

/**
 * The one line to print for any error thrown while running a command. Contract reverts are
 * decoded into the custom error in words (the SDK's decoder knows the registry, integration
 * registry and AccessManager errors, including batch items).
 */
export function describeFailure(err: unknown): string {
  if (err instanceof CliError) return firstLine(err.message);
  if (err instanceof ConsentSdkError) return firstLine(err.message);
  const decoded = decodeConsentError(err);
  if (decoded) return firstLine(decoded.message);
  const e = (typeof err === "object" && err !== null ? err : {}) as EthersLikeError;
  if (e.code === "INSUFFICIENT_FUNDS") return "the signer cannot pay for this transaction (insufficient funds)";
  if (typeof e.shortMessage === "string") return firstLine(e.shortMessage);
  if (typeof e.message === "string" && e.message !== "") return firstLine(e.message);
  return firstLine(String(err));
}

/** The transaction of a NOT_CONFIRMED error, or null for any other error. */
export function notConfirmedOf(err: unknown): SentTransactionInfo | null {
  return err instanceof ConsentSdkError && err.code === "NOT_CONFIRMED" && err.sent ? err.sent : null;
}

/** `sent, not confirmed: 0x… (from 0x…, nonce 7): …` — the line for exit code 3. */
export function notConfirmedLine(sent: SentTransactionInfo): string {
  const what =
    sent.hash !== null
      ? `${sent.hash} (from ${sent.from}, nonce ${sent.nonce ?? "unknown"})`
      : `transaction from ${sent.from} with nonce ${sent.nonce ?? "unknown"} (hash unknown: the node signed it)`;
  return `sent, not confirmed: ${what}: the connection to the node was lost after the transaction was handed over, so it may be mined. Look it up (or check that account's nonce) before sending it again`;
}

/** The exit code for an error thrown by a command. */
export function exitCodeOf(err: unknown): number {
  if (err instanceof CliError) return err.exitCode;
  if (notConfirmedOf(err)) return EXIT_NOT_CONFIRMED;
  return EXIT_FAILURE;
}
