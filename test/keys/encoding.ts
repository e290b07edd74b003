import { expect } from "chai";
import { hexlify, randomBytes } from "ethers";

import { fromHex, toHex, uintBytes } from "../../src/keys/encoding.js";

describe("keys: byte encodings", () => {
  it("hex round-trips and agrees with ethers; refuses odd length, non-hex digits and a wrong length", () => {
    for (let n = 0; n < 70; n++) {
      const b = randomBytes(n);
      expect(toHex(b)).to.equal(hexlify(b));
      expect([...fromHex(hexlify(b))]).to.deep.equal([...b]);
      expect([...fromHex(hexlify(b).toUpperCase().replace("0X", "0x"))]).to.deep.equal([...b]);
    }
    for (const bad of ["0x1", "0xzz", "0x0g", "0xé0", "0x 1"]) expect(() => fromHex(bad), bad).to.throw(TypeError);
    expect(() => fromHex("0x00", 2)).to.throw(TypeError, "expected 2 bytes, got 1");
    expect(toHex(uintBytes(258n, 4))).to.equal("0x00000102");
    expect(() => uintBytes(256, 1)).to.throw(RangeError);
  });
});
