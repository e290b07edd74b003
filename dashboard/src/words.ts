import { ConsentSdkError, isTransportError } from "../../src/sdk/errors.js";

/**
 * What went wrong, in one sentence an owner can act on. Each case says what happened to their
 * request: nothing is lost (forms and the queue keep what was typed; nothing half-sent is
 * forgotten: a transaction whose outcome is unknown says so).
 */
export type Problem = { kind: "rejected" | "wrong-chain" | "node-down" | "unconfirmed" | "refused"; text: string };

function chain(err: unknown): unknown[] {
  const out: unknown[] = [];
  let e: unknown = err;
  for (let i = 0; i < 6 && e !== null && typeof e === "object"; i++) {
    out.push(e);
    const o = e as { cause?: unknown; error?: unknown; info?: { error?: unknown } };
    e = o.cause ?? o.error ?? o.info?.error;
  }
  return out;
}

const codeOf = (e: unknown) => (e as { code?: unknown }).code;
const messageOf = (e: unknown) => String((e as { message?: unknown }).message ?? e);

export function isRejection(err: unknown): boolean {
  return chain(err).some(
    (e) => codeOf(e) === 4001 || codeOf(e) === "ACTION_REJECTED" || /user (rejected|denied)/i.test(messageOf(e)),
  );
}

export function isNodeDown(err: unknown): boolean {
  return chain(err).some(
    (e) =>
      (e instanceof ConsentSdkError && e.code === "RPC_UNREACHABLE") ||
      codeOf(e) === "NETWORK_ERROR" ||
      codeOf(e) === -32603 ||
      isTransportError(e) ||
      /failed to fetch|fetch failed|networkerror|ECONNREFUSED|could not coalesce|connection refused|Load failed/i.test(
        messageOf(e),
      ),
  );
}

/** Actions that only read (or connect): nothing of theirs could change anything on chain. */
const READS = /^(reading|listing|connecting|checking|switching)\b/;

export function inWords(err: unknown, action: string): Problem {
  if (isRejection(err)) {
    return {
      kind: "rejected",
      text: `You declined ${action} in your wallet: nothing was signed or sent, and nothing changed.`,
    };
  }
  if (err instanceof ConsentSdkError && err.code === "WRONG_CHAIN") return { kind: "wrong-chain", text: err.message };
  if (err instanceof ConsentSdkError && err.code === "NOT_CONFIRMED") {
    const nonce = err.sent?.nonce;
    const which = nonce === undefined || nonce === null ? "" : ` (your account's transaction number ${nonce})`;
    if (isNodeDown(err.cause)) {
      return {
        kind: "node-down",
        text: `The node stopped answering while ${action} was being sent, so it is not known yet whether it arrived${which}. What you entered is kept. Check again when the node is back before sending it again.`,
      };
    }
    return {
      kind: "unconfirmed",
      text: `${action} was handed to the node but not confirmed${which}. Check again before sending it again.`,
    };
  }
  if (isNodeDown(err) && READS.test(action)) {
    return {
      kind: "node-down",
      text: `The node does not answer, so ${action} did not work. Nothing was sent; what is on screen stays. Try again when the node is back.`,
    };
  }
  if (isNodeDown(err)) {
    return {
      kind: "node-down",
      text: `The node does not answer, so ${action} was not sent and nothing changed. What you entered is kept: try again when the node is back.`,
    };
  }
  const text = messageOf(err).split("\n")[0] ?? "";
  return { kind: "refused", text: `${action} did not happen: ${text}` };
}
