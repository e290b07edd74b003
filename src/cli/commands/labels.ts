import { existsSync } from "node:fs";

import type { Command } from "commander";

import { ALL_DATA } from "../../sdk/constants.js";
import { DEFAULT_LABEL_BOOK, readLabelBookFile, updateLabelBookFile } from "../../labels/label-book-file.js";
import { LabelBookError, entryByLabel, labelEntry, labelsByDataId, withEntry } from "../../labels/label-book.js";
import type { LabelBookEntry } from "../../labels/label-book.js";
import type { CliContext } from "../context.js";
import { CliError } from "../failure.js";
import { printJson, printLines, shortHash } from "../output.js";
import { withContext } from "./shared.js";

/**
 * The owner's label book in the CLI: `data-id <label>` gives the data id of a label (made once
 * from the label and a fresh random salt, `keccak256(salt:label)`, and kept in the book), and
 * the owner's outputs show labels instead of hex. The book is `--labels <file>` (env
 * OMNI_LABEL_BOOK; default ~/.omni-consent/label-book.json); it never leaves this machine.
 */

/** The label book's path of this command. */
export function labelBookPath(ctx: CliContext): string {
  const path = ctx.opts.labels;
  return path !== undefined && path !== "" ? path : DEFAULT_LABEL_BOOK;
}

/** Labels by data id from the book (empty when there is no book); a damaged book is refused in one line. */
export async function labelsOf(ctx: CliContext): Promise<ReadonlyMap<string, string>> {
  const path = labelBookPath(ctx);
  if (!existsSync(path)) return new Map([[ALL_DATA, "all my data"]]);
  try {
    return labelsByDataId(await readLabelBookFile(path));
  } catch (err) {
    if (err instanceof LabelBookError) throw new CliError(`--labels: ${err.message}`);
    throw err;
  }
}

/** `"holiday photos" (0x1234…abcd)`, `ALL_DATA`, or the short hex of an unlabelled data id. */
export function dataWords(dataId: string, labels: ReadonlyMap<string, string>): string {
  if (dataId === ALL_DATA) return "ALL_DATA (all of the owner's data)";
  const label = labels.get(dataId);
  return label === undefined ? shortHash(dataId) : `"${label}" (${shortHash(dataId)})`;
}

export function registerLabelCommands(program: Command): void {
  program
    .command("data-id <label>")
    .description(
      "the data id of one of your assets, by its label: made once from the label and a random salt (keccak256(salt:label)) and kept in your label book, which never leaves this machine",
    )
    .option("--salt <text>", "use this salt for a new label (default: 32 random bytes)")
    .option("--no-create", "only look the label up; refuse one that is not in the book")
    .action(
      withContext<{ salt?: string; create: boolean }>(async (ctx, o, [label]) => {
        const path = labelBookPath(ctx);
        let entry: LabelBookEntry | undefined;
        let created = false;
        try {
          const book = await readLabelBookFile(path);
          entry = entryByLabel(book, label);
          if (entry !== undefined && o.salt !== undefined && entry.salt !== o.salt) {
            throw new CliError(
              `--salt: "${label}" is in the label book already, with another salt; its data id is ${entry.dataId}`,
            );
          }
          if (entry === undefined) {
            if (!o.create)
              throw new CliError(`"${label}" is not in the label book ${path}; leave out --no-create to add it`);
            const fresh = labelEntry(label, o.salt);
            await updateLabelBookFile(path, (b) => {
              const again = entryByLabel(b, label);
              if (again !== undefined) {
                entry = again;
                return b;
              }
              entry = fresh;
              created = true;
              return withEntry(b, fresh);
            });
          }
        } catch (err) {
          if (err instanceof LabelBookError) throw new CliError(`data-id: ${err.message}`);
          throw err;
        }
        const e = entry!;
        if (ctx.json) {
          printJson({ label: e.label, dataId: e.dataId, created, labelBook: path });
          return;
        }
        printLines(
          `data id of "${e.label}": ${e.dataId}`,
          created
            ? `  new: made from the label and a fresh salt, both kept in ${path} (it never leaves this machine; without the salt nobody can link the id to the label)`
            : `  from ${path}`,
        );
      }),
    );
}
