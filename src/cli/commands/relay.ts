import type { Command } from "commander";

import type { Signed } from "../../sdk/eip712.js";
import { CliError } from "../failure.js";
import { isoOf, parseAddress, parseDataId, parseHashOrText, parseOnePurpose } from "../parse.js";
import { describeSigned, readSignedFile } from "../signed-file.js";
import type { SignedFile } from "../signed-file.js";
import { printSent, withContext } from "./shared.js";
import type { SentTransaction } from "./shared.js";

/** Commands of relayers (submit owners' signed messages) and processors (record checked uses). */

interface UseOptions {
  owner: string;
  data: string;
  purpose: string;
  evidence: string;
}

export function registerRelayCommands(program: Command): void {
  program
    .command("relay <files...>")
    .description("submit signed messages (from sign-grant / sign-revoke); several grants go in one batch")
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

        if (loaded.length > 1 && loaded.every((l) => l.file.kind === "Grant")) {
          const grants = loaded.map((l) => l.file.signed as Signed<"Grant">);
          const sent = await ctx.send(client.relayGrantBatch(grants));
          printSent(ctx, `relayed ${grants.length} signed grants in one batch`, sent);
          return;
        }
        for (const { file } of loaded) {
          const sent: SentTransaction<unknown> =
            file.kind === "Grant"
              ? await ctx.send(client.relayGrant(file.signed as Signed<"Grant">))
              : file.kind === "Revoke"
                ? await ctx.send(client.relayRevoke(file.signed as Signed<"Revoke">))
                : await ctx.send(client.relayRevokeAll(file.signed as Signed<"RevokeAll">));
          printSent(ctx, `relayed ${describeSigned(file)}`, sent);
        }
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
