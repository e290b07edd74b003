import { Interface } from "ethers";

import { CONSENT_REGISTRY_ABI, INTEGRATION_REGISTRY_ABI } from "../../src/sdk/abi.js";
import { maskToPurposes, purposeName } from "../../src/sdk/purposes.js";
import { buildOwnerView } from "../../src/views/build.js";
import type { KeyRelease, OwnerView } from "../../src/views/data.js";
import type { OwnerHistory, Watched } from "./source/types.js";

/**
 * An owner's history (either data source) as the views' data (`src/views/data.ts`), built by the
 * views' own builder (`src/views/build.ts`, over the audit's rule model): the page shows what the
 * subject-access report shows. Plus what only the live page shows: governance changes scheduled
 * on the AccessManager that touch the owner's purposes or grantees, with the time left.
 */

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
}

const REGISTRY = new Interface(CONSENT_REGISTRY_ABI);
const INTEGRATIONS = new Interface(INTEGRATION_REGISTRY_ABI);

export function buildOwnerData(h: OwnerHistory, w: Watched, releases?: readonly KeyRelease[]): OwnerData {
  const view = buildOwnerView(
    h.events,
    h.owner,
    { chainId: h.chainId, lastBlock: h.lastBlock, asOf: h.asOf, source: h.source },
    { releases },
  );
  const live = view.consents.filter((c) => c.status === "active");
  const liveGrantees = new Set(live.map((c) => c.grantee.toLowerCase()));
  const livePurposes = new Set(live.flatMap((c) => c.purposes.map((p) => p.id)));
  const scheduled = new Map<string, Extract<OwnerHistory["events"][number], { name: "OperationScheduled" }>>();
  for (const e of h.events) {
    if (e.name === "OperationScheduled") scheduled.set(e.args.operationId, e);
    else if (e.name === "OperationExecuted" || e.name === "OperationCanceled") scheduled.delete(e.args.operationId);
  }
  const pending: PendingChange[] = [];
  for (const op of scheduled.values()) {
    const readyAt = Number(op.args.schedule);
    if (h.asOf > readyAt + WEEK) continue; // expired unexecuted: it can no longer run
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
  return { view, pending };
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
