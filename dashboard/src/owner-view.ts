import { Interface } from "ethers";

import type { ReplayEvent } from "../../src/audit/events.js";
import { ConsentModel } from "../../src/audit/model.js";
import { describeReason } from "../../src/audit/signed-request.js";
import { CONSENT_REGISTRY_ABI, INTEGRATION_REGISTRY_ABI } from "../../src/sdk/abi.js";
import { ALL_DATA, Via } from "../../src/sdk/constants.js";
import { maskToPurposes, PURPOSES, purposeName } from "../../src/sdk/purposes.js";
import type {
  ConsentItem,
  IntegrationItem,
  ManagerTerm,
  OwnerView,
  PurposeRef,
  ShareItem,
  UseItem,
  ViaWord,
  WithdrawalItem,
} from "../../src/views/data.js";
import type { OwnerHistory, Watched } from "./source/types.js";

/**
 * An owner's history (either data source) folded into the views' data model (`src/views/data.ts`)
 * with the audit toolkit's rule model (`ConsentModel`: THE "is this consent in force" rule and
 * ALL_DATA coverage), so the page says what the subject-access report says. Plus what only the
 * live page shows: governance changes scheduled on the AccessManager that touch the owner's
 * purposes or grantees, with the time left.
 */

export function purposeRef(id: number): PurposeRef {
  const p = PURPOSES.find((x) => x.id === id);
  return p ? { id, name: p.name, description: p.description, dpv: p.dpv } : { id, name: purposeName(id) };
}

const refs = (mask: bigint): PurposeRef[] => maskToPurposes(mask).map(purposeRef);

function viaWord(via: number | null | undefined): ViaWord {
  return via === Via.Owner
    ? "Owner"
    : via === Via.Manager
      ? "Manager"
      : via === Via.Signature
        ? "Signature"
        : "unknown";
}

const ZERO_HASH = `0x${"0".repeat(64)}`;
const WEEK = 7 * 86_400;

/** A governance change scheduled and not yet executed or cancelled. */
export interface PendingChange {
  operationId: string;
  /** Unix seconds from which it can run; it expires a week later (the AccessManager's default). */
  readyAt: number;
  scheduledAt: number;
  block: number;
  tx: string;
  target: string;
  /** What it does, in words. */
  what: string;
  /** The integration it changes, if any (shown by name). */
  integration?: string;
  /** Why it concerns the owner (empty: it does not touch their consents). */
  affects: string[];
}

export interface OwnerData {
  view: OwnerView;
  pending: PendingChange[];
  /** Current (epoch) of the owner, for lockdown words. */
  epoch: string;
}

const REGISTRY = new Interface(CONSENT_REGISTRY_ABI);
const INTEGRATIONS = new Interface(INTEGRATION_REGISTRY_ABI);

