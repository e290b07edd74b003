import { NO_EXPIRY } from "./constants.js";
import { isoTime } from "./time-words.js";

/**
 * A time said both ways (browser-safe; new in issue 13, beside `time-words.ts`): ISO 8601 in
 * UTC with its zone, and how far it is from now, in whole units rounded toward now (so "in
 * 23 h" is at least 23 hours away and "3 days ago" at least 3 days past).
 */

const MINUTE = 60n;
const HOUR = 3600n;
const DAY = 86_400n;
/** An average Gregorian month and year (365.2425 days), for distances of months and years. */
const MONTH = 2_629_746n;
const YEAR = 31_556_952n;

const plural = (n: bigint, word: string) => `${n} ${word}${n === 1n ? "" : "s"}`;

/** `in 40 s`, `in 5 min`, `in 23 h`, `in 3 days`, `in 5 months`, `in 2 years`, or `… ago`; `now` when equal. */
export function relativeTime(at: bigint, now: bigint): string {
  if (at === now) return "now";
  const d = at > now ? at - now : now - at;
  let words: string;
  if (d < MINUTE) words = `${d} s`;
  else if (d < HOUR) words = `${d / MINUTE} min`;
  else if (d < 2n * DAY) words = `${d / HOUR} h`;
  else if (d < 60n * DAY) words = plural(d / DAY, "day");
  else if (d < 2n * YEAR) words = plural(d / MONTH, "month");
  else words = plural(d / YEAR, "year");
  return at > now ? `in ${words}` : `${words} ago`;
}

/** `2027-01-01T12:00:00Z (in 396 days)`. */
export function timeWords(at: bigint, now: bigint): string {
  return `${isoTime(at)} (${relativeTime(at, now)})`;
}

/** An expiry in words: `never` for NO_EXPIRY, `expired 2026-…Z (3 days ago)`, or `2026-…Z (in 23 h)`. */
export function expiryWords(expiresAt: bigint, now: bigint): string {
  if (expiresAt === NO_EXPIRY) return "never";
  return expiresAt <= now ? `expired ${timeWords(expiresAt, now)}` : timeWords(expiresAt, now);
}
