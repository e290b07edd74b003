import type { ReplayEvent } from "../audit/events.js";
import { ConsentModel } from "../audit/model.js";
import type { StoredConsent } from "../audit/model-types.js";
import { describeReason } from "../audit/signed-request.js";
import { ALL_DATA, Via, viaOf } from "../sdk/constants.js";
import { maskToPurposes, PURPOSES, purposeName } from "../sdk/purposes.js";
import type {
  ChainMoment,
  ChartData,
  ConsentItem,
  HistoryItem,
  IntegrationItem,
  KeyRelease,
  ManagerTerm,
  OwnerView,
  PurposeRef,
  RopaPurpose,
  RopaView,
  ShareItem,
  UseItem,
  ViaWord,
  ViewMeta,
  WithdrawalItem,
} from "./data.js";

/**
 * The views' data from decoded registry events (browser-safe): the rule model
 * (src/audit/model.ts) replays them, and this collects what an owner or the Art. 30 record shows.
 * Events go in one at a time, in chain order, so a report streams them from its store and the
 * dashboard feeds what it reads from the chain's logs or the indexer.
 *
 *   const b = new ViewBuilder({ owner });          // or {} for the Art. 30 record only
 *   for (const e of events) b.add(e);
 *   const view = b.ownerView({ chainId, lastBlock, asOf, source });
 */

const ALL = ALL_DATA.toLowerCase();
const VIA: Record<number, ViaWord> = { [Via.Owner]: "Owner", [Via.Manager]: "Manager", [Via.Signature]: "Signature" };

export interface ViewBuilderOptions {
  /** The owner whose view this is (any letter case); omit for the Art. 30 record only. */
  owner?: string;
  /** Names of purposes defined by governance after the initial catalogue (from purpose documents). */
  purposeNames?: ReadonlyMap<number, string>;
}

/** Where the data comes from (ViewMeta without what the builder knows). */
export interface ViewSource {
  chainId: number;
  /** The last block read; default: the last event's. */
  lastBlock?: number;
  /** The time statuses are judged at (unix seconds); default: the last event's block time. */
  asOf?: number;
  /** Where the events came from, in words. */
  source: string;
  /** ISO 8601; default: now. */
  generatedAt?: string;
}

const moment = (e: ReplayEvent): ChainMoment => ({ at: e.blockTimestamp, block: e.blockNumber, tx: e.txHash });

export class ViewBuilder {
  readonly model = new ConsentModel();
  private readonly owner: string | null;
  private readonly purposeNames: ReadonlyMap<number, string>;
  private lastBlock = 0;
  private lastTimestamp = 0;
  /** Who sent the grant stored under each key (the model keeps how, not who). */
  private readonly grantedBy = new Map<string, string>();
  private readonly uses: UseItem[] = [];
  private readonly shares: ShareItem[] = [];
  private readonly withdrawals: WithdrawalItem[] = [];
  private readonly history: HistoryItem[] = [];
  private readonly terms: ManagerTerm[] = [];
  private readonly timeline: { ts: number; grant: boolean }[] = [];
  private readonly timelineAll: { ts: number; grant: boolean }[] = [];
  /** When each integration's status last changed (block time). */
  private readonly integrationAt = new Map<string, number>();
  /** Per purpose: uses and shares (of the owner's data, or of everyone's for the record). */
  private readonly perPurpose = new Map<number, { uses: number; shares: number }>();
  private readonly perPurposeAll = new Map<number, { uses: number; shares: number }>();
  private readonly sharesTo = new Map<string, number>();
  private readonly sharesToAll = new Map<string, number>();
  private usesAll = 0;
  private sharesAll = 0;

  constructor(opts: ViewBuilderOptions = {}) {
    this.owner = opts.owner?.toLowerCase() ?? null;
    this.purposeNames = opts.purposeNames ?? new Map();
  }

  /** A purpose by id, in the catalogue's words (or a governance-defined purpose's document name). */
  purpose(id: number): PurposeRef {
    const info = PURPOSES.find((p) => p.id === id);
    if (info) return { id, name: info.name, description: info.description, dpv: info.dpv };
    const name = this.purposeNames.get(id);
    return { id, name: name ?? purposeName(id) };
  }

  private purposes(mask: bigint): PurposeRef[] {
    return maskToPurposes(mask).map((id) => this.purpose(id));
  }

