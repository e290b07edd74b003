/**
 * The watched contracts' events as the auditor stores and replays them: a discriminated union on
 * `name`, with JSON-safe values (integers as exact decimal strings, addresses lowercase hex,
 * bytes as 0x-hex). `decode.ts` produces it from logs; `model.ts`, the reports and the signature
 * checks narrow on `name` instead of casting. Field names are the ABI's (test/audit/decode.ts
 * checks every ABI event decodes to exactly these fields).
 *
 * The values are what the database holds: a forged row may claim a name and carry fields of the
 * wrong shape, so integer fields are still read through `uintArg` (model.ts), which names the
 * field when it is not an unsigned integer.
 */

/** A decimal unsigned integer (uint8 … uint256), exact. */
export type Uint = string;
/** A lowercase 0x-address. */
export type Address = string;
/** A lowercase 0x-prefixed 32-byte word. */
export type Bytes32 = string;

export interface EventArgsByName {
  // ConsentRegistry
  ConsentGranted: {
    owner: Address;
    grantee: Address;
    dataId: Bytes32;
    purposes: Uint;
    expiresAt: Uint;
    noticeHash: Bytes32;
    actor: Address;
    version: Uint;
  };
  ConsentRevoked: { owner: Address; grantee: Address; dataId: Bytes32; actor: Address; version: Uint };
  AllConsentsRevoked: { owner: Address; newEpoch: Uint; actor: Address; via: Uint };
  SignedRevokeFailed: { owner: Address; grantee: Address; dataId: Bytes32; index: Uint; reason: string };
  ManagerSet: { owner: Address; manager: Address; approved: boolean };
  DataUsed: { owner: Address; processor: Address; dataId: Bytes32; purpose: Uint; evidence: Bytes32 };
  DataShared: { owner: Address; from: Address; to: Address; dataId: Bytes32; purpose: Uint; evidence: Bytes32 };
  PurposeDefined: { id: Uint; metadataHash: Bytes32 };
  PurposeDeprecated: { id: Uint };
  EIP712DomainChanged: Record<string, never>;
  AuthorityUpdated: { authority: Address };
  // IntegrationRegistry
  IntegrationRegistered: { integration: Address; metadataHash: Bytes32; purposes: Uint };
  IntegrationUpdated: { integration: Address; metadataHash: Bytes32; purposes: Uint };
  IntegrationSuspended: { integration: Address };
  IntegrationReinstated: { integration: Address };
  // AccessManager (scheduling only; its other events are kept as Unknown)
  OperationScheduled: {
    operationId: Bytes32;
    nonce: Uint;
    schedule: Uint;
    caller: Address;
    target: Address;
    data: string;
  };
  OperationExecuted: { operationId: Bytes32; nonce: Uint };
  OperationCanceled: { operationId: Bytes32; nonce: Uint };
  /** A log of a watched contract whose topic no ABI here knows: kept raw, so nothing is dropped. */
  Unknown: { topics: string; data: string };
}

export type EventName = keyof EventArgsByName;

/** One decoded event: `{ name, args }`, narrowed by `name`. */
export type AuditEvent = { [N in EventName]: { name: N; args: EventArgsByName[N] } }[EventName];

/** Where an event sits in the chain (a row of the events table without its content). */
export interface EventPosition {
  blockNumber: number;
  logIndex: number;
  txHash: string;
  blockTimestamp: number;
  /** The `events.via` column (derived at sync time); null for other events or rows without it. */
  via?: number | null;
}

/** One event as the replay sees it: its position and its decoded content. */
export type ReplayEvent = EventPosition & AuditEvent;

/** The consent-changing events (the ones with a `via`). */
export type ConsentChange = Extract<ReplayEvent, { name: "ConsentGranted" | "ConsentRevoked" | "AllConsentsRevoked" }>;
