import { expect } from "chai";
import { JsonRpcProvider, Wallet, getAddress, keccak256, toUtf8Bytes } from "ethers";

import { ConsentRegistry__factory } from "../../types/ethers-contracts/index.js";
import { deployDirect } from "../helpers/fixture.js";
import type { ConsentRegistry } from "../../types/ethers-contracts/index.js";
import { nonceOf, rpc, runCli, startNode, startProxy } from "./harness.js";
import type { DevNode, RpcProxy } from "./harness.js";

/** Hardhat's well-known dev key of account 5 (the node funds it). */
const WALLET_KEY = "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba";

const TAIL =
  "the connection to the node was lost after the transaction was handed over, so it may be mined. Look it up (or check that account's nonce) before sending it again";

/**
 * The CLI never says "failed" for a transaction that may be mined: with a loopback proxy (its
 * own process) in front of a real `hardhat node` that drops the connection after forwarding the
 * transaction, or drops the receipt request, it prints `sent, not confirmed: …` naming the
 * transaction and exits 3; the transaction is then found mined on the node.
 */
describe("omni-consent: sent, not confirmed (exit code 3)", function () {
  this.timeout(120_000);

  let node: DevNode;
  let direct: JsonRpcProvider;
  let registry: ConsentRegistry;
  let registryAddress: string;
  const proxies: RpcProxy[] = [];
  let n = 0;

  before(async () => {
    node = await startNode();
    direct = new JsonRpcProvider(node.url, undefined, { staticNetwork: true, cacheTimeout: -1 });
    const admin = await direct.getSigner(0);
    registryAddress = (await deployDirect(admin)).ConsentRegistry;
    registry = ConsentRegistry__factory.connect(registryAddress, admin);
  });

  after(async () => {
    for (const p of proxies) await p.stop();
    direct?.destroy();
    await node?.stop();
  });

  async function grantThrough(
    mode: "drop-after-send" | "drop-receipt",
    signer: { account: string } | { key: string },
    json = false,
  ) {
    const proxy = await startProxy(node.url, mode);
    proxies.push(proxy);
    const grantee = Wallet.createRandom().address;
    const dataId = keccak256(toUtf8Bytes(`not-confirmed-cli-${++n}`));
    const env: Record<string, string> = { OMNI_RPC_URL: proxy.url, OMNI_REGISTRY: registryAddress };
    if ("key" in signer) env.OMNI_PRIVATE_KEY = signer.key;
    const args = [
      ...("account" in signer ? ["--account", signer.account] : []),
      ...(json ? ["--json"] : []),
      "grant",
      "--grantee",
      grantee,
      "--data",
      dataId,
      "--purposes",
      "inference",
    ];
    const run = await runCli(args, env);
    return { run, proxy, grantee, dataId };
  }

  it("eth_sendTransaction (node-unlocked --account) forwarded, then dropped: from and nonce, exit 3, and it is mined", async () => {
    const from = getAddress((await rpc<string[]>(node.url, "eth_accounts"))[1]);
    const nonce = await nonceOf(node.url, from);
    const { run, proxy, grantee, dataId } = await grantThrough("drop-after-send", { account: "1" });
    expect(run.code).to.equal(3);
    expect(run.stdout).to.equal("");
    expect(run.stderr).to.equal(
      `sent, not confirmed: transaction from ${from} with nonce ${nonce} (hash unknown: the node signed it): ${TAIL}\n`,
    );
    expect(proxy.log()).to.include("eth_sendTransaction forwarded-then-dropped");
    expect(await nonceOf(node.url, from)).to.equal(nonce + 1n);
    expect((await registry.getConsent(from, grantee, dataId)).active).to.equal(true);
  });

  it("eth_sendRawTransaction (OMNI_PRIVATE_KEY) forwarded, then dropped: the hash computed before sending, exit 3, and it is mined", async () => {
    const wallet = new Wallet(WALLET_KEY);
    const nonce = await nonceOf(node.url, wallet.address);
    const { run, proxy, grantee, dataId } = await grantThrough("drop-after-send", { key: WALLET_KEY });
    expect(run.code).to.equal(3);
    expect(run.stdout).to.equal("");
    const m = new RegExp(`^sent, not confirmed: (0x[0-9a-f]{64}) \\(from ${wallet.address}, nonce ${nonce}\\): `).exec(
      run.stderr,
    );
    expect(m, run.stderr).to.not.equal(null);
    expect(run.stderr).to.equal(`sent, not confirmed: ${m![1]} (from ${wallet.address}, nonce ${nonce}): ${TAIL}\n`);
    expect(proxy.log()).to.include("eth_sendRawTransaction forwarded-then-dropped");
    const receipt = await direct.getTransactionReceipt(m![1]);
    expect([receipt?.status, receipt?.from]).to.deep.equal([1, wallet.address]);
    expect((await registry.getConsent(wallet.address, grantee, dataId)).active).to.equal(true);
  });

  it("the receipt request dropped: --json prints the transaction, stderr says sent, not confirmed, exit 3; it is mined", async () => {
    const wallet = new Wallet(WALLET_KEY);
    const nonce = await nonceOf(node.url, wallet.address);
    const { run, proxy, grantee, dataId } = await grantThrough("drop-receipt", { key: WALLET_KEY }, true);
    expect(run.code).to.equal(3);
    const out = JSON.parse(run.stdout) as { status: string; hash: string; from: string; nonce: number };
    expect(out).to.deep.equal({
      status: "sent-not-confirmed",
      hash: out.hash,
      from: wallet.address,
      nonce: Number(nonce),
    });
    expect(out.hash).to.match(/^0x[0-9a-f]{64}$/);
    expect(run.stderr).to.equal(`sent, not confirmed: ${out.hash} (from ${wallet.address}, nonce ${nonce}): ${TAIL}\n`);
    expect(proxy.log()).to.include("eth_getTransactionReceipt dropped");
    expect((await direct.getTransactionReceipt(out.hash))?.status).to.equal(1);
    expect((await registry.getConsent(wallet.address, grantee, dataId)).active).to.equal(true);
  });
});
