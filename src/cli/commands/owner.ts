import { existsSync } from "node:fs";

import type { Command } from "commander";
import { getAddress } from "ethers";

import { ALL_DATA, NO_EXPIRY } from "../../sdk/constants.js";
import { purposesToMask } from "../../sdk/purposes.js";
import type { ConsentRegistryClient } from "../../sdk/client.js";
import { confirmRisk } from "../confirm.js";
import type { CliContext } from "../context.js";
import { CliError } from "../failure.js";
import { formatTable, printJson, printLines, shortHash } from "../output.js";
import { LATEST_EXPIRY, parseAddress, parseDataId, parseTime, whenOf } from "../parse.js";
import {
  DATA_HELP,
  addGrantOptions,
  expiryWords,
  grantBasics,
  printSent,
  purposesWords,
  resolvePurposes,
  withContext,
} from "./shared.js";
import type { GrantOptions, KeyOptions } from "./shared.js";
import { dataWords, labelsOf } from "./labels.js";

/**
 * Commands of a data owner: grant and withdraw consent, appoint managers, lock down, list its
 * consents. A manager acting for an owner passes `--owner <address>` to grant, revoke and
 * revoke-all (the registry's grantFor / revokeFor / revokeAllFor: refused unless the signer is
 * one of that owner's current managers). Risky writes warn first (see `../confirm.ts`).
 * (Signed messages for relayers are `sign.ts`.)
 */

const OWNER_HELP = "act for this owner as one of its managers (default: the signer is the owner)";

/** The owner a write acts for: `--owner` (manager mode) or the signer. */
async function ownerOf(ctx: CliContext, o: { owner?: string }): Promise<{ owner: string; manager: boolean }> {
  const me = getAddress(await ctx.signerAddress());
  if (o.owner === undefined) return { owner: me, manager: false };
  const owner = parseAddress("--owner", o.owner);
  return { owner, manager: owner !== me };
}

/** Refuses, before sending, a manager-mode write by an account that is not the owner's manager. */
async function checkManager(ctx: CliContext, client: ConsentRegistryClient, owner: string): Promise<void> {
  const me = getAddress(await ctx.signerAddress());
  if (!(await client.isManager(owner, me))) {
    throw new CliError(
      `--owner: ${me} is not a manager of ${owner}, so it cannot act for it; the owner appoints one with \`omni-consent managers add ${me}\`. Nothing was sent`,
    );
  }
}

/** What a lockdown ends, said before it is sent (read from the chain). */
async function lockdownWords(
  client: ConsentRegistryClient,
  owner: string,
): Promise<{ consents: number; managers: string[]; epoch: bigint }> {
  const [consents, managers, epoch] = await Promise.all([
    client.activeConsentsOf(owner),
    client.managersOf(owner),
    client.epochOf(owner),
  ]);
  return { consents: consents.length, managers, epoch };
}

interface ManagerEvent {
  manager: string;
  approved: boolean;
  block: number;
  logIndex: number;
  tx: string;
}

