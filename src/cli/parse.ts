import { ZeroAddress, ZeroHash, isHexString, keccak256, toUtf8Bytes } from "ethers";

import { ALL_DATA, MAX_EXPIRY, MAX_PURPOSE_ID, NO_EXPIRY } from "../sdk/constants.js";
import { readTime } from "../sdk/time-input.js";
import { timeWords } from "../sdk/time-relative.js";
import { isoTime } from "../sdk/time-words.js";
import { bytes32Schema, checkAddress } from "../sdk/validation.js";
import { CliError } from "./failure.js";
import { BUILT_IN_NAMES, checkPurposeToken, currentPurposeNames } from "./purposes.js";
import type { PurposeNames } from "./purposes.js";

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

/** A data id: `ALL` / `ALL_DATA` / `all-data` (every asset of the owner) or a non-zero 32-byte hex commitment. */
export function parseDataId(option: string, value: string): string {
  const text = value.trim();
  if (/^all([_-]?data)?$/i.test(text)) return ALL_DATA;
  if (!isBytes32(text)) {
    throw new CliError(
      `${option}: "${value}" is not a data id (expected ALL, ALL_DATA or 0x followed by 64 hex digits; "omni-consent data-id <label>" gives the data id of a label)`,
    );
  }
  if (text === ZeroHash) {
    throw new CliError(`${option}: the zero data id is not allowed (use a salted hash of the asset, or ALL)`);
  }
  return text.toLowerCase();
}

/** One purpose: a name such as `inference` (any case, `-` or `_`; governance's names from their documents) or an id 0..127. */
export function parseOnePurpose(option: string, value: string, names: PurposeNames = currentPurposeNames()): number {
  const text = value.trim();
  if (text === "") throw new CliError(`${option}: no purpose given; use one of ${names.words().join(", ")} or an id`);
  checkPurposeToken(option, text);
  if (/^\d+$/.test(text)) return Number(text);
  const id = names.idOf(text);
  if (id === undefined) {
    throw new CliError(`${option}: unknown purpose "${text}"; use one of ${names.words().join(", ")} or an id`);
  }
  return id;
}

/** The tokens of a comma-separated purpose list, checked for shape only (no chain needed). */
export function purposeTokens(option: string, value: string): string[] {
  const items = value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (items.length === 0) {
    throw new CliError(`${option}: the purpose list is empty; name at least one (e.g. inference,model-training)`);
  }
  for (const item of items) checkPurposeToken(option, item);
  return items;
}

/** Whether every token is an id or a built-in name (so no catalogue needs to be read). */
export function builtInTokens(tokens: readonly string[]): boolean {
  return tokens.every((t) => /^\d+$/.test(t) || BUILT_IN_NAMES.idOf(t) !== undefined);
}

/** A comma-separated list of purposes (names or ids); at least one, duplicates collapse. */
export function parsePurposeList(option: string, value: string, names: PurposeNames = currentPurposeNames()): number[] {
  const ids = new Set<number>();
  for (const item of purposeTokens(option, value)) ids.add(parseOnePurpose(option, item, names));
  return [...ids].sort((a, b) => a - b);
}

/**
 * A point in time, as unix seconds, read by the SDK's one rule (`readTime` of
 * `src/sdk/time-input.ts`): a date-time WITH its zone (one without is refused with the UTC
 * spelling to use), unix seconds, a duration from `now` (+30d, +30D, 30 days, in 2 weeks, P2W),
 * or `never` where allowed (→ NO_EXPIRY). The result must be after `now` (the chain's clock
 * when connected).
 */
export function parseTime(
  option: string,
  value: string,
  now: bigint,
  opts: { allowNever: boolean; latest?: { at: bigint; why: string } },
): bigint {
  const text = value.trim();
  const read = readTime(text, { now, allowNever: opts.allowNever });
  if (!read.ok) throw new CliError(`${option}: ${read.problem}`);
  const at = read.at;
  if (at === NO_EXPIRY) return at;
  // 13 digits or more of unix seconds is the year 33658 or later: a JavaScript Date.now() pasted.
  if (/^\d{13,}$/.test(text)) {
    const seconds = at / 1000n;
    throw new CliError(
      `${option}: ${text} looks like milliseconds (read as unix seconds it is more than 30,000 years away); give unix seconds (${seconds} = ${isoOf(seconds)}), a date-time with its zone or a duration`,
    );
  }
  if (at >= 1n << 64n) throw new CliError(`${option}: ${text} is too far in the future (must fit in uint64)`);
  const meaning = text === isoOf(at) ? timeWords(at, now) : `${text} = ${timeWords(at, now)}`;
  if (at <= now) {
    throw new CliError(`${option}: ${meaning} is not in the future (chain time ${isoOf(now)}); give a later time`);
  }
  if (opts.latest !== undefined && at > opts.latest.at)
    throw new CliError(`${option}: ${meaning} is ${opts.latest.why}`);
  return at;
}

/** The latest `--expires` the registry can store (a uint40 of unix seconds). */
export const LATEST_EXPIRY = {
  at: MAX_EXPIRY,
  why: "after the latest expiry the registry can store (2^40 - 1 unix seconds, in the year 36812); give an earlier time, or never",
};

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

/** `2026-11-25T13:40:00Z (in 23 h)` by the clock `now`; `never` for NO_EXPIRY. */
export function whenOf(unix: bigint, now: bigint): string {
  return unix === NO_EXPIRY ? "never" : timeWords(unix, now);
}