export function buildOwnerData(h: OwnerHistory, w: Watched): OwnerData {
  const owner = h.owner;
  const model = new ConsentModel();
  const uses: UseItem[] = [];
  const shares: ShareItem[] = [];
  const withdrawals: WithdrawalItem[] = [];
  const managers: ManagerTerm[] = [];
  const grantedBy = new Map<string, string>();
  const sharesTo = new Map<string, number>();
  const scheduled = new Map<string, Extract<ReplayEvent, { name: "OperationScheduled" }>>();
  const timeline = new Map<number, { grants: number; withdrawals: number }>();
  const perPurpose = new Map<number, { uses: number; shares: number }>();
  const day = (ts: number) => ts - (ts % 86_400);
  const bump = (ts: number, k: "grants" | "withdrawals") => {
    const t = timeline.get(day(ts)) ?? { grants: 0, withdrawals: 0 };
    t[k]++;
    timeline.set(day(ts), t);
  };
  const moment = (e: ReplayEvent) => ({ at: e.blockTimestamp, block: e.blockNumber, tx: e.txHash });
  // Does a consent for this very data id (not ALL_DATA) cover the purpose at ts?
  const exact = (party: string, dataId: string, purpose: number, ts: number) => {
    const c = model.consent(owner, party, dataId);
    return model.isActive(c, ts) && ((c.purposes >> BigInt(purpose)) & 1n) === 1n;
  };

  for (const e of h.events) {
    const ts = e.blockTimestamp;
    switch (e.name) {
      case "ConsentGranted":
        if (e.args.owner === owner) {
          grantedBy.set(`${e.args.grantee}|${e.args.dataId}`, e.args.actor);
          bump(ts, "grants");
        }
        break;
      case "ConsentRevoked":
        if (e.args.owner === owner) {
          const all = model.consent(owner, e.args.grantee, ALL_DATA);
          withdrawals.push({
            kind: "revoked",
            when: moment(e),
            grantee: e.args.grantee,
            dataId: e.args.dataId,
            by: e.args.actor,
            via: viaWord(e.via),
            stillAllowedThroughAllData: e.args.dataId !== ALL_DATA && model.isActive(all, ts) ? refs(all.purposes) : [],
          });
          bump(ts, "withdrawals");
        }
        break;
      case "AllConsentsRevoked":
        if (e.args.owner === owner) {
          let ended = 0;
          for (const c of model.consents.values()) if (c.owner === owner && model.isActive(c, ts)) ended++;
          const open = managers.filter((m) => m.ended === null);
          for (const m of open) m.ended = { ...moment(e), how: "lockdown" };
          withdrawals.push({
            kind: "lockdown",
            when: moment(e),
            by: e.args.actor,
            via: viaWord(e.via),
            epoch: e.args.newEpoch,
            consentsEnded: ended,
            managersEnded: open.length,
          });
          bump(ts, "withdrawals");
        }
        break;
      case "SignedRevokeFailed":
        if (e.args.owner === owner) {
          withdrawals.push({
            kind: "signed-not-applied",
            when: moment(e),
            grantee: e.args.grantee,
            dataId: e.args.dataId,
            reason: describeReason(e.args.reason),
          });
        }
        break;
      case "ManagerSet":
        if (e.args.owner === owner) {
          if (e.args.approved) managers.push({ manager: e.args.manager, appointed: moment(e), ended: null });
          else {
            const m = managers.find((t) => t.manager === e.args.manager && t.ended === null);
            if (m) m.ended = { ...moment(e), how: "removed" };
          }
        }
        break;
      case "DataUsed":
        if (e.args.owner === owner) {
          const purpose = Number(e.args.purpose);
          uses.push({
            when: moment(e),
            owner,
            processor: e.args.processor,
            dataId: e.args.dataId,
            purpose: purposeRef(purpose),
            evidence: e.args.evidence,
            onlyThroughAllData: !exact(e.args.processor, e.args.dataId, purpose, ts),
          });
          const p = perPurpose.get(purpose) ?? { uses: 0, shares: 0 };
          p.uses++;
          perPurpose.set(purpose, p);
        }
        break;
      case "DataShared":
        if (e.args.owner === owner) {
          const purpose = Number(e.args.purpose);
          shares.push({
            when: moment(e),
            owner,
            from: e.args.from,
            to: e.args.to,
            dataId: e.args.dataId,
            purpose: purposeRef(purpose),
            evidence: e.args.evidence,
            onlyThroughAllData: {
              sender: !exact(e.args.from, e.args.dataId, purpose, ts),
              recipient: !exact(e.args.to, e.args.dataId, purpose, ts),
            },
          });
          sharesTo.set(e.args.to, (sharesTo.get(e.args.to) ?? 0) + 1);
          const p = perPurpose.get(purpose) ?? { uses: 0, shares: 0 };
          p.shares++;
          perPurpose.set(purpose, p);
        }
        break;
      case "OperationScheduled":
        scheduled.set(e.args.operationId, e);
        break;
      case "OperationExecuted":
      case "OperationCanceled":
        scheduled.delete(e.args.operationId);
        break;
      default:
        break;
    }
    model.apply(e);
  }

  const now = h.asOf;
  const consents: ConsentItem[] = [];
  for (const c of model.consents.values()) {
    if (c.owner !== owner) continue;
    const status = model.statusOf(c, now) ?? "nothing-granted";
    consents.push({
      owner,
      grantee: c.grantee,
      dataId: c.dataId,
      allData: c.dataId === ALL_DATA,
      purposes: refs(c.purposes),
      expiresAt: c.expiresAt === 0n ? null : Number(c.expiresAt),
      status,
      given: {
        at: c.grantedAt,
        block: c.grantedBlock,
        tx: c.grantedTx,
        by: grantedBy.get(`${c.grantee}|${c.dataId}`) ?? owner,
        via: viaWord(c.via),
      },
      noticeHash: c.noticeHash === ZERO_HASH ? null : c.noticeHash,
      version: c.version.toString(),
    });
  }
  consents.sort((a, b) => a.grantee.localeCompare(b.grantee) || a.dataId.localeCompare(b.dataId));
  const live = consents.filter((c) => c.status === "active");
  const liveGrantees = new Set(live.map((c) => c.grantee));
  const livePurposes = new Set(live.flatMap((c) => c.purposes.map((p) => p.id)));

  const integrations: IntegrationItem[] = [...model.integrations.values()].map((i) => ({
    address: i.address,
    status: i.status,
    purposes: refs(i.purposes),
    since: { at: 0, block: i.since },
    metadataHash: i.metadataHash,
    sharesReceived: sharesTo.get(i.address) ?? 0,
    holdsConsent: liveGrantees.has(i.address),
  }));

  const pending: PendingChange[] = [];
  for (const op of scheduled.values()) {
    const readyAt = Number(op.args.schedule);
    if (now > readyAt + WEEK) continue; // expired unexecuted: it can no longer run
    const { what, affects, integration } = describeCall(op.args.target, op.args.data, w, liveGrantees, livePurposes);
    pending.push({
      operationId: op.args.operationId,
      readyAt,
      scheduledAt: op.blockTimestamp,
      block: op.blockNumber,
      tx: op.txHash,
      target: op.args.target,
      what,
      integration,
      affects,
    });
  }
  pending.sort((a, b) => a.readyAt - b.readyAt);

  const view: OwnerView = {
    kind: "owner",
    meta: {
      chainId: h.chainId,
      lastBlock: h.lastBlock,
      asOf: now,
      generatedAt: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
      source: h.source,
    },
    owner,
    consents,
    uses,
    shares,
    withdrawals,
    managers,
    integrations,
    charts: {
      timeline: [...timeline.entries()].sort((a, b) => a[0] - b[0]).map(([start, t]) => ({ start, ...t })),
      perPurpose: [...perPurpose.entries()].map(([id, p]) => ({ label: purposeName(id), ...p })),
      perIntegration: [...sharesTo.entries()].map(([label, n]) => ({ label, shares: n })),
    },
  };
  return { view, pending, epoch: model.epochOf(owner).toString() };
}

