import { COLUMNS, type Report } from "./report-build.js";
import { barChart, esc, lineChart } from "./report-charts.js";

/** A report as one self-contained HTML file (inline SVG charts, no script, no external resource). */
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