/** Every manager an owner ever appointed, current or past, with when it was appointed and how it ended. */
async function managerHistory(ctx: CliContext, client: ConsentRegistryClient, owner: string) {
  const c = client.contract;
  const [set, lockdowns] = await Promise.all([
    c.queryFilter(c.filters.ManagerSet(owner)),
    c.queryFilter(c.filters.AllConsentsRevoked(owner)),
  ]);
  const events: ManagerEvent[] = set.map((l) => ({
    manager: getAddress(l.args.manager),
    approved: l.args.approved,
    block: l.blockNumber,
    logIndex: l.index,
    tx: l.transactionHash,
  }));
  const provider = await ctx.provider();
  const blocks = new Set([...events.map((e) => e.block), ...lockdowns.map((l) => l.blockNumber)]);
  const times = new Map<number, bigint>();
  await Promise.all([...blocks].map(async (b) => times.set(b, BigInt((await provider.getBlock(b))?.timestamp ?? 0))));
  const now = await ctx.now();
  const order = (a: { block: number; logIndex: number }, b: { block: number; logIndex: number }) =>
    a.block - b.block || a.logIndex - b.logIndex;
  const managers = [...new Set(events.map((e) => e.manager))];
  return {
    now,
    rows: await Promise.all(
      managers.map(async (m) => {
        const own = events.filter((e) => e.manager === m).sort(order);
        const appointed = [...own].reverse().find((e) => e.approved)!;
        const after = own.filter((e) => order(e, appointed) > 0);
        const removed = after.find((e) => !e.approved);
        const lockdown = lockdowns
          .map((l) => ({ block: l.blockNumber, logIndex: l.index, tx: l.transactionHash }))
          .filter((l) => order(l, appointed) > 0)
          .sort(order)[0];
        const current = await client.isManager(owner, m);
        let ended: { how: string; at: bigint; tx: string } | null = null;
        if (!current) {
          const first = [removed, lockdown].filter((x) => x !== undefined).sort(order)[0];
          if (first !== undefined) {
            ended = {
              how: first === removed ? "removed" : "ended by lockdown",
              at: times.get(first.block)!,
              tx: first.tx,
            };
          }
        }
        return {
          manager: m,
          current,
          appointedAt: times.get(appointed.block)!,
          appointedTx: appointed.tx,
          ended,
        };
      }),
    ),
  };
}

/**
 * The note after revoking one data id while the grantee's consent on ALL of the owner's data
 * stands (read from the chain after the revoke): that consent still allows the data id.
 */
async function stillAllowedByAllData(
  ctx: CliContext,
  client: ConsentRegistryClient,
  owner: string,
  grantee: string,
  data: string,
): Promise<string[]> {
  const all = await client.getConsent(owner, grantee, ALL_DATA);
  if (!all.active) return [];
  const [names, now] = await Promise.all([ctx.purposeNames(), ctx.now()]);
  return [
    `${grantee} still holds consent on ALL data of ${owner} (${purposesWords(all.purposes, names)} ${expiryWords(all.expiresAt, now)}), which covers ${data} too; \`revoke --grantee ${grantee} --data ALL\` ends it`,
  ];
}

/**
 * The signed lockdown of `owner` that the signing store holds and that can still be relayed (its
 * epoch is the chain's and its deadline has not passed): relayed, it ends every consent, later
 * grants included. Read only when the store has a file for the owner (nothing is created).
 */
async function outstandingLockdown(
  ctx: CliContext,
  client: ConsentRegistryClient,
  owner: string,
  now: bigint,
): Promise<{ epoch: bigint; deadline: bigint } | undefined> {
  const store = ctx.signingStore();
  const scope = { chainId: await ctx.chainId(), registry: client.address, owner };
  if (!existsSync(store.fileOf(scope))) return undefined;
  const signed = await store.transact(scope, (state) => state.revokeAll);
  if (signed === undefined || signed.deadline < now) return undefined;
  return signed.epoch === (await client.epochOf(owner)) ? signed : undefined;
}

