import { AbiCoder, Interface, dataLength, isHexString } from "ethers";
import type { ErrorDescription, ParamType } from "ethers";

import {
  CONSENT_ACCESS_MANAGER_ABI,
  CONSENT_GATED_ABI,
  CONSENT_REGISTRY_ABI,
  CONSENT_SYSTEM_DEPLOYER_ABI,
  INTEGRATION_REGISTRY_ABI,
} from "./abi.js";
import { ALL_DATA, VERSION_SEQUENCE_BITS, integrationStatusName } from "./constants.js";
import { purposeListLabel, purposeName } from "./purposes.js";

/** What went wrong, coarse enough to branch on (the message says the details). */
export type ConsentSdkErrorCode =
  | "INVALID_INPUT"
  | "NO_CONTRACT"
  | "INCOMPATIBLE_VERSION"
  | "WRONG_CHAIN"
  | "RPC_UNREACHABLE"
  | "INSUFFICIENT_FUNDS"
  | "REVERTED"
  | "NOT_FOUND"
  | "NO_SIGNER"
  /** The transaction was handed to the node but its outcome is unknown (see {@link SentTransactionInfo}). */
  | "NOT_CONFIRMED"
  /** The write would change nothing (e.g. removing a manager that is not one); nothing was sent. */
  | "NO_CHANGE"
  /** The signing store could not reserve a version (lock not obtained, damaged file, store ahead of the chain). */
  | "SIGNING_STORE"
  /** Signing now would let an older signed message outlive or undo a newer one; nothing was signed. */
  | "SIGNING_ORDER"
  /**
   * Another transaction from the same account with the same nonce was mined instead (a wallet's
   * "cancel", or a different call): this one can never apply. A re-priced copy of the same call
   * (a "speed up") is no failure: it is awaited as the transaction itself.
   */
  | "REPLACED";

/**
 * What is known of a transaction that was sent but not confirmed: its hash when the SDK signed
 * it itself (a Wallet: the hash is computed from the signed bytes before they leave), else the
 * sender and the nonce the SDK set explicitly (a node-unlocked account: eth_sendTransaction).
 * The transaction may be mined: check before sending it again.
 */
export interface SentTransactionInfo {
  hash: string | null;
  from: string;
  nonce: number | null;
  /**
   * Set when the connection did not fail but no receipt came within the wait timeout (ms): the
   * node may be gone, or the transaction still pending (e.g. too low a fee).
   */
  waitedMs?: number;
}

/** A contract custom error decoded into words. */
export interface DecodedConsentError {
  /** The Solidity error name, e.g. `ConsentRegistryStaleSignature`. */
  name: string;
  /** Named arguments; for `ConsentRegistryBatchItemFailed`, `inner` holds the decoded reason. */
  args: Record<string, unknown>;
  /** One line in words, e.g. `ConsentRegistryNotAuthorized: 0xCaller is neither 0xOwner nor …`. */
  message: string;
}

/** The one error type the SDK throws: a stable `code` plus a one-line message. */
export class ConsentSdkError extends Error {
  readonly code: ConsentSdkErrorCode;
  /** The decoded contract error when `code` is `REVERTED` and the revert data was recognised. */
  readonly revert?: DecodedConsentError;
  /** With `NOT_CONFIRMED`: the transaction that was sent. */
  readonly sent?: SentTransactionInfo;

  constructor(
    code: ConsentSdkErrorCode,
    message: string,
    opts: { cause?: unknown; revert?: DecodedConsentError; sent?: SentTransactionInfo } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "ConsentSdkError";
    this.code = code;
    if (opts.revert) this.revert = opts.revert;
    if (opts.sent) this.sent = opts.sent;
  }
}

/**
 * Every ABI whose custom errors the SDK decodes: registry (incl. AccessManaged and the purpose
 * catalogue), integrations, the ConsentAccessManager (incl. OpenZeppelin's AccessManager) and
 * the deployer. `test/sdk/errors.ts` checks that each of their errors has words below.
 */