/** A scheduled governed call in words, and whether it touches the owner's live consents. */
export function describeCall(
  target: string,
  data: string,
  w: Watched,
  liveGrantees: ReadonlySet<string>,
  livePurposes: ReadonlySet<number>,
): { what: string; affects: string[]; integration?: string } {
  const t = target.toLowerCase();
  const iface = t === w.registry.toLowerCase() ? REGISTRY : t === w.integrations.toLowerCase() ? INTEGRATIONS : null;
  const call = iface?.parseTransaction({ data });
  if (!call) return { what: `a call to ${target} (${data.slice(0, 10)})`, affects: [] };
  const affects: string[] = [];
  const integration = (a: unknown) => String(a).toLowerCase();
  switch (call.name) {
    case "definePurpose":
      return { what: `define purpose ${purposeName(Number(call.args[0]))} (${Number(call.args[0])})`, affects };
    case "deprecatePurpose": {
      const id = Number(call.args[0]);
      if (livePurposes.has(id)) affects.push(`you consented to ${purposeName(id)}: no new grant can name it`);
      return { what: `deprecate purpose ${purposeName(id)} (${id})`, affects };
    }
    case "suspendIntegration":
    case "reinstateIntegration":
    case "registerIntegration":
    case "updateIntegration": {
      const a = integration(call.args[0]);
      if (liveGrantees.has(a)) affects.push("you have consent in force for this integration");
      const verb = call.name.replace("Integration", "");
      const purposes =
        call.name === "registerIntegration" || call.name === "updateIntegration"
          ? `, purposes ${maskToPurposes(BigInt(call.args[2] as bigint))
              .map(purposeName)
              .join(", ")}`
          : "";
      return { what: `${verb} integration${purposes}`, affects, integration: a };
    }
    default:
      return { what: `${call.name} on ${target}`, affects };
  }
}
