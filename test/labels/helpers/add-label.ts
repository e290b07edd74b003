import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { updateLabelBookFile } from "../../../src/labels/label-book-file.js";
import { labelEntry, withEntry } from "../../../src/labels/label-book.js";

/**
 * `node --import tsx test/labels/helpers/add-label.ts <book> <label>…`: adds each label to the
 * book, one atomic update each (for the concurrency test of test/labels/label-book-file.ts).
 * It runs only as a program: mocha loads every file under test/, and then this file does nothing.
 */
const isEntryPoint =
  process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
if (isEntryPoint) {
  const [path, ...labels] = process.argv.slice(2);
  for (const label of labels) await updateLabelBookFile(path, (book) => withEntry(book, labelEntry(label)));
}
