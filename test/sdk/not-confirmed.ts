import { expect } from "chai";
import { JsonRpcProvider, Wallet, id } from "ethers";
import type { JsonRpcSigner, Signer } from "ethers";

import { ConsentRegistryClient } from "../../src/sdk/client.js";
import { initialPurposeMetadata } from "../../src/sdk/purposes.js";
import { MemorySigningStore } from "../../src/sdk/signing-store.js";
import {
  AccessManager__factory,
  ConsentRegistry__factory,
  IntegrationRegistry__factory,
} from "../../types/ethers-contracts/index.js";
import { nonceOf, rpc, startNode, startProxy } from "../cli/harness.js";
import type { DevNode, RpcProxy } from "../cli/harness.js";
import { rejects } from "./rejects.js";

/** Hardhat's well-known dev key of account 5 (the node funds it). */
const WALLET_KEY = "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba";

/**
 * A write whose connection drops after the transaction left is reported as NOT_CONFIRMED with
 * what identifies the transaction, never as a failure: a loopback proxy (its own process, see
 * test/cli/rpc-proxy.ts) in front of a real `hardhat node` (a) forwards eth_sendRawTransaction /
 * eth_sendTransaction and then drops the connection, or (b) drops the receipt request. Each
 * case checks the error and that the transaction is in fact mined.
 */
