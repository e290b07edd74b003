#!/usr/bin/env node
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { Command, CommanderError } from "commander";

import { registerAuditCommands } from "./commands/audit.js";
import { registerCustodianCommands } from "./commands/custodian.js";
import { registerDataCommands } from "./commands/data.js";
import { registerGovernanceCommands } from "./commands/gov.js";
import { registerOwnerCommands } from "./commands/owner.js";
import { registerReadCommands } from "./commands/read.js";
import { registerProcessorCommands, registerRelayCommands } from "./commands/relay.js";
import { registerSignCommands } from "./commands/sign.js";
import { addGlobalOptions } from "./context.js";
import { EXIT_USAGE, describeFailure, exitCodeOf, notConfirmedLine, notConfirmedOf } from "./failure.js";
import { printJson } from "./output.js";

/**
 * `omni-consent`: the command line of the consent registry. Commands only parse, validate and
 * print; the chain is reached through `src/sdk` (and `src/audit` for the auditor commands).
 * Every failure is one line on stderr — `error: <what to fix>` — with exit code 1, or 2 when
 * the command line itself is malformed, or 4 when a relay applied only part of its messages. A
 * transaction that was sent but whose outcome is unknown is never reported as failed: the line
 * reads `sent, not confirmed: <hash> …` and the exit code is 3 (see `failure.ts`). No stack
 * traces.
 */
export function buildProgram(): Command {
  const program = new Command("omni-consent")
    .description("grant, withdraw, enforce and audit data-use consent on the OmniTensor consent registry")
    .exitOverride()
    .showSuggestionAfterError(true);
  addGlobalOptions(program);
  registerOwnerCommands(program);
  registerSignCommands(program);
  registerRelayCommands(program);
  registerProcessorCommands(program);
  registerGovernanceCommands(program);
  registerReadCommands(program);
  registerAuditCommands(program);
  registerDataCommands(program);
  registerCustodianCommands(program);
  return program;
}

/** Runs the CLI on `argv` (as `process.argv`) and returns the exit code. */
export async function runCli(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
    return 0;
  } catch (err) {
    // Commander has printed its own one-line message (unknown option, missing argument, …).
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : EXIT_USAGE;
    const sent = notConfirmedOf(err);
    if (sent) {
      if (program.opts<{ json?: boolean }>().json === true) printJson({ status: "sent-not-confirmed", ...sent });
      process.stderr.write(`${notConfirmedLine(sent)}\n`);
    } else {
      process.stderr.write(`error: ${describeFailure(err)}\n`);
    }
    return exitCodeOf(err);
  }
}

/** Run directly (`node dist/src/cli/main.js`) or through the `bin/omni-consent.js` shim, which only imports this module. */
function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    const real = realpathSync(script);
    return real === realpathSync(fileURLToPath(import.meta.url)) || /(^|[\\/])omni-consent(\.js)?$/.test(real);
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  // Exit explicitly: an RPC provider may hold timers that would otherwise keep the process alive.
  process.exit(await runCli(process.argv));
}
