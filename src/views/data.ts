/**
 * The plain data the views render (JSON-safe: numbers, strings, arrays; no bigint, no class).
 *
 * One shape per view, whoever fills it: `ViewBuilder` (src/views/build.ts) fills it from decoded
 * registry events, one at a time — the auditor's report feeds it the synced events
 * (src/audit/report-view-data.ts), the owner's dashboard (issue 15) the events it reads from the
 * chain's logs or the indexer's API — and the same components render it, statically or live. Addresses
 * and data ids stay hex here: names and labels are looked up when rendering (NameBook), so one
 * data set serves every reader and the hex is always one click away.
 */

/** Names instead of hex: integration documents answer `nameOf`, the owner's label book `labelOf`. */
export interface NameBook {
  /** A display name for an account or integration (e.g. from its integration document). */
  nameOf(address: string): string | undefined;
  /** The owner's label for one of their data ids (from the label book, which never leaves their machine). */
  labelOf(dataId: string): string | undefined;
}

/** A moment on the chain: when (unix seconds, the block's time), and where to check it. */
export interface ChainMoment {
  at: number;
  block: number;
  tx: string;
}

/** A purpose of the catalogue: its id, its catalogue name (`MODEL_TRAINING`) and words about it. */
export interface PurposeRef {
  id: number;
  name: string;
  description?: string;
  /** The closest W3C Data Privacy Vocabulary concept, e.g. `dpv:ResearchAndDevelopment`. */
  dpv?: string;
}

/** How a consent change was authorised: by the owner, a manager of theirs, or the owner's signature. */
export type ViaWord = "Owner" | "Manager" | "Signature" | "unknown";

/** Why a stored consent is or is not in force (the rule is the audit model's `statusOf`). */
export type ConsentState = "active" | "expired" | "ended-by-lockdown" | "nothing-granted";

export interface ConsentItem {
  owner: string;
  grantee: string;
  dataId: string;
  /** The owner's ALL_DATA consent: it covers every data id of theirs. */
  allData: boolean;
  purposes: PurposeRef[];
  /** Unix seconds; null: no expiry. */
  expiresAt: number | null;
  status: ConsentState;
  /** When and how it was given; `by` is the transaction's sender (the relayer of a signed grant). */
  given: ChainMoment & { by: string; via: ViaWord };
  /** The notice the owner was shown; null when the grant named none (a zero hash). */
  noticeHash: string | null;
  version: string;
}

export interface UseItem {
  when: ChainMoment;
  owner: string;
  processor: string;
  dataId: string;
  purpose: PurposeRef;
  evidence: string;
  /** No consent for this very data id covered it: only the owner's ALL_DATA consent did. */
  onlyThroughAllData: boolean;
}

export interface ShareItem {
  when: ChainMoment;
  owner: string;
  from: string;
  to: string;
  dataId: string;
  purpose: PurposeRef;
  evidence: string;
  /** Which side was covered only by the owner's ALL_DATA consent. */
  onlyThroughAllData: { sender: boolean; recipient: boolean };
}

export type WithdrawalItem =
  | {
      kind: "revoked";
      when: ChainMoment;
      grantee: string;
      dataId: string;
      by: string;
      via: ViaWord;
      /** Purposes the grantee keeps for this data id through the owner's ALL_DATA consent. */
      stillAllowedThroughAllData: PurposeRef[];
    }
  | {
      kind: "lockdown";
      when: ChainMoment;
      by: string;
      via: ViaWord;
      epoch: string;
      /** Consents in force and managers that the lockdown ended. */
      consentsEnded: number;
      managersEnded: number;
    }
  | {
      /** A signed withdrawal relayed in a batch that did not apply (the reason in words). */
      kind: "signed-not-applied";
      when: ChainMoment;
      grantee: string;
      dataId: string;
      reason: string;
    };

/** One appointment of a manager: from when, and until when and how it ended (null: current). */
export interface ManagerTerm {
  manager: string;
  appointed: ChainMoment;
  ended: (ChainMoment & { how: "removed" | "lockdown" }) | null;
}

