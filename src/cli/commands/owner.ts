import { writeFile } from "node:fs/promises";

import { ZeroHash } from "ethers";
import type { Signer } from "ethers";
import type { Command } from "commander";

import { consentDomain, randomNonce, signConsent } from "../../sdk/eip712.js";
import type { ConsentMessageKind, MessageOf } from "../../sdk/eip712.js";
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
import { expiryWords, printSent, purposesWords, withContext } from "./shared.js";

/** Commands of a data owner: grant and withdraw consent, sign for a relayer, appoint managers. */

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
  deadline: string;
  nonce?: string;
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

function addSignOptions(cmd: Command): Command {
  return cmd
    .requiredOption("--out <file.json>", "where to write the signed message")
    .option("--deadline <time>", "last moment a relayer may submit it (ISO date, unix seconds or +1h)", "+1d")
    .option("--nonce <n>", "unordered nonce (default: random)");
}

/**
 * The EIP-712 domain and signer for `sign-*`. Offline (no RPC contact at all) when --chain-id,
 * --registry and OMNI_PRIVATE_KEY are all given; otherwise both come from the node, and the
 * registry is checked (code and version) so nobody signs for an address that is not one.
 */
async function signingSetup(
  ctx: CliContext,
): Promise<{ chainId: bigint; registry: string; now: bigint; signer: Signer }> {
  ctx.requireSigner();
  const wallet = ctx.offlineWallet();
  const registryOpt = ctx.opts.registry;
  if (wallet && ctx.expectedChainId !== undefined && registryOpt !== undefined && registryOpt !== "") {
    return {
      chainId: ctx.expectedChainId,
      registry: parseAddress("--registry", registryOpt),
      now: BigInt(Math.floor(Date.now() / 1000)),
      signer: wallet,
    };
  }
  const client = await ctx.registry({ write: false });
  return { chainId: await ctx.chainId(), registry: client.address, now: await ctx.now(), signer: await ctx.signer() };
}

async function writeSigned<K extends ConsentMessageKind>(
  ctx: CliContext,
  kind: K,
  setup: { chainId: bigint; registry: string; signer: Signer },
  message: MessageOf[K],
  out: string,
): Promise<void> {
  const signed = await signConsent(kind, setup.signer, consentDomain(setup.chainId, setup.registry), message);
  try {
    await writeFile(out, encodeSignedFile({ kind, chainId: setup.chainId, registry: setup.registry, signed }), {
      mode: 0o644,
    });
  } catch (err) {
    throw new CliError(`--out: cannot write ${out} (${(err as { code?: string }).code ?? String(err)})`);
  }
  if (ctx.json) {
    printJson({ file: out, kind, chainId: setup.chainId, registry: setup.registry, ...signed });
  } else {
    printLines(
      `signed ${kind} by ${message.owner} (nonce ${message.nonce}, deadline ${isoOf(message.deadline)}) → ${out}`,
    );
  }
}

function signTimes(o: SignOptions, now: bigint): { nonce: bigint; deadline: bigint } {
  return {
    deadline: parseTime("--deadline", o.deadline, now, { allowNever: false }),
    nonce: o.nonce === undefined ? randomNonce() : parseUint("--nonce", o.nonce),
  };
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
    .command("revoke-all")
    .description("withdraw every consent the signer has given (one transaction, any number of consents)")
    .action(
      withContext(async (ctx) => {
        const client = await ctx.registry({ write: true });
        const sent = await ctx.send(client.revokeAll());
        printSent(ctx, "revoked every consent (a new revoke-all epoch started)", sent);
      }),
    );

  addSignOptions(
    addGrantOptions(program.command("sign-grant").description("sign a grant offline for a relayer (no transaction)")),
  ).action(
    withContext<GrantOptions & SignOptions>(async (ctx, o) => {
      const basics = grantBasics(o);
      const setup = await signingSetup(ctx);
      const expiresAt = parseTime("--expires", o.expires ?? "never", setup.now, { allowNever: true });
      const owner = await setup.signer.getAddress();
      const message: MessageOf["Grant"] = {
        owner,
        grantee: basics.grantee,
        dataId: basics.dataId,
        purposes: basics.purposes.reduce((mask, id) => mask | (1n << BigInt(id)), 0n),
        expiresAt,
        noticeHash: basics.noticeHash,
        ...signTimes(o, setup.now),
      };
      await writeSigned(ctx, "Grant", setup, message, o.out);
    }),
  );

  addSignOptions(
    program
      .command("sign-revoke")
      .description("sign a revocation (or, with --all, a revoke-all) offline for a relayer")
      .option("--grantee <address>", "whose consent to withdraw")
      .option("--data <id|ALL>", DATA_HELP)
      .option("--all", "sign a revoke-all instead"),
  ).action(
    withContext<Partial<KeyOptions> & SignOptions & { all?: boolean }>(async (ctx, o) => {
      if (o.all === true && (o.grantee !== undefined || o.data !== undefined)) {
        throw new CliError("sign-revoke: give either --all or --grantee with --data, not both");
      }
      if (o.all !== true && (o.grantee === undefined || o.data === undefined)) {
        throw new CliError("sign-revoke: give --grantee and --data (or --all to sign a revoke-all)");
      }
      const key =
        o.all === true
          ? undefined
          : { grantee: parseAddress("--grantee", o.grantee ?? ""), dataId: parseDataId("--data", o.data ?? "") };
      const setup = await signingSetup(ctx);
      const owner = await setup.signer.getAddress();
      const times = signTimes(o, setup.now);
      if (key === undefined) await writeSigned(ctx, "RevokeAll", setup, { owner, ...times }, o.out);
      else await writeSigned(ctx, "Revoke", setup, { owner, ...key, ...times }, o.out);
    }),
  );

  const managers = program.command("managers").description("appoint or remove accounts that may act for the signer");
  for (const [name, approved] of [
    ["add", true],
    ["remove", false],
  ] as const) {
    managers
      .command(`${name} <address>`)
      .description(approved ? "appoint a manager" : "remove a manager")
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
