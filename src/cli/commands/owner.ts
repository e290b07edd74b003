import { writeFile } from "node:fs/promises";

import { ZeroHash } from "ethers";
import type { Signer } from "ethers";
import type { Command } from "commander";

import { ConsentSdkError } from "../../sdk/errors.js";
import type { Signed } from "../../sdk/eip712.js";
import { signGrant, signRevoke, signRevokeAll } from "../../sdk/signing.js";
import type { SigningContext, SigningOptions } from "../../sdk/signing.js";
import type { CliContext } from "../context.js";
import { CliError } from "../failure.js";
import { formatTable, printJson, printLines, shortHash } from "../output.js";
import {
  PURPOSE_WORDS,
  isoOf,
  parseAddress,
  parseDataId,
  parseHashOrText,
  parsePurposeList,
  parseTime,
  parseUint,
} from "../parse.js";
import { encodeSignedFile } from "../signed-file.js";
import type { SignedKind } from "../signed-file.js";
import { expiryWords, printSent, purposesWords, withContext } from "./shared.js";

/** Commands of a data owner: grant and withdraw consent, sign for a relayer, appoint managers, lock down. */

interface GrantOptions {
  grantee: string;
  data: string;
  purposes: string;
  expires?: string;
  notice?: string;
}

interface KeyOptions {
  grantee: string;
  data: string;
}

interface SignOptions {
  out: string;
  deadline?: string;
  epoch?: string;
  version?: string;
}

const PURPOSES_HELP = `comma-separated purposes: ${PURPOSE_WORDS.join(", ")}, or ids 0..127`;
const DATA_HELP = "data id: 0x + 64 hex digits (a salted hash of the asset), or ALL for all of the owner's data";

/** Validates the grant options that need no chain; the expiry needs the chain's clock. */
function grantBasics(o: GrantOptions): { grantee: string; dataId: string; purposes: number[]; noticeHash: string } {
  return {
    grantee: parseAddress("--grantee", o.grantee),
    dataId: parseDataId("--data", o.data),
    purposes: parsePurposeList("--purposes", o.purposes),
    noticeHash: o.notice === undefined ? ZeroHash : parseHashOrText("--notice", o.notice),
  };
}

function addGrantOptions(cmd: Command): Command {
  return cmd
    .requiredOption("--grantee <address>", "who receives the consent")
    .requiredOption("--data <id|ALL>", DATA_HELP)
    .requiredOption("--purposes <list>", PURPOSES_HELP)
    .option("--expires <time>", "ISO date, unix seconds, +30d (s/m/h/d/w) or never", "never")
    .option("--notice <text|0xhash>", "the consent notice shown to the owner (text is hashed with keccak256)");
}

function addSignOptions(cmd: Command, withVersion: boolean): Command {
  const c = cmd
    .requiredOption("--out <file.json>", "where to write the signed message")
    .option(
      "--deadline <time>",
      "last moment a relayer may submit it (ISO date, unix seconds or +1h); default 1 hour after chain time, or later if an older message of this consent is relayable longer",
    )
    .option("--epoch <n>", "advanced: the owner's epoch to sign for (default: the chain's epochOf(owner))");
  return withVersion
    ? c.option(
        "--version <n>",
        "advanced: the consent version the message sets (default: the next free one, reserved in the signing store)",
      )
    : c;
}

/**
 * The signer and signing context for `sign-*`. Fully offline (no RPC contact at all) when
 * --chain-id, --registry, OMNI_PRIVATE_KEY and the explicit --epoch (and, but for a lockdown,
 * --version) are all given: only the chain knows the current epoch and version otherwise. Online,
 * the registry is checked (code and version) so nobody signs for an address that is not one.
 * Either way versions are reserved in the file store, shared by every omni-consent process.
 */
async function signingSetup(
  ctx: CliContext,
  o: SignOptions,
  kind: SignedKind,
): Promise<{ signing: SigningContext; signer: Signer; now: bigint; opts: Omit<SigningOptions, "deadline"> }> {
  ctx.requireSigner();
  const opts: Omit<SigningOptions, "deadline"> = {};
  if (o.epoch !== undefined) opts.epoch = parseUint("--epoch", o.epoch);
  if (o.version !== undefined) opts.version = parseUint("--version", o.version);
  const store = ctx.signingStore();
  const wallet = ctx.offlineWallet();
  const registryOpt = ctx.opts.registry;
  const explicit = opts.epoch !== undefined && (kind === "RevokeAll" || opts.version !== undefined);
  if (wallet && ctx.expectedChainId !== undefined && registryOpt !== undefined && registryOpt !== "" && explicit) {
    return {
      signing: { chainId: ctx.expectedChainId, registry: parseAddress("--registry", registryOpt), store },
      signer: wallet,
      now: BigInt(Math.floor(Date.now() / 1000)),
      opts,
    };
  }
  const client = await ctx.registry({ write: false });
  return { signing: client.signingContext(store), signer: await ctx.signer(), now: await ctx.now(), opts };
}

