import { COLUMNS, type Report } from "./report-build.js";

/** A report as CSV: every row of every section, with the same columns. */
function csvCell(v: string | number): string {
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function renderCsv(report: Report): string {
  const lines = [COLUMNS.join(",")];
  for (const s of report.sections) for (const r of s.rows) lines.push(COLUMNS.map((c) => csvCell(r[c])).join(","));
  return lines.join("\n") + "\n";
}
