import { keccak_256 } from "@noble/hashes/sha3.js";
import { expect } from "chai";

import { canonicalJson, documentFileName, documentHash, documentText } from "../../src/documents/canonical.js";

const hex = (b: Uint8Array) => `0x${Buffer.from(b).toString("hex")}`;

describe("documents: the hashing rule (RFC 8785 JCS, then keccak256)", () => {
  it("sorts members by UTF-16 code units, not by code points", () => {
    // U+1F600 is the pair D83D DE00, which sorts before U+FB33 by code units (after it by code points)
    const value = { "\ufb33": 1, "\u{1f600}": 2, a: 3, "1": 4, "\r": 5, "\u20ac": 6 };
    expect(canonicalJson(value)).to.equal('{"\\r":5,"1":4,"a":3,"€":6,"😀":2,"דּ":1}');
  });

  it("writes numbers and strings in their ECMAScript form, with no whitespace", () => {
    const value = { n: [1e21, 1e-7, 0.000001, -0, 10.5, 4.5e15], s: 'tab\tquote" é \u2028', b: [true, false, null] };
    expect(canonicalJson(value)).to.equal(
      '{"b":[true,false,null],"n":[1e+21,1e-7,0.000001,0,10.5,4500000000000000],"s":"tab\\tquote\\" é \u2028"}',
    );
  });

  it("nests: inner objects are sorted too, arrays keep their order", () => {
    expect(canonicalJson({ z: { b: [3, { y: 1, x: 2 }], a: {} }, a: [] })).to.equal(
      '{"a":[],"z":{"a":{},"b":[3,{"x":2,"y":1}]}}',
    );
  });

  it("refuses what JSON cannot carry", () => {
    expect(() => canonicalJson({ n: NaN })).to.throw("NaN is not allowed");
    expect(() => canonicalJson({ n: Infinity })).to.throw("Infinity is not allowed");
    expect(() => canonicalJson({ s: "\ud800" })).to.throw("Lone surrogate is not allowed");
    expect(() => canonicalJson(undefined)).to.throw("a document must be a JSON value");
  });

  it("hashes the UTF-8 bytes of the canonical form with keccak256 (checked with another keccak)", () => {
    const doc = { name: "Ünïcode", id: 7, list: ["b", "a"] };
    const canonical = '{"id":7,"list":["b","a"],"name":"Ünïcode"}';
    expect(documentHash(doc)).to.equal(hex(keccak_256(new TextEncoder().encode(canonical))));
  });

  it("does not depend on member order or whitespace, and changes with any value", () => {
    const a = JSON.parse('{ "x": 1, "y": ["p", "q"], "z": { "k": "v" } }');
    const b = JSON.parse('{"z":{"k":"v"},"y":["p","q"],"x":1}');
    expect(documentHash(a)).to.equal(documentHash(b));
    expect(documentHash({ ...a, x: 2 })).to.not.equal(documentHash(a));
    expect(documentHash({ ...a, y: ["q", "p"] })).to.not.equal(documentHash(a));
    expect(documentHash({ ...a, extra: null })).to.not.equal(documentHash(a));
    expect(documentHash(JSON.parse(documentText(a)))).to.equal(documentHash(a));
  });

  it("names the file after the hash, in lower case", () => {
    const h = `0x${"AB".repeat(32)}`;
    expect(documentFileName(h)).to.equal(`0x${"ab".repeat(32)}.json`);
    expect(() => documentFileName("0x1234")).to.throw('not a 32-byte hash: "0x1234"');
    expect(() => documentFileName(`../${"a".repeat(64)}`)).to.throw("not a 32-byte hash");
  });
});