export function registerOwnerCommands(program: Command): void {
  addGrantOptions(
    program
      .command("grant")
      .description("grant consent (as the data owner, or as its manager with --owner)")
      .option("--owner <address>", OWNER_HELP),
  ).action(
    withContext<GrantOptions & { owner?: string }>(async (ctx, o) => {
      const basics = grantBasics(o);
      const client = await ctx.registry({ write: true });
      const names = await ctx.purposeNames();
      const purposes = await resolvePurposes(ctx, "--purposes", basics.purposeTokens);
      const now = await ctx.now();
      const expiresAt = parseTime("--expires", o.expires ?? "never", now, { allowNever: true, latest: LATEST_EXPIRY });
      const { owner, manager } = await ownerOf(ctx, o);
      if (manager) await checkManager(ctx, client, owner);
      const labels = await labelsOf(ctx);
      const data = dataWords(basics.dataId, labels);
      const warnings: string[] = [];
      if (basics.grantee === owner) {
        warnings.push(
          `this grants ${owner} consent to its own data (grantee = owner); an owner needs no consent to use its own data, so this is usually a mistyped --grantee`,
        );
      }
      // The broadest consent there is: every purpose the registry offers, on every data id, forever.
      if (basics.dataId === ALL_DATA && expiresAt === NO_EXPIRY) {
        const { grantableMask } = await client.purposes();
        if ((grantableMask & ~purposesToMask(purposes)) === 0n) {
          warnings.push(
            `this grants ${basics.grantee} consent on ALL data of ${owner} (every data id, those added later too) for every purpose the registry offers (${purposesWords(purposes, names)}) with no expiry: it lasts until revoked (\`revoke --data ALL\`) or a lockdown; --expires bounds it`,
          );
        }
      }
      const lockdown = await outstandingLockdown(ctx, client, owner, now);
      if (lockdown !== undefined) {
        warnings.push(
          `a lockdown of ${owner} signed for epoch ${lockdown.epoch} is outstanding (the signing store holds it; relayable until ${whenOf(lockdown.deadline, now)}): if it is relayed, it ends this grant too`,
        );
      }
      const before = await client.getConsent(owner, basics.grantee, basics.dataId);
      const same = before.purposes.join(",") === purposes.join(",");
      if (before.active && !same) {
        warnings.push(
          `${basics.grantee} already holds consent on ${data}; this grant replaces its purposes:`,
          `  before: ${purposesWords(before.purposes, names)} ${expiryWords(before.expiresAt, now)}`,
          `  after:  ${purposesWords(purposes, names)} ${expiryWords(expiresAt, now)}`,
        );
        const dropped = before.purposes.filter((p) => !purposes.includes(p));
        if (dropped.length > 0) warnings.push(`  withdrawn by this grant: ${purposesWords(dropped, names)}`);
      }
      if (warnings.length > 0) {
        await confirmRisk({ lines: warnings, what: "grant" }, ctx.opts.yes === true);
      }
      const req = {
        grantee: basics.grantee,
        dataId: basics.dataId,
        purposes,
        noticeHash: basics.noticeHash,
        expiresAt,
      };
      const sent = await ctx.send(manager ? client.grantFor(owner, req) : client.grant(req));
      printSent(
        ctx,
        `granted ${basics.grantee} consent on ${data} for ${purposesWords(purposes, names)} ${expiryWords(expiresAt, now)}${manager ? ` (for ${owner}, as its manager)` : ""}`,
        sent,
      );
    }),
  );

  program
    .command("revoke")
    .description("withdraw the consent given to a grantee for a data id (as the owner, or its manager with --owner)")
    .requiredOption("--grantee <address>", "whose consent to withdraw")
    .requiredOption("--data <id|ALL>", DATA_HELP)
    .option("--owner <address>", OWNER_HELP)
    .action(
      withContext<KeyOptions & { owner?: string }>(async (ctx, o) => {
        const key = { grantee: parseAddress("--grantee", o.grantee), dataId: parseDataId("--data", o.data) };
        const client = await ctx.registry({ write: true });
        const { owner, manager } = await ownerOf(ctx, o);
        if (manager) await checkManager(ctx, client, owner);
        const data = dataWords(key.dataId, await labelsOf(ctx));
        const sent = await ctx.send(manager ? client.revokeFor(owner, key) : client.revoke(key));
        printSent(
          ctx,
          `revoked the consent of ${key.grantee} on ${data}${manager ? ` (for ${owner}, as its manager)` : ""}`,
          sent,
          key.dataId === ALL_DATA ? [] : await stillAllowedByAllData(ctx, client, owner, key.grantee, data),
        );
      }),
    );

  program
    .command("lockdown")
    .alias("revoke-all")
    .description(
      "lockdown: in one transaction end every consent you gave, every signed message you made before, and every manager you appointed (asks first; --yes for scripts)",
    )
    .option("--owner <address>", OWNER_HELP)
    .action(
      withContext<{ owner?: string }>(async (ctx, o) => {
        const client = await ctx.registry({ write: true });
        const { owner, manager } = await ownerOf(ctx, o);
        if (manager) await checkManager(ctx, client, owner);
        const before = await lockdownWords(client, owner);
        const managers = before.managers.length === 0 ? "none was appointed" : `removed: ${before.managers.join(", ")}`;
        await confirmRisk(
          {
            lines: [
              `lockdown of ${owner}${manager ? " (you act as its manager, and lose that role too)" : ""} ends at once, with no undo:`,
              `  all ${before.consents} active consent${before.consents === 1 ? "" : "s"} (ALL-data ones included), every signed message made before, and every manager (${before.managers.length})`,
            ],
            what: "lockdown",
          },
          ctx.opts.yes === true,
        );
        const sent = await ctx.send(manager ? client.revokeAllFor(owner) : client.lockdown());
        printSent(
          ctx,
          [
            `lockdown of ${owner}: epoch ${before.epoch} → ${sent.result.newEpoch}. Ended, all at once:`,
            `  consents:         all ${before.consents} active consent${before.consents === 1 ? "" : "s"} given (ALL-data ones included)`,
            `  signed messages:  every grant, revocation and lockdown signed before, whoever holds them`,
            `  managers:         every manager (${managers}); appoint again with \`managers add\``,
          ].join("\n"),
          sent,
        );
      }),
    );

  const managers = program
    .command("managers")
    .description("appoint, remove or list accounts that may act for an owner");
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
          if (approved) {
            const owner = getAddress(await ctx.signerAddress());
            await confirmRisk(
              {
                lines: [
                  `${manager} becomes a manager of ${owner}: it may grant consent on any of your data (ALL data included, with no expiry) and revoke it, for you, until you remove it (\`managers remove\`) or lock down`,
                ],
                what: "managers add",
              },
              ctx.opts.yes === true,
            );
          }
          const sent = await ctx.send(client.setManager(manager, approved));
          printSent(ctx, `${approved ? "appointed" : "removed"} manager ${manager}`, sent);
        }),
      );
  }
  managers
    .command("list")
    .description("an owner's managers, current and past (from ManagerSet and lockdown events)")
    .option("--owner <address>", "whose managers (default: the signer's address)")
    .action(
      withContext<{ owner?: string }>(async (ctx, o) => {
        const owner = await readOwner(ctx, o, "managers list");
        const client = await ctx.registry({ write: false });
        const { now, rows } = await managerHistory(ctx, client, owner);
        if (ctx.json) {
          printJson({ owner, chainTime: now, managers: rows });
          return;
        }
        printLines(
          `managers of ${owner} (chain time ${whenOf(now, now)}):`,
          formatTable(
            ["manager", "status", "appointed", "ended"],
            rows.map((r) => [
              r.manager,
              r.current ? "current" : "past",
              whenOf(r.appointedAt, now),
              r.ended === null ? (r.current ? "-" : "(no event)") : `${r.ended.how} ${whenOf(r.ended.at, now)}`,
            ]),
            "(no manager was ever appointed)",
          ),
        );
      }),
    );

  program
    .command("my-consents")
    .description("active consents given by an owner (default: the signer)")
    .option("--owner <address>", "whose consents (default: the signer's address)")
    .action(
      withContext<{ owner?: string }>(async (ctx, o) => {
        const owner = await readOwner(ctx, o, "my-consents");
        const client = await ctx.registry({ write: false });
        const consents = await client.activeConsentsOf(owner);
        if (ctx.json) {
          printJson({ owner, consents });
          return;
        }
        const [names, now, labels] = await Promise.all([ctx.purposeNames(), ctx.now(), labelsOf(ctx)]);
        printLines(
          `active consents of ${owner}:`,
          formatTable(
            ["grantee", "data", "purposes", "expires"],
            consents.map((c) => [
              c.grantee,
              labels.get(c.dataId) ?? (c.dataId === ALL_DATA ? "ALL_DATA" : shortHash(c.dataId)),
              purposesWords(c.purposes, names),
              whenOf(c.expiresAt, now),
            ]),
            "(none)",
          ),
        );
      }),
    );
}

/** `--owner`, else the signer; refused in words when neither is given. */
export async function readOwner(ctx: CliContext, o: { owner?: string }, command: string): Promise<string> {
  if (o.owner !== undefined) return parseAddress("--owner", o.owner);
  if (ctx.hasSigner()) return getAddress(await ctx.signerAddress());
  throw new CliError(`${command}: give --owner <address>, or configure a signer (OMNI_PRIVATE_KEY or --account)`);
}
