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
