// Run inside the consumer test's temporary project with plain Node (no Hardhat), after an
// SDK-only install: the audit entry loads without better-sqlite3, and opening a store says
// which package to install.
import { tmpdir } from "node:os";
import { join } from "node:path";

import * as audit from "omnitensor-consent/audit";

let message = "";
try {
  await audit.openAuditDb(join(tmpdir(), `omni-consumer-${process.pid}.db`));
} catch (err) {
  message = err instanceof Error ? err.message : String(err);
}
if (!message.includes("better-sqlite3")) {
  throw new Error(
    `opening an audit store without better-sqlite3 should name the package; got: ${message || "no error"}`,
  );
}
console.log(`ok  omnitensor-consent/audit loads; a store needs better-sqlite3: ${message}`);

// The same for the PostgreSQL store: without pg installed, opening one names the package
// (before any connection is tried).
let pgMessage = "";
try {
  await audit.openAuditStore("postgresql://omni@127.0.0.1:1/audit");
} catch (err) {
  pgMessage = err instanceof Error ? err.message : String(err);
}
if (!pgMessage.includes("the pg package")) {
  throw new Error(
    `opening a PostgreSQL audit store without pg should name the package; got: ${pgMessage || "no error"}`,
  );
}
console.log(`ok  a PostgreSQL audit store needs pg: ${pgMessage}`);
