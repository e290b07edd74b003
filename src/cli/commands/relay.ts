import type { Command } from "commander";
import { dataLength } from "ethers";
import type { Provider } from "ethers";

import type { ConsentRegistryClient } from "../../sdk/client.js";
import type { Signed } from "../../sdk/eip712.js";
import type { RevokeBatchResult, SignedRevokeFailure } from "../../sdk/requests.js";
import { recoverStrict } from "../../sdk/signature-check.js";
import { digestOf } from "../../sdk/signed-message.js";
import type { ConsentTransaction } from "../../sdk/transaction.js";
import { decodeConsentError } from "../../sdk/errors.js";
import type { DecodedConsentError } from "../../sdk/errors.js";
import type { CliContext } from "../context.js";
import { CliError, EXIT_PARTIAL, describeFailure } from "../failure.js";
import { formatFields, printJson, printLines } from "../output.js";
import { isoOf, parseAddress, parseDataId, parseHashOrText, purposeTokens } from "../parse.js";
import { ALL_DATA } from "../../sdk/constants.js";
import { timeWords } from "../../sdk/time-relative.js";
import { describeSigned, readSignedFile } from "../signed-file.js";
import type { SignedFile, SignedKind } from "../signed-file.js";
import { printSent, resolvePurposes, withContext } from "./shared.js";
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
 * One transaction of a relay: a run of consecutive files of the same kind, in the files' order
 * (so a grant followed by a revocation of the same consent still ends revoked). Grants of a run
 * go in one all-or-nothing `grantBySigBatch` (an owner signing a set of grants gets all or
 * none); revocations of a run in one best-effort `revokeBySigBatch` (one bad item never blocks
 * another owner's withdrawal); a revoke-all has no batch form, so each is a run of its own.
 */
interface Step {
  kind: SignedKind;
  files: LoadedFile[];
}

/** One file's outcome in a best-effort revocation batch. */
interface RevokeOutcome {
  file: string;
  /** Position in the files of this step. */
  index: number;
  applied: boolean;
  /** Why it did not apply: the registry's error in words. */
  error?: string;
  /** Whether it was in the transaction (items the simulation showed would fail are left out). */
  sent: boolean;
}

/** What `relay --json` prints per transaction. */
interface RelayedTransaction extends Partial<SentTransaction<unknown>> {
  kind: SignedKind;
  files: string[];
  /** Revocation batches: every file's outcome. */
  outcomes?: RevokeOutcome[];
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
  if (step.kind === "Revoke") return client.relayRevoke(signed[0] as Signed<"Revoke">);
  return client.relayRevokeAll(signed[0] as Signed<"RevokeAll">);
}

const KIND_PLURAL: Record<SignedKind, string> = {
  Grant: "signed grants",
  Revoke: "signed revocations",
  RevokeAll: "signed revoke-alls",
};

function sentBeforeWords(sentBefore: readonly RelayedTransaction[]): string {
  const txs = sentBefore.filter((t) => t.txHash !== undefined);
  return txs.length === 0
    ? "nothing was sent"
    : `this transaction was not sent; already sent before it: ${txs.map((t) => `${t.files.join(", ")} in tx ${t.txHash}`).join("; ")}`;
}

/**
 * The one line for a transaction of `step` that the dry run refused: which file (a grant
 * batch's `ConsentRegistryBatchItemFailed` index mapped back to its file), the decoded reason,
 * and what was sent already.
 */
function refusal(err: unknown, step: Step, sentBefore: readonly RelayedTransaction[]): unknown {
  const decoded = decodeConsentError(err);
  if (decoded === null) return err;
  const notSent = sentBeforeWords(sentBefore);
  if (decoded.name === "ConsentRegistryBatchItemFailed" && step.files.length > 1) {
    const index = Number(decoded.args.index);
    const failed = step.files[index];
    if (failed !== undefined) {
      const inner = decoded.args.inner as DecodedConsentError | null;
      const reason = inner === null ? `an undecodable reason ${String(decoded.args.reason)}` : inner.message;
      return new CliError(
        `${failed.path}: batch item #${index} of ${step.files.length} would revert with ${reason}; a grant batch is all or nothing, so ${notSent}`,
      );
    }
  }
  const where = step.files.length === 1 ? `${step.files[0].path}: ` : "";
  return new CliError(`${where}${describeFailure(err)}; ${notSent}`);
}

function failureWords(f: SignedRevokeFailure): string {
  return f.reason?.message ?? `an undecodable reason ${f.reasonData}`;
}

/**
 * A run of several signed revocations, best effort: simulate the batch (the registry's
 * `bytes[]` of per-item failures), leave out the items that would fail (a relayer does not pay
 * for them), send the rest as one `revokeBySigBatch`, and read the actual outcome of each sent
 * item from the receipt (SignedRevokeFailed events).
 */
async function relayRevocations(
  ctx: CliContext,
  client: ConsentRegistryClient,
  step: Step,
  sentBefore: readonly RelayedTransaction[],
): Promise<RelayedTransaction> {
  const signed = step.files.map((l) => l.file.signed as Signed<"Revoke">);
  let simulated: SignedRevokeFailure[];
  try {
    simulated = await client.simulateRevokeBatch(signed);
  } catch (err) {
    throw refusal(err, step, sentBefore);
  }
  const doomed = new Map(simulated.map((f) => [f.index, f]));
  const outcomes: RevokeOutcome[] = step.files.map((l, index) => {
    const f = doomed.get(index);
    return f
      ? { file: l.path, index, applied: false, error: failureWords(f), sent: false }
      : { file: l.path, index, applied: true, sent: true };
  });
  const sendable = outcomes.filter((o) => o.sent);
  const record: RelayedTransaction = { kind: "Revoke", files: step.files.map((l) => l.path), outcomes };
  if (sendable.length === 0) return record;
  const done = await ctx.send(client.relayRevokeBatch(sendable.map((o) => signed[o.index])));
  const result = done.result as RevokeBatchResult;
  // Indexes in the result are positions among the sent items.
  for (const f of result.failures) {
    const o = sendable[f.index];
    if (o !== undefined) Object.assign(o, { applied: false, error: failureWords(f) });
  }
  return { ...record, ...done };
}

/**
 * Sends the loaded (already checked) files, one transaction per {@link Step}. Each transaction is
 * simulated first: a grant (batch) or single message that would revert is refused with the file
 * that causes it, before anything of that transaction reaches the mempool; a revocation batch
 * leaves out the items that would fail and reports them. Several steps are not atomic together,
 * and the output says how the files were grouped. Exit code 4 when some file did not apply.
 */
async function sendRelays(
  ctx: CliContext,
  client: ConsentRegistryClient,
  loaded: readonly LoadedFile[],
): Promise<void> {
  const steps = planSteps(loaded);
  const sent: RelayedTransaction[] = [];
  for (const step of steps) {
    let record: RelayedTransaction;
    if (step.kind === "Revoke" && step.files.length > 1) {
      record = await relayRevocations(ctx, client, step, sent);
    } else {
      const tx = stepTransaction(client, step);
      try {
        await tx.estimateGas();
      } catch (err) {
        throw refusal(err, step, sent);
      }
      const done = await ctx.send(tx);
      record = { kind: step.kind, files: step.files.map((l) => l.path), ...done };
    }
    sent.push(record);
    if (!ctx.json) printStep(step, record);
  }
  const failed = sent.flatMap((t) => (t.outcomes ?? []).filter((o) => !o.applied));
  if (ctx.json) {
    printJson(sent.length === 1 ? sent[0] : { transactions: sent });
  } else if (steps.length > 1) {
    printLines(
      `relayed ${loaded.length} signed messages in ${sent.filter((t) => t.txHash !== undefined).length} transactions`,
    );
  }
  if (failed.length > 0) {
    throw new CliError(
      `${failed.length} of ${loaded.length} signed messages did not apply: ${failed.map((o) => o.file).join(", ")} (each listed with its reason); the others did`,
      EXIT_PARTIAL,
    );
  }
}

function txLine(record: RelayedTransaction): string {
  return formatFields([["tx", `${record.txHash} (block ${record.block}, gas ${record.gasUsed})`]]);
}

function printStep(step: Step, record: RelayedTransaction): void {
  if (record.outcomes !== undefined) {
    const lines = record.outcomes.map((o) => {
      const what = describeSigned(step.files[o.index].file);
      if (o.applied) return `  applied      ${o.file}: ${what}`;
      return o.sent
        ? `  FAILED       ${o.file}: ${what}: ${o.error}`
        : `  NOT SENT     ${o.file}: ${what}: would fail with ${o.error}`;
    });
    const head =
      record.txHash === undefined
        ? `none of ${step.files.length} ${KIND_PLURAL.Revoke} would apply; nothing of this batch was sent:`
        : `relayed ${record.outcomes.filter((o) => o.sent).length} of ${step.files.length} ${KIND_PLURAL.Revoke} in one best-effort batch transaction (each applies or fails on its own):`;
    printLines(head, ...lines, ...(record.txHash === undefined ? [] : [txLine(record)]));
    return;
  }
  if (step.files.length > 1) {
    printLines(
      `relayed ${step.files.length} ${KIND_PLURAL[step.kind]} in one batch transaction (all or nothing):`,
      ...step.files.map((l) => `  ${l.path}: ${describeSigned(l.file)}`),
      txLine(record),
    );
    return;
  }
  const note = step.kind === "RevokeAll" ? " (revoke-alls have no batch form: one transaction each)" : "";
  printLines(`relayed ${describeSigned(step.files[0].file)}${note}`, txLine(record));
}

/**
 * Refuses, before anything is sent, a file whose signature the registry would refuse, by the
 * SDK's copy of its rule (ECDSA first, then the owner's ERC-1271 wallet asked from the
 * registry's address), in words that say what is wrong with it.
 */
async function checkSignatureOf(
  client: ConsentRegistryClient,
  provider: Provider,
  path: string,
  file: SignedFile,
): Promise<void> {
  const verdict = await client.checkSigned(file.kind, file.signed);
  if (verdict.valid) return;
  const { owner, signature } = file.signed;
  if ((await provider.getCode(owner)) !== "0x") {
    throw new CliError(`${path}: the registry would refuse this signature of the contract ${owner}: ${verdict.reason}`);
  }
  const length = dataLength(signature);
  if (length !== 65 && length !== 64) {
    throw new CliError(`${path}.signature: ${length} bytes; an EOA signature has 65 (or 64, compact) bytes`);
  }
  const recovered = recoverStrict(digestOf(file), signature);
  if ("signer" in recovered) {
    throw new CliError(
      `${path}: the signature was made by ${recovered.signer}, not by the owner ${owner} (or for another chain/registry)`,
    );
  }
  throw new CliError(`${path}.signature: not a valid signature of ${owner} (${recovered.reason})`);
}

export function registerRelayCommands(program: Command): void {
  program
    .command("relay <files...>")
    .description(
      "submit signed messages (from sign-grant / sign-revoke / sign-revoke-all); consecutive grants go in one all-or-nothing batch, consecutive revocations in one best-effort batch",
    )
    .action(
      withContext<Record<string, never>>(async (ctx, _o, files) => {
        // Everything a file can be checked for without sending is checked before the first
        // transaction: shape, signature, domain, deadline. A relayer pays for a revert, so a
        // doomed message never goes out (the simulation before each transaction does the rest:
        // epoch and version against the chain, signatures of contract owners).
        const client = await ctx.registry({ write: true });
        const provider = await ctx.provider();
        const chainId = await ctx.chainId();
        const now = await ctx.now();
        await ctx.purposeNames(); // the names the output and errors use
        const loaded: LoadedFile[] = [];
        for (const path of files) {
          const file = await readSignedFile(path);
          if (file.chainId !== chainId) {
            throw new CliError(`${path}: signed for chain ${file.chainId}, but the node is chain ${chainId}`);
          }
          if (file.registry !== client.address) {
            throw new CliError(
              `${path}: signed for registry ${file.registry}, but the target registry is ${client.address}`,
            );
          }
          const { deadline } = file.signed;
          if (deadline < now) {
            throw new CliError(
              `${path}: the signature's deadline ${timeWords(deadline, now)} has passed (chain time ${isoOf(now)}); ask the owner to sign it again with a later --deadline. Nothing was sent`,
            );
          }
          await checkSignatureOf(client, provider, path, file);
          loaded.push({ path, file });
        }

        await sendRelays(ctx, client, loaded);
      }),
    );
}

interface RecordDefinition {
  name: "record-use" | "record-share";
  description: string;
  /** The record as the SDK takes it (options parsed), and its words. */
  send(ctx: CliContext, o: UseOptions & { to?: string }): Promise<void>;
}

async function useRequest(ctx: CliContext, o: UseOptions) {
  const owner = parseAddress("--owner", o.owner);
  const dataId = parseDataId("--data", o.data);
  const [token] = purposeTokens("--purpose", o.purpose);
  if (o.purpose.includes(",")) throw new CliError(`--purpose: give one purpose (a use or share has one), not a list`);
  const evidence = parseHashOrText("--evidence", o.evidence);
  const [purpose] = await resolvePurposes(ctx, "--purpose", [token]);
  return { owner, dataId, purpose, evidence };
}

function dataIdWords(dataId: string): string {
  return dataId === ALL_DATA ? "ALL_DATA" : dataId;
}

const RECORDS: RecordDefinition[] = [
  {
    name: "record-use",
    description: "record a use of an owner's data by the signer (reverts unless consent covers it)",
    async send(ctx, o) {
      const req = await useRequest(ctx, o);
      const client = await ctx.registry({ write: true });
      const names = await ctx.purposeNames();
      const sent = await ctx.send(client.recordUse(req));
      printSent(
        ctx,
        `recorded use of ${req.owner}'s data ${dataIdWords(req.dataId)} for ${names.label(req.purpose)}`,
        sent,
      );
    },
  },
  {
    name: "record-share",
    description:
      "record a share of an owner's data with an integration (both need consent; the integration must be active)",
    async send(ctx, o) {
      const to = parseAddress("--to", o.to ?? "");
      const req = { ...(await useRequest(ctx, o)), to };
      const client = await ctx.registry({ write: true });
      const names = await ctx.purposeNames();
      const sent = await ctx.send(client.recordShare(req));
      printSent(
        ctx,
        `recorded share of ${req.owner}'s data ${dataIdWords(req.dataId)} with ${req.to} for ${names.label(req.purpose)}`,
        sent,
      );
    },
  },
];

export function registerProcessorCommands(program: Command): void {
  for (const def of RECORDS) {
    let cmd = program
      .command(def.name)
      .description(def.description)
      .requiredOption("--owner <address>", "the data owner");
    if (def.name === "record-share") cmd = cmd.requiredOption("--to <address>", "the receiving integration");
    const noun = def.name === "record-use" ? "used" : "shared";
    cmd
      .requiredOption("--data <id|ALL>", `the data id ${noun}`)
      .requiredOption("--purpose <name|id>", `the purpose of the ${def.name === "record-use" ? "use" : "share"}`)
      .requiredOption(
        "--evidence <text|0xhash>",
        `${def.name === "record-use" ? "job / receipt" : "transfer"} reference (text is hashed with keccak256)`,
      )
      .action(withContext<UseOptions & { to?: string }>((ctx, o) => def.send(ctx, o)));
  }
}
