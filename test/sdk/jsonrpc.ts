import { expect } from "chai";
import { JsonRpcProvider, id } from "ethers";
import type { JsonRpcSigner } from "ethers";

import { ConsentRegistryClient } from "../../src/sdk/client.js";
import { deployDirect } from "../helpers/fixture.js";
import { startNode } from "../cli/harness.js";
import type { DevNode } from "../cli/harness.js";
import { rejects } from "./rejects.js";

const DATA = id("omnitensor:dataset:over-json-rpc");

/**
 * The same client over a real JSON-RPC node (a `hardhat node` on a free port): revert data
 * arrives nested differently than in-process, and reads follow writes without a stale cache.
 */
describe("ConsentRegistryClient over JSON-RPC (hardhat node)", function () {
  this.timeout(120_000);
  let node: DevNode;
  let provider: JsonRpcProvider;
  let owner: JsonRpcSigner;
  let grantee: JsonRpcSigner;
  let relayer: JsonRpcSigner;
  let client: ConsentRegistryClient;

  before(async () => {
    node = await startNode();
    provider = new JsonRpcProvider(node.url, undefined, { cacheTimeout: -1 });
    const admin = await provider.getSigner(0);
    [owner, grantee, relayer] = await Promise.all([1, 2, 3].map((i) => provider.getSigner(i)));
    const { ConsentRegistry } = await deployDirect(admin);
    client = await ConsentRegistryClient.connect(ConsentRegistry, owner, { expectedChainId: 31337n });
  });

  after(async () => {
    provider?.destroy();
    await node?.stop();
  });

  it("grant → an immediate read sees it; a revert arrives decoded in words", async () => {
    const { result } = await client.grant({ grantee: grantee.address, dataId: DATA, purposes: ["INFERENCE"] }).wait();
    expect([result.owner, result.grantee, result.purposesMask, result.version]).to.deep.equal([
      owner.address,
      grantee.address,
      4n,
      1n << 16n,
    ]);
    expect(await client.isAllowed(owner.address, grantee.address, DATA, "INFERENCE")).to.equal(true);
    await client.revoke({ grantee: grantee.address, dataId: DATA }).wait();
    expect(await client.isAllowed(owner.address, grantee.address, DATA, "INFERENCE")).to.equal(false);

    const err = await rejects(client.grant({ grantee: grantee.address, dataId: DATA, purposes: [42] }).wait());
    expect([err.code, err.message]).to.deep.equal([
      "REVERTED",
      "ConsentRegistryPurposeNotGrantable: purposes [purpose#42(42)] of [purpose#42(42)] are not defined or are deprecated",
    ]);
  });

  it("a failing batch names the item and its inner error", async () => {
    const err = await rejects(
      client
        .grantBatch([
          { grantee: relayer.address, dataId: DATA, purposes: [1] },
          { grantee: grantee.address, dataId: DATA, purposes: [120] },
        ])
        .wait(),
    );
    expect(err.message).to.equal(
      "ConsentRegistryBatchItemFailed: batch item #1 failed: ConsentRegistryPurposeNotGrantable: purposes [purpose#120(120)] of [purpose#120(120)] are not defined or are deprecated",
    );
  });

  it("sign by the owner, relay by another account, then list active consents from events", async () => {
    const signed = await client.signGrant(owner, { grantee: relayer.address, dataId: DATA, purposes: [0, 7] });
    expect([signed.epoch, signed.version]).to.deep.equal([0n, 1n]);
    const relay = await ConsentRegistryClient.connect(client.address, relayer);
    const { result } = await relay.relayGrant(signed).wait();
    expect([result.owner, result.actor, result.purposes, result.version]).to.deep.equal([
      owner.address,
      relayer.address,
      [0, 7],
      1n,
    ]);
    const live = await client.activeConsentsOf(owner.address);
    expect(live.map((c) => [c.grantee, c.dataId, c.purposesMask])).to.deep.equal([[relayer.address, DATA, 129n]]);
  });
});
