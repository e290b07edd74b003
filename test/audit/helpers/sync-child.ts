// Runs one sync in a separate process so a test can SIGKILL it mid-way.
// Usage: node --import tsx sync-child.ts <rpcUrl> <registry> <dbPath>
// Mocha loads every file under test/, so this only runs when it is the entry point.
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { openAuditDb, syncEvents } from "../../../src/audit/index.js";

const entry = process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
if (entry) {
  const [rpc, registry, dbPath] = process.argv.slice(2);
  const db = openAuditDb(dbPath);
  await syncEvents({ db, rpc, registry, progress: "none", initialRange: 4, maxRange: 4, timeoutMs: 2000 });
  db.close();
}
