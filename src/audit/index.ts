/**
 * The auditor toolkit: copies the registry's events into an audit store (SQLite by default),
 * rebuilds state at any block, re-verifies every recorded use and share with an independent
 * implementation of the rules, and writes subject-access, processor and Art. 30 reports.
 * Depends only on ethers, node builtins and the SDK's ABI/constants/purposes — never on Hardhat.
 * The SQLite store needs the better-sqlite3 package, the PostgreSQL store the pg package, each
 * loaded when a store is opened (see sqlite-store.ts, postgres-store.ts); nothing in these
 * declarations refers to their types.
 */
import type { SqliteAuditStore } from "./sqlite-store.js";
import type { AuditStore, SyncMeta } from "./store.js";

export { anchorToChain, type ChainAnchor } from "./anchor.js";
export { decodeLog, versionOfEvent, viaOfEvent } from "./decode.js";
export { DIGEST_VERSION } from "./digest.js";
export { boundHeapGrowth } from "./heap.js";
export { ecdsaBackend } from "./ecdsa.js";
export type { AuditEvent, EventArgsByName, EventName, EventPosition } from "./events.js";
export {
  ConsentModel,
  type ConsentStatus,
  nextGeneration,
  type ReplayEvent,
  signedVersionApplies,
  type Violation,
} from "./model.js";
export type { IntegrityFinding } from "./integrity.js";
export { replayEvents } from "./replay.js";
export {
  buildReport,
  renderCsv,
  renderHtml,
  type Report,
  type ReportFormat,
  type ReportKind,
  type ReportOptions,
  writeReport,
} from "./report.js";
export { openRpc, RpcClient, RpcError, type RpcPolicy, type RpcSender, type RpcStats } from "./rpc.js";
export { describeReason, recoverStrict, SignatureAudit, type SignedRequestRow, type Warning } from "./signatures.js";
export { openAuditStore } from "./open-store.js";
export {
  isPostgresUrl,
  openPostgresStore,
  type PgClient,
  PostgresAuditStore,
  type PostgresStoreOptions,
  redactUrl,
} from "./postgres-store.js";
export { openAuditDb, type SqliteConnection, SqliteAuditStore, type SqliteStatement } from "./sqlite-store.js";
export { AuditState, type ConsentAtBlock, type ConsentRecord, expiryText, stateAt } from "./state.js";
export {
  AUDIT_SCHEMA_VERSION,
  type AuditStore,
  type BlockRef,
  ChainBusyError,
  type ChainClaim,
  type Checkpoint,
  type ChunkWrite,
  defaultChainId,
  type EventRow,
  ownerScoped,
  type ReplayQuery,
  type SyncMeta,
} from "./store.js";
export { HistoryMismatchError, type SyncOptions, type SyncResult, syncEvents } from "./sync.js";
export { type VerifyOptions, verifyHistory, type VerifyResult } from "./verify.js";

/** The SQLite store `openAuditDb` returns (its connection is `.sql`). */
export type AuditDb = SqliteAuditStore;

/** The sync checkpoint and watched addresses, or undefined before the first sync. */
export function readSyncMeta(store: AuditStore, chainId?: number): Promise<SyncMeta | undefined> {
  return store.meta(chainId);
}
