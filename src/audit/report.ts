import { writeFileSync } from "node:fs";

import { ALL_DATA, Via } from "../sdk/constants.js";
import { maskToPurposes, PURPOSES, purposeName } from "../sdk/purposes.js";
import type { AuditDb } from "./db.js";
import { viaOfEvent } from "./decode.js";
import { ConsentModel, isActive, type ReplayEvent } from "./model.js";
import { replayEvents } from "./replay.js";
import { describeReason } from "./signatures.js";
import { expiryText } from "./state.js";

export type ReportKind = "owner" | "processor" | "ropa";
export type ReportFormat = "json" | "csv" | "html";

export interface ReportOptions {
  kind: ReportKind;
  format: ReportFormat;
  /** File to write; omitted → the rendered text is only returned. */
  out?: string;
  /** The data owner (kind "owner") or processor/integration (kind "processor"). */
  subject?: string;
  chainId?: number;
  /** Rows per table in the HTML file (JSON and CSV always hold everything). Default 2000. */
  htmlRowLimit?: number;
}

/** One row of any report table; CSV writes all rows with these columns. */
export interface ReportRow {
  section: string;
  block: number | "";
  time: string;
  tx: string;
  owner: string;
  party: string;
  recipient: string;
  dataId: string;
  purposes: string;
  expiresAt: string;
  status: string;
  detail: string;
}

export interface Report {
  kind: ReportKind;
  subject: string | null;
  chainId: number;
  lastBlock: number;
  generatedAt: string;
  summary: Record<string, number | string>;
  sections: ReportSection[];
  charts: {
    timeline: { start: number; grants: number; withdrawals: number }[];
    perPurpose: { label: string; uses: number; shares: number }[];
    perIntegration: { label: string; shares: number }[];
  };
}

/** A table of the report; `headings` rename columns where the generic name would mislead. */
export interface ReportSection {
  name: string;
  title: string;
  rows: ReportRow[];
  headings?: Partial<Record<keyof ReportRow, string>>;
}

const COLUMNS: (keyof ReportRow)[] = [
  "section",
  "block",
  "time",
  "tx",
  "owner",
  "party",
  "recipient",
  "dataId",
  "purposes",
  "expiresAt",
  "status",
  "detail",
];

const iso = (ts: number) => (ts === 0 ? "" : new Date(ts * 1000).toISOString());
const expiry = (ts: bigint) => expiryText(ts);
const viaName = (e: ReplayEvent) => Via[viaOfEvent(e.name, e.args) ?? -1] ?? "unknown";
const dataLabel = (d: string) => (d === ALL_DATA ? "ALL_DATA" : d);
const purposeList = (mask: bigint | number[]) =>
  (Array.isArray(mask) ? mask : maskToPurposes(mask)).map(purposeName).join(" ");

function row(partial: Partial<ReportRow> & { section: string }): ReportRow {
  return {
    block: "",
    time: "",
    tx: "",
    owner: "",
    party: "",
    recipient: "",
    dataId: "",
    purposes: "",
    expiresAt: "",
    status: "",
    detail: "",
    ...partial,
  };
}

function eventRow(section: string, e: ReplayEvent): ReportRow {
  const a = e.args;
  const base = row({
    section,
    block: e.blockNumber,
    time: iso(e.blockTimestamp),
    tx: e.txHash,
    owner: String(a.owner ?? ""),
  });
  switch (e.name) {
    case "ConsentGranted":
      return {
        ...base,
        party: String(a.grantee),
        dataId: dataLabel(String(a.dataId)),
        purposes: purposeList(BigInt(String(a.purposes))),
        expiresAt: expiry(BigInt(String(a.expiresAt))),
        status: "granted",
        detail: `by ${String(a.actor)} via ${viaName(e)}; version ${String(a.version)}; notice ${String(a.noticeHash)}`,
      };
    case "ConsentRevoked":
      return {
        ...base,
        party: String(a.grantee),
        dataId: dataLabel(String(a.dataId)),
        status: "withdrawn",
        detail: `by ${String(a.actor)} via ${viaName(e)}; version ${String(a.version)}`,
      };
    case "AllConsentsRevoked":
      return {
        ...base,
        status: "withdrew all",
        detail: `lockdown to epoch ${String(a.newEpoch)} by ${String(a.actor)} via ${viaName(e)}: every consent, signed message and manager of earlier epochs ended`,
      };
    case "SignedRevokeFailed":
      return {
        ...base,
        party: String(a.grantee),
        dataId: dataLabel(String(a.dataId)),
        status: "signed withdrawal not applied",
        detail: `item ${String(a.index)} of a relayed batch: ${describeReason(String(a.reason))}`,
      };
    case "DataUsed":
      return {
        ...base,
        party: String(a.processor),
        dataId: dataLabel(String(a.dataId)),
        purposes: purposeName(Number(a.purpose)),
        status: "used",
        detail: `evidence ${String(a.evidence)}`,
      };
    case "DataShared":
      return {
        ...base,
        party: String(a.from),
        recipient: String(a.to),
        dataId: dataLabel(String(a.dataId)),
        purposes: purposeName(Number(a.purpose)),
        status: "shared",
        detail: `evidence ${String(a.evidence)}`,
      };
    default:
      return { ...base, status: e.name, detail: JSON.stringify(a) };
  }
}

