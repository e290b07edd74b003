import { expect } from "chai";

import { NO_EXPIRY } from "../../src/sdk/constants.js";
import { DURATION_FORMS, TIME_FORMS, readDuration, readTime } from "../../src/sdk/time-input.js";
import { expiryWords, relativeTime, timeWords } from "../../src/sdk/time-relative.js";

const NOW = 1_795_000_000n; // 2026-11-18T11:06:40Z
const at = (text: string, allowNever = true) => readTime(text, { now: NOW, allowNever });
const unix = (iso: string) => BigInt(Date.parse(iso) / 1000);

describe("sdk: reading times and durations (time-input.ts)", () => {
  it("reads a date-time with its zone, in every spelling of the zone", () => {
    const noon = unix("2027-01-01T12:00:00Z");
    for (const t of ["2027-01-01T12:00Z", "2027-01-01 12:00Z", "2027-01-01T12:00:00z", "2027-01-01T12:00 UTC"]) {
      expect(at(t), t).to.deep.equal({ ok: true, at: noon, relative: false });
    }
    expect(at("2027-01-01T14:00+02:00")).to.deep.equal({ ok: true, at: noon, relative: false });
    expect(at("2027-01-01T07:00-0500")).to.deep.equal({ ok: true, at: noon, relative: false });
    expect(at("2027-01-01T17:30+05:30")).to.deep.equal({ ok: true, at: noon, relative: false });
    expect(at("2027-01-01T12:00:00.000Z")).to.deep.equal({ ok: true, at: noon, relative: false });
    expect(at("2028-02-29T00:00Z")).to.deep.equal({ ok: true, at: unix("2028-02-29T00:00:00Z"), relative: false });
  });

  it("refuses a date or date-time without a zone, giving the UTC spelling to use", () => {
    expect(at("2027-01-01 12:00")).to.deep.equal({
      ok: false,
      problem:
        '"2027-01-01 12:00" is a date-time without a time zone, which means another instant in every zone; write 2027-01-01T12:00Z for UTC, or give its offset (2027-01-01T12:00+02:00)',
    });
    expect(at("2027-01-01")).to.deep.equal({
      ok: false,
      problem:
        '"2027-01-01" is a date without a time zone, which means another instant in every zone; write 2027-01-01T00:00Z for UTC, or give its offset (2027-01-01T00:00+02:00)',
    });
    expect(at("2027-01-01T12:00:30")).to.deep.include({ ok: false });
  });

  it("refuses dates and times that do not exist, and fractions of a second", () => {
    expect(at("2027-02-29T00:00Z")).to.deep.equal({
      ok: false,
      problem: '"2027-02-29T00:00Z": 2027-02-29 is not a date',
    });
    expect(at("2027-13-01T00:00Z")).to.deep.equal({
      ok: false,
      problem: '"2027-13-01T00:00Z": 2027-13-01 is not a date',
    });
    expect(at("2027-01-01T24:00Z")).to.deep.equal({
      ok: false,
      problem: '"2027-01-01T24:00Z": 24:00 is not a time of day (00:00 to 23:59:59)',
    });
    expect(at("2027-01-01T12:00+24:00")).to.deep.equal({
      ok: false,
      problem: '"2027-01-01T12:00+24:00": +24:00 is not a zone offset (-23:59 to +23:59)',
    });
    expect(at("2027-01-01T12:00:00.5Z")).to.deep.equal({
      ok: false,
      problem: '"2027-01-01T12:00:00.5Z": the chain counts whole seconds; leave out the fraction',
    });
  });

  it("reads unix seconds and never (only where allowed)", () => {
    expect(at("1795786800")).to.deep.equal({ ok: true, at: 1_795_786_800n, relative: false });
    expect(at(" NEVER ")).to.deep.equal({ ok: true, at: NO_EXPIRY, relative: false });
    expect(at("never", false)).to.deep.equal({ ok: false, problem: `"never" is not allowed here; give ${TIME_FORMS}` });
  });

  it("reads a duration from now in every accepted form", () => {
    const cases: [string, bigint][] = [
      ["+30d", 30n * 86_400n],
      ["+30D", 30n * 86_400n],
      ["30d", 30n * 86_400n],
      ["30 days", 30n * 86_400n],
      ["in 30 days", 30n * 86_400n],
      ["1 day", 86_400n],
      ["+1d12h", 36n * 3600n],
      ["2 weeks and 3 days", 17n * 86_400n],
      ["1h, 30min", 5400n],
      ["90 min", 5400n],
      ["+45m", 2700n],
      ["+40s", 40n],
      ["P2W", 14n * 86_400n],
      ["PT36H", 36n * 3600n],
      ["p1dt12h", 36n * 3600n],
    ];
    for (const [text, seconds] of cases)
      expect(at(text), text).to.deep.equal({ ok: true, at: NOW + seconds, relative: true });
  });

  it("refuses ambiguous, variable or unknown units, zero and the past, listing the accepted forms", () => {
    expect(at("+30M")).to.deep.equal({
      ok: false,
      problem: '"+30M": M could be minutes or months; write m (or min) for minutes, or days for months',
    });
    expect(at("3 months")).to.deep.equal({
      ok: false,
      problem: '"3 months": months and years have no fixed length; write days (+30d, +365d) or a date with its zone',
    });
    expect(at("P1Y")).to.deep.equal({
      ok: false,
      problem: '"P1Y": months and years have no fixed length; write days (P30D, P365D) or a date with its zone',
    });
    expect(at("+3 fortnights")).to.deep.equal({
      ok: false,
      problem: `"+3 fortnights": unknown unit "fortnights"; give ${DURATION_FORMS}`,
    });
    expect(at("+0d")).to.deep.equal({ ok: false, problem: '"+0d" is a duration of 0; give a longer one' });
    expect(at("3 days ago")).to.deep.equal({
      ok: false,
      problem: `"3 days ago" is in the past; give a time to come (${TIME_FORMS})`,
    });
    expect(at("tomorrow")).to.deep.equal({
      ok: false,
      problem: `cannot read "tomorrow" as a time; give ${TIME_FORMS} or never`,
    });
    expect(at("")).to.deep.equal({ ok: false, problem: `no time given; give ${TIME_FORMS} or never` });
    expect(readDuration("+")).to.deep.equal({ ok: false, problem: `"+" is not a duration; give ${DURATION_FORMS}` });
    expect(readDuration("12")).to.deep.equal({ ok: false, problem: `"12" is not a duration; give ${DURATION_FORMS}` });
  });
});

