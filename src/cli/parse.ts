import { ZeroAddress, ZeroHash, isHexString, keccak256, toUtf8Bytes } from "ethers";

import { ALL_DATA, MAX_PURPOSE_ID, NO_EXPIRY } from "../sdk/constants.js";
import { PURPOSE_WORDS, parsePurpose } from "../sdk/purposes.js";
import { isoTime } from "../sdk/time-words.js";
import { bytes32Schema, checkAddress } from "../sdk/validation.js";
import { CliError } from "./failure.js";

/**
 * Parsers for command-line values. Each turns one option's text into the typed value the SDK
 * takes, or throws a {@link CliError} whose message is one line naming the option and
 * what to fix. Nothing here talks to a chain: validation happens before any client exists.
 */

export { PURPOSE_WORDS } from "../sdk/purposes.js";

/** Whether `text` is `0x` + 64 hex digits (the SDK's bytes32 rule). */
const isBytes32 = (text: string): boolean => bytes32Schema.safeParse(text).success;

/**
 * An address by the SDK's one rule (`checkAddress`: all-lowercase, or the EIP-55 checksummed
 * form), refused in the CLI's words naming the option. A bad checksum is the one
 * sign of a mistyped address that can be detected.
 */
export function parseAddress(option: string, value: string, opts: { allowZero?: boolean } = {}): string {
  const text = value.trim();
  const checked = checkAddress(text);
  if ("problem" in checked) {
    throw new CliError(
      checked.problem === "format"
        ? `${option}: "${value}" is not an address (expected 0x followed by 40 hex digits)`
        : `${option}: ${text} has a bad EIP-55 checksum (mistyped?); the checksummed form of this value is ${checked.checksummed}`,
    );
  }
  if (!opts.allowZero && checked.address === ZeroAddress) {
    throw new CliError(`${option}: the zero address is not allowed`);
  }
  return checked.address;
}

/** A data id: `ALL` (every asset of the owner) or a non-zero 32-byte hex commitment. */
export function parseDataId(option: string, value: string): string {
  const text = value.trim();
  if (text.toUpperCase() === "ALL") return ALL_DATA;
  if (!isBytes32(text)) {
    throw new CliError(`${option}: "${value}" is not a data id (expected ALL or 0x followed by 64 hex digits)`);
  }
  if (text === ZeroHash) {
    throw new CliError(`${option}: the zero data id is not allowed (use a salted hash of the asset, or ALL)`);
  }
  return text.toLowerCase();
}

/** One purpose: a name such as `inference` (case-insensitive, `-` or `_`) or an id 0..127. */
export function parseOnePurpose(option: string, value: string): number {
  const text = value.trim();
  if (text === "") throw new CliError(`${option}: no purpose given; use one of ${PURPOSE_WORDS.join(", ")} or an id`);
  try {
    return parsePurpose(text);
  } catch (err) {
    throw new CliError(`${option}: ${(err as Error).message}`);
  }
}

/** A comma-separated list of purposes (names or ids); at least one, duplicates collapse. */
export function parsePurposeList(option: string, value: string): number[] {
  const items = value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (items.length === 0) {
    throw new CliError(`${option}: the purpose list is empty; name at least one (e.g. inference,model-training)`);
  }
  const ids = new Set<number>();
  for (const item of items) ids.add(parseOnePurpose(option, item));
  return [...ids].sort((a, b) => a - b);
}

const DURATION = /^\+(\d+)([smhdw])$/;
const UNIT_SECONDS: Record<string, bigint> = { s: 1n, m: 60n, h: 3600n, d: 86_400n, w: 604_800n };

/**
 * A point in time, as unix seconds: `never` (only where allowed; → NO_EXPIRY), unix seconds,
 * an ISO-8601 date, or a duration from `now` such as `+30d` (units s, m, h, d, w).
 * The result must be after `now` (the chain's clock when connected).
 */
export function parseTime(option: string, value: string, now: bigint, opts: { allowNever: boolean }): bigint {
  const text = value.trim();
  const forms = opts.allowNever ? "an ISO date, unix seconds, +30d or never" : "an ISO date, unix seconds or +1h";
  if (text.toLowerCase() === "never") {
    if (!opts.allowNever) throw new CliError(`${option}: "never" is not allowed here; give ${forms}`);
    return NO_EXPIRY;
  }
  let at: bigint;
  const duration = DURATION.exec(text);
  if (duration) {
    at = now + BigInt(duration[1]) * UNIT_SECONDS[duration[2]];
  } else if (/^\d+$/.test(text)) {
    at = BigInt(text);
  } else if (/^\d{4}-\d{2}-\d{2}/.test(text) && !Number.isNaN(Date.parse(text))) {
    at = BigInt(Math.floor(Date.parse(text) / 1000));
  } else {
    throw new CliError(`${option}: cannot read "${value}" as a time; give ${forms}`);
  }
  if (at <= now) {
    throw new CliError(
      `${option}: ${text} (${isoOf(at)}) is not in the future (chain time is ${isoOf(now)}); give a later time`,
    );
  }
  if (at >= 1n << 64n) throw new CliError(`${option}: ${text} is too far in the future (must fit in uint64)`);
  return at;
}

/**
 * A 32-byte commitment given either as 0x + 64 hex digits (used as is) or as free text
 * (hashed with keccak256, so no personal data goes on-chain in clear). `allowZero` is for the
 * notice hash, whose default is zero.
 */
export function parseHashOrText(option: string, value: string): string {
  const text = value.trim();
  if (text === "") throw new CliError(`${option}: empty; give some text (hashed) or a 0x-prefixed 32-byte hash`);
  if (/^0x/i.test(text)) {
    if (!isBytes32(text)) {
      throw new CliError(`${option}: "${value}" looks like hex but is not 32 bytes (0x followed by 64 hex digits)`);
    }
    return text.toLowerCase();
  }
  return keccak256(toUtf8Bytes(text));
}

/** A purpose id for governance commands (0..127, a number, not a name: new ids have no name yet). */
export function parsePurposeId(option: string, value: string): number {
  const text = value.trim();
  if (!/^\d+$/.test(text) || Number(text) > MAX_PURPOSE_ID) {
    throw new CliError(`${option}: "${value}" is not a purpose id (an integer 0..${MAX_PURPOSE_ID})`);
  }
  return Number(text);
}

/** A non-negative integer (chain ids, block numbers, account indexes). */
export function parseUint(option: string, value: string): bigint {
  const text = value.trim();
  if (!/^\d+$/.test(text)) throw new CliError(`${option}: "${value}" is not a non-negative integer`);
  return BigInt(text);
}

/** Whether `value` is a 32-byte hex string (e.g. a private key pasted where it must not be). */
export function looksLikePrivateKey(value: string): boolean {
  const text = value.trim();
  return isHexString(text.startsWith("0x") ? text : `0x${text}`, 32);
}

/** `2026-11-25T13:40:00Z` for a unix time (UTC, no milliseconds); `never` for NO_EXPIRY. */
export function isoOf(unix: bigint): string {
  return unix === NO_EXPIRY ? "never" : isoTime(unix);
}
