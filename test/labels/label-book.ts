import { expect } from "chai";
import { id } from "ethers";

import { cidFromSha256, dataIdFor } from "../../src/keys/cid.js";
import {
  LABEL_BOOK_FORMAT,
  cidEntry,
  emptyLabelBook,
  entryByLabel,
  labelDataId,
  labelEntry,
  labelsByDataId,
  parseLabelBook,
  randomSalt,
  serializeLabelBook,
  withEntry,
  withRenamedLabel,
  withoutLabel,
} from "../../src/labels/label-book.js";
import { ALL_DATA } from "../../src/sdk/constants.js";

const CID = cidFromSha256(new Uint8Array(32).fill(7)).toString();
const SALT = `0x${"5a".repeat(32)}`;

function refused(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    return `${(err as Error).name}: ${(err as Error).message}`;
  }
  throw new Error("was not refused");
}

describe("labels: the owner's label book (browser-safe part)", () => {
  it("derives a label's data id the way the README does: keccak256(salt:label)", () => {
    expect(labelDataId("my-photos", "my-salt")).to.equal(id("my-salt:my-photos"));
    const e = labelEntry("holiday photos 2026");
    expect(e.salt).to.match(/^0x[0-9a-f]{64}$/);
    expect(e.dataId).to.equal(id(`${e.salt}:holiday photos 2026`));
    expect(randomSalt()).to.not.equal(randomSalt());
  });

  it("derives a sealed asset's data id with dataIdFor(cid, salt)", () => {
    const e = cidEntry("scan.pdf v1", CID, SALT.toUpperCase().replace("0X", "0x"));
    expect(e).to.deep.equal({ label: "scan.pdf v1", cid: CID, salt: SALT, dataId: dataIdFor(CID, SALT) });
  });

  it("round-trips both kinds of entry through its text, and shows labels by data id", () => {
    const a = labelEntry("photos", "my-salt");
    const b = cidEntry("scan", CID, SALT);
    const book = withEntry(withEntry(emptyLabelBook(), a), b);
    const text = serializeLabelBook(book);
    expect(JSON.parse(text)).to.deep.equal({ format: LABEL_BOOK_FORMAT, entries: [a, b] });
    expect(parseLabelBook(text)).to.deep.equal(book);
    const labels = labelsByDataId(book);
    expect([...labels]).to.deep.equal([
      [ALL_DATA, "all my data"],
      [a.dataId, "photos"],
      [b.dataId, "scan"],
    ]);
    expect(entryByLabel(book, "scan")).to.deep.equal(b);
    expect(entryByLabel(book, "Scan")).to.equal(undefined);
  });

  it("refuses a stored data id that its recipe does not give, naming both", () => {
    const a = labelEntry("photos", "my-salt");
    const forged = { ...a, dataId: id("other") };
    const text = JSON.stringify({ format: LABEL_BOOK_FORMAT, entries: [forged] });
    expect(refused(() => parseLabelBook(text, "book.json"))).to.equal(
      `LabelBookError: book.json entries[0].dataId: does not match its label and salt (expected ${a.dataId}, stored ${forged.dataId}); the book was changed by hand or damaged`,
    );
    const c = cidEntry("scan", CID, SALT);
    const badCid = JSON.stringify({ format: LABEL_BOOK_FORMAT, entries: [{ ...c, cid: "bafy-not-a-cid" }] });
    expect(refused(() => parseLabelBook(badCid, "book.json"))).to.equal(
      'LabelBookError: book.json entries[0].cid: not a CID: "bafy-not-a-cid"',
    );
  });

  it("refuses a duplicate label or data id, and bad fields, in plain words", () => {
    const a = labelEntry("photos", "s1");
    const book = withEntry(emptyLabelBook(), a);
    expect(refused(() => withEntry(book, labelEntry("photos", "s2")))).to.equal(
      'LabelBookError: entries[1].label: "photos" is already the label of entries[0]',
    );
    expect(refused(() => withEntry(book, { ...a, label: "photos again" }))).to.match(
      /^LabelBookError: entries\[1\]\.dataId: does not match its label and salt/,
    );
    expect(refused(() => labelEntry(" photos"))).to.equal(
      'LabelBookError: label " photos": a label does not start or end with spaces',
    );
    expect(refused(() => labelEntry("a\nb"))).to.equal(
      'LabelBookError: label "a\nb": a label has no control characters',
    );
    expect(refused(() => labelEntry(""))).to.equal('LabelBookError: label "": the label is empty');
    expect(refused(() => cidEntry("x", CID, "0x1234"))).to.equal(
      "LabelBookError: salt: the salt of a CID entry is 32 bytes (0x + 64 hex digits)",
    );
    expect(refused(() => parseLabelBook("{"))).to.match(/^LabelBookError: label book: not JSON \(/);
    expect(refused(() => parseLabelBook('{"format":"omni-consent/label-book@2","entries":[]}'))).to.equal(
      'LabelBookError: label book format: expected "format": "omni-consent/label-book@1"',
    );
    expect(
      refused(() => parseLabelBook(JSON.stringify({ format: LABEL_BOOK_FORMAT, entries: [{ ...a, note: "x" }] }))),
    ).to.equal("LabelBookError: label book entries[0].note: not a field of this format");
    expect(
      refused(() =>
        parseLabelBook(JSON.stringify({ format: LABEL_BOOK_FORMAT, entries: [{ label: "x", salt: "s" }] })),
      ),
    ).to.equal("LabelBookError: label book entries[0].dataId: Invalid input: expected string, received undefined");
  });

  it("removes and renames entries; a label-made data id cannot be renamed", () => {
    const a = labelEntry("photos", "s1");
    const c = cidEntry("scan", CID, SALT);
    const book = withEntry(withEntry(emptyLabelBook(), a), c);
    expect(withoutLabel(book, "photos").entries).to.deep.equal([c]);
    expect(refused(() => withoutLabel(book, "nope"))).to.equal('LabelBookError: no entry is labelled "nope"');
    expect(withRenamedLabel(book, "scan", "scan.pdf").entries[1]).to.deep.equal({ ...c, label: "scan.pdf" });
    expect(refused(() => withRenamedLabel(book, "photos", "pics"))).to.equal(
      'LabelBookError: "photos" names a data id made from that label; renaming would change the data id (its consents stay on the old one): add a new label instead',
    );
    expect(refused(() => withRenamedLabel(book, "scan", "photos"))).to.equal(
      'LabelBookError: entries[1].label: "photos" is already the label of entries[0]',
    );
  });
});