export const ERROR_ABIS = {
  ConsentRegistry: CONSENT_REGISTRY_ABI,
  IntegrationRegistry: INTEGRATION_REGISTRY_ABI,
  ConsentAccessManager: CONSENT_ACCESS_MANAGER_ABI,
  ConsentSystemDeployer: CONSENT_SYSTEM_DEPLOYER_ABI,
  ConsentGated: CONSENT_GATED_ABI,
} as const;

const ERROR_INTERFACES = Object.values(ERROR_ABIS).map((abi) => new Interface(abi));

const ERROR_STRING_SELECTOR = "0x08c379a0";
const PANIC_SELECTOR = "0x4e487b71";

function dataIdWords(dataId: unknown): string {
  return String(dataId).toLowerCase() === ALL_DATA ? "ALL_DATA" : `data ${String(dataId)}`;
}

function purposeWords(id: unknown): string {
  return `purpose ${purposeName(Number(id))} (${String(id)})`;
}

function maskWords(mask: unknown): string {
  return `[${purposeListLabel(BigInt(mask as bigint))}]`;
}

type Args = Record<string, unknown>;

/** Names of the ConsentAccessManager's roles (ADMIN_ROLE 0, GOVERNOR_ROLE 1, GUARDIAN_ROLE 2, PUBLIC_ROLE 2^64-1). */
export function roleWords(roleId: unknown): string {
  const id = BigInt(roleId as bigint);
  if (id === 0n) return "ADMIN_ROLE (0)";
  if (id === 1n) return "GOVERNOR_ROLE (1)";
  if (id === 2n) return "GUARDIAN_ROLE (2)";
  if (id === 2n ** 64n - 1n) return "PUBLIC_ROLE";
  return `role ${id}`;
}

/** `version 65538 (generation 1, signature #2)`: a consent version in words. */
export function versionWords(version: unknown): string {
  const v = BigInt(version as bigint);
  const sequence = v & ((1n << VERSION_SEQUENCE_BITS) - 1n);
  const generation = v >> VERSION_SEQUENCE_BITS;
  return `version ${v} (generation ${generation}, ${sequence === 0n ? "set by transaction" : `signature #${sequence}`})`;
}

function staleWords(a: Args): string {
  if (BigInt(a.epoch as bigint) !== BigInt(a.currentEpoch as bigint)) {
    return `the signed message of ${a.owner} names epoch ${a.epoch} but the owner is in epoch ${a.currentEpoch}: a lockdown (revoke-all) since voided every message signed before it`;
  }
  return `the signed message of ${a.owner} has ${versionWords(a.version)} but the consent is at ${versionWords(a.currentVersion)}: the owner changed this consent since (by transaction or a later signature), and that later word holds`;
}

