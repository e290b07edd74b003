import { parse, View } from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

import type { ChartData, NameBook } from "./data.js";
import { count, isoTime, purposeWords, shortHex } from "./format.js";

/**
 * The views' charts: Vega-Lite specs from the plain chart data, rendered to SVG by Vega with no
 * browser and no canvas (renderer "none" + toSVG), in Node for the report and in the browser for
 * the dashboard alike. Vega writes every label into the SVG escaped, so names from documents
 * cannot inject markup. Dates on the time axis are UTC days (`2026-11-25`), never unix seconds.
 */

export interface ChartSvg {
  /** What the chart shows, in one sentence (the SVG's accessible name). */
  title: string;
  description: string;
  svg: string;
}

export interface ChartSvgs {
  timeline: ChartSvg | null;
  perPurpose: ChartSvg | null;
  perIntegration: ChartSvg | null;
}

const FONT = "system-ui, -apple-system, Segoe UI, Roboto, sans-serif";
const CONFIG = {
  font: FONT,
  axis: { labelFontSize: 11, titleFontSize: 11, labelColor: "#333", titleColor: "#333" },
  legend: { labelFontSize: 11, titleFontSize: 11, orient: "top" },
  view: { stroke: null },
} as const;
const COLORS = { grants: "#1b7f4b", withdrawals: "#b3261e", uses: "#2456a6", shares: "#b25e00" };

type TimeUnit = "hour" | "day" | "month";

/** The unit the timeline counts by: hours within two days, days within four months, else months. */
export function timelineUnit(data: ChartData["timeline"]): TimeUnit {
  const span = data.length ? data[data.length - 1].start - data[0].start : 0;
  return span <= 2 * 86_400 ? "hour" : span <= 120 * 86_400 ? "day" : "month";
}

const UNIT_TITLE: Record<TimeUnit, string> = { hour: "hour (UTC)", day: "day (UTC)", month: "month (UTC)" };

/** `2026-12-01 13:00`, `2026-12-01`, `2026-12`: the UTC hour, day or month a time falls in. */
function unitLabel(t: number, unit: TimeUnit): string {
  const iso = isoTime(t);
  return unit === "hour" ? `${iso.slice(0, 10)} ${iso.slice(11, 13)}:00` : iso.slice(0, unit === "day" ? 10 : 7);
}

/** Every hour, day or month from the first bucket's to the last's (empty ones too: gaps stay visible). */
export function timelineRows(data: ChartData["timeline"]): {
  unit: TimeUnit;
  rows: { at: string; grants: number; withdrawals: number }[];
} {
  const unit = timelineUnit(data);
  const rows = new Map<string, { at: string; grants: number; withdrawals: number }>();
  if (data.length === 0) return { unit, rows: [] };
  const last = unitLabel(data[data.length - 1].start, unit);
  const d = new Date(data[0].start * 1000);
  d.setUTCMinutes(0, 0, 0);
  if (unit !== "hour") d.setUTCHours(0);
  if (unit === "month") d.setUTCDate(1);
  for (let i = 0; i < 400; i++) {
    const label = unitLabel(d.getTime() / 1000, unit);
    rows.set(label, { at: label, grants: 0, withdrawals: 0 });
    if (label === last) break;
    if (unit === "hour") d.setUTCHours(d.getUTCHours() + 1);
    else if (unit === "day") d.setUTCDate(d.getUTCDate() + 1);
    else d.setUTCMonth(d.getUTCMonth() + 1);
  }
  for (const b of data) {
    const r = rows.get(unitLabel(b.start, unit));
    if (r) {
      r.grants += b.grants;
      r.withdrawals += b.withdrawals;
    }
  }
  return { unit, rows: [...rows.values()] };
}

