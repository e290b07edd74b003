import { expect } from "chai";
import { network } from "hardhat";

import { ALL_DATA, MAX_PURPOSE_ID, NO_EXPIRY } from "../src/sdk/constants.js";
import { PURPOSES, Purpose, initialPurposeMetadata, maskToPurposes, purposesToMask } from "../src/sdk/purposes.js";
import { deploySystem } from "./helpers/fixture.js";

const { ethers } = await network.create();

describe("Purposes catalogue (Solidity ↔ TypeScript mirror)", () => {
  it("the TypeScript ids equal the Solidity constants", async () => {
    const mirror = await ethers.deployContract("PurposesMirror");
    const onChain = await mirror.all();
    expect(onChain.map(Number)).to.deep.equal(PURPOSES.map((p) => p.id));
    expect(PURPOSES.map((p) => p.name)).to.deep.equal(Object.keys(Purpose));
    expect(await mirror.initialCount()).to.equal(BigInt(PURPOSES.length));
  });

  it("the shared constants equal Common.sol", async () => {
    const mirror = await ethers.deployContract("PurposesMirror");
    expect(await mirror.allData()).to.equal(ALL_DATA);
    expect(await mirror.noExpiry()).to.equal(NO_EXPIRY);
    expect(await mirror.maxPurposeId()).to.equal(BigInt(MAX_PURPOSE_ID));
  });

  it("a fresh registry defines exactly the initial catalogue with its metadata", async () => {
    const { registry } = await deploySystem(ethers);
    const all = purposesToMask(PURPOSES.map((p) => p.id));
    expect(await registry.grantablePurposes()).to.equal(all);
    expect(await registry.definedPurposes()).to.equal(all);
    const meta = initialPurposeMetadata();
    for (const p of PURPOSES) expect(await registry.purposeMetadata(p.id)).to.equal(meta[p.id]);
  });

  it("masks round-trip and reject out-of-range ids", () => {
    expect(purposesToMask([0, 2, 127])).to.equal((1n << 127n) | 5n);
    expect(maskToPurposes((1n << 127n) | 5n)).to.deep.equal([0, 2, 127]);
    expect(() => purposesToMask([128])).to.throw(RangeError, "purpose id 128 is outside 0..127");
  });
});
