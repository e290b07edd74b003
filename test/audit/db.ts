import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import Database from "better-sqlite3";
import { expect } from "chai";

import { AUDIT_SCHEMA_VERSION, openAuditDb } from "../../src/audit/index.js";
import { ROOT } from "./helpers/chain.js";

/** The events table as the registry 1.x auditor wrote it (schema 1: `via` in args, nonces). */
const SCHEMA_1_EVENTS = `CREATE TABLE events (
  chain_id INTEGER NOT NULL, block_number INTEGER NOT NULL, block_hash TEXT NOT NULL, log_index INTEGER NOT NULL,
  tx_hash TEXT NOT NULL, address TEXT NOT NULL, event_name TEXT NOT NULL, args_json TEXT NOT NULL,
  block_timestamp INTEGER NOT NULL, UNIQUE (chain_id, block_number, log_index))`;

describe("audit: the store's schema version", () => {
  const dir = mkdtempSync(join(tmpdir(), "omni-db-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("a new database is audit schema 3 with via and version columns on events and the log digests", () => {
    const path = join(dir, "new.db");
    const db = openAuditDb(path);
    expect(AUDIT_SCHEMA_VERSION).to.equal(3);
    expect(db.sql.pragma("user_version", { simple: true })).to.equal(3);
    const columns = (table: string) => (db.sql.pragma(`table_info(${table})`) as { name: string }[]).map((c) => c.name);
    expect(columns("events").slice(-2)).to.deep.equal(["via", "version"]);
    expect(columns("sync_state")).to.include.members(["genesis_hash", "digest"]);
    expect(columns("log_blocks")).to.deep.equal(["chain_id", "block_number", "digest"]);
    expect(columns("signed_requests")).to.include.members(["epoch", "version", "deadline"]);
    expect(columns("signed_requests")).to.not.include("nonce");
    db.close();
    // Opening it again is fine.
    openAuditDb(path).close();
  });

  it("a registry 1.x database is refused, unchanged, saying why (library and CLI)", () => {
    const path = join(dir, "old.db");
    const old = new Database(path);
    old.exec(SCHEMA_1_EVENTS);
    old
      .prepare("INSERT INTO events VALUES (31337, 5, '0x01', 0, '0x02', '0x03', 'ConsentGranted', ?, 1)")
      .run(JSON.stringify({ via: "0", nonce: "1" }));
    old.close();
    const bytes = readFileSync(path);
    const message = `${path} was written by an auditor for registry 1.x (audit schema 1: events with nonces and a via field); this auditor reads audit schema 3 (registry 2.0.0) only and does not convert databases of other schemas: sync into a new --db`;
    expect(() => openAuditDb(path)).to.throw(message);
    expect(readFileSync(path).equals(bytes), "the file is untouched").to.equal(true);

    const cli = spawnSync(
      process.execPath,
      ["--import", "tsx", join(ROOT, "src/cli/main.ts"), "audit", "verify", "--db", path],
      { cwd: ROOT, encoding: "utf8" },
    );
    expect([cli.status, cli.stdout, cli.stderr]).to.deep.equal([1, "", `error: ${message}\n`]);
    expect(readFileSync(path).equals(bytes)).to.equal(true);
  });

  it("a database of schema 2 (no log digest) and one of a newer schema are refused too", () => {
    const older = join(dir, "schema2.db");
    const db2 = new Database(older);
    db2.pragma("user_version = 2");
    db2.exec("CREATE TABLE events (chain_id INTEGER)");
    db2.close();
    expect(() => openAuditDb(older)).to.throw(
      `${older} was written by audit schema 2 (no log digest); this auditor reads audit schema 3 (registry 2.0.0) only and does not convert databases of other schemas: sync into a new --db`,
    );
    const path = join(dir, "newer.db");
    const db = new Database(path);
    db.pragma("user_version = 4");
    db.close();
    expect(() => openAuditDb(path)).to.throw(
      `${path} was written by audit schema 4; this auditor reads audit schema 3 (registry 2.0.0) only and does not convert databases of other schemas: sync into a new --db`,
    );
  });
});
