import type { Command } from "commander";

import { versionWords } from "../../sdk/errors.js";
import { ALL_DATA } from "../../sdk/constants.js";
import { purposesToMask } from "../../sdk/purposes.js";
import { resolveIntegrationDocument } from "../../documents/resolve.js";
import { formatFields, formatTable, printJson, printLines, shortHash } from "../output.js";
import { parseAddress, parseDataId, purposeTokens, whenOf } from "../parse.js";
import { documentSources } from "../purposes.js";
import { CliError } from "../failure.js";
import { purposesWords, resolvePurposes, withContext } from "./shared.js";

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
        if (o.purpose?.includes(",")) {
          throw new CliError(`--purpose: give one purpose, not a list (status checks one; run it once per purpose)`);
        }
        const tokens = o.purpose === undefined ? undefined : purposeTokens("--purpose", o.purpose);
        const client = await ctx.registry({ write: false });
        const names = await ctx.purposeNames();
        const purpose = tokens === undefined ? undefined : (await resolvePurposes(ctx, "--purpose", tokens))[0];
        const now = await ctx.now();
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
          ["data", key.dataId === ALL_DATA ? "ALL_DATA" : key.dataId],
          ["active", consent.active ? "yes" : "no"],
          ["purposes", consent.purposes.length === 0 ? "(none stored)" : purposesWords(consent.purposes, names)],
          ["expires", whenOf(consent.expiresAt, now)],
          ["epoch", consent.epoch.toString()],
          ["version", `${versionWords(consent.version)}; the next signed message for it needs a higher one`],
        ];
        if (purpose !== undefined) {
          const how =
            allowed === true && !(consent.active && consent.purposes.includes(purpose))
              ? " (only through the owner's ALL-data consent to this grantee: revoking this data id alone does not stop it)"
              : "";
          fields.push([`allowed ${names.label(purpose)}`, allowed === true ? `yes${how}` : "no"]);
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
      const [entries, names, now] = await Promise.all([
        client.history(key.owner, key.grantee, key.dataId),
        ctx.purposeNames(),
        ctx.now(),
      ]);
      const provider = await ctx.provider();
      const times = new Map<number, bigint>();
      await Promise.all(
        [...new Set(entries.map((e) => e.blockNumber))].map(async (b) =>
          times.set(b, BigInt((await provider.getBlock(b))?.timestamp ?? 0)),
        ),
      );
      // A signed change is the owner's word (its key or wallet signed it); the actor only relayed it.
      const described = entries.map((e) => ({
        ...e,
        at: times.get(e.blockNumber) ?? 0n,
        signer: e.via === "Signature" ? key.owner : null,
        by:
          e.via === "Signature"
            ? `signed by the owner ${key.owner}, relayed by ${e.actor}`
            : e.via === "Manager"
              ? `${e.actor} (manager of the owner)`
              : `${e.actor} (the owner)`,
      }));
      if (ctx.json) {
        printJson({ ...key, entries: described });
        return;
      }
      printLines(
        formatTable(
          ["when", "event", "details", "by", "tx"],
          described.map((e) => [
            `${whenOf(e.at, now)}, block ${e.blockNumber}`,
            e.kind,
            e.kind === "granted"
              ? `${purposesWords(e.purposes, names)}; expires ${whenOf(e.expiresAt, now)}; version ${e.version}`
              : e.kind === "allRevoked"
                ? `lockdown: new epoch ${e.newEpoch}`
                : `version ${e.version}`,
            e.by,
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
        const names = await ctx.purposeNames();
        const purposes = catalogue.purposes.map((p) => ({ ...p, name: names.name(p.id) }));
        if (ctx.json) {
          printJson({ ...catalogue, purposes });
          return;
        }
        printLines(
          formatTable(
            ["id", "name", "grantable", "metadata"],
            purposes.map((p) => [
              String(p.id),
              p.name,
              p.grantable ? "yes" : "no (deprecated)",
              names.notes.get(p.id) ?? p.metadataHash,
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
        const names = await ctx.purposeNames();
        const sources = documentSources(ctx.opts.documents);
        const documents = await Promise.all(
          list.map((i) =>
            resolveIntegrationDocument(
              { integration: i.address, metadataHash: i.metadataHash, purposes: purposesToMask(i.purposes) },
              sources,
            ),
          ),
        );
        const named = list.map((i, n) => {
          const d = documents[n];
          return { ...i, name: d.status === "ok" ? d.document.displayName : null, document: d.message };
        });
        if (ctx.json) {
          printJson({ integrations: named });
          return;
        }
        printLines(
          formatTable(
            ["integration", "name", "status", "purposes", "metadata"],
            named.map((i) => [
              i.address,
              i.name ?? "(no document)",
              i.status,
              purposesWords(i.purposes, names),
              shortHash(i.metadataHash),
            ]),
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
