import type { Command } from "commander";

import { ConsentSdkError } from "../../sdk/errors.js";
import { roleWords } from "../../sdk/errors.js";
import type { GovernanceClient, GovernedAction, GovernedCall } from "../../sdk/governance-client.js";
import { decodeGovernedCall, readyWords, targetName } from "../calldata.js";
import type { CliContext } from "../context.js";
import { resolvePurposeDocument } from "../../documents/resolve.js";
import { documentSources } from "../purposes.js";
import { CliError } from "../failure.js";
import { formatFields, printJson, printLines } from "../output.js";
import {
  builtInTokens,
  isoOf,
  parseAddress,
  parseHashOrText,
  parsePurposeId,
  parsePurposeList,
  purposeTokens,
} from "../parse.js";
import { printSent, purposesWords, withContext } from "./shared.js";

/**
 * Governance through the ConsentAccessManager: every governed call is first proposed (scheduled,
 * and visible on-chain with its calldata), then executed after the execution delay; the
 * proposer or a guardian can cancel it meanwhile. `propose` and `execute` take the same
 * arguments, so the executed call is exactly the one announced. Roles: GOVERNOR_ROLE (1)
 * proposes and executes, GUARDIAN_ROLE (2) may cancel any operation at once, ADMIN_ROLE (0)
 * changes roles and routing, and itself only through the delay.
 */

type Phase = "propose" | "execute";

interface Definition {
  name: string;
  args: string;
  description: string;
  options?: (cmd: Command) => Command;
  /** The action (arguments parsed and checked up front) and its words. */
  parse(args: string[], options: Record<string, string>): { action: GovernedAction; summary: string };
}

const METADATA_HELP = "public description (text is hashed with keccak256) or a 0x 32-byte hash";

function integrationOptions(cmd: Command): Command {
  return cmd
    .requiredOption("--purposes <list>", "purposes the integration may receive (names or ids)")
    .requiredOption("--metadata <text|0xhash>", METADATA_HELP);
}

/** register-integration / update-integration: the same arguments, another function. */
function integrationDefinition(kind: "registerIntegration" | "updateIntegration"): Definition {
  const register = kind === "registerIntegration";
  return {
    name: register ? "register-integration" : "update-integration",
    args: "<address>",
    description: register
      ? "register a third-party integration allowed to receive the given purposes"
      : "change a registered integration's purposes and metadata",
    options: integrationOptions,
    parse: ([address], o) => {
      const request = {
        integration: parseAddress("<address>", address),
        purposes: parsePurposeList("--purposes", o.purposes),
        metadataHash: parseHashOrText("--metadata", o.metadata),
      };
      const verb = register
        ? `register integration ${request.integration} for`
        : `update integration ${request.integration} to`;
      return { action: { kind, request }, summary: `${verb} ${purposesWords(request.purposes)}` };
    },
  };
}

/** suspend-integration / reinstate-integration: one address, another function. */
function statusDefinition(kind: "suspendIntegration" | "reinstateIntegration"): Definition {
  const suspend = kind === "suspendIntegration";
  return {
    name: suspend ? "suspend-integration" : "reinstate-integration",
    args: "<address>",
    description: suspend
      ? "suspend an integration (stops new shares to it; consents are untouched)"
      : "reinstate a suspended integration",
    parse: ([address]) => {
      const integration = parseAddress("<address>", address);
      return {
        action: { kind, integration },
        summary: `${suspend ? "suspend" : "reinstate"} integration ${integration}`,
      };
    },
  };
}

const DEFINITIONS: Definition[] = [
  integrationDefinition("registerIntegration"),
  integrationDefinition("updateIntegration"),
  statusDefinition("suspendIntegration"),
  statusDefinition("reinstateIntegration"),
  {
    name: "define-purpose",
    args: "<id>",
    description: "define a new purpose id (ids are never reused)",
    options: (cmd) => cmd.requiredOption("--metadata <text|0xhash>", METADATA_HELP),
    parse: ([id], o) => {
      const purpose = parsePurposeId("<id>", id);
      return {
        action: { kind: "definePurpose", id: purpose, metadataHash: parseHashOrText("--metadata", o.metadata) },
        summary: `define purpose ${purpose}`,
      };
    },
  },
  {
    name: "deprecate-purpose",
    args: "<id>",
    description: "stop new grants of a purpose (existing consents are untouched)",
    parse: ([id]) => {
      const purpose = parsePurposeId("<id>", id);
      return { action: { kind: "deprecatePurpose", id: purpose }, summary: `deprecate purpose ${purpose}` };
    },
  },
];

