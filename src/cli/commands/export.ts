import { writeFile } from "node:fs/promises";

import type { Command } from "commander";

import { ALL_DATA } from "../../sdk/constants.js";
import { initialPurposeDocuments } from "../../documents/initial-purposes.js";
import { mappingsFromDocuments } from "../../vocabularies/choices.js";
import { EXPORT_FORMATS, exportChoices } from "../../vocabularies/export.js";
import type { ExportFormat } from "../../vocabularies/export.js";
import { CliError } from "../failure.js";
import { printLines } from "../output.js";
import { toJson } from "../output.js";
import { parseDataId, whenOf } from "../parse.js";
import { readOwner } from "./owner.js";
import { DATA_HELP, withContext } from "./shared.js";
import { dataWords, labelsOf } from "./labels.js";

/**
 * `omni-consent export --format aipref|cawg|erc7517|tdmrep`: an owner's current choices for one
 * asset in an AI opt-out vocabulary (src/vocabularies), from the chain's live consents on that
 * data id and the owner's ALL_DATA ones; for everyone without a consent every use is "not
 * allowed". Purposes defined by governance map through their documents (`--documents`).
 */

interface ExportOptions {
  format: string;
  owner?: string;
  data: string;
  out?: string;
  robotsPath?: string;
  location?: string;
  policyUrl?: string;
}

export function registerExportCommands(program: Command): void {
  program
    .command("export")
    .description(
      "write an owner's current choices for an asset as an AI opt-out statement (AIPREF, C2PA/CAWG, ERC-7517, TDMRep)",
    )
    .requiredOption("--format <format>", `one of ${EXPORT_FORMATS.join(", ")}`)
    .requiredOption("--data <id|ALL>", DATA_HELP)
    .option("--owner <address>", "whose choices (default: the signer)")
    .option("--out <file>", "write the export here (default: print it)")
    .option("--robots-path <path>", "aipref: the robots.txt path the rule is for (e.g. /photos/)")
    .option("--location <pattern>", "tdmrep: the location pattern of the asset (e.g. /photos/*)")
    .option("--policy-url <url>", "tdmrep: where the TDM policy is published")
    .action(
      withContext<ExportOptions>(async (ctx, o) => {
        const format = o.format.trim().toLowerCase();
        if (!(EXPORT_FORMATS as readonly string[]).includes(format)) {
          throw new CliError(
            `--format: "${o.format}" is not an export format; use one of ${EXPORT_FORMATS.join(", ")}`,
          );
        }
        const dataId = parseDataId("--data", o.data);
        const owner = await readOwner(ctx, o, "export");
        const client = await ctx.registry({ write: false });
        const [names, now, active] = await Promise.all([ctx.purposeNames(), ctx.now(), client.activeConsentsOf(owner)]);
        const consents = active
          .filter((c) => c.dataId === dataId || c.dataId === ALL_DATA)
          .map((c) => ({ grantee: c.grantee, purposes: c.purposes, expiresAt: c.expiresAt, dataId: c.dataId }));
        const mappings = mappingsFromDocuments([...initialPurposeDocuments(), ...names.documents.values()]);
        let result;
        try {
          result = exportChoices(
            format as ExportFormat,
            { owner, dataId, consents, now, registry: { chainId: await ctx.chainId(), address: client.address } },
            { mappings, robotsPath: o.robotsPath, location: o.location, policyUrl: o.policyUrl },
          );
        } catch (err) {
          if (err instanceof RangeError || err instanceof TypeError) throw new CliError(`export: ${err.message}`);
          throw err;
        }
        for (const w of result.warnings) process.stderr.write(`warning: ${w}\n`);
        const text = `${toJson(result)}\n`;
        if (o.out === undefined) {
          process.stdout.write(text);
          return;
        }
        try {
          await writeFile(o.out, text);
        } catch (err) {
          throw new CliError(`--out: cannot write ${o.out} (${(err as { code?: string }).code ?? String(err)})`);
        }
        const until =
          result.changesAt === null
            ? "until the owner changes a consent"
            : `until ${whenOf(result.changesAt, now)}, when a consent expires`;
        const data = dataWords(dataId, await labelsOf(ctx));
        printLines(
          `wrote the ${format} export of ${owner}'s choices for ${data} to ${o.out}: ${consents.length} live consent${consents.length === 1 ? "" : "s"}; it holds ${until}`,
        );
      }),
    );
}
