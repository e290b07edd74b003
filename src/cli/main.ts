#!/usr/bin/env node
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { Command, CommanderError } from "commander";

import { registerAuditCommands } from "./commands/audit.js";
import { registerCustodianCommands } from "./commands/custodian.js";
import { registerDataCommands } from "./commands/data.js";
import { registerExportCommands } from "./commands/export.js";
import { registerLabelCommands } from "./commands/labels.js";
import { registerGovernanceCommands } from "./commands/gov.js";
import { registerOwnerCommands } from "./commands/owner.js";
import { registerReadCommands } from "./commands/read.js";
import { registerProcessorCommands, registerRelayCommands } from "./commands/relay.js";
import { registerSignCommands } from "./commands/sign.js";
import { addGlobalOptions, checkNoKeyOnCommandLine } from "./context.js";
import type { GlobalOptions } from "./context.js";
import { EXIT_USAGE, describeFailure, exitCodeOf, notConfirmedLine, notConfirmedOf } from "./failure.js";
import { printJson, takePrintedJson } from "./output.js";
import { ownProcess } from "./own-process.js";

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
  registerLabelCommands(program);
  registerExportCommands(program);
  passSharedOptions(program);
  // One check for every command, whether or not it builds a CliContext (`data`, `custodian`, …).
  program.hook("preAction", (_root, action) => {
    checkNoKeyOnCommandLine(
      program.opts<GlobalOptions>(),
      action.options.some((o) => o.long === "--key"),
    );
  });
  return program;
}

function everyCommand(cmd: Command, visit: (c: Command) => void): void {
  visit(cmd);
  for (const sub of cmd.commands) everyCommand(sub, visit);
}

/**
 * Gives a subcommand the options it shares with the root program. Commander lets the root take
 * every option it knows wherever it stands on the line, so `custodian start --key k.json
 * --registry 0x… --rpc …` would otherwise see none of its own `--key`, `--registry`, `--rpc` or
 * `--chain-id` (a required one "not specified", the others silently left at their defaults).
 */
function passSharedOptions(program: Command): void {
  const shared = new Set(program.options.map((o) => o.long).filter((l) => l !== undefined));
  everyCommand(program, (parent) => {
    if (parent.commands.length === 0) return;
    parent.hook("preSubcommand", (_parent, sub) => {
      for (const option of sub.options) {
        if (option.long === undefined || !shared.has(option.long)) continue;
        const name = option.attributeName();
        if (program.getOptionValueSource(name) !== "cli") continue;
        sub.setOptionValueWithSource(name, program.getOptionValue(name), "cli");
      }
    });
  });
}

/** Edit distance (insert, delete, substitute, swap of neighbours) between two short strings. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/**
 * The first `--option` of `argv` that neither the command it is given to nor its parents know,
 * with the nearest known one. Commander checks required options before unknown ones, so a
 * misspelt `--grante` would otherwise be reported as a missing `--grantee`.
 */
export function unknownOptionOf(
  program: Command,
  argv: readonly string[],
): { flag: string; suggestion?: string } | null {
  let cmd = program;
  const known = (c: Command): string[] => {
    const flags: string[] = ["--help"];
    for (let x: Command | null = c; x; x = x.parent) for (const o of x.options) if (o.long) flags.push(o.long);
    return flags;
  };
  for (const token of argv.slice(2)) {
    if (token === "--") break;
    if (!token.startsWith("--")) {
      const sub = cmd.commands.find((c) => c.name() === token || c.aliases().includes(token));
      if (sub) cmd = sub;
      continue;
    }
    const flag = token.split("=")[0];
    const flags = known(cmd);
    if (flags.includes(flag) || flags.some((f) => f === flag.replace(/^--no-/, "--"))) continue;
    const ranked = flags
      .map((f) => ({ f, d: distance(flag, f) }))
      .filter((x) => x.d <= Math.max(2, Math.floor(flag.length / 4)))
      .sort((x, y) => x.d - y.d);
    return { flag, ...(ranked.length > 0 ? { suggestion: ranked[0].f } : {}) };
  }
  return null;
}

/** Runs the CLI on `argv` (as `process.argv`) and returns the exit code. */
export async function runCli(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  const json = (): boolean => program.opts<{ json?: boolean }>().json === true || argv.includes("--json");
  let usage = "";
  everyCommand(program, (c) =>
    c.configureOutput({
      outputError: (text) => {
        usage += text;
      },
    }),
  );
  takePrintedJson();
  try {
    await program.parseAsync([...argv]);
    return 0;
  } catch (err) {
    const printedAlready = takePrintedJson();
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return 0;
      // Commander's message (unknown option, missing argument, …) as one line; a misspelt option
      // is named as such, with the option meant, rather than as a missing required one.
      let line = usage
        .trim()
        .replace(/\s*\n\s*\(Did you mean (.*)\?\)/, " (did you mean $1?)")
        .replace(/\n/g, " ");
      if (err.code === "commander.missingMandatoryOptionValue") {
        const unknown = unknownOptionOf(program, argv);
        if (unknown) {
          line = `error: unknown option '${unknown.flag}'${unknown.suggestion ? ` (did you mean ${unknown.suggestion}?)` : ""}`;
        }
      }
      if (line === "") line = `error: ${err.message.replace(/^error: /, "")}`;
      if (json()) printJson({ status: "error", error: line.replace(/^error: /, ""), exitCode: EXIT_USAGE });
      process.stderr.write(`${line}\n`);
      return EXIT_USAGE;
    }
    const sent = notConfirmedOf(err);
    const code = exitCodeOf(err);
    if (sent) {
      if (json()) printJson({ status: "sent-not-confirmed", ...sent });
      process.stderr.write(`${notConfirmedLine(sent)}\n`);
    } else {
      const line = describeFailure(err);
      // A command that printed its JSON document before failing (a partly applied relay, a
      // verification with violations) has said it all there: stdout keeps one document.
      if (json() && !printedAlready) printJson({ status: "error", error: line, exitCode: code });
      process.stderr.write(`error: ${line}\n`);
    }
    return code;
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
  ownProcess.value = true;
  // Exit explicitly: an RPC provider may hold timers that would otherwise keep the process alive.
  process.exit(await runCli(process.argv));
}
