import { expect } from "chai";
import { id } from "ethers";
import { network } from "hardhat";

import { ConsentRegistryClient } from "../../src/sdk/client.js";
import { DEFAULT_SIGNATURE_TTL, viaName } from "../../src/sdk/constants.js";
import { PURPOSE_WORDS, parsePurpose, purposeListLabel } from "../../src/sdk/purposes.js";
import { MemorySigningStore } from "../../src/sdk/signing-store.js";
import { parseInput, purposeSchema } from "../../src/sdk/validation.js";
import { parsePurposeList } from "../../src/cli/parse.js";
import { deploySystem } from "../helpers/fixture.js";
import { rejects } from "./rejects.js";

/**
 * One vocabulary in the SDK and the CLI: a purpose is accepted as MODEL_TRAINING, model_training
 * or model-training (or its id) by both, and printed one way (MODEL_TRAINING); `via` comes back
 * as a name; the default signature deadline is the same hour in both.
 */

const { ethers, networkHelpers } = await network.create();

describe("one vocabulary and one set of defaults", () => {
  it("the SDK and the CLI read every spelling of a purpose to the same id", () => {
    for (const spelling of ["MODEL_TRAINING", "model_training", "model-training", "Model-Training"]) {
      expect(parseInput(purposeSchema, spelling, "p")).to.equal(0);
      expect(parsePurpose(spelling)).to.equal(0);
    }
    expect(parseInput(purposeSchema, 6, "p")).to.equal(6);
    expect(parsePurposeList("--purposes", "third-party-sharing,THIRD_PARTY_SHARING,research,7")).to.deep.equal([6, 7]);
    expect(() => parseInput(purposeSchema, "telepathy", "grant.purposes[0]")).to.throw(
      'grant.purposes[0]: unknown purpose "telepathy"; use one of MODEL_TRAINING, FINE_TUNING, INFERENCE, EVALUATION, ANALYTICS, PRODUCT_IMPROVEMENT, THIRD_PARTY_SHARING, RESEARCH (any case, - or _) or an id 0..127',
    );
    expect(PURPOSE_WORDS[0]).to.equal("model-training");
    expect(purposeListLabel(0b101n)).to.equal("MODEL_TRAINING(0), INFERENCE(2)");
    expect([viaName(0), viaName(1), viaName(2)]).to.deep.equal(["Owner", "Manager", "Signature"]);
    expect(DEFAULT_SIGNATURE_TTL).to.equal(3600n);
  });

  it("the client takes any spelling and prints one: purposes by id, via by name", async () => {
    const sys = await deploySystem(ethers);
    const [owner, grantee] = sys.accounts;
    const client = await ConsentRegistryClient.connect(await sys.registry.getAddress(), owner!, {
      signingStore: new MemorySigningStore(),
    });
    const dataId = id("vocabulary");
    const { result } = await client
      .grant({ grantee: grantee!.address, dataId, purposes: ["model-training", "fine_tuning", "INFERENCE"] })
      .wait();
    expect([result.purposes, result.purposesMask, result.via]).to.deep.equal([[0, 1, 2], 7n, "Owner"]);
    expect(await client.isAllowed(owner!.address, grantee!.address, dataId, "fine-tuning")).to.equal(true);
    const signed = await client.signGrant(owner!, { grantee: grantee!.address, dataId, purposes: ["research"] });
    expect(signed.deadline).to.equal(BigInt(await networkHelpers.time.latest()) + DEFAULT_SIGNATURE_TTL);
    const bad = await rejects(
      client.grant({ grantee: grantee!.address, dataId, purposes: ["mind-reading" as never] }).populate(),
    );
    expect(bad.message).to.match(/^grant\.purposes\[0\]: unknown purpose "mind-reading"/);
  });
});
