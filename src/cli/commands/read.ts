import type { Command } from "commander";

import { versionWords } from "../../sdk/errors.js";
import { purposeName } from "../../sdk/purposes.js";
import { formatFields, formatTable, printJson, printLines, shortHash } from "../output.js";
import { isoOf, parseAddress, parseDataId, parseOnePurpose } from "../parse.js";
import { purposesWords, withContext } from "./shared.js";

/** Read-only commands: no signer needed, `--json` for scripts, tables for people. */

interface KeyOptions {
  owner: string;
  grantee: string;
  data: string;
}

function parseKey(o: KeyOptions): { owner: string; grantee: string; dataId: string } {
  return {
    owner: parseAddress("--owner", o.owner),
    grantee: parseAddress("--grantee", o.grantee),
    dataId: parseDataId("--data", o.data),
  };
}

function addKeyOptions(cmd: Command): Command {
  return cmd
    .requiredOption("--owner <address>", "the data owner")
    .requiredOption("--grantee <address>", "the grantee")
    .requiredOption("--data <id|ALL>", "the data id (or ALL)");
}

export function registerReadCommands(program: Command): void {
  addKeyOptions(
    program
      .command("status")
      .description("the consent stored for (owner, grantee, data) and whether a purpose is allowed"),
  )
    .option("--purpose <name|id>", "also check this purpose (honours the owner's ALL consent)")
    .action(
      withContext<KeyOptions & { purpose?: string }>(async (ctx, o) => {
        const key = parseKey(o);
        const purpose = o.purpose === undefined ? undefined : parseOnePurpose("--purpose", o.purpose);
        const client = await ctx.registry({ write: false });
        const consent = await client.getConsent(key.owner, key.grantee, key.dataId);
        const allowed =
          purpose === undefined ? undefined : await client.isAllowed(key.owner, key.grantee, key.dataId, purpose);
        if (ctx.json) {
          printJson({ ...key, consent, ...(purpose === undefined ? {} : { purpose, allowed }) });
          return;
        }
        const fields: [string, string][] = [
          ["owner", key.owner],
          ["grantee", key.grantee],
          ["data", key.dataId],
          ["active", consent.active ? "yes" : "no"],
          ["purposes", consent.purposes.length === 0 ? "(none stored)" : purposesWords(consent.purposes)],
          ["expires", isoOf(consent.expiresAt)],
          ["epoch", consent.epoch.toString()],
          ["version", `${versionWords(consent.version)}; the next signed message for it needs a higher one`],
        ];
        if (purpose !== undefined) {
          const how =
            allowed === true && !(consent.active && consent.purposes.includes(purpose))
              ? " (only through the owner's ALL-data consent to this grantee: revoking this data id alone does not stop it)"
              : "";
          fields.push([`allowed ${purposeName(purpose)}(${purpose})`, allowed === true ? `yes${how}` : "no"]);
        }
        printLines(formatFields(fields));
      }),
    );

  addKeyOptions(
    program.command("history").description("every grant, revocation and revoke-all that shaped one consent"),
  ).action(
    withContext<KeyOptions>(async (ctx, o) => {
      const key = parseKey(o);
      const client = await ctx.registry({ write: false });
      const entries = await client.history(key.owner, key.grantee, key.dataId);
      if (ctx.json) {
        printJson({ ...key, entries });
        return;
      }
      printLines(
        formatTable(
          ["block", "event", "details", "by", "tx"],
          entries.map((e) => [
            String(e.blockNumber),
            e.kind,
            e.kind === "granted"
              ? `${purposesWords(e.purposes)}; expires ${isoOf(e.expiresAt)}; version ${e.version}`
              : e.kind === "allRevoked"
                ? `lockdown: new epoch ${e.newEpoch}`
                : `version ${e.version}`,
            `${e.actor} (${e.via})`,
            e.transactionHash,
          ]),
          "(no events for this consent)",
        ),
      );
    }),
  );

  program
    .command("purposes")
    .description("the purpose catalogue as the chain has it")
    .action(
      withContext(async (ctx) => {
        const client = await ctx.registry({ write: false });
        const catalogue = await client.purposes();
        if (ctx.json) {
          printJson(catalogue);
          return;
        }
        printLines(
          formatTable(
            ["id", "name", "grantable", "metadata"],
            catalogue.purposes.map((p) => [
              String(p.id),
              p.name,
              p.grantable ? "yes" : "no (deprecated)",
              p.metadataHash,
            ]),
            "(no purposes defined)",
          ),
        );
      }),
    );

  program
    .command("integrations")
    .description("third-party integrations registered by governance")
    .action(
      withContext(async (ctx) => {
        const client = await ctx.integrations({ write: false });
        const list = await client.list();
        if (ctx.json) {
          printJson({ integrations: list });
          return;
        }
        printLines(
          formatTable(
            ["integration", "status", "purposes", "metadata"],
            list.map((i) => [i.address, i.status, purposesWords(i.purposes), shortHash(i.metadataHash)]),
            "(no integrations registered)",
          ),
        );
      }),
    );

  program
    .command("deployment")
    .description("addresses of the consent system on the node's chain (from Ignition's records)")
    .action(
      withContext(async (ctx) => {
        const deployment = await ctx.deployment();
        if (ctx.json) {
          printJson(deployment);
          return;
        }
        printLines(
          formatFields([
            ["chain", deployment.chainId.toString()],
            ["AccessManager", deployment.AccessManager],
            ["IntegrationRegistry", deployment.IntegrationRegistry],
            ["ConsentRegistry", deployment.ConsentRegistry],
          ]),
        );
      }),
    );
}
