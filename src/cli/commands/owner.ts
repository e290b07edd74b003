import type { Command } from "commander";

import type { CliContext } from "../context.js";
import { CliError } from "../failure.js";
import { formatTable, printJson, printLines, shortHash } from "../output.js";
import { isoOf, parseAddress, parseDataId, parseTime } from "../parse.js";
import {
  DATA_HELP,
  addGrantOptions,
  expiryWords,
  grantBasics,
  printSent,
  purposesWords,
  withContext,
} from "./shared.js";
import type { GrantOptions, KeyOptions } from "./shared.js";

/**
 * Commands of a data owner: grant and withdraw consent, appoint managers, lock down, list its
 * consents. (Signed messages for relayers are `sign.ts`.)
 */

/** What a lockdown ends, said before it is sent (read from the chain). */
async function lockdownWords(ctx: CliContext): Promise<{ consents: number; managers: string[]; epoch: bigint }> {
  const client = await ctx.registry({ write: false });
  const owner = await ctx.signerAddress();
  const [consents, managers, epoch] = await Promise.all([
    client.activeConsentsOf(owner),
    client.managersOf(owner),
    client.epochOf(owner),
  ]);
  return { consents: consents.length, managers, epoch };
}

export function registerOwnerCommands(program: Command): void {
  addGrantOptions(program.command("grant").description("grant consent (as the signer, the data owner)")).action(
    withContext<GrantOptions>(async (ctx, o) => {
      const basics = grantBasics(o);
      const client = await ctx.registry({ write: true });
      const expiresAt = parseTime("--expires", o.expires ?? "never", await ctx.now(), { allowNever: true });
      const sent = await ctx.send(client.grant({ ...basics, expiresAt }));
      printSent(
        ctx,
        `granted ${basics.grantee} consent on ${shortHash(basics.dataId)} for ${purposesWords(basics.purposes)} ${expiryWords(expiresAt)}`,
        sent,
      );
    }),
  );

  program
    .command("revoke")
    .description("withdraw the consent given to a grantee for a data id")
    .requiredOption("--grantee <address>", "whose consent to withdraw")
    .requiredOption("--data <id|ALL>", DATA_HELP)
    .action(
      withContext<KeyOptions>(async (ctx, o) => {
        const key = { grantee: parseAddress("--grantee", o.grantee), dataId: parseDataId("--data", o.data) };
        const client = await ctx.registry({ write: true });
        const sent = await ctx.send(client.revoke(key));
        printSent(ctx, `revoked the consent of ${key.grantee} on ${shortHash(key.dataId)}`, sent);
      }),
    );

  program
    .command("lockdown")
    .alias("revoke-all")
    .description(
      "lockdown: in one transaction end every consent you gave, every signed message you made before, and every manager you appointed",
    )
    .action(
      withContext(async (ctx) => {
        const client = await ctx.registry({ write: true });
        const before = await lockdownWords(ctx);
        const sent = await ctx.send(client.lockdown());
        const managers = before.managers.length === 0 ? "none was appointed" : `removed: ${before.managers.join(", ")}`;
        printSent(
          ctx,
          [
            `lockdown: epoch ${before.epoch} → ${sent.result.newEpoch}. Ended, all at once:`,
            `  consents:         all ${before.consents} active consent${before.consents === 1 ? "" : "s"} you gave (ALL-data ones included)`,
            `  signed messages:  every grant, revocation and lockdown you signed before, whoever holds them`,
            `  managers:         every manager (${managers}); appoint again with \`managers add\``,
          ].join("\n"),
          sent,
        );
      }),
    );

  const managers = program.command("managers").description("appoint or remove accounts that may act for the signer");
  for (const [name, approved] of [
    ["add", true],
    ["remove", false],
  ] as const) {
    managers
      .command(`${name} <address>`)
      .description(
        approved
          ? "appoint a manager (it may grant and revoke for you until you remove it or lock down)"
          : "remove a manager (refused, sending nothing, if it is not one)",
      )
      .action(
        withContext<Record<string, never>>(async (ctx, _o, [address]) => {
          const manager = parseAddress("<address>", address);
          const client = await ctx.registry({ write: true });
          const sent = await ctx.send(client.setManager(manager, approved));
          printSent(ctx, `${approved ? "appointed" : "removed"} manager ${manager}`, sent);
        }),
      );
  }

  program
    .command("my-consents")
    .description("active consents given by an owner (default: the signer)")
    .option("--owner <address>", "whose consents (default: the signer's address)")
    .action(
      withContext<{ owner?: string }>(async (ctx, o) => {
        let owner: string;
        if (o.owner !== undefined) owner = parseAddress("--owner", o.owner);
        else if (ctx.hasSigner()) owner = await ctx.signerAddress();
        else
          throw new CliError(
            "my-consents: give --owner <address>, or configure a signer (OMNI_PRIVATE_KEY or --account)",
          );
        const client = await ctx.registry({ write: false });
        const consents = await client.activeConsentsOf(owner);
        if (ctx.json) {
          printJson({ owner, consents });
          return;
        }
        printLines(
          `active consents of ${owner}:`,
          formatTable(
            ["grantee", "data", "purposes", "expires"],
            consents.map((c) => [c.grantee, shortHash(c.dataId), purposesWords(c.purposes), isoOf(c.expiresAt)]),
            "(none)",
          ),
        );
      }),
    );
}
