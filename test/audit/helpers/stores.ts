import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";

import { type AuditStore, openAuditDb, openPostgresStore, type PgClient } from "../../../src/audit/index.js";

/**
 * The backends the store tests run on: SQLite always, PostgreSQL when OMNI_PG_URL names a
 * server (`npm run test:pg` starts a throwaway cluster and sets it, see scripts/pg/test.sh).
 *
 * - Default `npm test` without a server: the PostgreSQL runs are skipped, saying so once.
 * - OMNI_PG_REQUIRED=1 (test:pg): no URL, or a server that does not answer, FAILS the run.
 * - OMNI_AUDIT_BACKENDS=postgresql (test:pg): only PostgreSQL (SQLite ran in npm test already).
 *
 * Every `open()` on PostgreSQL is a new database of the cluster (`omni_t_<random>`), so tests
 * never see each other's rows; `url` is its URL (for CLI and child-process tests).
 */
export interface Backend {
  name: "sqlite" | "postgresql";
  /** A fresh, empty store (SQLite: a file at `path` or in memory). */
  open(path?: string): Promise<AuditStore>;
  /** A fresh, empty database to pass as --db: a SQLite path (given) or a new PostgreSQL URL. */
  target(path: string): Promise<string>;
}

const PG_URL = process.env.OMNI_PG_URL ?? "";
const REQUIRED = process.env.OMNI_PG_REQUIRED === "1";
const ONLY = (process.env.OMNI_AUDIT_BACKENDS ?? "sqlite,postgresql").split(",").map((s) => s.trim());
let warned = false;

/** A new database in the cluster of OMNI_PG_URL; returns its URL. */
export async function createPgDatabase(): Promise<string> {
  const { Client } = createRequire(import.meta.url)("pg") as { Client: new (c: object) => PgClient };
  const admin = new Client({ connectionString: PG_URL });
  const name = `omni_t_${randomBytes(6).toString("hex")}`;
  try {
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end().catch(() => undefined);
  }
  const u = new URL(PG_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Stores opened by `open()`: closed after the run, so a test that failed before its close() leaves no connection keeping mocha alive. */
const opened: AuditStore[] = [];
after(async () => {
  for (const s of opened.splice(0)) await s.close();
});

export function backends(): Backend[] {
  const list: Backend[] = [];
  if (ONLY.includes("sqlite")) {
    list.push({
      name: "sqlite",
      open: async (path?: string) => openAuditDb(path ?? ":memory:"),
      target: async (path: string) => path,
    });
  }
  if (ONLY.includes("postgresql")) {
    if (PG_URL === "") {
      if (REQUIRED)
        throw new Error("OMNI_PG_REQUIRED=1 but OMNI_PG_URL is not set: start a cluster (scripts/pg/start.sh)");
      if (!warned) {
        warned = true;
        console.log(
          "    (PostgreSQL store tests skipped: OMNI_PG_URL is not set; `npm run test:pg` starts a throwaway cluster and runs them)",
        );
      }
    } else {
      list.push({
        name: "postgresql",
        open: async () => {
          const store = await openPostgresStore(await createPgDatabase());
          opened.push(store);
          return store;
        },
        target: async () => createPgDatabase(),
      });
    }
  }
  return list;
}

/** A SQLite store's or a PostgreSQL store's rows of one table, in key order (for exact comparisons). */
export async function tableRows(store: AuditStore, sql: string): Promise<unknown[]> {
  if (store.dialect === "sqlite") {
    return (store as unknown as { sql: { prepare(s: string): { all(): unknown[] } } }).sql.prepare(sql).all();
  }
  return (await (store as unknown as { sql: PgClient }).sql.query(sql)).rows;
}
