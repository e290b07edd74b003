/**
 * The auditor toolkit: copies the registry's events into SQLite, rebuilds state at any block,
 * re-verifies every recorded use and share with an independent implementation of the rules, and
 * writes subject-access, processor and Art. 30 reports. Depends only on ethers, better-sqlite3,
 * node builtins and the SDK's ABI/constants/purposes — never on Hardhat.
 */
export {
  AUDIT_SCHEMA_VERSION,
  type AuditDb,
  type Checkpoint,
  type EventRow,
  openAuditDb,
  readSyncMeta,
  type SyncMeta,
} from "./db.js";
export { decodeLog, versionOfEvent, viaOfEvent } from "./decode.js";
export { ConsentModel, nextGeneration, type ReplayEvent, signedVersionApplies, type Violation } from "./model.js";
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
export { openProvider } from "./rpc.js";
export { describeReason, recoverStrict, SignatureAudit, type SignedRequestRow, type Warning } from "./signatures.js";
export { AuditState, type ConsentAtBlock, type ConsentRecord, expiryText, stateAt } from "./state.js";
export { HistoryMismatchError, type SyncOptions, type SyncResult, syncEvents } from "./sync.js";
export { verifyHistory, type VerifyResult } from "./verify.js";