function deadlineOf(o: SignOptions, now: bigint): bigint | undefined {
  return o.deadline === undefined ? undefined : parseTime("--deadline", o.deadline, now, { allowNever: false });
}

async function writeSigned<K extends SignedKind>(
  ctx: CliContext,
  kind: K,
  signing: SigningContext,
  signed: Signed<K>,
  out: string,
): Promise<void> {
  try {
    await writeFile(out, encodeSignedFile({ kind, chainId: signing.chainId, registry: signing.registry, signed }), {
      mode: 0o644,
    });
  } catch (err) {
    throw new CliError(`--out: cannot write ${out} (${(err as { code?: string }).code ?? String(err)})`);
  }
  if (ctx.json) {
    printJson({ file: out, kind, chainId: signing.chainId, registry: signing.registry, ...signed });
    return;
  }
  const s = signed as Signed<K> & { version?: bigint };
  const version = s.version === undefined ? "" : `, version ${s.version}`;
  printLines(`signed ${kind} by ${s.owner} (epoch ${s.epoch}${version}, deadline ${isoOf(s.deadline)}) → ${out}`);
}

/** Runs a signing step, turning the SDK's refusals into the CLI's option names. */
async function signing<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof ConsentSdkError && err.code === "INVALID_INPUT") {
      throw new CliError(err.message.replace(/^sign\w+\.(deadline|epoch|version): /, "--$1: "));
    }
    throw err;
  }
}

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

  addSignOptions(
    addGrantOptions(program.command("sign-grant").description("sign a grant for a relayer (no transaction, no gas)")),
    true,
  ).action(
    withContext<GrantOptions & SignOptions>(async (ctx, o) => {
      const basics = grantBasics(o);
      const setup = await signingSetup(ctx, o, "Grant");
      const expiresAt = parseTime("--expires", o.expires ?? "never", setup.now, { allowNever: true });
      const deadline = deadlineOf(o, setup.now);
      const grant = {
        grantee: basics.grantee,
        dataId: basics.dataId,
        purposes: basics.purposes.reduce((mask, id) => mask | (1n << BigInt(id)), 0n),
        expiresAt,
        noticeHash: basics.noticeHash,
      };
      const signed = await signing(() =>
        signGrant(setup.signing, setup.signer, grant, {
          ...setup.opts,
          ...(deadline === undefined ? {} : { deadline }),
        }),
      );
      await writeSigned(ctx, "Grant", setup.signing, signed, o.out);
    }),
  );

  addSignOptions(
    program
      .command("sign-revoke")
      .description("sign a revocation for a relayer (no transaction, no gas)")
      .option("--grantee <address>", "whose consent to withdraw")
      .option("--data <id|ALL>", DATA_HELP)
      .option("--all", "sign a lockdown instead (same as sign-revoke-all)"),
    true,
  ).action(
    withContext<Partial<KeyOptions> & SignOptions & { all?: boolean }>(async (ctx, o) => {
      if (o.all === true && (o.grantee !== undefined || o.data !== undefined)) {
        throw new CliError("sign-revoke: give either --all or --grantee with --data, not both");
      }
      if (o.all === true) {
        await signLockdown(ctx, o);
        return;
      }
      if (o.grantee === undefined || o.data === undefined) {
        throw new CliError("sign-revoke: give --grantee and --data (or use sign-revoke-all to sign a lockdown)");
      }
      const key = { grantee: parseAddress("--grantee", o.grantee), dataId: parseDataId("--data", o.data) };
      const setup = await signingSetup(ctx, o, "Revoke");
      const deadline = deadlineOf(o, setup.now);
      const signed = await signing(() =>
        signRevoke(setup.signing, setup.signer, key, {
          ...setup.opts,
          ...(deadline === undefined ? {} : { deadline }),
        }),
      );
      await writeSigned(ctx, "Revoke", setup.signing, signed, o.out);
    }),
  );

  addSignOptions(
    program
      .command("sign-revoke-all")
      .description(
        "sign a lockdown for a relayer: once relayed it ends every consent, signed message and manager of your current epoch",
      ),
    false,
  ).action(withContext<SignOptions>(async (ctx, o) => signLockdown(ctx, o)));

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

/** `sign-revoke-all` (and `sign-revoke --all`): a signed lockdown of the owner's current epoch. */
async function signLockdown(ctx: CliContext, o: SignOptions): Promise<void> {
  if (o.version !== undefined) throw new CliError("--version: a lockdown (RevokeAll) has no version, only an epoch");
  const setup = await signingSetup(ctx, o, "RevokeAll");
  const deadline = deadlineOf(o, setup.now);
  const signed = await signing(() =>
    signRevokeAll(setup.signing, setup.signer, { ...setup.opts, ...(deadline === undefined ? {} : { deadline }) }),
  );
  await writeSigned(ctx, "RevokeAll", setup.signing, signed, o.out);
}
