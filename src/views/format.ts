/**
 * Words for the views: times (ISO 8601 with its zone and a relative form), purposes, short hex.
 * Browser-safe and dependency-free.
 *
 * The relative form follows the SDK's rule for the CLI (issue 13): whole units rounded toward
 * the reference time, so "in 23 h" is at least 23 hours away and "3 days ago" at least 3 days past.
 */

const MINUTE = 60;
const HOUR = 3600;
const DAY = 86_400;
/** An average Gregorian month and year (365.2425 days). */
const MONTH = 2_629_746;
const YEAR = 31_556_952;
/** The last second a JavaScript Date can hold (+275760-09-13). */
export const MAX_DATE_SECONDS = 8_640_000_000_000;

/** Unix seconds or an ISO string, as unix seconds (NaN when unreadable). */
export function toSeconds(t: number | string): number {
  return typeof t === "number" ? t : Math.floor(Date.parse(t) / 1000);
}

/** `2026-11-25T13:40:00Z` (UTC, no milliseconds); beyond what a date can hold: `unix time N (after the year 275760)`. */
export function isoTime(t: number | string): string {
  const s = toSeconds(t);
  if (!Number.isFinite(s)) return String(t);
  if (Math.abs(s) > MAX_DATE_SECONDS) return `unix time ${s} (after the year 275760)`;
  return new Date(s * 1000).toISOString().replace(".000Z", "Z");
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** `in 40 s`, `in 5 min`, `in 23 h`, `in 3 days`, `in 5 months`, `in 2 years`, or `… ago`; `now` when equal. */
export function relativeTime(at: number, now: number): string {
  if (!Number.isFinite(at) || !Number.isFinite(now)) return "";
  if (at === now) return "now";
  const d = Math.abs(at - now);
  let words: string;
  if (d < MINUTE) words = `${Math.floor(d)} s`;
  else if (d < HOUR) words = `${Math.floor(d / MINUTE)} min`;
  else if (d < 2 * DAY) words = `${Math.floor(d / HOUR)} h`;
  else if (d < 60 * DAY) words = plural(Math.floor(d / DAY), "day");
  else if (d < 2 * YEAR) words = plural(Math.floor(d / MONTH), "month");
  else words = plural(Math.floor(d / YEAR), "year");
  return at > now ? `in ${words}` : `${words} ago`;
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
