import { writeFileSync } from "node:fs";

import { buildReport, type Report, type ReportOptions } from "./report-build.js";
import { renderCsv } from "./report-csv.js";
import { renderHtml } from "./report-html.js";
import type { AuditStore } from "./store.js";

/**
 * Reports: building (report-build.ts) and rendering as JSON, CSV (report-csv.ts) or one HTML
 * file (report-html.tsx: the views of src/views, charts drawn by Vega-Lite).
 */
export {
  buildReport,
  type Report,
  type ReportFormat,
  type ReportKind,
  type ReportOptions,
  type ReportRow,
  type ReportSection,
} from "./report-build.js";
export { renderCsv } from "./report-csv.js";
export { type HtmlOptions, renderHtml } from "./report-html.js";

/** Builds the report and renders it as JSON, CSV or one self-contained HTML file. */
export async function writeReport(store: AuditStore, opts: ReportOptions): Promise<{ report: Report; text: string }> {
  const report = await buildReport(store, opts);
  const text =
    opts.format === "json"
      ? JSON.stringify(report, null, 2) + "\n"
      : opts.format === "csv"
        ? renderCsv(report)
        : await renderHtml(report, {
            rowLimit: opts.htmlRowLimit,
            names: opts.names,
            documents: opts.documents,
            labels: opts.labels,
            accounts: opts.accounts,
          });
  if (opts.out) writeFileSync(opts.out, text);
  return { report, text };
}
