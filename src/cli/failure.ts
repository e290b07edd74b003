import { Interface } from "ethers";

import { CONSENT_ACCESS_MANAGER_ABI, CONSENT_REGISTRY_ABI, INTEGRATION_REGISTRY_ABI } from "../sdk/abi.js";
import { ConsentSdkError, decodeConsentError } from "../sdk/errors.js";
import type { DecodedConsentError, SentTransactionInfo } from "../sdk/errors.js";
import { timeWords } from "../sdk/time-relative.js";
import { isoTime } from "../sdk/time-words.js";
import { namePurposesIn } from "./purposes.js";

/**
 * How the CLI fails: one line on stderr, no stack trace, and an exit code a script can test.
 * - 1: the input or the chain said no (bad value, revert, no funds, unreachable node, …); nothing
 *      of the refused transaction was sent.
 * - 2: the command line itself is malformed (unknown option, missing argument) — commander's
 *      own errors, mapped in `main.ts`.
 * - 3: sent, not confirmed: a transaction was handed to the node but the connection was lost,
 *      or no receipt came within `--wait-timeout`, before its outcome was known. It may be
 *      mined; the line names it (hash, or sender and nonce). Look it up before sending again.
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
  return namePurposesIn(rawFailure(err));
}

const GOVERNED_INTERFACES = [
  ["ConsentRegistry", new Interface(CONSENT_REGISTRY_ABI)],
  ["IntegrationRegistry", new Interface(INTEGRATION_REGISTRY_ABI)],
  ["AccessManager", new Interface(CONSENT_ACCESS_MANAGER_ABI)],
] as const;

/** `suspendIntegration(address)` for a selector of the consent system's contracts, else the selector. */
export function functionOfSelector(selector: string): string {
  for (const [, iface] of GOVERNED_INTERFACES) {
    try {
      const f = iface.getFunction(selector.toLowerCase());
      if (f) return `${f.name}(${f.inputs.map((i) => i.type).join(",")})`;
    } catch {
      // not a function of this contract
    }
  }
  return `the function with selector ${selector}`;
}

/**
 * The CLI's words for decoded reverts whose SDK wording leaves the user without a next step: an
 * expired signature (times, not unix seconds), an operation that is not scheduled (execute must
 * repeat the proposal's arguments exactly), a call or cancel refused by the AccessManager (the
 * function by name, not only its selector). Undefined for every other error.
 */
export function cliWordsOf(decoded: DecodedConsentError): string | undefined {
  const a = decoded.args;
  switch (decoded.name) {
    case "ConsentRegistrySignatureExpired": {
      const deadline = BigInt(a.deadline as bigint);
      const now = BigInt(a.nowTs as bigint);
      return `${decoded.name}: the signature's deadline ${timeWords(deadline, now)} has passed (chain time ${isoTime(now)}); ask the owner to sign the message again with a later --deadline`;
    }
    case "AccessManagerNotScheduled":
      return `${decoded.name}: no scheduled operation matches (id ${String(a.operationId)}): it was never proposed with exactly these arguments, or was executed or cancelled since. \`gov execute\` must repeat the proposal's arguments exactly (same address, purposes and metadata); \`omni-consent gov pending\` lists what is scheduled`;
    case "AccessManagerUnauthorizedCall":
      return `${decoded.name}: ${String(a.caller)} may not call ${functionOfSelector(String(a.selector))} on ${String(a.target)}: its role does not allow that function; ask an admin for the role, or propose it from an account that holds it`;
    case "AccessManagerUnauthorizedCancel":
      return `${decoded.name}: ${String(a.msgsender)} may not cancel the ${functionOfSelector(String(a.selector))} call on ${String(a.target)} that ${String(a.caller)} proposed: only its proposer or a member of GUARDIAN_ROLE (2) can`;
    default:
      return undefined;
  }
}

function rawFailure(err: unknown): string {
  if (err instanceof CliError) return firstLine(err.message);
  if (err instanceof ConsentSdkError) {
    const words = err.revert ? cliWordsOf(err.revert) : undefined;
    if (words) return words;
    const inMessage = decodeConsentError(err);
    const again = inMessage ? cliWordsOf(inMessage) : undefined;
    return again ?? firstLine(err.message);
  }
  const decoded = decodeConsentError(err);
  if (decoded) return firstLine(cliWordsOf(decoded) ?? decoded.message);
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

/** `2 min`, `90 s` for a wait in ms. */
function waitWords(ms: number): string {
  const s = ms / 1000;
  return s >= 60 && s % 60 === 0 ? `${s / 60} min` : `${s} s`;
}

/** `sent, not confirmed: 0x… (from 0x…, nonce 7): …` — the line for exit code 3. */
export function notConfirmedLine(sent: SentTransactionInfo): string {
  const what =
    sent.hash !== null
      ? `${sent.hash} (from ${sent.from}, nonce ${sent.nonce ?? "unknown"})`
      : `transaction from ${sent.from} with nonce ${sent.nonce ?? "unknown"} (hash unknown: the node signed it)`;
  const why =
    sent.waitedMs === undefined
      ? "the connection to the node was lost after the transaction was handed over"
      : `no receipt came within ${waitWords(sent.waitedMs)} of sending (--wait-timeout; the node may be gone, or the transaction is still pending)`;
  return `sent, not confirmed: ${what}: ${why}, so it may be mined. Look it up (or check that account's nonce) before sending it again`;
}

/** The exit code for an error thrown by a command. */
export function exitCodeOf(err: unknown): number {
  if (err instanceof CliError) return err.exitCode;
  if (notConfirmedOf(err)) return EXIT_NOT_CONFIRMED;
  return EXIT_FAILURE;
}