/** Refuses, before anything is sent, a signer that holds no role allowed to call the governed function. */
async function checkRole(ctx: CliContext, gov: GovernanceClient, call: GovernedCall): Promise<void> {
  const me = await ctx.signerAddress();
  const role = await gov.roleOf(call);
  const { isMember } = await gov.membership(role, me);
  if (!isMember) {
    throw new CliError(
      `${me} does not hold ${roleWords(role)}, the role this governed function needs; only its members can propose or execute it. Nothing was sent`,
    );
  }
}

/**
 * `gov propose` checks the call would succeed if executed now (see the SDK's `simulate`:
 * eth_call with state overrides where the node has them, else the target's state), and refuses
 * one that would fail on execution unless `--force`.
 */
async function checkWouldSucceed(gov: GovernanceClient, call: GovernedCall, summary: string): Promise<void> {
  const sim = await gov.simulate(call);
  if (sim.error === null) return;
  const how =
    sim.method === "state-override"
      ? "simulated on the current state with the node's eth_call state overrides"
      : "checked against the target's current state (this node has no eth_call state overrides)";
  throw new CliError(
    `gov propose: "${summary}" would fail when executed: ${sim.error.message} (${how}); nothing was scheduled. Pass --force to schedule it anyway`,
  );
}

function addPhase(gov: Command, phase: Phase): void {
  const group = gov
    .command(phase)
    .description(
      phase === "propose"
        ? "schedule a governed call (refused, unless --force, if it would fail when executed)"
        : "execute a scheduled call after its delay",
    );
  for (const def of DEFINITIONS) {
    let cmd = group.command(`${def.name} ${def.args}`).description(def.description);
    if (def.options) cmd = def.options(cmd);
    if (phase === "propose") cmd = cmd.option("--force", "schedule it even if it would fail when executed now");
    cmd.action(
      withContext<Record<string, string>>(async (ctx, o, args) => {
        // Purposes that governance defined are named by their documents: read them only when needed.
        if (o.purposes !== undefined && !builtInTokens(purposeTokens("--purposes", o.purposes)))
          await ctx.purposeNames();
        const parsed = def.parse(args, o);
        const { action } = parsed;
        let { summary } = parsed;
        if (action.kind === "definePurpose") {
          // The new purpose's name, when its document is at hand (`--documents`).
          const doc = await resolvePurposeDocument(
            { id: action.id, metadataHash: action.metadataHash },
            documentSources(ctx.opts.documents),
          );
          if (doc.status === "ok") summary = `define purpose ${action.id} ${doc.document.name}`;
        }
        const client = await ctx.governance({ write: true });
        const call = client.callOf(action);
        await checkRole(ctx, client, call);
        if (phase === "propose" && (o as { force?: boolean }).force !== true)
          await checkWouldSucceed(client, call, summary);
        const tx =
          phase === "propose"
            ? client.propose(call, `propose ${def.name}`)
            : client.execute(call, `execute ${def.name}`);
        const sent = await ctx.send<unknown>(tx);
        const result = sent.result as { readyAt?: bigint; operationId?: string | null };
        const when =
          phase === "propose" && result.readyAt !== undefined
            ? `; executable from ${isoOf(result.readyAt)} (${readyWords(result.readyAt, await ctx.now())})`
            : "";
        printSent(ctx, `${phase === "propose" ? "proposed" : "executed"}: ${summary}${when}`, sent);
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
    .command("cancel <operation-id>")
    .description("cancel a pending operation (its proposer, or a guardian: GUARDIAN_ROLE 2)")
    .action(
      withContext<Record<string, never>>(async (ctx, _o, [operationId]) => {
        if (!/^0x[0-9a-fA-F]{64}$/.test(operationId.trim())) {
          throw new CliError(
            `<operation-id>: "${operationId}" is not an operation id (0x followed by 64 hex digits, as gov pending shows it)`,
          );
        }
        const client = await ctx.governance({ write: true });
        let sent;
        try {
          sent = await ctx.send(client.cancel(operationId.trim()));
        } catch (err) {
          if (err instanceof ConsentSdkError && err.code === "NOT_FOUND")
            throw new CliError(err.message.replace(/^cancel: /, "gov cancel: "));
          throw err;
        }
        const name = targetName(sent.result.target, { ...client.targets, accessManager: client.address });
        const words = decodeGovernedCall(name, sent.result.data).words;
        printSent(
          ctx,
          `cancelled: ${words} (operation ${sent.result.operationId}, proposed by ${sent.result.caller})`,
          sent,
        );
      }),
    );
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