/** Builds a report from the events table (one pass), without touching any RPC. */
export function buildReport(db: AuditDb, opts: Omit<ReportOptions, "format" | "out">): Report {
  const subject = opts.subject?.toLowerCase() ?? null;
  if (opts.kind !== "ropa" && (!subject || !/^0x[0-9a-f]{40}$/.test(subject))) {
    throw new Error(`the ${opts.kind} report needs --${opts.kind === "owner" ? "owner" : "processor"} <0x address>`);
  }
  const model = new ConsentModel();
  const history: ReportRow[] = [];
  const uses: ReportRow[] = [];
  const shares: ReportRow[] = [];
  const timelineRaw: { ts: number; grant: boolean }[] = [];
  const perPurpose = new Map<number, { uses: number; shares: number }>();
  const perIntegration = new Map<string, number>();
  let usesTotal = 0;
  let sharesTotal = 0;

  const r = replayEvents(
    db,
    (e) => {
      model.apply(e);
      const a = e.args;
      const concerns =
        subject === null ||
        (opts.kind === "owner"
          ? a.owner === subject
          : a.grantee === subject || a.processor === subject || a.from === subject || a.to === subject);
      if (!concerns) return;
      switch (e.name) {
        case "ConsentGranted":
        case "ConsentRevoked":
        case "AllConsentsRevoked":
          timelineRaw.push({ ts: e.blockTimestamp, grant: e.name === "ConsentGranted" });
          if (subject !== null) history.push(eventRow("consent history", e));
          break;
        case "SignedRevokeFailed":
          if (subject !== null) history.push(eventRow("consent history", e));
          break;
        case "DataUsed": {
          usesTotal++;
          const p = perPurpose.get(Number(a.purpose)) ?? { uses: 0, shares: 0 };
          p.uses++;
          perPurpose.set(Number(a.purpose), p);
          if (subject !== null) uses.push(eventRow("uses", e));
          break;
        }
        case "DataShared": {
          sharesTotal++;
          const p = perPurpose.get(Number(a.purpose)) ?? { uses: 0, shares: 0 };
          p.shares++;
          perPurpose.set(Number(a.purpose), p);
          perIntegration.set(String(a.to), (perIntegration.get(String(a.to)) ?? 0) + 1);
          if (subject !== null) shares.push(eventRow("shares", e));
          break;
        }
        default:
          break;
      }
    },
    { chainId: opts.chainId },
  );

  const now = r.lastTimestamp;
  const consentRows: ReportRow[] = [];
  for (const c of model.consents.values()) {
    const relevant = subject === null || (opts.kind === "owner" ? c.owner === subject : c.grantee === subject);
    if (!relevant) continue;
    const active = isActive(c, model.epochOf(c.owner), now);
    const status = active
      ? "active"
      : c.epoch !== model.epochOf(c.owner)
        ? "withdrawn (revoke-all)"
        : c.purposes === 0n
          ? "nothing granted (no signed purpose was grantable)"
          : "expired";
    consentRows.push(
      row({
        section: "consents",
        block: c.grantedBlock,
        time: iso(c.grantedAt),
        tx: c.grantedTx,
        owner: c.owner,
        party: c.grantee,
        dataId: dataLabel(c.dataId),
        purposes: purposeList(c.purposes),
        expiresAt: expiry(c.expiresAt),
        status,
        detail:
          `notice ${c.noticeHash}; version ${c.version}` +
          (c.dataId === ALL_DATA
            ? "; covers every data id of the owner, also those whose specific consent was withdrawn"
            : ""),
      }),
    );
  }

  const sections: Report["sections"] = [];
  const summary: Report["summary"] = {};
  if (opts.kind === "owner") {
    const managers = model.managersOf(subject!);
    sections.push(
      {
        name: "consents",
        title: "Who may use which of my data, for what, until when",
        rows: consentRows,
        headings: { block: "granted at block", party: "may be used by", tx: "granted in tx" },
      },
      {
        name: "managers",
        headings: { party: "manager" },
        title: "Accounts I appointed to manage my consents",
        rows: managers.map((m) => row({ section: "managers", owner: subject!, party: m, status: "manager" })),
      },
      { name: "history", title: "Every consent change", rows: history, headings: { party: "grantee" } },
      { name: "uses", title: "Every use of my data", rows: uses, headings: { party: "processor" } },
      {
        name: "shares",
        title: "Every share of my data with a third party",
        rows: shares,
        headings: { party: "shared by", recipient: "shared with" },
      },
    );
    Object.assign(summary, {
      activeConsents: consentRows.filter((x) => x.status === "active").length,
      consentChanges: history.length,
      uses: uses.length,
      shares: shares.length,
      revokeAllEpoch: model.epochOf(subject!).toString(),
    });
  } else if (opts.kind === "processor") {
    const integration = model.integrations.get(subject!);
    sections.push(
      { name: "consents", title: "What this processor may use (consents granted to it)", rows: consentRows },
      { name: "uses", title: "Uses it recorded", rows: uses },
      { name: "shares", title: "Shares it sent or received", rows: shares },
    );
    Object.assign(summary, {
      activeConsents: consentRows.filter((x) => x.status === "active").length,
      uses: uses.length,
      sharesSent: shares.filter((x) => x.party === subject).length,
      sharesReceived: shares.filter((x) => x.recipient === subject).length,
      integration: integration
        ? `${integration.status} for ${purposeList(integration.purposes)}`
        : "not an integration",
    });
  } else {
    const ropaRows: ReportRow[] = [];
    for (const p of [...model.purposes.values()].sort((x, y) => x.id - y.id)) {
      const bit = 1n << BigInt(p.id);
      const live = [...model.consents.values()].filter(
        (c) => (c.purposes & bit) !== 0n && isActive(c, model.epochOf(c.owner), now),
      );
      const expiries = live.map((c) => c.expiresAt).filter((x) => x !== 0n);
      const [first, last] = expiries.reduce(
        ([lo, hi], x) => [x < lo ? x : lo, x > hi ? x : hi],
        [expiries[0] ?? 0n, expiries[0] ?? 0n],
      );
      const recipients = [...model.integrations.values()].filter((i) => (i.purposes & bit) !== 0n);
      const info = PURPOSES.find((x) => x.id === p.id);
      ropaRows.push(
        row({
          section: "record of processing",
          block: p.definedBlock,
          purposes: purposeName(p.id),
          status: p.deprecated ? "deprecated" : "grantable",
          party: `${new Set(live.map((c) => c.grantee)).size} processors`,
          owner: `${new Set(live.map((c) => c.owner)).size} data subjects`,
          recipient: recipients.map((i) => `${i.address} (${i.status})`).join(" ") || "none",
          expiresAt:
            `${live.length - expiries.length} without expiry` +
            (expiries.length ? `; ${expiries.length} expiring ${expiry(first)} .. ${expiry(last)}` : ""),
          detail: `${info ? `${info.dpv}: ${info.description}; ` : ""}${perPurpose.get(p.id)?.uses ?? 0} uses, ${perPurpose.get(p.id)?.shares ?? 0} shares; metadata ${p.metadataHash}`,
        }),
      );
    }
    sections.push(
      {
        name: "purposes",
        title: "Record of processing activities (GDPR Art. 30): per purpose",
        rows: ropaRows,
        headings: {
          block: "defined at block",
          purposes: "purpose",
          owner: "data subjects",
          party: "processors",
          recipient: "recipients (integrations)",
          expiresAt: "retention (consent expiry)",
          status: "catalogue status",
          detail: "DPV concept, activity, metadata",
        },
      },
      {
        name: "recipients",
        title: "Categories of recipients: third-party integrations",
        headings: { block: "since block", party: "integration", purposes: "may receive", detail: "activity, metadata" },
        rows: [...model.integrations.values()].map((i) =>
          row({
            section: "recipients",
            block: i.since,
            party: i.address,
            purposes: purposeList(i.purposes),
            status: i.status,
            detail: `metadata ${i.metadataHash}; ${perIntegration.get(i.address) ?? 0} shares received`,
          }),
        ),
      },
    );
    Object.assign(summary, {
      purposes: model.purposes.size,
      liveConsents: consentRows.filter((x) => x.status === "active").length,
      dataSubjects: new Set(consentRows.filter((x) => x.status === "active").map((x) => x.owner)).size,
      integrations: model.integrations.size,
      uses: usesTotal,
      shares: sharesTotal,
    });
  }

  return {
    kind: opts.kind,
    subject,
    chainId: r.chainId,
    lastBlock: r.lastBlock,
    generatedAt: new Date().toISOString(),
    summary,
    sections,
    charts: {
      timeline: bucket(timelineRaw, 24),
      perPurpose: [...perPurpose.entries()]
        .sort((x, y) => x[0] - y[0])
        .map(([id, v]) => ({ label: purposeName(id), ...v })),
      perIntegration: [...perIntegration.entries()].map(([label, n]) => ({ label, shares: n })),
    },
  };
}

