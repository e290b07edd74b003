import { NO_EXPIRY } from "./constants.js";

/**
 * Reading the times and durations people type (browser-safe; new in issue 13, beside
 * `time-words.ts`, which writes times). The CLI's `--expires` / `--deadline` and any UI read
 * them here, so the rule is one:
 *
 * - An absolute time always names its zone: `2027-01-01T12:00Z`, `2027-01-01 12:00+02:00`,
 *   `2027-01-01T12:00:30-0500`. **A date or date-time without a zone is refused** (with the UTC
 *   spelling to use), never read in the machine's zone: `2027-01-01 12:00` would otherwise be a
 *   different instant on every machine.
 * - Unix seconds: `1795786800`.
 * - A duration from now: `+30d`, `+30D`, `+1d12h`, `30 days`, `in 2 weeks`, `90 min`, `P2W`,
 *   `PT36H`. Units: s, m/min, h, d, w and their words; `M` alone is refused (minutes or
 *   months?), and months and years are refused (they have no fixed length).
 * - `never` where allowed (an expiry): NO_EXPIRY.
 */

export type TimeReading = { ok: true; at: bigint; relative: boolean } | { ok: false; problem: string };
export type DurationReading = { ok: true; seconds: bigint } | { ok: false; problem: string };

/** The accepted forms, for error texts. */
export const TIME_FORMS =
  "a date-time with its zone (2027-01-01T12:00Z, 2027-01-01T12:00+02:00), unix seconds, or a duration from now (+30d, +12h, 30 days, P2W)";
export const DURATION_FORMS = "+30d, +12h, +1d12h, 30 days, 2 weeks, 90 min, P2W or PT36H (units s, m, h, d, w)";

const UNITS: Record<string, bigint> = {};
for (const [seconds, names] of [
  [1n, ["s", "sec", "secs", "second", "seconds"]],
  [60n, ["m", "min", "mins", "minute", "minutes"]],
  [3600n, ["h", "hr", "hrs", "hour", "hours"]],
  [86_400n, ["d", "day", "days"]],
  [604_800n, ["w", "wk", "wks", "week", "weeks"]],
] as const) {
  for (const n of names) UNITS[n] = seconds;
}
const VARIABLE = /^(mo|mos|month|months|y|yr|yrs|year|years)$/i;

