import { AbiCoder, Interface, dataLength, isHexString } from "ethers";
import type { ErrorDescription, ParamType } from "ethers";

import { AccessManager__factory } from "../../types/ethers-contracts/index.js";
import { CONSENT_REGISTRY_ABI, INTEGRATION_REGISTRY_ABI } from "./abi.js";
import { ALL_DATA } from "./constants.js";
import { maskToPurposes, purposeName } from "./purposes.js";

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
  | "NO_SIGNER";

/** A contract custom error decoded into words. */
export interface DecodedConsentError {
  /** The Solidity error name, e.g. `ConsentRegistryNotGranted`. */
  name: string;
  /** Named arguments; for `ConsentRegistryBatchItemFailed`, `inner` holds the decoded reason. */
  args: Record<string, unknown>;
  /** One line in words, e.g. `ConsentRegistryNotGranted: 0xOwner has no live consent for …`. */
  message: string;
}

/** The one error type the SDK throws: a stable `code` plus a one-line message. */
export class ConsentSdkError extends Error {
  readonly code: ConsentSdkErrorCode;
  /** The decoded contract error when `code` is `REVERTED` and the revert data was recognised. */
  readonly revert?: DecodedConsentError;

  constructor(
    code: ConsentSdkErrorCode,
    message: string,
    opts: { cause?: unknown; revert?: DecodedConsentError } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "ConsentSdkError";
    this.code = code;
    if (opts.revert) this.revert = opts.revert;
  }
}

/** Every custom error the consent system can raise: registry (incl. AccessManaged), integrations, AccessManager. */
const ERROR_INTERFACES = [
  new Interface(CONSENT_REGISTRY_ABI),
  new Interface(INTEGRATION_REGISTRY_ABI),
  new Interface(AccessManager__factory.abi),
];

const ERROR_STRING_SELECTOR = "0x08c379a0";
const PANIC_SELECTOR = "0x4e487b71";
const INTEGRATION_STATUS = ["None", "Active", "Suspended"] as const;

function dataIdWords(dataId: unknown): string {
  return String(dataId).toLowerCase() === ALL_DATA ? "ALL_DATA" : `data ${String(dataId)}`;
}

function purposeWords(id: unknown): string {
  return `purpose ${purposeName(Number(id))} (${String(id)})`;
}

function maskWords(mask: unknown): string {
  return (
    "[" +
    maskToPurposes(BigInt(mask as bigint))
      .map((id) => `${purposeName(id)}(${id})`)
      .join(", ") +
    "]"
  );
}

type Args = Record<string, unknown>;

/** Words for each known error, keyed by name; unknown errors fall back to `Name(arg=value, …)`. */
const WORDS: Record<string, (a: Args) => string> = {
  ConsentRegistryZeroGrantee: () => "the grantee is the zero address",
  ConsentRegistryZeroDataId: () => "dataId 0x00…00 is not valid; use a salted hash of the asset or ALL_DATA",
  ConsentRegistryEmptyPurposes: () => "a grant must name at least one purpose",
  ConsentRegistryPurposeNotGrantable: (a) =>
    `purposes ${maskWords(a.notGrantable)} of ${maskWords(a.purposes)} are not defined or are deprecated`,
  ConsentRegistryExpiryInPast: (a) => `expiresAt ${a.expiresAt} is not after the chain time ${a.nowTs}`,
  ConsentRegistryNotGranted: (a) => `${a.owner} has no live consent for ${a.grantee} on ${dataIdWords(a.dataId)}`,
  ConsentRegistryNotAuthorized: (a) => `${a.caller} is neither ${a.owner} nor one of its managers`,
  ConsentRegistryInvalidManager: (a) => `${a.manager} cannot be a manager (zero address or the owner itself)`,
  ConsentRegistrySignatureExpired: (a) => `the signature's deadline ${a.deadline} passed (chain time ${a.nowTs})`,
  ConsentRegistryNonceUsed: (a) => `nonce ${a.nonce} of ${a.owner} was used or invalidated already`,
  ConsentRegistryInvalidSignature: (a) => `the signature is not a valid signature of ${a.owner} over this message`,
  ConsentRegistryConsentRequired: (a) =>
    `${a.processor} holds no active consent of ${a.owner} on ${dataIdWords(a.dataId)} for ${purposeWords(a.purpose)}`,
  ConsentRegistryIntegrationNotActive: (a) =>
    `${a.to} is not an active integration allowed to receive ${purposeWords(a.purpose)}`,
  ConsentRegistryEmptyBatch: () => "a batch must contain at least one item",
  PurposeCatalogIdOutOfRange: (a) => `purpose id ${a.id} is outside 0..127`,
  PurposeCatalogAlreadyDefined: (a) => `purpose id ${a.id} was defined before (ids are never reused)`,
  PurposeCatalogNotActive: (a) => `purpose id ${a.id} is not defined or already deprecated`,
  IntegrationRegistryZeroAddress: () => "the integration address is zero",
  IntegrationRegistryEmptyPurposes: () => "an integration must be allowed at least one purpose",
  IntegrationRegistryAlreadyRegistered: (a) => `integration ${a.integration} is registered already`,
  IntegrationRegistryNotRegistered: (a) => `integration ${a.integration} is not registered`,
  IntegrationRegistryWrongStatus: (a) =>
    `integration ${a.integration} is ${INTEGRATION_STATUS[Number(a.status)] ?? a.status}, which this operation does not accept`,
  AccessManagedUnauthorized: (a) =>
    `${a.caller} may not call this governed function (not allowed by the AccessManager)`,
  AccessManagedRequiredDelay: (a) =>
    `${a.caller} must schedule this call through the AccessManager (execution delay ${a.delay}s)`,
  AccessManagerUnauthorizedAccount: (a) => `${a.msgsender} does not hold role ${a.roleId}`,
  AccessManagerUnauthorizedCall: (a) => `${a.caller} may not call selector ${a.selector} on ${a.target}`,
  AccessManagerNotScheduled: (a) => `operation ${a.operationId} is not scheduled`,
  AccessManagerNotReady: (a) => `operation ${a.operationId} is scheduled but its delay has not passed yet`,
  AccessManagerExpired: (a) => `operation ${a.operationId} expired; schedule it again`,
  AccessManagerAlreadyScheduled: (a) => `operation ${a.operationId} is scheduled already`,
};

function namedArgs(inputs: readonly ParamType[], values: readonly unknown[]): Args {
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
  const words = WORDS[desc.name];
  const text = words
    ? words(args)
    : `${desc.name}(${Object.entries(args)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(", ")})`;
  return { name: desc.name, args, message: `${desc.name}: ${text}` };
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
  if (code === "NETWORK_ERROR" || code === "TIMEOUT" || /ECONNREFUSED|ENOTFOUND|fetch failed/i.test(msg)) {
    return new ConsentSdkError("RPC_UNREACHABLE", `${action}: the RPC endpoint is unreachable (${msg})`, {
      cause: err,
    });
  }
  if (code === "CALL_EXCEPTION" || /revert/i.test(msg)) {
    return new ConsentSdkError("REVERTED", `${action} reverted: ${msg}`, { cause: err });
  }
  return new ConsentSdkError("REVERTED", `${action} failed: ${msg}`, { cause: err });
}
