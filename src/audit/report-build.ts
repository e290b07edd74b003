import type { DocumentSource } from "../documents/resolve.js";
import { ALL_DATA, Via } from "../sdk/constants.js";
import { maskToPurposes, PURPOSES, purposeName } from "../sdk/purposes.js";
import { viaOfEvent } from "./decode.js";
import type { ReplayEvent } from "./events.js";
import type { ConsentStatus } from "./model-types.js";
import { replayEvents } from "./replay.js";
import { describeReason } from "./signed-request.js";
import { expiryText } from "./state.js";
import type { AuditStore } from "./store.js";
import { bucket, ViewBuilder } from "../views/build.js";
import type { KeyRelease, OwnerView, RopaView } from "../views/data.js";
import type { ViewNames } from "../views/names.js";
import type { LabelBook } from "../labels/label-book.js";

/**
 * Building a report: one replay of the events through the rule model, collecting the tables and
 * the chart series. Rendering is apart: report-csv.ts, report-html.ts (with report-charts.ts).
 */

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
  /** A ready name book for the HTML report (wins over documents, labels and accounts). */
  names?: ViewNames;
  /** Where each integration's document is looked up for the HTML report (checked against its on-chain hash). */
  documents?: DocumentSource | readonly DocumentSource[];
  /** The owner's label book: labels instead of data ids in the HTML report. */
  labels?: LabelBook;
  /** Other names the reader knows, by address (any letter case). */
  accounts?: ReadonlyMap<string, string> | Record<string, string>;
  /** Key releases of the owner's assets (`releasesByOwner` of custodians' logs, src/custodian/verify-releases.ts). */
  releases?: readonly KeyRelease[];
  /** The time the report says it was made (ISO 8601; default: now): fixed, two reports compare equal. */
  generatedAt?: string;
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
  /** The block the report is as of: the sync checkpoint (the last block read), not the last event's. */
  lastBlock: number;
  /** The time "active" and "expired" are judged at: the timestamp of block `lastBlock`. */
  asOf: number;
  generatedAt: string;
  summary: Record<string, number | string>;
  sections: ReportSection[];
  charts: {
    timeline: { start: number; grants: number; withdrawals: number }[];
    perPurpose: { label: string; uses: number; shares: number }[];
    perIntegration: { label: string; shares: number }[];
  };
  /** The same data as the HTML report's views (src/views/data.ts): owner and Art. 30 reports. */
  view?: OwnerView | RopaView;
}

/** A table of the report; `headings` rename columns where the generic name would mislead. */
export interface ReportSection {
  name: string;
  title: string;
  rows: ReportRow[];
  headings?: Partial<Record<keyof ReportRow, string>>;
}

export const COLUMNS: (keyof ReportRow)[] = [
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

/** A consent's status in the report's words (the rule itself is ConsentModel.statusOf). */
const STATUS_WORDS: Record<ConsentStatus, string> = {
  active: "active",
  "ended-by-lockdown": "withdrawn (revoke-all)",
  "nothing-granted": "nothing granted (no signed purpose was grantable)",
  expired: "expired",
};

/** Whether an event concerns the report's subject (an owner, or a processor / integration). */
function concerns(e: ReplayEvent, kind: ReportKind, subject: string): boolean {
  const a: Readonly<Record<string, unknown>> = e.args;
  return kind === "owner"
    ? a.owner === subject
    : a.grantee === subject || a.processor === subject || a.from === subject || a.to === subject;
}

export const iso = (ts: number) => (ts === 0 ? "" : new Date(ts * 1000).toISOString());
const expiry = (ts: bigint) => expiryText(ts);
const viaName = (e: ReplayEvent) => Via[viaOfEvent(e.name, e.args) ?? -1] ?? "unknown";
const noticeText = (h: string) => (/^0x0{64}$/.test(h) ? "no notice named" : `notice ${h}`);
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
  const base = row({
    section,
    block: e.blockNumber,
    time: iso(e.blockTimestamp),
    tx: e.txHash,
    owner: "owner" in e.args ? e.args.owner : "",
  });
  switch (e.name) {
    case "ConsentGranted": {
      const a = e.args;
      return {
        ...base,
        party: String(a.grantee),
        dataId: dataLabel(String(a.dataId)),
        purposes: purposeList(BigInt(String(a.purposes))),
        expiresAt: expiry(BigInt(String(a.expiresAt))),
        status: "granted",
        detail: `by ${String(a.actor)} via ${viaName(e)}; version ${String(a.version)}; ${noticeText(String(a.noticeHash))}`,
      };
    }
    case "ConsentRevoked": {
      const a = e.args;
      return {
        ...base,
        party: String(a.grantee),
        dataId: dataLabel(String(a.dataId)),
        status: "withdrawn",
        detail: `by ${String(a.actor)} via ${viaName(e)}; version ${String(a.version)}`,
      };
    }
    case "AllConsentsRevoked": {
      const a = e.args;
      return {
        ...base,
        status: "withdrew all",
        detail: `lockdown to epoch ${String(a.newEpoch)} by ${String(a.actor)} via ${viaName(e)}: every consent, signed message and manager of earlier epochs ended`,
      };
    }
    case "SignedRevokeFailed": {
      const a = e.args;
      return {
        ...base,
        party: String(a.grantee),
        dataId: dataLabel(String(a.dataId)),
        status: "signed withdrawal not applied",
        detail: `item ${String(a.index)} of a relayed batch: ${describeReason(String(a.reason))}`,
      };
    }
    case "DataUsed": {
      const a = e.args;
      return {
        ...base,
        party: String(a.processor),
        dataId: dataLabel(String(a.dataId)),
        purposes: purposeName(Number(a.purpose)),
        status: "used",
        detail: `evidence ${String(a.evidence)}`,
      };
    }
    case "DataShared": {
      const a = e.args;
      return {
        ...base,
        party: String(a.from),
        recipient: String(a.to),
        dataId: dataLabel(String(a.dataId)),
        purposes: purposeName(Number(a.purpose)),
        status: "shared",
        detail: `evidence ${String(a.evidence)}`,
      };
    }
    default:
      return { ...base, status: e.name, detail: JSON.stringify(e.args) };
  }
}

