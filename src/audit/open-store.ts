import { isPostgresUrl, openPostgresStore, type PostgresStoreOptions } from "./postgres-store.js";
import { openAuditDb } from "./sqlite-store.js";
import type { AuditStore } from "./store.js";

/**
 * Opens the audit store `--db` names: a postgres:// or postgresql:// URL is a PostgreSQL
 * database (postgres-store.ts), anything else a SQLite file (sqlite-store.ts, the default).
 * `snapshot` (PostgreSQL only; a SQLite reader needs none, it reads one file in WAL mode): every
 * read in one consistent transaction, writes refused — for verify, state and report.
 */
export async function openAuditStore(target: string, opts: PostgresStoreOptions = {}): Promise<AuditStore> {
  return isPostgresUrl(target) ? openPostgresStore(target, opts) : openAuditDb(target);
}