  /** Whether the exact key's consent (not the ALL_DATA fallback) covered `purpose` at `ts`. */
  private exactCovers(owner: string, grantee: string, dataId: string, purpose: number, ts: number): boolean {
    const c = this.model.consent(owner, grantee, dataId.toLowerCase());
    return this.model.isActive(c, ts) && ((c.purposes >> BigInt(purpose)) & 1n) === 1n;
  }

  /** Replays one event (chain order). */
  add(e: ReplayEvent): void {
    this.lastBlock = Math.max(this.lastBlock, e.blockNumber);
    this.lastTimestamp = Math.max(this.lastTimestamp, e.blockTimestamp);
    const ts = e.blockTimestamp;
    const a: Readonly<Record<string, unknown>> = e.args;
    const mine = this.owner !== null && a.owner === this.owner;
    // What the event ends or covers is judged against the state before it.
    switch (e.name) {
      case "DataUsed": {
        const purpose = Number(e.args.purpose);
        this.usesAll++;
        bump(this.perPurposeAll, purpose, "uses");
        if (mine) {
          bump(this.perPurpose, purpose, "uses");
          const onlyAll =
            !this.exactCovers(e.args.owner, e.args.processor, e.args.dataId, purpose, ts) &&
            this.model.allowed(e.args.owner, e.args.processor, e.args.dataId.toLowerCase(), purpose, ts);
          this.uses.push({
            when: moment(e),
            owner: e.args.owner,
            processor: e.args.processor,
            dataId: e.args.dataId.toLowerCase(),
            purpose: this.purpose(purpose),
            evidence: e.args.evidence,
            onlyThroughAllData: onlyAll,
          });
          this.history.push({
            when: moment(e),
            kind: "used",
            party: e.args.processor,
            dataId: e.args.dataId.toLowerCase(),
            purposes: [this.purpose(purpose)],
          });
        }
        break;
      }
      case "DataShared": {
        const x = e.args;
        const purpose = Number(x.purpose);
        this.sharesAll++;
        bump(this.perPurposeAll, purpose, "shares");
        this.sharesToAll.set(x.to, (this.sharesToAll.get(x.to) ?? 0) + 1);
        if (mine) {
          bump(this.perPurpose, purpose, "shares");
          this.sharesTo.set(x.to, (this.sharesTo.get(x.to) ?? 0) + 1);
          const d = x.dataId.toLowerCase();
          const only = (party: string) =>
            !this.exactCovers(x.owner, party, d, purpose, ts) && this.model.allowed(x.owner, party, d, purpose, ts);
          this.shares.push({
            when: moment(e),
            owner: x.owner,
            from: x.from,
            to: x.to,
            dataId: d,
            purpose: this.purpose(purpose),
            evidence: x.evidence,
            onlyThroughAllData: { sender: only(x.from), recipient: only(x.to) },
          });
          this.history.push({
            when: moment(e),
            kind: "shared",
            party: x.from,
            recipient: x.to,
            dataId: d,
            purposes: [this.purpose(purpose)],
          });
        }
        break;
      }
      case "AllConsentsRevoked":
        if (mine) {
          const owner = e.args.owner;
          let consentsEnded = 0;
          for (const c of this.model.consents.values()) {
            if (c.owner === owner && this.model.isActive(c, ts)) consentsEnded++;
          }
          const managersEnded = this.terms.filter((t) => t.ended === null).length;
          for (const t of this.terms) if (t.ended === null) t.ended = { ...moment(e), how: "lockdown" };
          const via = VIA[Number(e.args.via)] ?? "unknown";
          this.withdrawals.push({
            kind: "lockdown",
            when: moment(e),
            by: e.args.actor,
            via,
            epoch: e.args.newEpoch,
            consentsEnded,
            managersEnded,
          });
          this.history.push({ when: moment(e), kind: "withdrew-all", by: e.args.actor, via });
          this.timeline.push({ ts, grant: false });
        }
        break;
      case "ManagerSet":
        if (mine) {
          const manager = e.args.manager;
          if (e.args.approved) {
            this.terms.push({ manager, appointed: moment(e), ended: null });
            this.history.push({ when: moment(e), kind: "manager-appointed", party: manager });
          } else {
            const t = this.terms.find((x) => x.manager === manager && x.ended === null);
            if (t) t.ended = { ...moment(e), how: "removed" };
            this.history.push({ when: moment(e), kind: "manager-removed", party: manager });
          }
        }
        break;
      case "SignedRevokeFailed":
        if (mine) {
          const reason = describeReason(e.args.reason);
          this.withdrawals.push({
            kind: "signed-not-applied",
            when: moment(e),
            grantee: e.args.grantee,
            dataId: e.args.dataId.toLowerCase(),
            reason,
          });
          this.history.push({
            when: moment(e),
            kind: "signed-withdrawal-not-applied",
            party: e.args.grantee,
            dataId: e.args.dataId.toLowerCase(),
            note: reason,
          });
        }
        break;
      default:
        break;
    }

    this.model.apply(e);
    if (e.name === "ConsentGranted" || e.name === "ConsentRevoked" || e.name === "AllConsentsRevoked") {
      this.timelineAll.push({ ts, grant: e.name === "ConsentGranted" });
    } else if (e.name.startsWith("Integration") && "integration" in a) {
      this.integrationAt.set(String(a.integration), ts);
    }

    // What the event set is read from the state after it.
    if (e.name === "ConsentGranted") {
      const x = e.args;
      const k = `${x.owner}|${x.grantee}|${x.dataId.toLowerCase()}`;
      this.grantedBy.set(k, x.actor);
      if (mine) {
        const c = this.model.consent(x.owner, x.grantee, x.dataId.toLowerCase())!;
        this.history.push({
          when: moment(e),
          kind: "granted",
          party: x.grantee,
          dataId: c.dataId,
          purposes: this.purposes(c.purposes),
          expiresAt: c.expiresAt === 0n ? null : Number(c.expiresAt),
          by: x.actor,
          via: VIA[c.via] ?? "unknown",
        });
        this.timeline.push({ ts, grant: true });
      }
    } else if (e.name === "ConsentRevoked" && mine) {
      const x = e.args;
      const d = x.dataId.toLowerCase();
      const via = VIA[viaOf(x.owner, x.actor, BigInt(x.version))] ?? "unknown";
      const all = d === ALL ? undefined : this.model.consent(x.owner, x.grantee, ALL);
      this.withdrawals.push({
        kind: "revoked",
        when: moment(e),
        grantee: x.grantee,
        dataId: d,
        by: x.actor,
        via,
        stillAllowedThroughAllData: this.model.isActive(all, ts) ? this.purposes(all.purposes) : [],
      });
      this.history.push({ when: moment(e), kind: "withdrawn", party: x.grantee, dataId: d, by: x.actor, via });
      this.timeline.push({ ts, grant: false });
    }
  }