export interface IntegrationItem {
  address: string;
  status: "Active" | "Suspended";
  /** What it may receive. */
  purposes: PurposeRef[];
  /** Its last registration, update, suspension or reinstatement. */
  since: { at: number; block: number };
  metadataHash: string;
  /** Shares it received (of the subject's data in an owner report; of anyone's otherwise). */
  sharesReceived: number;
  /** Whether the report's owner has a consent in force for it (owner reports only). */
  holdsConsent: boolean;
}

/**
 * One opening of an asset, as the custodians' release logs show it: the shape of
 * `releasesByOwner` in src/custodian/verify-releases.ts (k custodians' releases of one request).
 */
export interface KeyRelease {
  owner: string;
  dataId: string;
  version: string;
  requester: string;
  purpose: number;
  purposeName: string;
  /** Earliest release time of the request, ISO 8601. */
  at: string;
  block: number;
  custodians: string[];
  ownRequest: boolean;
}

/** The charts' series (also the JSON report's `charts`). Times are unix seconds. */
export interface ChartData {
  timeline: { start: number; grants: number; withdrawals: number }[];
  perPurpose: { label: string; uses: number; shares: number }[];
  /** `label` is the integration's address. */
  perIntegration: { label: string; shares: number }[];
}

/** What every view says about where its data comes from. */
export interface ViewMeta {
  chainId: number;
  /** The last block whose events were read. */
  lastBlock: number;
  /** The time statuses are judged at (unix seconds): relative times are said from here. */
  asOf: number;
  /** When the report or page was made (ISO 8601). */
  generatedAt: string;
  /** Where the data comes from, in words ("on-chain events synced by the audit toolkit"). */
  source: string;
}

/** One line of the owner's history timeline (every change, use and share, in chain order). */
export interface HistoryItem {
  when: ChainMoment;
  kind:
    | "granted"
    | "withdrawn"
    | "withdrew-all"
    | "signed-withdrawal-not-applied"
    | "manager-appointed"
    | "manager-removed"
    | "used"
    | "shared";
  /** The grantee, manager, processor, or the sender of a share. */
  party?: string;
  /** The recipient of a share. */
  recipient?: string;
  dataId?: string;
  purposes?: PurposeRef[];
  /** Of a grant: unix seconds, null for no expiry. */
  expiresAt?: number | null;
  /** Who sent it, and how it was authorised (consent changes). */
  by?: string;
  via?: ViaWord;
  /** Words the row adds (a failed signed withdrawal's reason). */
  note?: string;
}

export interface OwnerView {
  kind: "owner";
  meta: ViewMeta;
  owner: string;
  /** Every stored consent: those in force and those ended by expiry or lockdown. */
  consents: ConsentItem[];
  uses: UseItem[];
  shares: ShareItem[];
  withdrawals: WithdrawalItem[];
  managers: ManagerTerm[];
  integrations: IntegrationItem[];
  /** Key releases of the owner's assets, when custodians' logs were given (undefined: none given). */
  releases?: KeyRelease[];
  /** Every change, use and share of the owner's, in chain order. */
  history: HistoryItem[];
  charts: ChartData;
}

/** One purpose of the Art. 30 record. */
export interface RopaPurpose {
  purpose: PurposeRef;
  status: "grantable" | "deprecated";
  definedBlock: number;
  metadataHash: string;
  dataSubjects: number;
  processors: number;
  /** Integrations that may receive data for it. */
  recipients: { address: string; status: "Active" | "Suspended" }[];
  /** Consents in force for it: without expiry, and expiring between `first` and `last` (unix seconds). */
  retention: { noExpiry: number; expiring: number; first: number | null; last: number | null };
  uses: number;
  shares: number;
}

export interface RopaView {
  kind: "ropa";
  meta: ViewMeta;
  purposes: RopaPurpose[];
  recipients: IntegrationItem[];
  totals: { liveConsents: number; dataSubjects: number; uses: number; shares: number };
  charts: ChartData;
}

export type ReportView = OwnerView | RopaView;
