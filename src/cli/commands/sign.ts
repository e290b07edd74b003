import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";

import { getAddress } from "ethers";
import type { Signer } from "ethers";
import type { Command } from "commander";

import { ConsentRegistryClient } from "../../sdk/client.js";
import { ConsentSdkError } from "../../sdk/errors.js";
import { purposesToMask } from "../../sdk/purposes.js";
import { digestOf, typedDataOf, withSignature } from "../../sdk/signed-message.js";
import type { ConsentMessageFile } from "../../sdk/signed-message.js";
import { prepareGrant, prepareRevoke, prepareRevokeAll, signPrepared } from "../../sdk/signing.js";
import type { SigningContext, SigningOptions } from "../../sdk/signing.js";
import type { CliContext } from "../context.js";
import { CliError } from "../failure.js";
import { printJson, printLines } from "../output.js";
import { LATEST_EXPIRY, parseAddress, parseDataId, parseTime, parseUint, whenOf } from "../parse.js";
import { readMessageFile, writeMessageFile } from "../signed-file.js";
import type { SignedKind } from "../signed-file.js";
import { DATA_HELP, addGrantOptions, grantBasics, purposesWords, resolvePurposes, withContext } from "./shared.js";
import type { GrantOptions, KeyOptions } from "./shared.js";

/**
 * Signed messages for relayers: `sign-grant`, `sign-revoke`, `sign-revoke-all` build the message
 * with the SDK (epoch and version reserved in the file signing store, the default deadline) and
 * sign it with the SDK when the signer is the owner. For any other owner (`--owner`: a Safe or
 * another contract wallet, a key held elsewhere) they write the message unsigned, with its
 * EIP-712 digest and `eth_signTypedData_v4` payload for the owner's wallet, and
 * `add-signature` takes the signature back into the file once the registry's rule accepts it.
 */

interface SignOptions {
  out: string;
  force?: boolean;
  owner?: string;
  typedData?: string;
  deadline?: string;
  epoch?: string;
  version?: string;
}