  private meta(src: ViewSource): ViewMeta {
    return {
      chainId: src.chainId,
      lastBlock: src.lastBlock ?? this.lastBlock,
      asOf: src.asOf ?? this.lastTimestamp,
      generatedAt: src.generatedAt ?? new Date().toISOString(),
      source: src.source,
    };
  }

  private consentItem(c: StoredConsent, asOf: number): ConsentItem {
    return {
      owner: c.owner,
      grantee: c.grantee,
      dataId: c.dataId,
      allData: c.dataId === ALL,
      purposes: this.purposes(c.purposes),
      expiresAt: c.expiresAt === 0n ? null : Number(c.expiresAt),
      status: this.model.statusOf(c, asOf)!,
      given: {
        at: c.grantedAt,
        block: c.grantedBlock,
        tx: c.grantedTx,
        by: this.grantedBy.get(`${c.owner}|${c.grantee}|${c.dataId}`) ?? c.owner,
        via: VIA[c.via] ?? "unknown",
      },
      noticeHash: /^0x0{64}$/.test(c.noticeHash) ? null : c.noticeHash,
      version: c.version.toString(),
    };
  }

  private integrations(asOf: number, owned: ConsentItem[] | null): IntegrationItem[] {
    return [...this.model.integrations.values()].map((i) => ({
      address: i.address,
      status: i.status,
      purposes: this.purposes(i.purposes),
      since: { at: this.integrationAt.get(i.address) ?? 0, block: i.since },
      metadataHash: i.metadataHash,
      sharesReceived: (owned === null ? this.sharesToAll : this.sharesTo).get(i.address) ?? 0,
      holdsConsent: owned?.some((c) => c.grantee === i.address && c.status === "active") ?? false,
    }));
  }

  private charts(own: boolean): ChartData {
    const per = own ? this.perPurpose : this.perPurposeAll;
    const to = own ? this.sharesTo : this.sharesToAll;
    return {
      timeline: bucket(own ? this.timeline : this.timelineAll, 24),
      perPurpose: [...per.entries()]
        .sort((x, y) => x[0] - y[0])
        .map(([id, v]) => ({ label: this.purpose(id).name, ...v })),
      perIntegration: [...to.entries()].map(([label, shares]) => ({ label, shares })),
    };
  }

