import type { Command } from "commander";

import type { ConsentRegistryClient, ConsentTransaction } from "../../sdk/client.js";
import type { Signed } from "../../sdk/eip712.js";
import { decodeConsentError } from "../../sdk/errors.js";
import type { DecodedConsentError } from "../../sdk/errors.js";
import type { CliContext } from "../context.js";
import { CliError, describeFailure } from "../failure.js";
import { formatFields, printJson, printLines } from "../output.js";
import { isoOf, parseAddress, parseDataId, parseHashOrText, parseOnePurpose } from "../parse.js";
import { describeSigned, readSignedFile } from "../signed-file.js";
import type { SignedFile, SignedKind } from "../signed-file.js";
import { printSent, withContext } from "./shared.js";
import type { SentTransaction } from "./shared.js";

/** Commands of relayers (submit owners' signed messages) and processors (record checked uses). */

interface UseOptions {
  owner: string;
  data: string;
  purpose: string;
  evidence: string;
}

interface LoadedFile {
  path: string;
  file: SignedFile;
}

/**
 * One transaction of a relay: a run of consecutive files of the same kind. Grants and
 * revocations of a run go in one all-or-nothing batch (`grantBySigBatch` / `revokeBySigBatch`);
 * a revoke-all has no batch form, so each is a run of its own. Runs keep the files' order, so
 * e.g. a grant followed by a revocation of the same consent still ends revoked.
 */
interface Step {
  kind: SignedKind;
  files: LoadedFile[];
}

/** What `relay --json` prints per transaction. */
interface RelayedTransaction extends SentTransaction<unknown> {
  kind: SignedKind;
  files: string[];
}

function planSteps(loaded: readonly LoadedFile[]): Step[] {
  const steps: Step[] = [];
  for (const l of loaded) {
    const last = steps[steps.length - 1];
    if (last !== undefined && last.kind === l.file.kind && l.file.kind !== "RevokeAll") last.files.push(l);
    else steps.push({ kind: l.file.kind, files: [l] });
  }
  return steps;
}

function stepTransaction(client: ConsentRegistryClient, step: Step): ConsentTransaction<unknown> {
  const signed = step.files.map((l) => l.file.signed);
  if (step.kind === "Grant") {
    const grants = signed as Signed<"Grant">[];
    return grants.length > 1 ? client.relayGrantBatch(grants) : client.relayGrant(grants[0]);
  }
  if (step.kind === "Revoke") {
    const revokes = signed as Signed<"Revoke">[];
    return revokes.length > 1 ? client.relayRevokeBatch(revokes) : client.relayRevoke(revokes[0]);
  }
  return client.relayRevokeAll(signed[0] as Signed<"RevokeAll">);
}

const KIND_PLURAL: Record<SignedKind, string> = {
  Grant: "signed grants",
  Revoke: "signed revocations",
  RevokeAll: "signed revoke-alls",
};

/**
 * The one line for a transaction of `step` that the dry run refused: which file (a batch's
 * `ConsentRegistryBatchItemFailed` index mapped back to its file), the decoded reason, and what
 * was sent already.
 */
function refusal(err: unknown, step: Step, sentBefore: readonly RelayedTransaction[]): unknown {
  const decoded = decodeConsentError(err);
  if (decoded === null) return err;
  const notSent =
    sentBefore.length === 0
      ? "nothing was sent"
      : `this transaction was not sent; already sent before it: ${sentBefore.map((t) => `${t.files.join(", ")} in tx ${t.txHash}`).join("; ")}`;
  if (decoded.name === "ConsentRegistryBatchItemFailed" && step.files.length > 1) {
    const index = Number(decoded.args.index);
    const failed = step.files[index];
    if (failed !== undefined) {
      const inner = decoded.args.inner as DecodedConsentError | null;
      const reason = inner === null ? `an undecodable reason ${String(decoded.args.reason)}` : inner.message;
      return new CliError(
        `${failed.path}: batch item #${index} of ${step.files.length} would revert with ${reason}; the batch is all or nothing, so ${notSent}`,
      );
    }
  }
  const where = step.files.length === 1 ? `${step.files[0].path}: ` : "";
  return new CliError(`${where}${describeFailure(err)}; ${notSent}`);
}

/**
 * Sends the loaded (already checked) files, one transaction per {@link Step}. Each transaction is
 * simulated first (`estimateGas`): a revert is refused with the file that causes it, before
 * anything of that transaction reaches the mempool. Several steps are not atomic together; only
 * a single batch is, and the output says how the files were grouped.
 */
async function sendRelays(
  ctx: CliContext,
  client: ConsentRegistryClient,
  loaded: readonly LoadedFile[],
): Promise<void> {
  const steps = planSteps(loaded);
  const sent: RelayedTransaction[] = [];
  for (const step of steps) {
    const tx = stepTransaction(client, step);
    try {
      await tx.estimateGas();
    } catch (err) {
      throw refusal(err, step, sent);
    }
    const done = await ctx.send(tx);
    const record: RelayedTransaction = { kind: step.kind, files: step.files.map((l) => l.path), ...done };
    sent.push(record);
    if (!ctx.json) printStep(step, record);
  }
  if (ctx.json) {
    printJson(sent.length === 1 ? sent[0] : { transactions: sent });
  } else if (steps.length > 1) {
    printLines(`relayed ${loaded.length} signed messages in ${steps.length} transactions`);
  }
}

