import { ConsentSdkError, decodeConsentError } from "../sdk/errors.js";

/**
 * How the CLI fails: one line on stderr, no stack trace, and an exit code a script can test.
 * - 1: the input or the chain said no (bad value, revert, no funds, unreachable node, …)
 * - 2: the command line itself is malformed (unknown option, missing argument) — commander's
 *      own errors, mapped in `main.ts`.
 */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** A failure to report as is: a wrong value (the message names the option and what to fix) or an unusable environment. */
export class CliError extends Error {
  constructor(message: string) {
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