/** Builds a report from the events table (one pass), without touching any RPC. */
export async function buildReport(
  store: AuditStore,
  opts: Omit<ReportOptions, "format" | "out" | "names" | "documents" | "labels" | "accounts">,
): Promise<Report> {
  const subject = opts.subject?.toLowerCase() ?? null;
  if (opts.kind !== "ropa" && (!subject || !/^0x[0-9a-f]{40}$/.test(subject))) {
    throw new Error(`the ${opts.kind} report needs --${opts.kind === "owner" ? "owner" : "processor"} <0x address>`);
  }
  // One replay feeds the rule model (through the views' builder, which owns it) and the tables.
  const builder = new ViewBuilder({ owner: opts.kind === "owner" ? subject! : undefined });
  const model = builder.model;
  const history: ReportRow[] = [];
  const uses: ReportRow[] = [];
  const shares: ReportRow[] = [];
  const timelineRaw: { ts: number; grant: boolean }[] = [];
  const perPurpose = new Map<number, { uses: number; shares: number }>();
  const perIntegration = new Map<string, number>();
  let usesTotal = 0;
  let sharesTotal = 0;

  const r = await replayEvents(
    store,
    (e) => {
      builder.add(e);
      if (subject !== null && !concerns(e, opts.kind, subject)) return;
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
          const p = perPurpose.get(Number(e.args.purpose)) ?? { uses: 0, shares: 0 };
          p.uses++;
          perPurpose.set(Number(e.args.purpose), p);
          if (subject !== null) uses.push(eventRow("uses", e));
          break;
        }
        case "DataShared": {
          const a = e.args;
          sharesTotal++;
          const p = perPurpose.get(Number(a.purpose)) ?? { uses: 0, shares: 0 };
          p.shares++;
          perPurpose.set(Number(a.purpose), p);
          perIntegration.set(a.to, (perIntegration.get(a.to) ?? 0) + 1);
          if (subject !== null) shares.push(eventRow("shares", e));
          break;
        }
        default:
          break;
      }
    },
    { chainId: opts.chainId },
  );

  // As of the last block read (as stateAt): a consent that expired in blocks synced after the
  // last event is expired, which the last event's time would still show as active.
  const meta = await store.meta(r.chainId);
  const asOfBlock = Math.max(meta?.blockNumber ?? -1, r.lastBlock);
  const now =
    asOfBlock === r.lastBlock
      ? r.lastTimestamp
      : ((await store.blockTimestamp(r.chainId, asOfBlock)) ?? r.lastTimestamp);
  const consentRows: ReportRow[] = [];
  for (const c of model.consents.values()) {
    const relevant = subject === null || (opts.kind === "owner" ? c.owner === subject : c.grantee === subject);
    if (!relevant) continue;
    const status = STATUS_WORDS[model.statusOf(c, now)!];
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
          `${noticeText(c.noticeHash)}; version ${c.version}` +
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
      const live = [...model.consents.values()].filter((c) => (c.purposes & bit) !== 0n && model.isActive(c, now));
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

  const generatedAt = opts.generatedAt ?? new Date().toISOString();
  const src = {
    chainId: r.chainId,
    lastBlock: asOfBlock,
    asOf: now,
    generatedAt,
    source: "on-chain events synced by the OmniTensor audit toolkit",
  };
  return {
    kind: opts.kind,
    subject,
    chainId: r.chainId,
    lastBlock: asOfBlock,
    asOf: now,
    generatedAt,
    summary,
    sections,
    charts: {
      timeline: bucket(timelineRaw, 24),
      perPurpose: [...perPurpose.entries()]
        .sort((x, y) => x[0] - y[0])
        .map(([id, v]) => ({ label: purposeName(id), ...v })),
      perIntegration: [...perIntegration.entries()].map(([label, n]) => ({ label, shares: n })),
    },
    view:
      opts.kind === "owner"
        ? builder.ownerView(src, opts.releases)
        : opts.kind === "ropa"
          ? builder.ropaView(src)
          : undefined,
  };
}