describe("ConsentTransaction: sent, not confirmed", function () {
  this.timeout(120_000);

  let node: DevNode;
  let direct: JsonRpcProvider;
  let registryAddress: string;
  const proxies: RpcProxy[] = [];
  const providers: JsonRpcProvider[] = [];

  before(async () => {
    node = await startNode();
    direct = new JsonRpcProvider(node.url, undefined, { staticNetwork: true, cacheTimeout: -1 });
    const admin = await direct.getSigner(0);
    const manager = await new AccessManager__factory(admin).deploy(admin.address);
    const integrations = await new IntegrationRegistry__factory(admin).deploy(await manager.getAddress());
    const registry = await new ConsentRegistry__factory(admin).deploy(
      await manager.getAddress(),
      await integrations.getAddress(),
      initialPurposeMetadata(),
    );
    await registry.waitForDeployment();
    registryAddress = await registry.getAddress();
  });

  after(async () => {
    for (const p of providers) p.destroy();
    for (const p of proxies) await p.stop();
    direct?.destroy();
    await node?.stop();
  });

  async function through(mode: "drop-after-send" | "drop-receipt") {
    const proxy = await startProxy(node.url, mode);
    proxies.push(proxy);
    const provider = new JsonRpcProvider(proxy.url, undefined, {
      staticNetwork: true,
      cacheTimeout: -1,
      pollingInterval: 100,
    });
    providers.push(provider);
    return { proxy, provider };
  }

  async function clientOf(signer: Signer) {
    return ConsentRegistryClient.connect(registryAddress, signer, { signingStore: new MemorySigningStore() });
  }

  async function consentActive(owner: string, grantee: string, dataId: string): Promise<boolean> {
    const registry = ConsentRegistry__factory.connect(registryAddress, direct);
    return (await registry.getConsent(owner, grantee, dataId)).active;
  }

  it("a Wallet's eth_sendRawTransaction forwarded, then the connection drops: NOT_CONFIRMED with the hash it computed; mined", async () => {
    const { proxy, provider } = await through("drop-after-send");
    const wallet = new Wallet(WALLET_KEY, provider);
    const nonce = Number(await nonceOf(node.url, wallet.address));
    const grantee = Wallet.createRandom().address;
    const dataId = id("not-confirmed:raw");
    const client = await clientOf(wallet);

    const err = await rejects(client.grant({ grantee, dataId, purposes: [0] }).wait());

    expect(err.code).to.equal("NOT_CONFIRMED");
    expect(err.sent?.hash).to.match(/^0x[0-9a-f]{64}$/);
    expect(err.sent).to.deep.equal({ hash: err.sent?.hash, from: wallet.address, nonce });
    expect(err.message).to.equal(
      `grant: sent, not confirmed: transaction ${err.sent?.hash} (from ${wallet.address}, nonce ${nonce}); the connection was lost before the node confirmed it (socket hang up). It may be mined: look it up before sending it again`,
    );
    expect(proxy.log()).to.include("eth_sendRawTransaction forwarded-then-dropped");
    const receipt = await direct.getTransactionReceipt(err.sent!.hash!);
    expect(receipt?.status).to.equal(1);
    expect(receipt?.from).to.equal(wallet.address);
    expect(await consentActive(wallet.address, grantee, dataId)).to.equal(true);
  });

  it("a node-unlocked account's eth_sendTransaction forwarded, then dropped: NOT_CONFIRMED with sender and the nonce set beforehand; mined", async () => {
    const { proxy, provider } = await through("drop-after-send");
    const signer: JsonRpcSigner = await provider.getSigner(6);
    const nonce = Number(await nonceOf(node.url, signer.address));
    const grantee = Wallet.createRandom().address;
    const dataId = id("not-confirmed:unlocked");
    const client = await clientOf(signer);

    const err = await rejects(client.grant({ grantee, dataId, purposes: [1] }).wait());

    expect(err.code).to.equal("NOT_CONFIRMED");
    expect(err.sent).to.deep.equal({ hash: null, from: signer.address, nonce });
    expect(err.message).to.equal(
      `grant: sent, not confirmed: the transaction from ${signer.address} with nonce ${nonce} (hash unknown: the node signed it); the connection was lost before the node confirmed it (socket hang up). It may be mined: look it up before sending it again`,
    );
    expect(proxy.log()).to.include("eth_sendTransaction forwarded-then-dropped");
    // It was mined with exactly that nonce.
    expect(await nonceOf(node.url, signer.address)).to.equal(BigInt(nonce + 1));
    const block = await rpc<{ transactions: { from: string; nonce: string }[] }>(node.url, "eth_getBlockByNumber", [
      "latest",
      true,
    ]);
    expect(block.transactions.map((t) => [t.from.toLowerCase(), Number(t.nonce)])).to.deep.equal([
      [signer.address.toLowerCase(), nonce],
    ]);
    expect(await consentActive(signer.address, grantee, dataId)).to.equal(true);
  });

  for (const kind of ["Wallet", "node-unlocked account"] as const) {
    it(`${kind}: the receipt request drops: NOT_CONFIRMED with the hash; mined`, async () => {
      const { proxy, provider } = await through("drop-receipt");
      const signer: Signer = kind === "Wallet" ? new Wallet(WALLET_KEY, provider) : await provider.getSigner(7);
      const from = await signer.getAddress();
      const nonce = Number(await nonceOf(node.url, from));
      const grantee = Wallet.createRandom().address;
      const dataId = id(`not-confirmed:receipt:${kind}`);
      const client = await clientOf(signer);

      const err = await rejects(client.grant({ grantee, dataId, purposes: [2] }).wait());

      expect(err.code).to.equal("NOT_CONFIRMED");
      expect(err.sent?.hash).to.match(/^0x[0-9a-f]{64}$/);
      expect(err.sent).to.deep.equal({ hash: err.sent?.hash, from, nonce });
      expect(err.message).to.equal(
        `grant: sent, not confirmed: transaction ${err.sent?.hash} (from ${from}, nonce ${nonce}); the connection was lost before the node confirmed it (socket hang up). It may be mined: look it up before sending it again`,
      );
      expect(proxy.log()).to.include("eth_getTransactionReceipt dropped");
      expect((await direct.getTransactionReceipt(err.sent!.hash!))?.status).to.equal(1);
      expect(await consentActive(from, grantee, dataId)).to.equal(true);
    });
  }

  it("no receipt within the wait timeout (nothing mined): NOT_CONFIRMED with the hash and the wait, instead of waiting forever", async () => {
    const provider = new JsonRpcProvider(node.url, undefined, {
      staticNetwork: true,
      cacheTimeout: -1,
      pollingInterval: 100,
    });
    providers.push(provider);
    const wallet = new Wallet(WALLET_KEY, provider);
    const client = await clientOf(wallet);
    const nonce = Number(await nonceOf(node.url, wallet.address));
    await rpc(node.url, "evm_setAutomine", [false]);
    try {
      const started = Date.now();
      const err = await rejects(
        client
          .grant({ grantee: Wallet.createRandom().address, dataId: id("not-confirmed:timeout"), purposes: [2] })
          .wait({ timeoutMs: 1500 }),
      );
      expect(Date.now() - started).to.be.below(10_000);
      expect(err.code).to.equal("NOT_CONFIRMED");
      expect(err.sent).to.deep.equal({ hash: err.sent?.hash, from: wallet.address, nonce, waitedMs: 1500 });
      expect(err.message).to.equal(
        `grant: sent, not confirmed: transaction ${err.sent?.hash} (from ${wallet.address}, nonce ${nonce}); no receipt came within 1.5 s of sending (the node may be gone, or the transaction is still pending). It may be mined: look it up before sending it again`,
      );
    } finally {
      await rpc(node.url, "evm_setAutomine", [true]);
      await rpc(node.url, "evm_mine", []);
    }
  });
});