describe("sdk: times in words (time-relative.ts)", () => {
  it("says how far a time is, rounded toward now, both ways", () => {
    const cases: [bigint, string][] = [
      [0n, "now"],
      [40n, "in 40 s"],
      [-40n, "40 s ago"],
      [299n, "in 4 min"],
      [23n * 3600n + 3599n, "in 23 h"],
      [47n * 3600n, "in 47 h"],
      [-3n * 86_400n - 5n, "3 days ago"],
      [86_400n * 2n, "in 2 days"],
      [86_400n * 59n, "in 59 days"],
      [86_400n * 61n, "in 2 months"],
      [86_400n * 396n, "in 13 months"],
      [-86_400n * 800n, "2 years ago"],
    ];
    for (const [delta, words] of cases) expect(relativeTime(NOW + delta, NOW), words).to.equal(words);
  });

  it("writes ISO 8601 with its zone beside the relative form; expiries say never or expired", () => {
    expect(timeWords(NOW + 86_400n, NOW)).to.equal("2026-11-19T11:06:40Z (in 24 h)");
    expect(expiryWords(NO_EXPIRY, NOW)).to.equal("never");
    expect(expiryWords(NOW - 3n * 86_400n, NOW)).to.equal("expired 2026-11-15T11:06:40Z (3 days ago)");
    expect(expiryWords(NOW + 3600n, NOW)).to.equal("2026-11-18T12:06:40Z (in 1 h)");
  });
});
