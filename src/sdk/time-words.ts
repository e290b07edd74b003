/** Times in words, for messages that say *when* (a deadline, an operation becoming ready). */

/** `2026-11-25T13:40:00Z` for unix seconds (UTC, no milliseconds). */
export function isoTime(unix: bigint): string {
  return new Date(Number(unix) * 1000).toISOString().replace(".000Z", "Z");
}

/** `ready`, or the time left until `at` by the clock `now`: `in 23 h 59 min`, `in 2 d 3 h`, `in 40 s`. */
export function timeLeftWords(at: bigint, now: bigint): string {
  if (at <= now) return "ready";
  const left = at - now;
  if (left < 60n) return `in ${left} s`;
  const days = left / 86_400n;
  const hours = (left % 86_400n) / 3_600n;
  const minutes = (left % 3_600n) / 60n;
  if (days > 0n) return `in ${days} d ${hours} h`;
  if (hours > 0n) return `in ${hours} h ${minutes} min`;
  return `in ${minutes} min`;
}
