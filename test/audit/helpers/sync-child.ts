// Runs one sync in a separate process so a test can SIGKILL it mid-way.
// Usage: node --import tsx sync-child.ts <rpcUrl> <registry> <dbPath>
import { openAuditDb, syncEvents } from "../../../src/audit/index.js";

const [rpc, registry, dbPath] = process.argv.slice(2);
const db = openAuditDb(dbPath);
await syncEvents({ db, rpc, registry, progress: "none", initialRange: 4, maxRange: 4, timeoutMs: 2000 });
db.close();