  /** The owner's view (the builder must have been made with `owner`). */
  ownerView(src: ViewSource, releases?: readonly KeyRelease[]): OwnerView {
    if (this.owner === null) throw new Error("ownerView needs a ViewBuilder made with { owner }");
    const meta = this.meta(src);
    const consents = [...this.model.consents.values()]
      .filter((c) => c.owner === this.owner)
      .map((c) => this.consentItem(c, meta.asOf))
      .sort((x, y) => x.given.block - y.given.block || x.grantee.localeCompare(y.grantee));
    const owner = this.owner;
    return {
      kind: "owner",
      meta,
      owner,
      consents,
      uses: [...this.uses],
      shares: [...this.shares],
      withdrawals: [...this.withdrawals],
      managers: this.terms.map((t) => ({ ...t })),
      integrations: this.integrations(meta.asOf, consents),
      ...(releases === undefined
        ? {}
        : { releases: releases.filter((r) => r.owner.toLowerCase() === owner).map((r) => ({ ...r })) }),
      history: [...this.history],
      charts: this.charts(true),
    };
  }

  /** The record of processing activities (GDPR Art. 30), over every owner. */
  ropaView(src: ViewSource): RopaView {
    const meta = this.meta(src);
    const now = meta.asOf;
    const live = [...this.model.consents.values()].filter((c) => this.model.isActive(c, now));
    const purposes: RopaPurpose[] = [...this.model.purposes.values()]
      .sort((x, y) => x.id - y.id)
      .map((p) => {
        const bit = 1n << BigInt(p.id);
        const mine = live.filter((c) => (c.purposes & bit) !== 0n);
        const expiries = mine.map((c) => Number(c.expiresAt)).filter((x) => x !== 0);
        const counts = this.perPurposeAll.get(p.id) ?? { uses: 0, shares: 0 };
        return {
          purpose: this.purpose(p.id),
          status: p.deprecated ? "deprecated" : "grantable",
          definedBlock: p.definedBlock,
          metadataHash: p.metadataHash,
          dataSubjects: new Set(mine.map((c) => c.owner)).size,
          processors: new Set(mine.map((c) => c.grantee)).size,
          recipients: [...this.model.integrations.values()]
            .filter((i) => (i.purposes & bit) !== 0n)
            .map((i) => ({ address: i.address, status: i.status })),
          retention: {
            noExpiry: mine.length - expiries.length,
            expiring: expiries.length,
            first: expiries.length ? Math.min(...expiries) : null,
            last: expiries.length ? Math.max(...expiries) : null,
          },
          uses: counts.uses,
          shares: counts.shares,
        };
      });
    return {
      kind: "ropa",
      meta,
      purposes,
      recipients: this.integrations(now, null),
      totals: {
        liveConsents: live.length,
        dataSubjects: new Set(live.map((c) => c.owner)).size,
        uses: this.usesAll,
        shares: this.sharesAll,
      },
      charts: this.charts(false),
    };
  }
}

function bump(m: Map<number, { uses: number; shares: number }>, id: number, k: "uses" | "shares") {
  const v = m.get(id) ?? { uses: 0, shares: 0 };
  v[k]++;
  m.set(id, v);
}

/** Counts of grants and withdrawals in `n` equal time buckets (unix seconds of each bucket's start). */
export function bucket(points: { ts: number; grant: boolean }[], n: number): ChartData["timeline"] {
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

/** Builds an owner's view from a list of events in one call. */
export function buildOwnerView(
  events: Iterable<ReplayEvent>,
  owner: string,
  src: ViewSource,
  opts: { releases?: readonly KeyRelease[]; purposeNames?: ReadonlyMap<number, string> } = {},
): OwnerView {
  const b = new ViewBuilder({ owner, purposeNames: opts.purposeNames });
  for (const e of events) b.add(e);
  return b.ownerView(src, opts.releases);
}

/** Builds the Art. 30 record from a list of events in one call. */
export function buildRopaView(
  events: Iterable<ReplayEvent>,
  src: ViewSource,
  opts: { purposeNames?: ReadonlyMap<number, string> } = {},
): RopaView {
  const b = new ViewBuilder({ purposeNames: opts.purposeNames });
  for (const e of events) b.add(e);
  return b.ropaView(src);
}