/** Words for each known error, keyed by name; unknown errors fall back to `Name(arg=value, …)`. */
export const ERROR_WORDS: Record<string, (a: Args) => string> = {
  ConsentRegistryZeroGrantee: () => "the grantee is the zero address",
  ConsentRegistryZeroDataId: () => "dataId 0x00…00 is not valid; use a salted hash of the asset or ALL_DATA",
  ConsentRegistryEmptyPurposes: () => "a grant must name at least one purpose",
  ConsentRegistryPurposeNotGrantable: (a) =>
    `purposes ${maskWords(a.notGrantable)} of ${maskWords(a.purposes)} are not defined or are deprecated`,
  ConsentRegistryExpiryInPast: (a) => `expiresAt ${a.expiresAt} is not after the chain time ${a.nowTs}`,
  ConsentRegistryNotAuthorized: (a) =>
    `${a.caller} is neither ${a.owner} nor one of its current managers (a lockdown removes every manager)`,
  ConsentRegistryInvalidManager: (a) => `${a.manager} cannot be a manager (zero address or the owner itself)`,
  ConsentRegistryManagerUnchanged: (a) =>
    a.approved === true
      ? `${a.manager} is already a manager of ${a.owner}; nothing to change`
      : `${a.manager} is not a manager of ${a.owner} (in its current epoch); nothing to remove`,
  ConsentRegistrySignatureExpired: (a) => `the signature's deadline ${a.deadline} passed (chain time ${a.nowTs})`,
  ConsentRegistryStaleSignature: staleWords,
  ConsentRegistryInvalidSignature: (a) => `the signature is not a valid signature of ${a.owner} over this message`,
  ConsentRegistryConsentRequired: (a) =>
    `${a.processor} holds no active consent of ${a.owner} on ${dataIdWords(a.dataId)} for ${purposeWords(a.purpose)}`,
  ConsentRegistryIntegrationNotActive: (a) =>
    `${a.to} is not an active integration allowed to receive ${purposeWords(a.purpose)}`,
  ConsentRegistryEmptyBatch: () => "a batch must contain at least one item",
  // ConsentRegistryBatchItemFailed is described with its inner error in `describe`.
  ConsentRegistryBatchItemFailed: (a) => `batch item #${a.index} failed`,
  PurposeCatalogIdOutOfRange: (a) => `purpose id ${a.id} is outside 0..127`,
  PurposeCatalogAlreadyDefined: (a) => `purpose id ${a.id} was defined before (ids are never reused)`,
  PurposeCatalogNotActive: (a) => `purpose id ${a.id} is not defined or already deprecated`,
  InvalidShortString: () => "an EIP-712 name or version could not be read back (invalid short string)",
  StringTooLong: (a) => `the string "${a.str}" is too long for a short string (at most 31 bytes)`,
  IntegrationRegistryZeroAddress: () => "the integration address is zero",
  IntegrationRegistryEmptyPurposes: () => "an integration must be allowed at least one purpose",
  IntegrationRegistryAlreadyRegistered: (a) => `integration ${a.integration} is registered already`,
  IntegrationRegistryNotRegistered: (a) => `integration ${a.integration} is not registered`,
  IntegrationRegistryWrongStatus: (a) =>
    `integration ${a.integration} is ${integrationStatusName(a.status as bigint)}, which this operation does not accept`,
  AccessManagedUnauthorized: (a) =>
    `${a.caller} may not call this governed function (not allowed by the AccessManager)`,
  AccessManagedRequiredDelay: (a) =>
    `${a.caller} must schedule this call through the AccessManager (execution delay ${a.delay}s)`,
  AccessManagedInvalidAuthority: (a) => `${a.authority} cannot be the authority (it is not a contract)`,
  AccessManagerUnauthorizedAccount: (a) => `${a.msgsender} does not hold ${roleWords(a.roleId)}`,
  AccessManagerUnauthorizedCall: (a) => `${a.caller} may not call selector ${a.selector} on ${a.target}`,
  AccessManagerUnauthorizedCancel: (a) =>
    `${a.msgsender} may not cancel the operation that ${a.caller} scheduled (selector ${a.selector} on ${a.target}): only its proposer or a member of GUARDIAN_ROLE (2) can`,
  AccessManagerUnauthorizedConsume: (a) =>
    `${a.target} may not consume a scheduled operation (only the target of the call can)`,
  AccessManagerNotScheduled: (a) =>
    `operation ${a.operationId} is not scheduled (never, or executed or cancelled since)`,
  AccessManagerNotReady: (a) => `operation ${a.operationId} is scheduled but its delay has not passed yet`,
  AccessManagerExpired: (a) => `operation ${a.operationId} expired; schedule it again`,
  AccessManagerAlreadyScheduled: (a) => `operation ${a.operationId} is scheduled already`,
  AccessManagerLockedRole: (a) => `${roleWords(a.roleId)} cannot be changed this way (it is locked)`,
  AccessManagerLockedFunction: (a) =>
    `selector ${a.selector} (setAuthority) cannot be routed to a role; use updateAuthority, which has its own delay`,
  AccessManagerBadConfirmation: () => "renouncing a role must name the caller's own address as confirmation",
  AccessManagerInvalidInitialAdmin: (a) => `${a.initialAdmin} cannot be the initial admin (the zero address)`,
  AddressEmptyCode: (a) => `${a.target} has no code`,
  FailedCall: () => "the call failed without a reason",
  InsufficientBalance: (a) => `the balance ${a.balance} wei is below the ${a.needed} wei needed`,
  SafeCastOverflowedUintDowncast: (a) => `${a.value} does not fit in uint${a.bits}`,
  ConsentAccessManagerDelayTooShort: (a) =>
    `${a.account} would hold ${roleWords(a.roleId)} with an execution delay of ${a.executionDelay}s, below the ${a.minExecutionDelay}s every member must have`,
  ConsentAccessManagerPublicFunction: (a) =>
    `selector ${a.selector} of ${a.target} cannot be opened to every account (PUBLIC_ROLE)`,
  ConsentAccessManagerPublicRoleAdmin: (a) =>
    `PUBLIC_ROLE cannot administer ${roleWords(a.roleId)}: every account could grant and revoke it`,
  ConsentAccessManagerPublicRoleGuardian: (a) =>
    `PUBLIC_ROLE cannot guard ${roleWords(a.roleId)}: every account could cancel its operations`,
  ConsentAccessManagerGuardianRoleChange: (a) =>
    `${a.guardian} (a guardian) may not cancel the ${a.selector} call that ${a.caller} proposed: it changes GUARDIAN_ROLE, which only its proposer can withdraw`,
  ConsentSystemDeployerZeroAddress: (a) => `the ${a.role} must not be the zero address`,
  ConsentGatedZeroRegistry: () => "a consent gate needs a registry (the zero address was given)",
  ConsentGatedConsentRequired: (a) =>
    `${a.grantee} holds no active consent of ${a.owner} on ${dataIdWords(a.dataId)} for ${purposeWords(a.purpose)}`,
  ConsentSystemDeployerZeroDelay: () => "the execution delay must be at least 1 second (0 would give no notice)",
};

