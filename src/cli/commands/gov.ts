import type { Command } from "commander";

import type { ConsentTransaction } from "../../sdk/client.js";
import type { GovernanceClient } from "../../sdk/integrations.js";
import { decodeGovernedCall, readyWords, targetName } from "../calldata.js";
import { formatFields, printJson, printLines } from "../output.js";
import { isoOf, parseAddress, parseHashOrText, parsePurposeId, parsePurposeList } from "../parse.js";
import { printSent, purposesWords, withContext } from "./shared.js";

/**
 * Governance through the AccessManager: every governed call is first proposed (scheduled, and
 * visible on-chain with its calldata), then executed after the execution delay. `propose` and
 * `execute` take the same arguments, so the executed call is exactly the one announced.
 */

type Phase = "propose" | "execute";

/** A governed action: its arguments parsed up front, then the SDK transaction for a phase. */
interface GovAction {
  summary: string;
  tx(gov: GovernanceClient, phase: Phase): ConsentTransaction<unknown>;
}

interface Definition {
  name: string;
  args: string;
  description: string;
  options?: (cmd: Command) => Command;
  parse(args: string[], options: Record<string, string>): GovAction;
}

const METADATA_HELP = "public description (text is hashed with keccak256) or a 0x 32-byte hash";

const DEFINITIONS: Definition[] = [
  {
    name: "register-integration",
    args: "<address>",
    description: "register a third-party integration allowed to receive the given purposes",
    options: (cmd) =>
      cmd
        .requiredOption("--purposes <list>", "purposes the integration may receive (names or ids)")
        .requiredOption("--metadata <text|0xhash>", METADATA_HELP),
    parse: ([address], o) => {
      const req = {
        integration: parseAddress("<address>", address),
        purposes: parsePurposeList("--purposes", o.purposes),
        metadataHash: parseHashOrText("--metadata", o.metadata),
      };
      return {
        summary: `register integration ${req.integration} for ${purposesWords(req.purposes)}`,
        tx: (gov, phase) =>
          phase === "propose" ? gov.proposeRegisterIntegration(req) : gov.executeRegisterIntegration(req),
      };
    },
  },
  {
    name: "suspend-integration",
    args: "<address>",
    description: "suspend an integration (stops new shares to it; consents are untouched)",
    parse: ([address]) => {
      const integration = parseAddress("<address>", address);
      return {
        summary: `suspend integration ${integration}`,
        tx: (gov, phase) =>
          phase === "propose" ? gov.proposeSuspendIntegration(integration) : gov.executeSuspendIntegration(integration),
      };
    },
  },
  {
    name: "define-purpose",
    args: "<id>",
    description: "define a new purpose id (ids are never reused)",
    options: (cmd) => cmd.requiredOption("--metadata <text|0xhash>", METADATA_HELP),
    parse: ([id], o) => {
      const purpose = parsePurposeId("<id>", id);
      const metadata = parseHashOrText("--metadata", o.metadata);
      return {
        summary: `define purpose ${purpose}`,
        tx: (gov, phase) =>
          phase === "propose"
            ? gov.proposeDefinePurpose(purpose, metadata)
            : gov.executeDefinePurpose(purpose, metadata),
      };
    },
  },
  {
    name: "deprecate-purpose",
    args: "<id>",
    description: "stop new grants of a purpose (existing consents are untouched)",
    parse: ([id]) => {
      const purpose = parsePurposeId("<id>", id);
      return {
        summary: `deprecate purpose ${purpose}`,
        tx: (gov, phase) =>
          phase === "propose" ? gov.proposeDeprecatePurpose(purpose) : gov.executeDeprecatePurpose(purpose),
      };
    },
  },
];

function addPhase(gov: Command, phase: Phase): void {
  const group = gov
    .command(phase)
    .description(phase === "propose" ? "schedule a governed call" : "execute a scheduled call after its delay");
  for (const def of DEFINITIONS) {
    const cmd = group.command(`${def.name} ${def.args}`).description(def.description);
    (def.options ? def.options(cmd) : cmd).action(
      withContext<Record<string, string>>(async (ctx, o, args) => {
        const action = def.parse(args, o);
        const client = await ctx.governance({ write: true });
        const sent = await ctx.send(action.tx(client, phase));
        const result = sent.result as { readyAt?: bigint; operationId?: string | null };
        const when =
          phase === "propose" && result.readyAt !== undefined ? `; executable from ${isoOf(result.readyAt)}` : "";
        printSent(ctx, `${phase === "propose" ? "proposed" : "executed"}: ${action.summary}${when}`, sent);
      }),
    );
  }
}

export function registerGovernanceCommands(program: Command): void {
  const gov = program
    .command("gov")
    .description("governance: purposes and integrations, through the AccessManager delay");
  addPhase(gov, "propose");
  addPhase(gov, "execute");
  gov
    .command("pending")
    .description("scheduled governed calls not yet executed, cancelled or expired, decoded into words")
    .action(
      withContext(async (ctx) => {
        const client = await ctx.governance({ write: false });
        const [pending, now] = await Promise.all([client.pending(), ctx.now()]);
        const known = { ...client.targets, accessManager: client.address };
        const described = pending.map((p) => {
          const name = targetName(p.target, known);
          const call = decodeGovernedCall(name, p.data);
          return {
            ...p,
            targetName: name,
            readyAtIso: isoOf(p.readyAt),
            decoded: { function: call.function, args: call.args },
            description: call.words,
            when: readyWords(p.readyAt, now),
          };
        });
        if (ctx.json) {
          printJson({ chainTime: now, pending: described.map(({ when: _when, ...rest }) => rest) });
          return;
        }
        if (described.length === 0) {
          printLines("(no pending operations)");
          return;
        }
        const blocks = described.map((d) =>
          [
            d.description,
            formatFields([
              ["operation", d.operationId],
              ["target", `${d.targetName ?? "unknown contract"} ${d.target}`],
              ["ready at", `${d.readyAtIso} (${d.when})`],
              ["proposed", `by ${d.caller} in tx ${d.transactionHash} (block ${d.blockNumber})`],
            ])
              .split("\n")
              .map((line) => `  ${line}`)
              .join("\n"),
          ].join("\n"),
        );
        printLines(
          `${described.length} pending operation${described.length === 1 ? "" : "s"} (chain time ${isoOf(now)}):`,
          "",
          blocks.join("\n\n"),
        );
      }),
    );
}
