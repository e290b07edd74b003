import { expect } from "chai";
import { Interface } from "ethers";

import { CONSENT_REGISTRY_ABI } from "../../src/sdk/abi.js";
import { ViewBuilder } from "../../src/views/build.js";
import { inChainOrder, replayEventFromLog } from "../../src/views/from-logs.js";

describe("views: raw logs as the builder's events (the dashboard's path)", () => {
  const iface = new Interface(CONSENT_REGISTRY_ABI);
  const owner = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
  const grantee = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
  const dataId = `0x${"ab".repeat(32)}`;
  const log = (name: string, args: unknown[], blockNumber: number, index: number) => ({
    ...iface.encodeEventLog(iface.getEvent(name)!, args),
    blockNumber,
    index,
    transactionHash: `0x${String(blockNumber).padStart(64, "0")}`.toUpperCase().replace("0X", "0x"),
  });

  it("decodes, lowercases, keeps the position, and the view reads it", () => {
    const granted = replayEventFromLog(
      "registry",
      log("ConsentGranted", [owner, grantee, dataId, 0b101n, 0n, `0x${"0".repeat(64)}`, owner, 65536n], 7, 2),
      1_800_000_000,
    );
    expect(granted).to.deep.include({
      name: "ConsentGranted",
      blockNumber: 7,
      logIndex: 2,
      blockTimestamp: 1_800_000_000,
    });
    expect(granted.args).to.deep.include({ owner: owner.toLowerCase(), grantee: grantee.toLowerCase(), purposes: "5" });
    const used = replayEventFromLog(
      "registry",
      log("DataUsed", [owner, grantee, dataId, 2n, `0x${"11".repeat(32)}`], 9, 0),
      1_800_000_100,
    );
    const b = new ViewBuilder({ owner });
    for (const e of inChainOrder([used, granted])) b.add(e);
    const v = b.ownerView({ chainId: 1, source: "logs" });
    expect(v.consents.map((c) => [c.grantee, c.purposes.map((p) => p.name), c.given.via, c.noticeHash])).to.deep.equal([
      [grantee.toLowerCase(), ["MODEL_TRAINING", "INFERENCE"], "Owner", null],
    ]);
    expect(v.uses.map((u) => [u.when.block, u.purpose.name, u.onlyThroughAllData])).to.deep.equal([
      [9, "INFERENCE", false],
    ]);
    expect(v.meta.lastBlock).to.equal(9);
    expect(v.meta.asOf).to.equal(1_800_000_100);
  });
});