/** ABI values by parameter name (`arg<i>` for an unnamed one): how decoded errors and calls carry their arguments. */
export function namedArgs(inputs: readonly ParamType[], values: ArrayLike<unknown>): Args {
  const out: Args = {};
  inputs.forEach((p, i) => (out[p.name || `arg${i}`] = values[i]));
  return out;
}

function describe(desc: ErrorDescription): DecodedConsentError {
  const args = namedArgs(desc.fragment.inputs, [...desc.args]);
  if (desc.name === "ConsentRegistryBatchItemFailed") {
    const inner = decodeRevertData(String(args.reason));
    args.inner = inner;
    const innerWords = inner ? inner.message : `undecodable reason ${String(args.reason)}`;
    return { name: desc.name, args, message: `${desc.name}: batch item #${args.index} failed: ${innerWords}` };
  }
  return { name: desc.name, args, message: `${desc.name}: ${inWords(desc.name, args, ERROR_WORDS)}` };
}

/**
 * `words[name](args)`, or `name(arg=value, …)` when there are no words for it: how a decoded
 * error (here) or a decoded governed call (the CLI's `gov pending`) is said.
 */
export function inWords(name: string, args: Args, words: Record<string, (a: Args) => string>): string {
  const say = words[name];
  return say
    ? say(args)
    : `${name}(${Object.entries(args)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(", ")})`;
}

/** Decodes raw revert data (`0x` + selector + args) of the consent system's contracts, or null. */
export function decodeRevertData(data: string): DecodedConsentError | null {
  if (!isHexString(data) || dataLength(data) < 4) return null;
  const selector = data.slice(0, 10).toLowerCase();
  const coder = AbiCoder.defaultAbiCoder();
  try {
    if (selector === ERROR_STRING_SELECTOR) {
      const [reason] = coder.decode(["string"], "0x" + data.slice(10));
      return { name: "Error", args: { reason }, message: `Error: ${reason}` };
    }
    if (selector === PANIC_SELECTOR) {
      const [code] = coder.decode(["uint256"], "0x" + data.slice(10));
      return { name: "Panic", args: { code }, message: `Panic: code 0x${(code as bigint).toString(16)}` };
    }
  } catch {
    return null;
  }
  for (const iface of ERROR_INTERFACES) {
    try {
      const desc = iface.parseError(data);
      if (desc) return describe(desc);
    } catch {
      // malformed arguments for this selector: try the next ABI
    }
  }
  return null;
}

