import type { ReplayEvent } from "../../../src/audit/events.js";
import type { IntegrationDocument } from "../../../src/documents/schemas.js";
import { emptyLabelBook, labelEntry, type LabelBook, withEntry } from "../../../src/labels/label-book.js";
import { ALL_DATA } from "../../../src/sdk/constants.js";

/**
 * A small owner history written as decoded events (no chain): what the views are tested on, in
 * Node and in the browser. Every kind of row appears once or more: grants by the owner, a
 * manager and a signature, ALL_DATA, an expired consent, uses and shares (one only through
 * ALL_DATA), a withdrawal, a failed signed withdrawal, managers past and current, a suspended
 * integration, and names that try to inject markup.
 */

export const T0 = Date.UTC(2026, 9, 1, 9, 0, 0) / 1000; // 2026-10-01T09:00:00Z
const DAY = 86_400;
const addr = (n: number) => `0x${n.toString(16).padStart(40, "0")}`;
const hash = (n: number) => `0x${n.toString(16).padStart(64, "0")}`;
const ZERO = hash(0);

export const OWNER = addr(0xa11ce);
export const MANAGER = addr(0x3a3a);
export const OLD_MANAGER = addr(0x01d);
export const TRAINER = addr(0x7a1);
export const LAB = addr(0x1ab);
export const MARKET = addr(0x3a7);
export const RELAYER = addr(0x4e1);
export const HOSTILE_NAME = `<img src=x onerror=alert(1)> "Evil" & Co`;

export interface SampleHistory {
  events: ReplayEvent[];
  labels: LabelBook;
  photos: string;
  wearable: string;
  documents: Map<string, IntegrationDocument>;
  accounts: Record<string, string>;
  asOf: number;
}

function doc(address: string, displayName: string, purposes: { id: number; name: string }[]): IntegrationDocument {
  return {
    format: "omni-consent/integration-document@1",
    integration: address,
    displayName,
    legalEntity: `${displayName} GmbH`,
    country: "DE",
    privacyPolicy: "https://example.org/privacy",
    contact: { email: "privacy@example.org" },
    purposes: purposes.map((p) => ({ ...p, dpv: "https://w3id.org/dpv#ResearchAndDevelopment" })),
    retention: { period: "P30D" },
  };
}

export function sampleHistory(): SampleHistory {
  const photos = labelEntry("holiday photos 2026", "salt-1");
  const wearable = labelEntry("wearable heart rate", "salt-2");
  const labels = withEntry(withEntry(emptyLabelBook(), photos), wearable);
  const events: ReplayEvent[] = [];
  let block = 100;
  const at = (days: number, name: ReplayEvent["name"], args: Record<string, unknown>) => {
    block++;
    events.push({
      blockNumber: block,
      logIndex: 0,
      txHash: hash(0xbeef0000 + block),
      blockTimestamp: T0 + Math.round(days * DAY),
      name,
      args,
    } as ReplayEvent);
  };
  for (let id = 0; id < 8; id++) at(0, "PurposeDefined", { id: String(id), metadataHash: hash(0x900 + id) });
  at(0.1, "IntegrationRegistered", { integration: LAB, metadataHash: hash(0x1ab), purposes: String(0b10000001) });
  at(0.1, "IntegrationRegistered", { integration: MARKET, metadataHash: hash(0x3a7), purposes: String(0b100) });
  at(1, "ManagerSet", { owner: OWNER, manager: OLD_MANAGER, approved: true });
  at(2, "ConsentGranted", {
    owner: OWNER,
    grantee: TRAINER,
    dataId: photos.dataId,
    purposes: String(0b11),
    expiresAt: String(T0 + 400 * DAY),
    noticeHash: hash(0x5eed),
    actor: OWNER,
    version: String(65536),
  });
  at(3, "ConsentGranted", {
    owner: OWNER,
    grantee: TRAINER,
    dataId: ALL_DATA,
    purposes: String(0b100),
    expiresAt: "0",
    noticeHash: ZERO,
    actor: OLD_MANAGER,
    version: String(65536),
  });
  at(4, "ConsentGranted", {
    owner: OWNER,
    grantee: LAB,
    dataId: wearable.dataId,
    purposes: String(0b10000000),
    expiresAt: String(T0 + 10 * DAY),
    noticeHash: hash(0x5eed),
    actor: RELAYER,
    version: String(65537),
  });
  at(5, "ConsentGranted", {
    owner: OWNER,
    grantee: MARKET,
    dataId: photos.dataId,
    purposes: String(0b100),
    expiresAt: "0",
    noticeHash: hash(0x5eee),
    actor: OWNER,
    version: String(65536),
  });
  at(6, "DataUsed", { owner: OWNER, processor: TRAINER, dataId: photos.dataId, purpose: "0", evidence: hash(0xe1) });
  at(6.5, "DataUsed", {
    owner: OWNER,
    processor: TRAINER,
    dataId: wearable.dataId,
    purpose: "2",
    evidence: hash(0xe2),
  });
  at(7, "DataShared", {
    owner: OWNER,
    from: TRAINER,
    to: MARKET,
    dataId: photos.dataId,
    purpose: "2",
    evidence: hash(0xe3),
  });
  at(8, "ManagerSet", { owner: OWNER, manager: OLD_MANAGER, approved: false });
  at(8, "ManagerSet", { owner: OWNER, manager: MANAGER, approved: true });
  at(9, "ConsentRevoked", { owner: OWNER, grantee: TRAINER, dataId: photos.dataId, actor: OWNER, version: "131072" });
  at(9.5, "SignedRevokeFailed", {
    owner: OWNER,
    grantee: MARKET,
    dataId: photos.dataId,
    index: "1",
    reason: "0x",
  });
  at(12, "IntegrationSuspended", { integration: LAB });
  // Another owner's events must not show in this owner's view.
  at(13, "ConsentGranted", {
    owner: addr(0xb0b),
    grantee: TRAINER,
    dataId: photos.dataId,
    purposes: "1",
    expiresAt: "0",
    noticeHash: ZERO,
    actor: addr(0xb0b),
    version: "65536",
  });
  return {
    events,
    labels,
    photos: photos.dataId,
    wearable: wearable.dataId,
    documents: new Map([
      [
        LAB,
        doc(LAB, "Research Lab", [
          { id: 0, name: "MODEL_TRAINING" },
          { id: 7, name: "RESEARCH" },
        ]),
      ],
      [MARKET, doc(MARKET, HOSTILE_NAME, [{ id: 2, name: "INFERENCE" }])],
    ]),
    accounts: { [TRAINER]: "trainer-A", [MANAGER]: "my sister", [OLD_MANAGER]: "old phone", [RELAYER]: "relayer" },
    asOf: T0 + 20 * DAY,
  };
}
