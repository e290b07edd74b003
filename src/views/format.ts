import { isoTime as sdkIsoTime } from "../sdk/time-words.js";
import { relativeTime as sdkRelativeTime } from "../sdk/time-relative.js";

/**
 * Words for the views: times (ISO 8601 with its zone and a relative form), purposes, short hex.
 * Browser-safe. Times are the SDK's (src/sdk/time-words.ts, time-relative.ts: the CLI's rule,
 * whole units rounded toward now), taken here as numbers because the views' data is JSON.
 */

/** The last second a JavaScript Date can hold (+275760-09-13). */
export const MAX_DATE_SECONDS = 8_640_000_000_000;

/** Unix seconds or an ISO string, as unix seconds (NaN when unreadable). */
export function toSeconds(t: number | string): number {
  return typeof t === "number" ? Math.floor(t) : Math.floor(Date.parse(t) / 1000);
}

/** `2026-11-25T13:40:00Z` (UTC, no milliseconds); beyond what a date can hold: `unix time N (after the year 275760)`. */
export function isoTime(t: number | string): string {
  const s = toSeconds(t);
  if (!Number.isFinite(s)) return String(t);
  if (Math.abs(s) > MAX_DATE_SECONDS) return `unix time ${s} (after the year 275760)`;
  return sdkIsoTime(BigInt(s));
}

/** `in 40 s`, `in 5 min`, `in 23 h`, `in 3 days`, `in 5 months`, `in 2 years`, or `… ago`; `now` when equal. */
export function relativeTime(at: number, now: number): string {
  if (!Number.isFinite(at) || !Number.isFinite(now)) return "";
  return sdkRelativeTime(BigInt(Math.floor(at)), BigInt(Math.floor(now)));
}

/** `2026-11-25` (the day, UTC). */
export function isoDay(t: number): string {
  return isoTime(t).slice(0, 10);
}

/** A catalogue name in words: `MODEL_TRAINING` → `model training`; `purpose 9` for an unnamed id. */
export function purposeWords(name: string): string {
  const unnamed = /^purpose#(\d+)$/.exec(name);
  if (unnamed) return `purpose ${unnamed[1]}`;
  return /^[A-Z0-9_]+$/.test(name) ? name.toLowerCase().replace(/_/g, " ") : name;
}

/** `0x7099…79c8`: enough to tell accounts apart at a glance; the full hex is one click away. */
export function shortHex(hex: string): string {
  return hex.length > 14 ? `${hex.slice(0, 6)}…${hex.slice(-4)}` : hex;
}

/** The all-ones data id: the owner's consent for every data id of theirs. */
export const ALL_DATA_ID = `0x${"f".repeat(64)}`;

/** `1 use`, `2 uses`. */
export function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
