import { expect } from "chai";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { loadDeployment } from "../../src/sdk/deployments.js";
import { rejects } from "./rejects.js";

const ADDRESSES = {
  "ConsentSystem#AccessManager": "0xd1B4B90d5AC9c34311f28E8Ac6BB4B266e2562A3",
  "ConsentSystem#IntegrationRegistry": "0xb11972a2b1bA68B522A2bFc6ee4193aFEcd94b4B",
  "ConsentSystem#ConsentRegistry": "0xc8cb054e56a155622a5dafa22edfa1ec8dfa0ca7",
};

describe("loadDeployment (Ignition's deployed_addresses.json)", () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "omni-deploy-"));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  function write(chainId: number, text: string): void {
    const dir = join(root, "ignition", "deployments", `chain-${chainId}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "deployed_addresses.json"), text);
  }

  it("returns the checksummed addresses of the ConsentSystem futures", async () => {
    write(11155111, JSON.stringify({ ...ADDRESSES, "Other#Thing": "0x0000000000000000000000000000000000000001" }));
    expect(await loadDeployment(11155111n, { root })).to.deep.equal({
      chainId: 11155111n,
      AccessManager: "0xd1B4B90d5AC9c34311f28E8Ac6BB4B266e2562A3",
      IntegrationRegistry: "0xb11972a2b1bA68B522A2bFc6ee4193aFEcd94b4B",
      ConsentRegistry: "0xC8cB054E56A155622a5dAFA22edfA1eC8dFa0ca7",
    });
  });

  it("NOT_FOUND when the chain has no deployment, or it lacks a contract", async () => {
    const none = await rejects(loadDeployment(5, { root }));
    expect([none.code, none.message]).to.deep.equal([
      "NOT_FOUND",
      "no deployment for chain 5; deploy to a local node with `npx hardhat node` then `npm run deploy:node`",
    ]);
    write(7, JSON.stringify({ "ConsentSystem#AccessManager": ADDRESSES["ConsentSystem#AccessManager"] }));
    const partial = await rejects(loadDeployment(7, { root }));
    expect(partial.code).to.equal("NOT_FOUND");
    expect(partial.message).to.match(
      /^no deployment for chain 7: .*deployed_addresses\.json has no "ConsentSystem#IntegrationRegistry"; deploy to a local node with `npx hardhat node` then `npm run deploy:node`$/,
    );
  });

  it("INVALID_INPUT when the file is damaged", async () => {
    write(9, "{ not json");
    const err = await rejects(loadDeployment(9, { root }));
    expect(err.code).to.equal("INVALID_INPUT");
    expect(err.message).to.equal(
      `${join(root, "ignition", "deployments", "chain-9", "deployed_addresses.json")}: not valid JSON; redeploy or restore the file`,
    );
  });
});
