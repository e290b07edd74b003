import { buildReport } from "../../src/audit/report-build.js";
import { renderCsv } from "../../src/audit/report-csv.js";
import { renderHtml } from "../../src/audit/report-html.js";
import type { ViewNames } from "../../src/views/names.js";
import type { AuditStore, ReplaySummary, SyncMeta } from "../../src/audit/store.js";
import type { OwnerHistory, Watched } from "./source/types.js";

/**
 * The subject-access report from the page: the auditor's own report builder and renderers
 * (src/audit/report-*.ts, the same code `omni-consent audit report --kind owner` runs) over the
 * events the page already read, held in memory behind the two store methods a report reads.
 * Nothing is uploaded: the file is made in the browser and downloaded.
 */
class MemoryEvents implements Pick<AuditStore, "dialect" | "meta" | "replay"> {
  readonly dialect = "sqlite" as const;
  constructor(
    private readonly h: OwnerHistory,
    private readonly w: Watched,
  ) {}

  meta(): Promise<SyncMeta | undefined> {
    return Promise.resolve({
      chainId: this.h.chainId,
      registry: this.w.registry.toLowerCase(),
      integrations: this.w.integrations.toLowerCase(),
      authority: this.w.authority.toLowerCase(),
      genesisHash: "",
      fromBlock: this.w.fromBlock ?? 0,
      blockNumber: this.h.lastBlock,
      blockHash: "",
      digest: "",
    });
  }

  replay(
    query: { chainId: number; toBlock?: number },
    visit: (e: OwnerHistory["events"][number]) => void,
  ): Promise<ReplaySummary> {
    let n = 0;
    for (const e of this.h.events) {
      if (query.toBlock !== undefined && e.blockNumber > query.toBlock) break;
      visit(e);
      n++;
    }
    return Promise.resolve({
      chainId: query.chainId,
      events: n,
      lastBlock: this.h.lastBlock,
      lastTimestamp: this.h.asOf,
    });
  }
}

export type SarFormat = "html" | "json" | "csv";

export async function subjectAccessReport(
  h: OwnerHistory,
  w: Watched,
  format: SarFormat,
  names?: ViewNames,
): Promise<{ text: string; type: string; name: string }> {
  const store = new MemoryEvents(h, w) as unknown as AuditStore;
  const report = await buildReport(store, { kind: "owner", subject: h.owner, chainId: h.chainId });
  const name = `subject-access-${h.owner}-block-${h.lastBlock}.${format}`;
  if (format === "json") return { text: JSON.stringify(report, null, 2), type: "application/json", name };
  if (format === "csv") return { text: renderCsv(report), type: "text/csv", name };
  return { text: await renderHtml(report, { names }), type: "text/html", name };
}

/** Hands a text to the browser as a file download. */
export function download(text: string, type: string, name: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