/** A duration such as `30d`, `+1d12h`, `30 days`, `2 weeks and 3 days`, `P2W`, `PT36H`, in seconds. */
export function readDuration(input: string, shown: string = input.trim()): DurationReading {
  const text = input.trim().replace(/^\+\s*/, "");
  const iso = /^P(?:(\d+)W|(?=\d|T\d)(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?)$/i.exec(text);
  if (iso) {
    const [w, d, h, m, s] = iso.slice(1).map((x) => BigInt(x ?? 0));
    return positive(w * 604_800n + d * 86_400n + h * 3600n + m * 60n + s, shown);
  }
  if (/^P/i.test(text) && /[YM]/i.test(text.split(/T/i)[0])) {
    return {
      ok: false,
      problem: `"${shown}": months and years have no fixed length; write days (P30D, P365D) or a date with its zone`,
    };
  }
  const body = text.replace(/\s*(?:,|\band\b)\s*/gi, " ").trim();
  const notDuration: DurationReading = { ok: false, problem: `"${shown}" is not a duration; give ${DURATION_FORMS}` };
  if (body === "") return notDuration;
  const pair = /\s*(\d+)\s*([a-zA-Z]+)/y;
  let total = 0n;
  while (pair.lastIndex < body.length) {
    const m = pair.exec(body);
    if (!m) return notDuration;
    const unit = m[2];
    if (unit === "M") {
      return {
        ok: false,
        problem: `"${shown}": M could be minutes or months; write m (or min) for minutes, or days for months`,
      };
    }
    if (VARIABLE.test(unit)) {
      return {
        ok: false,
        problem: `"${shown}": months and years have no fixed length; write days (+30d, +365d) or a date with its zone`,
      };
    }
    const seconds = UNITS[unit.toLowerCase()];
    if (seconds === undefined) {
      return { ok: false, problem: `"${shown}": unknown unit "${unit}"; give ${DURATION_FORMS}` };
    }
    total += BigInt(m[1]) * seconds;
  }
  return positive(total, shown);
}

function positive(seconds: bigint, shown: string): DurationReading {
  return seconds > 0n
    ? { ok: true, seconds }
    : { ok: false, problem: `"${shown}" is a duration of 0; give a longer one` };
}

const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|z|UTC|[+-]\d{2}(?::?\d{2})?)?$/;

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** An ISO 8601 date-time with its zone, as unix seconds; refuses one without a zone, saying how to write it. */
export function readDateTime(input: string): TimeReading {
  const text = input.trim();
  const m = DATE_TIME.exec(text);
  if (!m) return { ok: false, problem: `cannot read "${input}" as a date-time; give ${TIME_FORMS}` };
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const [h, mi, s] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
  const hm = m[4] === undefined ? "00:00" : `${m[4]}:${m[5]}${m[6] === undefined ? "" : `:${m[6]}`}`;
  const day = `${m[1]}-${m[2]}-${m[3]}`;
  if (m[8] === undefined) {
    const what = m[4] === undefined ? "date" : "date-time";
    return {
      ok: false,
      problem: `"${text}" is a ${what} without a time zone, which means another instant in every zone; write ${day}T${hm}Z for UTC, or give its offset (${day}T${hm}+02:00)`,
    };
  }
  if (mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo)) return { ok: false, problem: `"${text}": ${day} is not a date` };
  if (h > 23 || mi > 59 || s > 59)
    return { ok: false, problem: `"${text}": ${hm} is not a time of day (00:00 to 23:59:59)` };
  if (m[7] !== undefined && /[1-9]/.test(m[7])) {
    return { ok: false, problem: `"${text}": the chain counts whole seconds; leave out the fraction` };
  }
  let offset = 0;
  const zone = m[8];
  if (zone !== "Z" && zone !== "z" && zone !== "UTC") {
    const z = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone)!;
    const [oh, om] = [Number(z[2]), Number(z[3] ?? 0)];
    if (oh > 23 || om > 59) return { ok: false, problem: `"${text}": ${zone} is not a zone offset (-23:59 to +23:59)` };
    offset = (z[1] === "-" ? -1 : 1) * (oh * 3600 + om * 60);
  }
  const at = BigInt(Date.UTC(y, mo - 1, d, h, mi, s) / 1000 - offset);
  return { ok: true, at, relative: false };
}

/**
 * A point in time as people type it (see the module comment), as unix seconds. A duration is
 * counted from `now` (the chain's clock when connected). This only reads; whether the time must
 * be in the future is the caller's rule.
 */
export function readTime(input: string, opts: { now: bigint; allowNever?: boolean }): TimeReading {
  const text = input.trim();
  if (text === "")
    return { ok: false, problem: `no time given; give ${TIME_FORMS}${opts.allowNever ? " or never" : ""}` };
  if (/^never$/i.test(text)) {
    return opts.allowNever
      ? { ok: true, at: NO_EXPIRY, relative: false }
      : { ok: false, problem: `"never" is not allowed here; give ${TIME_FORMS}` };
  }
  if (/^\d+$/.test(text)) return { ok: true, at: BigInt(text), relative: false };
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) return readDateTime(text);
  if (/\bago$/i.test(text) || /^-/.test(text)) {
    return { ok: false, problem: `"${input}" is in the past; give a time to come (${TIME_FORMS})` };
  }
  const rest = text.replace(/^in\s+/i, "");
  if (/^\+|^\d|^P/i.test(rest)) {
    const d = readDuration(rest, text);
    if (d.ok) return { ok: true, at: opts.now + d.seconds, relative: true };
    if (/^\+|^\d+\s*[a-zA-Z]|^P\d|^PT\d/i.test(rest)) return d;
  }
  return {
    ok: false,
    problem: `cannot read "${input}" as a time; give ${TIME_FORMS}${opts.allowNever ? " or never" : ""}`,
  };
}
