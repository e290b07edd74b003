import { expect } from "chai";
import { network } from "hardhat";

import { GOVERNOR_ROLE, GUARDIAN_ROLE } from "../../src/sdk/governance.js";
import { initialPurposeMetadata } from "../../src/sdk/purposes.js";
import type { ConsentAccessManager, ConsentSystemDeployer } from "../../types/ethers-contracts/index.js";

/**
 * Governance behaviour that a mutant of `contracts/governance` (scripts/lib/mutants.ts,
 * `npm run test:mutation`) once survived; each test names the mutant(s) it kills.
 */
const { ethers } = await network.create();

const DELAY = 2n * 86_400n;

describe("mutation kills: governance wiring", () => {
  // deployer/governor-label, deployer/guardian-label
  it("the deployment labels GOVERNOR_ROLE and GUARDIAN_ROLE on-chain, in its one transaction", async () => {
    const [, admin, governor, guardian] = await ethers.getSigners();
    const deployer = (await ethers.deployContract("ConsentSystemDeployer", [
      admin.address,
      governor.address,
      guardian.address,
      DELAY,
      initialPurposeMetadata(),
      [],
    ])) as unknown as ConsentSystemDeployer;
    const manager = (await ethers.getContractAt(
      "ConsentAccessManager",
      await deployer.manager(),
    )) as unknown as ConsentAccessManager;
    const deployment = deployer.deploymentTransaction()!;
    await expect(deployment).to.emit(manager, "RoleLabel").withArgs(GOVERNOR_ROLE, "GOVERNOR");
    await expect(deployment).to.emit(manager, "RoleLabel").withArgs(GUARDIAN_ROLE, "GUARDIAN");
    // Exactly those two labels: ADMIN_ROLE and PUBLIC_ROLE cannot be labelled.
    const receipt = await deployment.wait();
    const labels = receipt!.logs
      .map((log) => manager.interface.parseLog(log))
      .filter((parsed) => parsed?.name === "RoleLabel")
      .map((parsed) => [parsed!.args[0] as bigint, parsed!.args[1] as string]);
    expect(labels).to.deep.equal([
      [GOVERNOR_ROLE, "GOVERNOR"],
      [GUARDIAN_ROLE, "GUARDIAN"],
    ]);
  });
});