/** Consent changes over time: grants and withdrawals per UTC hour, day or month. */
export function timelineSpec(data: ChartData["timeline"]): TopLevelSpec {
  const { unit, rows } = timelineRows(data);
  const values = rows.flatMap((r) => [
    { at: r.at, kind: "consents given", n: r.grants },
    { at: r.at, kind: "withdrawals", n: r.withdrawals },
  ]);
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    width: Math.min(640, Math.max(240, rows.length * 40)),
    height: 160,
    data: { values },
    mark: { type: "bar" },
    encoding: {
      x: {
        field: "at",
        type: "ordinal",
        sort: null,
        title: UNIT_TITLE[unit],
        axis: { labelAngle: 0, labelOverlap: "greedy", labelSeparation: 8 },
      },
      xOffset: { field: "kind", sort: ["consents given", "withdrawals"] },
      y: { field: "n", type: "quantitative", title: "changes", axis: { tickMinStep: 1, format: "d" } },
      color: {
        field: "kind",
        type: "nominal",
        title: null,
        scale: { domain: ["consents given", "withdrawals"], range: [COLORS.grants, COLORS.withdrawals] },
      },
    },
    config: CONFIG,
  };
}

/** Horizontal bars, one row per label, one bar per series. */
function barsSpec(
  rows: { label: string; series: string; n: number }[],
  series: string[],
  colors: string[],
): TopLevelSpec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    width: 420,
    data: { values: rows },
    mark: { type: "bar" },
    encoding: {
      y: { field: "label", type: "nominal", title: null, sort: null, axis: { labelLimit: 240 } },
      yOffset: { field: "series", sort: series },
      x: { field: "n", type: "quantitative", title: "count", axis: { tickMinStep: 1, format: "d" } },
      color: { field: "series", type: "nominal", title: null, scale: { domain: series, range: colors } },
    },
    config: CONFIG,
  };
}

export function perPurposeSpec(data: ChartData["perPurpose"]): TopLevelSpec {
  return barsSpec(
    data.flatMap((d) => [
      { label: purposeWords(d.label), series: "uses", n: d.uses },
      { label: purposeWords(d.label), series: "shares", n: d.shares },
    ]),
    ["uses", "shares"],
    [COLORS.uses, COLORS.shares],
  );
}

export function perIntegrationSpec(data: ChartData["perIntegration"], names: NameBook): TopLevelSpec {
  return barsSpec(
    data.map((d) => ({ label: names.nameOf(d.label) ?? shortHex(d.label), series: "shares", n: d.shares })),
    ["shares"],
    [COLORS.shares],
  );
}

/** One Vega-Lite spec as an SVG string (no browser, no canvas). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** The three charts of a view; a chart with no data is null (the view says so in words). */
export async function renderCharts(charts: ChartData, names: NameBook): Promise<ChartSvgs> {
  const total = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const grants = total(charts.timeline.map((d) => d.grants));
  const withdrawals = total(charts.timeline.map((d) => d.withdrawals));
  return {
    timeline: charts.timeline.length
      ? {
          title: "Consent changes over time",
          description: `${count(grants, "consent")} given and ${count(withdrawals, "withdrawal")} between ${isoTime(charts.timeline[0].start).slice(0, 10)} and ${isoTime(charts.timeline[charts.timeline.length - 1].start).slice(0, 10)} (UTC).`,
          svg: await renderSvg(timelineSpec(charts.timeline)),
        }
      : null,
    perPurpose: charts.perPurpose.length
      ? {
          title: "Uses and shares per purpose",
          description: charts.perPurpose
            .map((d) => `${purposeWords(d.label)}: ${count(d.uses, "use")}, ${count(d.shares, "share")}`)
            .join("; "),
          svg: await renderSvg(perPurposeSpec(charts.perPurpose)),
        }
      : null,
    perIntegration: charts.perIntegration.length
      ? {
          title: "Shares received per integration",
          description: charts.perIntegration
            .map((d) => `${names.nameOf(d.label) ?? shortHex(d.label)}: ${count(d.shares, "share")}`)
            .join("; "),
          svg: await renderSvg(perIntegrationSpec(charts.perIntegration, names)),
        }
      : null,
  };
}