function printStep(step: Step, record: RelayedTransaction): void {
  const tx = formatFields([["tx", `${record.txHash} (block ${record.block}, gas ${record.gasUsed})`]]);
  if (step.files.length > 1) {
    printLines(
      `relayed ${step.files.length} ${KIND_PLURAL[step.kind]} in one batch transaction (all or nothing):`,
      ...step.files.map((l) => `  ${l.path}: ${describeSigned(l.file)}`),
      tx,
    );
    return;
  }
  const note = step.kind === "RevokeAll" ? " (revoke-alls have no batch form: one transaction each)" : "";
  printLines(`relayed ${describeSigned(step.files[0].file)}${note}`, tx);
}

export function registerRelayCommands(program: Command): void {
  program
    .command("relay <files...>")
    .description(
      "submit signed messages (from sign-grant / sign-revoke); consecutive grants, and consecutive revocations, go in one batch each",
    )
    .action(
      withContext<Record<string, never>>(async (ctx, _o, files) => {
        // Everything is checked before the first transaction: file shape, signature, domain,
        // deadline and nonce. A relayer pays for a revert, so a doomed message never goes out.
        const client = await ctx.registry({ write: true });
        const provider = await ctx.provider();
        const chainId = await ctx.chainId();
        const now = await ctx.now();
        const isContract = async (a: string): Promise<boolean> => (await provider.getCode(a)) !== "0x";
        const loaded: { path: string; file: SignedFile }[] = [];
        const nonces = new Set<string>();
        for (const path of files) {
          const file = await readSignedFile(path, isContract);
          if (file.chainId !== chainId) {
            throw new CliError(`${path}: signed for chain ${file.chainId}, but the node is chain ${chainId}`);
          }
          if (file.registry !== client.address) {
            throw new CliError(
              `${path}: signed for registry ${file.registry}, but the target registry is ${client.address}`,
            );
          }
          const { owner, nonce, deadline } = file.signed;
          if (deadline < now) {
            throw new CliError(`${path}: the signature expired at ${isoOf(deadline)} (chain time ${isoOf(now)})`);
          }
          const nonceKey = `${owner}:${nonce}`;
          if (nonces.has(nonceKey) || (await client.isNonceUsed(owner, nonce))) {
            throw new CliError(`${path}: nonce ${nonce} of ${owner} was used or invalidated already`);
          }
          nonces.add(nonceKey);
          loaded.push({ path, file });
        }

        await sendRelays(ctx, client, loaded);
      }),
    );
}

export function registerProcessorCommands(program: Command): void {
  program
    .command("record-use")
    .description("record a use of an owner's data by the signer (reverts unless consent covers it)")
    .requiredOption("--owner <address>", "the data owner")
    .requiredOption("--data <id|ALL>", "the data id used")
    .requiredOption("--purpose <name|id>", "the purpose of the use")
    .requiredOption("--evidence <text|0xhash>", "job / receipt reference (text is hashed with keccak256)")
    .action(
      withContext<UseOptions>(async (ctx, o) => {
        const req = {
          owner: parseAddress("--owner", o.owner),
          dataId: parseDataId("--data", o.data),
          purpose: parseOnePurpose("--purpose", o.purpose),
          evidence: parseHashOrText("--evidence", o.evidence),
        };
        const client = await ctx.registry({ write: true });
        const sent = await ctx.send(client.recordUse(req));
        printSent(ctx, `recorded use of ${req.owner}'s data ${req.dataId} for purpose ${req.purpose}`, sent);
      }),
    );

  program
    .command("record-share")
    .description(
      "record a share of an owner's data with an integration (both need consent; the integration must be active)",
    )
    .requiredOption("--owner <address>", "the data owner")
    .requiredOption("--to <address>", "the receiving integration")
    .requiredOption("--data <id|ALL>", "the data id shared")
    .requiredOption("--purpose <name|id>", "the purpose of the share")
    .requiredOption("--evidence <text|0xhash>", "transfer reference (text is hashed with keccak256)")
    .action(
      withContext<UseOptions & { to: string }>(async (ctx, o) => {
        const req = {
          owner: parseAddress("--owner", o.owner),
          to: parseAddress("--to", o.to),
          dataId: parseDataId("--data", o.data),
          purpose: parseOnePurpose("--purpose", o.purpose),
          evidence: parseHashOrText("--evidence", o.evidence),
        };
        const client = await ctx.registry({ write: true });
        const sent = await ctx.send(client.recordShare(req));
        printSent(
          ctx,
          `recorded share of ${req.owner}'s data ${req.dataId} with ${req.to} for purpose ${req.purpose}`,
          sent,
        );
      }),
    );
}