function bucket(points: { ts: number; grant: boolean }[], n: number): Report["charts"]["timeline"] {
  if (points.length === 0) return [];
  const min = Math.min(...points.map((p) => p.ts));
  const max = Math.max(...points.map((p) => p.ts));
  const width = Math.max(1, Math.ceil((max - min + 1) / n));
  const out = Array.from({ length: Math.ceil((max - min + 1) / width) }, (_, i) => ({
    start: min + i * width,
    grants: 0,
    withdrawals: 0,
  }));
  for (const p of points) {
    const b = out[Math.floor((p.ts - min) / width)];
    if (p.grant) b.grants++;
    else b.withdrawals++;
  }
  return out;
}

function csvCell(v: string | number): string {
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function renderCsv(report: Report): string {
  const lines = [COLUMNS.join(",")];
  for (const s of report.sections) for (const r of s.rows) lines.push(COLUMNS.map((c) => csvCell(r[c])).join(","));
  return lines.join("\n") + "\n";
}

const esc = (s: string | number) =>
  String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

function lineChart(data: Report["charts"]["timeline"]): string {
  if (data.length === 0) return "<p>No consent changes.</p>";
  const w = 640;
  const h = 200;
  const pad = 30;
  const max = Math.max(1, ...data.map((d) => Math.max(d.grants, d.withdrawals)));
  const x = (i: number) => pad + (data.length === 1 ? 0 : (i * (w - 2 * pad)) / (data.length - 1));
  const y = (v: number) => h - pad - (v * (h - 2 * pad)) / max;
  const path = (k: "grants" | "withdrawals") =>
    data.map((d, i) => `${x(i).toFixed(1)},${y(d[k]).toFixed(1)}`).join(" ");
  // Dots mark each bucket, so a history whose events all fall in one bucket still shows.
  const dots = (k: "grants" | "withdrawals", color: string) =>
    data
      .map((d, i) =>
        d[k] > 0
          ? `<circle cx="${x(i).toFixed(1)}" cy="${y(d[k]).toFixed(1)}" r="3" fill="${color}"><title>${d[k]}</title></circle>`
          : "",
      )
      .join("");
  return `<svg viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="Consents and withdrawals over time">
<line x1="${pad}" y1="${h - pad}" x2="${w - pad}" y2="${h - pad}" stroke="#888"/><line x1="${pad}" y1="${pad}" x2="${pad}" y2="${h - pad}" stroke="#888"/>
<text x="2" y="${pad}" font-size="10">${max}</text><text x="${pad}" y="${h - 8}" font-size="10">${esc(iso(data[0].start).slice(0, 16))}</text>
<text x="${w - pad - 90}" y="${h - 8}" font-size="10">${esc(iso(data[data.length - 1].start).slice(0, 16))}</text>
<polyline fill="none" stroke="#2a7" stroke-width="2" points="${path("grants")}"/><polyline fill="none" stroke="#c33" stroke-width="2" points="${path("withdrawals")}"/>
${dots("grants", "#2a7")}${dots("withdrawals", "#c33")}
<text x="${w - 150}" y="14" font-size="11" fill="#2a7">■ consents</text><text x="${w - 80}" y="14" font-size="11" fill="#c33">■ withdrawals</text></svg>`;
}

function barChart(
  title: string,
  bars: { label: string; values: number[] }[],
  colors: string[],
  legend: string[],
): string {
  if (bars.length === 0) return `<p>${esc(title)}: none.</p>`;
  const rowH = 22;
  const labelW = 330;
  const w = 720;
  const max = Math.max(1, ...bars.flatMap((b) => b.values));
  const h = bars.length * rowH + 24;
  const parts = bars.map((b, i) => {
    const sub = rowH / b.values.length - 2;
    const rects = b.values
      .map((v, j) => {
        const bw = ((w - labelW - 60) * v) / max;
        const yy = 20 + i * rowH + j * (sub + 1);
        return `<rect x="${labelW}" y="${yy}" width="${bw.toFixed(1)}" height="${sub.toFixed(1)}" fill="${colors[j]}"/><text x="${(labelW + bw + 4).toFixed(1)}" y="${(yy + sub - 1).toFixed(1)}" font-size="9">${v}</text>`;
      })
      .join("");
    return `<text x="0" y="${20 + i * rowH + rowH / 2}" font-size="11">${esc(b.label)}</text>${rects}`;
  });
  const leg = legend
    .map((l, j) => `<text x="${labelW + j * 80}" y="12" font-size="11" fill="${colors[j]}">■ ${esc(l)}</text>`)
    .join("");
  return `<svg viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${esc(title)}">${leg}${parts.join("")}</svg>`;
}

export function renderHtml(report: Report, rowLimit = 2000): string {
  const title =
    report.kind === "owner"
      ? `Subject access report for ${report.subject}`
      : report.kind === "processor"
        ? `Processor report for ${report.subject}`
        : "Record of processing activities (GDPR Art. 30)";
  const summary = Object.entries(report.summary)
    .map(([k, v]) => `<tr><th>${esc(humanize(k))}</th><td>${esc(v)}</td></tr>`)
    .join("");
  const tables = report.sections
    .map((s) => {
      const cols = COLUMNS.filter((c) => c !== "section" && s.rows.some((r) => r[c] !== ""));
      const shown = s.rows.slice(0, rowLimit);
      const more =
        s.rows.length > shown.length ? `<p>${s.rows.length - shown.length} more rows in the JSON/CSV report.</p>` : "";
      const body = shown.map((r) => `<tr>${cols.map((c) => `<td>${esc(r[c])}</td>`).join("")}</tr>`).join("\n");
      return `<h2>${esc(s.title)} (${s.rows.length})</h2>${
        s.rows.length
          ? `<table><thead><tr>${cols.map((c) => `<th>${esc(s.headings?.[c] ?? humanize(c))}</th>`).join("")}</tr></thead><tbody>${body}</tbody></table>`
          : "<p>None.</p>"
      }${more}`;
    })
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;font-size:12px;margin-bottom:1em}
td,th{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top;overflow-wrap:anywhere}th{background:#f3f3f3}svg{display:block;margin:1em 0}</style></head>
<body><h1>${esc(title)}</h1>
<p>Chain ${report.chainId}, events up to block ${report.lastBlock}; generated ${esc(report.generatedAt)} by the OmniTensor audit toolkit from on-chain events alone.</p>
<table>${summary}</table>
<h2>Consents and withdrawals over time</h2>${lineChart(report.charts.timeline)}
<h2>Uses and shares per purpose</h2>${barChart(
    "Uses and shares per purpose",
    report.charts.perPurpose.map((p) => ({ label: p.label, values: [p.uses, p.shares] })),
    ["#36c", "#e83"],
    ["uses", "shares"],
  )}
<h2>Shares per integration</h2>${barChart(
    "Shares per integration",
    report.charts.perIntegration.map((p) => ({ label: p.label, values: [p.shares] })),
    ["#e83"],
    ["shares"],
  )}
${tables}
</body></html>
`;
}

/** `liveConsents` → `live consents`, `dataId` → `data id`. */
function humanize(key: string): string {
  return key.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
}

/** Builds the report and renders it as JSON, CSV or one self-contained HTML file. */
export function writeReport(db: AuditDb, opts: ReportOptions): { report: Report; text: string } {
  const report = buildReport(db, opts);
  const text =
    opts.format === "json"
      ? JSON.stringify(report, null, 2) + "\n"
      : opts.format === "csv"
        ? renderCsv(report)
        : renderHtml(report, opts.htmlRowLimit);
  if (opts.out) writeFileSync(opts.out, text);
  return { report, text };
}