function addSignOptions(cmd: Command, withVersion: boolean): Command {
  const c = cmd
    .requiredOption("--out <file.json>", "where to write the signed message (an existing file only with --force)")
    .option("--force", "overwrite an existing --out file")
    .option(
      "--owner <address>",
      "build the message for this owner (e.g. a Safe); unless the signer is that owner, the file is written unsigned, with its digest and typed data, for `add-signature`",
    )
    .option("--typed-data <file.json>", "also write the eth_signTypedData_v4 payload a wallet signs")
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

interface Setup {
  /** Whether the chain was read (the catalogue can be checked). */
  online: boolean;
  signing: SigningContext;
  owner: string;
  /** The key that signs, when it is the owner's; otherwise the message is written unsigned. */
  signer: Signer | null;
  now: bigint;
  opts: Omit<SigningOptions, "deadline">;
}

/**
 * The owner, the signer and the signing context for `sign-*`. Fully offline (no RPC contact at
 * all) when --chain-id, --registry and the explicit --epoch (and, but for a lockdown, --version)
 * are given with OMNI_PRIVATE_KEY or --owner: only the chain knows the current epoch and version
 * otherwise. Online, the registry is checked (code and version) so nobody signs for an address
 * that is not one. Either way versions are reserved in the file store.
 */
async function signingSetup(ctx: CliContext, o: SignOptions, kind: SignedKind): Promise<Setup> {
  refuseOverwrite(o);
  if (o.owner === undefined) ctx.requireSigner();
  const named = o.owner === undefined ? undefined : parseAddress("--owner", o.owner);
  const opts: Omit<SigningOptions, "deadline"> = {};
  if (o.epoch !== undefined) opts.epoch = parseUint("--epoch", o.epoch);
  if (o.version !== undefined) opts.version = parseUint("--version", o.version);
  const store = ctx.signingStore();
  const wallet = ctx.offlineWallet();
  const registryOpt = ctx.opts.registry;
  const explicit = opts.epoch !== undefined && (kind === "RevokeAll" || opts.version !== undefined);
  const offline =
    (wallet !== undefined || (named !== undefined && !ctx.hasSigner())) &&
    ctx.expectedChainId !== undefined &&
    registryOpt !== undefined &&
    registryOpt !== "" &&
    explicit;
  let signing: SigningContext;
  let signer: Signer | null = null;
  let now: bigint;
  if (offline) {
    signing = { chainId: ctx.expectedChainId!, registry: parseAddress("--registry", registryOpt!), store };
    signer = wallet ?? null;
    now = BigInt(Math.floor(Date.now() / 1000));
  } else {
    const client = await ctx.registry({ write: false });
    signing = client.signingContext(store);
    if (ctx.hasSigner()) signer = await ctx.signer();
    now = await ctx.now();
  }
  const signerAddress = signer === null ? null : getAddress(await signer.getAddress());
  const owner = named ?? signerAddress!;
  return { online: !offline, signing, owner, signer: signerAddress === owner ? signer : null, now, opts };
}

/**
 * A signed message is a promise the owner may not be able to take back (a relayer can submit it
 * until its deadline): writing over another one loses it unnoticed, so `--out` never replaces an
 * existing file without `--force`.
 */
function refuseOverwrite(o: SignOptions): void {
  if (o.force !== true && existsSync(o.out)) {
    throw new CliError(
      `--out: ${o.out} exists already (perhaps another signed message); choose another file, or pass --force to overwrite it. Nothing was signed`,
    );
  }
}

/**
 * How far ahead `--deadline` may be: a year. A signed message is relayable by whoever holds it
 * until then, and a millisecond timestamp read as seconds would be ~56,000 years.
 */
const MAX_DEADLINE_AHEAD = 365n * 86_400n;

function deadlineOf(o: SignOptions, now: bigint): bigint | undefined {
  if (o.deadline === undefined) return undefined;
  return parseTime("--deadline", o.deadline, now, {
    allowNever: false,
    latest: {
      at: now + MAX_DEADLINE_AHEAD,
      why: "more than a year away: anyone who holds the signed file can relay it until its deadline; give a nearer one (the default is 1 hour; e.g. +7d)",
    },
  });
}

/**
 * A signed grant of a purpose that is deprecated (or not defined) would be refused by the
 * registry whenever it is relayed: refused here, before anything is signed.
 */
async function refuseDeprecated(ctx: CliContext, purposes: readonly number[]): Promise<void> {
  const client = await ctx.registry({ write: false });
  const [catalogue, names] = await Promise.all([client.purposes(), ctx.purposeNames()]);
  const grantable = new Set(catalogue.purposes.filter((p) => p.grantable).map((p) => p.id));
  const defined = new Set(catalogue.purposes.map((p) => p.id));
  const deprecated = purposes.filter((p) => defined.has(p) && !grantable.has(p));
  const undefinedIds = purposes.filter((p) => !defined.has(p));
  if (deprecated.length > 0) {
    throw new CliError(
      `--purposes: ${purposesWords(deprecated, names)} ${deprecated.length === 1 ? "is" : "are"} deprecated by governance (no new grants); the registry would refuse this grant when relayed. Nothing was signed`,
    );
  }
  if (undefinedIds.length > 0) {
    throw new CliError(
      `--purposes: ${purposesWords(undefinedIds, names)} ${undefinedIds.length === 1 ? "is" : "are"} not defined on this registry; see \`omni-consent purposes\`. Nothing was signed`,
    );
  }
}

/** Runs an SDK signing step, turning its refusals into the CLI's option names. */
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

/** Signs the prepared message when the signer is its owner, and writes the file (signed or not). */
async function finish<K extends SignedKind>(
  ctx: CliContext,
  setup: Setup,
  file: ConsentMessageFile<K>,
  o: SignOptions,
): Promise<void> {
  const m = file.message as ConsentMessageFile["message"] & { version?: bigint };
  const version = m.version === undefined ? "" : `, version ${m.version}`;
  const what = `${file.kind} by ${m.owner} (epoch ${m.epoch}${version}, deadline ${whenOf(m.deadline, setup.now)})`;
  const typedData = typedDataOf(file);
  if (o.typedData !== undefined) {
    try {
      await writeFile(o.typedData, `${JSON.stringify(typedData, null, 2)}\n`, { mode: 0o644 });
    } catch (err) {
      throw new CliError(
        `--typed-data: cannot write ${o.typedData} (${(err as { code?: string }).code ?? String(err)})`,
      );
    }
  }
  if (setup.signer !== null) {
    const signed = await signPrepared(file, setup.signer);
    await writeMessageFile(o.out, { kind: file.kind, chainId: file.chainId, registry: file.registry, signed });
    if (ctx.json)
      printJson({ file: o.out, kind: file.kind, chainId: file.chainId, registry: file.registry, ...signed });
    else printLines(`signed ${what} → ${o.out}`);
    return;
  }
  await writeMessageFile(o.out, file);
  const digest = digestOf(file);
  if (ctx.json) {
    printJson({
      file: o.out,
      kind: file.kind,
      chainId: file.chainId,
      registry: file.registry,
      ...file.message,
      signature: null,
      digest,
      typedData,
    });
    return;
  }
  printLines(
    `prepared ${what} → ${o.out}: NOT SIGNED YET`,
    `  digest:     ${digest} (EIP-712: what the owner's key signs, or what its ERC-1271 wallet is asked about)`,
    `  typed data: ${o.typedData ?? "(pass --typed-data <file> for the eth_signTypedData_v4 payload)"}`,
    `then: omni-consent add-signature ${o.out} --signature 0x…`,
  );
}

function withDeadline(setup: Setup, o: SignOptions): SigningOptions {
  const deadline = deadlineOf(o, setup.now);
  return { ...setup.opts, ...(deadline === undefined ? {} : { deadline }) };
}

/** `sign-revoke-all` (and `sign-revoke --all`): a lockdown of the owner's current epoch. */
async function signLockdown(ctx: CliContext, o: SignOptions): Promise<void> {
  if (o.version !== undefined) throw new CliError("--version: a lockdown (RevokeAll) has no version, only an epoch");
  const setup = await signingSetup(ctx, o, "RevokeAll");
  const file = await signing(() => prepareRevokeAll(setup.signing, setup.owner, withDeadline(setup, o)));
  await finish(ctx, setup, file, o);
}

export function registerSignCommands(program: Command): void {
  addSignOptions(
    addGrantOptions(program.command("sign-grant").description("sign a grant for a relayer (no transaction, no gas)")),
    true,
  ).action(
    withContext<GrantOptions & SignOptions>(async (ctx, o) => {
      const basics = grantBasics(o);
      const setup = await signingSetup(ctx, o, "Grant");
      const expiresAt = parseTime("--expires", o.expires ?? "never", setup.now, {
        allowNever: true,
        latest: LATEST_EXPIRY,
      });
      const purposes = await resolvePurposes(ctx, "--purposes", basics.purposeTokens);
      if (setup.online) await refuseDeprecated(ctx, purposes);
      const { purposeTokens: _tokens, ...rest } = basics;
      const grant = { ...rest, purposes: purposesToMask(purposes), expiresAt };
      const file = await signing(() => prepareGrant(setup.signing, setup.owner, grant, withDeadline(setup, o)));
      await finish(ctx, setup, file, o);
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
      if (o.all === true) return signLockdown(ctx, o);
      if (o.grantee === undefined || o.data === undefined) {
        throw new CliError("sign-revoke: give --grantee and --data (or use sign-revoke-all to sign a lockdown)");
      }
      const key = { grantee: parseAddress("--grantee", o.grantee), dataId: parseDataId("--data", o.data) };
      const setup = await signingSetup(ctx, o, "Revoke");
      const file = await signing(() => prepareRevoke(setup.signing, setup.owner, key, withDeadline(setup, o)));
      await finish(ctx, setup, file, o);
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

  program
    .command("add-signature <file>")
    .description(
      "add the owner's signature to a message prepared with sign-* --owner; refused unless the registry would accept it (ECDSA, or the owner's ERC-1271 wallet asked on-chain)",
    )
    .requiredOption("--signature <0xhex>", "the owner's signature (any length for an ERC-1271 wallet, 0x included)")
    .option("--out <file.json>", "write the signed message here (default: over <file>)")
    .action(
      withContext<{ signature: string; out?: string }>(async (ctx, o, [path]) => {
        const prepared = await readMessageFile(path);
        const signed = withSignature(prepared, o.signature.trim());
        const chainId = await ctx.chainId();
        if (prepared.chainId !== chainId) {
          throw new CliError(`${path}: prepared for chain ${prepared.chainId}, but the node is chain ${chainId}`);
        }
        const client = await ConsentRegistryClient.connect(prepared.registry, await ctx.provider(), {
          expectedChainId: chainId,
        });
        const verdict = await client.checkSigned(signed.kind, signed.signed);
        if (!verdict.valid) {
          throw new CliError(
            `--signature: the registry would refuse it as ${prepared.message.owner}'s signature over ${path}: ${verdict.reason}; the file is unchanged`,
          );
        }
        const out = o.out ?? path;
        await writeMessageFile(out, signed);
        if (ctx.json) {
          printJson({
            file: out,
            kind: signed.kind,
            chainId,
            registry: signed.registry,
            by: verdict.by,
            ...signed.signed,
          });
          return;
        }
        const how =
          verdict.by === "ecdsa" ? "an ECDSA signature of the owner's key" : "accepted by the owner's ERC-1271 wallet";
        printLines(`added the signature of ${prepared.message.owner} (${how}) → ${out}`);
      }),
    );
}
