import { renderToString } from "preact-render-to-string";

import type { DocumentSource } from "../documents/resolve.js";
import { ViewSettings } from "../views/context.js";
import type { IntegrationItem } from "../views/data.js";
import type { LabelBook } from "../labels/label-book.js";
import { type NameSources, resolveIntegrationNames, type ViewNames, viewNames } from "../views/names.js";
import { ReportPage } from "../views/page.js";
import { Table } from "../views/primitives.js";
import { renderOwnerHtml, renderRopaHtml } from "../views/render.js";
import { COLUMNS, type Report, type ReportRow } from "./report-build.js";

/**
 * A report as one self-contained HTML file (inline CSS and SVG charts, no script, no external
 * resource), rendered through Preact, which escapes every text and attribute. The owner report
 * and the Art. 30 record are the views of src/views (the dashboard renders the same components);
 * the processor report is its tables.
 */

export interface HtmlOptions {
  rowLimit?: number;
  /** A ready name book (wins over the three below). */
  names?: ViewNames;
  /** Where each integration's document is looked up (checked against its on-chain hash). */
  documents?: DocumentSource | readonly DocumentSource[];
  /** The owner's label book (owner reports: labels instead of data ids). */
  labels?: LabelBook;
  /** Other names the reader knows, by address. */
  accounts?: NameSources["accounts"];
}

/** `liveConsents` → `live consents`, `dataId` → `data id`. */
function humanize(key: string): string {
  return key.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
}

async function namesFor(integrations: readonly IntegrationItem[], opts: HtmlOptions): Promise<ViewNames> {
  if (opts.names) return opts.names;
  const docs = opts.documents ? await resolveIntegrationNames(integrations, opts.documents) : {};
  return viewNames({ ...docs, labels: opts.labels, accounts: opts.accounts });
}

export async function renderHtml(report: Report, opts: HtmlOptions = {}): Promise<string> {
  const v = report.view;
  if (v?.kind === "owner") {
    return renderOwnerHtml(v, { rowLimit: opts.rowLimit, names: await namesFor(v.integrations, opts) });
  }
  if (v?.kind === "ropa") {
    return renderRopaHtml(v, { rowLimit: opts.rowLimit, names: await namesFor(v.recipients, opts) });
  }
  return `<!doctype html>\n${renderToString(<TablesPage report={report} rowLimit={opts.rowLimit ?? 2000} />)}\n`;
}

/** The processor report: its summary and tables. */
function TablesPage({ report, rowLimit }: { report: Report; rowLimit: number }) {
  return (
    <ViewSettings.Provider value={{ names: viewNames(), now: Math.floor(Date.parse(report.generatedAt) / 1000) }}>
      <ReportPage
        title={`Processor report for ${report.subject ?? ""}`}
        meta={{
          chainId: report.chainId,
          lastBlock: report.lastBlock,
          asOf: report.asOf,
          generatedAt: report.generatedAt,
          source: "on-chain events synced by the OmniTensor audit toolkit",
        }}
      >
        <dl class="summary">
          {Object.entries(report.summary).map(([k, v]) => (
            <div key={k}>
              <dt>{humanize(k)}</dt>
              <dd>{v}</dd>
            </div>
          ))}
        </dl>
        {report.sections.map((s) => {
          const cols = COLUMNS.filter((c) => c !== "section" && s.rows.some((r) => r[c] !== ""));
          const shown = s.rows.slice(0, rowLimit);
          return (
            <section key={s.name} aria-labelledby={`${s.name}-title`}>
              <h2 id={`${s.name}-title`}>
                {s.title} <span class="count">({s.rows.length})</span>
              </h2>
              {s.rows.length === 0 ? (
                <p class="empty">None.</p>
              ) : (
                <Table label={s.title} head={cols.map((c) => s.headings?.[c] ?? humanize(c))}>
                  {shown.map((r: ReportRow, i) => (
                    <tr key={i}>
                      {cols.map((c) => (
                        <td key={c}>
                          {c === "tx" || /^0x/.test(String(r[c])) ? <code class="hex">{r[c]}</code> : r[c]}
                        </td>
                      ))}
                    </tr>
                  ))}
                </Table>
              )}
              {s.rows.length > shown.length && (
                <p class="more">{s.rows.length - shown.length} more rows in the JSON/CSV report.</p>
              )}
            </section>
          );
        })}
      </ReportPage>
    </ViewSettings.Provider>
  );
}
