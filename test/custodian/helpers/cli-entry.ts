import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { Command } from "commander";

import { registerCustodianCommands } from "../../../src/cli/commands/custodian.js";
import { registerDataCommands } from "../../../src/cli/commands/data.js";

/**
 * `omni-consent` reduced to the commands of issue 12, with the same global options main.ts
 * adds (--rpc, --registry, --chain-id, --account, --json) and its one-line errors. (The full
 * main.ts also loads the SDK-based commands, which another branch is reworking.)
 */
// Mocha loads every file under test/: run only as the entry point.
const entry = process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
if (entry) {
  const program = new Command("omni-consent")
    .exitOverride()
    .option("--rpc <url>", "JSON-RPC endpoint", "http://127.0.0.1:8545")
    .option("--registry <address>")
    .option("--chain-id <id>")
    .option("--account <index>")
    .option("--json");
  registerDataCommands(program);
  registerCustodianCommands(program);
  try {
    await program.parseAsync(process.argv);
    process.exit(0);
  } catch (err) {
    const e = err as { code?: string; exitCode?: number; message: string };
    if (e.code?.startsWith("commander.")) process.exit(e.exitCode === 0 ? 0 : 2);
    process.stderr.write(`error: ${e.message.split("\n")[0]}\n`);
    process.exit(1);
  }
}
