import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { expect } from "chai";

import { readLabelBookFile, updateLabelBookFile } from "../../src/labels/label-book-file.js";
import { emptyLabelBook, labelEntry, withEntry } from "../../src/labels/label-book.js";

const ROOT = join(import.meta.dirname, "..", "..");

function run(args: string[]): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", join(ROOT, "test/labels/helpers/add-label.ts"), ...args],
      {
        stdio: ["ignore", "inherit", "inherit"],
      },
    );
    child.once("exit", resolve);
  });
}

describe("labels: the label book file (Node)", () => {
  it("reads a missing book as empty, and creates it readable by the owner only", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "omni-labels-")), "nested");
    const path = join(dir, "label-book.json");
    expect(await readLabelBookFile(path)).to.deep.equal(emptyLabelBook());
    const e = labelEntry("photos", "s1");
    const book = await updateLabelBookFile(path, (b) => withEntry(b, e));
    expect(book.entries).to.deep.equal([e]);
    expect(await readLabelBookFile(path)).to.deep.equal(book);
    expect(statSync(path).mode & 0o777).to.equal(0o600);
    expect(statSync(dir).mode & 0o777).to.equal(0o700);
  });

  it("writes nothing when the change is refused", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "omni-labels-")), "book.json");
    await updateLabelBookFile(path, (b) => withEntry(b, labelEntry("photos", "s1")));
    const before = readFileSync(path, "utf8");
    let thrown = "";
    await updateLabelBookFile(path, (b) => withEntry(b, labelEntry("photos", "s2"))).catch((e) => (thrown = e.message));
    expect(thrown).to.equal('entries[1].label: "photos" is already the label of entries[0]');
    expect(readFileSync(path, "utf8")).to.equal(before);
  });

  it("loses no update when four processes add labels at once", async function () {
    this.timeout(60_000);
    const path = join(mkdtempSync(join(tmpdir(), "omni-labels-")), "book.json");
    const codes = await Promise.all([0, 1, 2, 3].map((p) => run([path, ...[0, 1, 2].map((i) => `p${p}-${i}`)])));
    expect(codes).to.deep.equal([0, 0, 0, 0]);
    const labels = (await readLabelBookFile(path)).entries.map((e) => e.label).sort();
    expect(labels).to.deep.equal([0, 1, 2, 3].flatMap((p) => [0, 1, 2].map((i) => `p${p}-${i}`)).sort());
  });

  it("takes over the lock of a process that died holding it", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "omni-labels-")), "book.json");
    writeFileSync(`${path}.lock`, JSON.stringify({ pid: 2 ** 22 + 12345, at: Date.now(), token: "dead" }));
    const book = await updateLabelBookFile(path, (b) => withEntry(b, labelEntry("photos", "s1")), {
      lockTimeoutMs: 2000,
    });
    expect(book.entries.map((e) => e.label)).to.deep.equal(["photos"]);
  });

  it("refuses a damaged book, naming the file", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "omni-labels-")), "book.json");
    writeFileSync(path, '{"format":"omni-consent/label-book@1","entries":{}}');
    let thrown = "";
    await readLabelBookFile(path).catch((e) => (thrown = e.message));
    expect(thrown).to.equal(`${path} entries: expected a list of entries`);
  });
});