/**
 * Finds revert data in whatever an RPC stack threw: ethers' `CALL_EXCEPTION` (`data`), JSON-RPC
 * errors nested in `error`/`info`/`cause`, or a bare hex string.
 */
export function findRevertData(err: unknown, depth = 0): string | null {
  if (depth > 6 || err === null || err === undefined) return null;
  if (typeof err === "string") return isHexString(err) && dataLength(err) >= 4 ? err : null;
  if (typeof err !== "object") return null;
  const o = err as Record<string, unknown>;
  for (const key of ["data", "error", "info", "cause", "revert", "returnData"]) {
    const v = o[key];
    if (v === undefined) continue;
    if (key === "revert" && v && typeof v === "object") continue; // ethers' parsed form; raw data is in `data`
    const found = findRevertData(v, depth + 1);
    if (found) return found;
  }
  return null;
}

/**
 * Decodes a revert from the registry, the integration registry or the AccessManager (also the
 * inner error of `ConsentRegistryBatchItemFailed`) into words; null when `err` carries no
 * recognisable revert data.
 */
export function decodeConsentError(err: unknown): DecodedConsentError | null {
  if (err instanceof ConsentSdkError) return err.revert ?? null;
  const data = findRevertData(err);
  return data ? decodeRevertData(data) : null;
}

function errorCode(err: unknown): string | undefined {
  if (err && typeof err === "object" && "code" in err) {
    const code = (err as { code: unknown }).code;
    return typeof code === "string" ? code : undefined;
  }
  return undefined;
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message.split("\n")[0] ?? err.message;
  return String(err);
}

const TRANSPORT_CODES = new Set([
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "ECONNABORTED",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "NETWORK_ERROR",
  "TIMEOUT",
  "SERVER_ERROR",
]);

/**
 * Whether `err` is a lost connection (the request may have reached the node, but no JSON-RPC
 * answer came back) rather than an answer of the node. A refused connection (ECONNREFUSED)
 * never delivered anything, so it is not one.
 */
export function isTransportError(err: unknown, depth = 0): boolean {
  if (depth > 4 || err === null || typeof err !== "object") return false;
  const o = err as Record<string, unknown>;
  // A JSON-RPC error object in the reply: the node answered.
  const rpcError = (o.error ?? (o.info as Record<string, unknown> | undefined)?.error) as
    Record<string, unknown> | undefined;
  if (rpcError && typeof rpcError === "object" && typeof rpcError.code === "number") return false;
  const code = errorCode(err);
  if (code === "ECONNREFUSED") return false;
  if (code !== undefined && TRANSPORT_CODES.has(code)) return true;
  if (/socket hang up|ECONNRESET|other side closed|fetch failed|network error|timeout/i.test(errorMessage(err))) {
    return true;
  }
  return isTransportError(o.cause, depth + 1);
}

/** Maps anything thrown while talking to the chain onto a ConsentSdkError with a one-line message. */
export function toConsentSdkError(err: unknown, action: string): ConsentSdkError {
  if (err instanceof ConsentSdkError) return err;
  const decoded = decodeConsentError(err);
  if (decoded) return new ConsentSdkError("REVERTED", decoded.message, { cause: err, revert: decoded });
  const code = errorCode(err);
  const msg = errorMessage(err);
  if (code === "INSUFFICIENT_FUNDS" || /insufficient funds/i.test(msg)) {
    return new ConsentSdkError("INSUFFICIENT_FUNDS", `${action}: the sender cannot pay for gas (${msg})`, {
      cause: err,
    });
  }
  if (
    code === "NETWORK_ERROR" ||
    code === "TIMEOUT" ||
    isTransportError(err) ||
    /ECONNREFUSED|ENOTFOUND|fetch failed/i.test(msg)
  ) {
    return new ConsentSdkError("RPC_UNREACHABLE", `${action}: the RPC endpoint is unreachable (${msg})`, {
      cause: err,
    });
  }
  if (code === "CALL_EXCEPTION" || /revert/i.test(msg)) {
    return new ConsentSdkError("REVERTED", `${action} reverted: ${msg}`, { cause: err });
  }
  return new ConsentSdkError("REVERTED", `${action} failed: ${msg}`, { cause: err });
}
