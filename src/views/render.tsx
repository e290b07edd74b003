import { renderToString } from "preact-render-to-string";

import { renderCharts } from "./charts.js";
import { ViewSettings } from "./context.js";
import type { OwnerView, RopaView } from "./data.js";
import { shortHex } from "./format.js";
import { type ViewNames, viewNames } from "./names.js";
import { OwnerReport } from "./owner.js";
import { ReportPage } from "./page.js";
import { RopaRecord } from "./ropa.js";

/**
 * The reports as one self-contained HTML file each (inline CSS and SVG, no script, no external
 * resource), rendered by Preact, which escapes every text and attribute. Browser-safe too.
 */

export interface RenderOptions {
  names?: ViewNames;
  /** Rows per table (the rest is in the JSON / CSV report). Default 2000. */
  rowLimit?: number;
}

const doc = (body: string) => `<!doctype html>\n${body}\n`;

/** The owner's subject-access report. */
export async function renderOwnerHtml(view: OwnerView, opts: RenderOptions = {}): Promise<string> {
  const names = opts.names ?? viewNames();
  const charts = await renderCharts(view.charts, names);
  const who = names.nameOf(view.owner);
  const title = `Your data and who may use it${who ? `: ${who}` : ""}`;
  return doc(
    renderToString(
      <ViewSettings.Provider value={{ names, now: view.meta.asOf, self: view.owner, rowLimit: opts.rowLimit ?? 2000 }}>
        <ReportPage
          title={title}
          subtitle={
            <>
              Subject access report for the account <code class="hex">{view.owner}</code>
              {who === undefined && ` (${shortHex(view.owner)})`}: every consent you gave, what was used and shared,
              what you withdrew, your managers and the integrations, from the chain&apos;s records alone.
            </>
          }
          meta={view.meta}
        >
          <OwnerReport view={view} charts={charts} />
        </ReportPage>
      </ViewSettings.Provider>,
    ),
  );
}

/** The record of processing activities (GDPR Art. 30). */
export async function renderRopaHtml(view: RopaView, opts: RenderOptions = {}): Promise<string> {
  const names = opts.names ?? viewNames();
  const charts = await renderCharts(view.charts, names);
  return doc(
    renderToString(
      <ViewSettings.Provider value={{ names, now: view.meta.asOf, rowLimit: opts.rowLimit ?? 2000 }}>
        <ReportPage
          title="Record of processing activities (GDPR Art. 30)"
          subtitle="Per purpose of the consent registry: data subjects, processors, recipients and retention, from on-chain events alone."
          meta={view.meta}
        >
          <RopaRecord view={view} charts={charts} />
        </ReportPage>
      </ViewSettings.Provider>,
    ),
  );
}
