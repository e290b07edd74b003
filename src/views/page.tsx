import type { ComponentChildren } from "preact";

import type { ViewMeta } from "./data.js";
import { isoTime } from "./format.js";
import { REPORT_CSS } from "./styles.js";

/** A report as one self-contained HTML document: its title, where its data comes from, its body. */
export function ReportPage({
  title,
  subtitle,
  meta,
  children,
}: {
  title: string;
  subtitle?: ComponentChildren;
  meta: ViewMeta;
  children: ComponentChildren;
}) {
  return (
    <html lang="en">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{title}</title>
        <style dangerouslySetInnerHTML={{ __html: REPORT_CSS }} />
      </head>
      <body>
        <header class="report-head">
          <h1>{title}</h1>
          {subtitle && <p>{subtitle}</p>}
          <p class="meta">
            As of {isoTime(meta.asOf)}, the time of block {meta.lastBlock} on chain {meta.chainId}, the last one read.
            Made {isoTime(meta.generatedAt)} from {meta.source}.
          </p>
        </header>
        <main>{children}</main>
        <footer>
          Every row names its block and transaction (open “block …”): anyone can check it against the chain. Print this
          page or save it as PDF to keep it.
        </footer>
      </body>
    </html>
  );
}
