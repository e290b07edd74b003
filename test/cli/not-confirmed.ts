import { expect } from "chai";
import { JsonRpcProvider, Wallet, getAddress, keccak256, toUtf8Bytes } from "ethers";

import { ConsentRegistry__factory } from "../../types/ethers-contracts/index.js";
import { deployDirect } from "../helpers/fixture.js";
import type { ConsentRegistry } from "../../types/ethers-contracts/index.js";
import { nonceOf, rpc, runCli, spawnCli, startAnvil, startNode, startProxy } from "./harness.js";
import type { CliProcess, DevNode, RpcProxy } from "./harness.js";

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

/** A transaction in anvil's pool, as `txpool_content` lists it. */
interface PoolTx {
  hash: string;
  to: string;
  input: string;
  gas: string;
  maxFeePerGas: string;
  maxPriorityFeePerGas: string;
  nonce: string;
}

/**
 * After sending, the CLI waits for the receipt at most `--wait-timeout`: a node that goes away
 * while the transaction is pending (anvil with automine off, then stopped) gives `sent, not
 * confirmed` with the hash and exit 3, not a process that hangs forever. A wallet's speed-up
 * (the same call re-sent with a higher fee, mined instead) is the transaction applying; a
 * cancel (a 0-value transfer to itself with the same nonce) is said as such, exit 1.
 */
describe("omni-consent on anvil: no receipt in time, or a replaced transaction", function () {
  this.timeout(120_000);

  const wallet = new Wallet(WALLET_KEY);
  let node: DevNode;
  let direct: JsonRpcProvider;
  let registryAddress: string;
  let cli: CliProcess | undefined;

  beforeEach(async () => {
    node = await startAnvil();
    direct = new JsonRpcProvider(node.url, undefined, { staticNetwork: true, cacheTimeout: -1 });
    registryAddress = (await deployDirect(await direct.getSigner(0))).ConsentRegistry;
    await rpc(node.url, "evm_setAutomine", [false]);
  });

  afterEach(async () => {
    cli?.kill();
    cli = undefined;
    direct?.destroy();
    await node?.stop();
  });

  /** Starts `grant` (signed by the wallet) and returns it once its transaction is in the pool. */
  async function grantPending(extra: string[] = []) {
    const grantee = Wallet.createRandom().address;
    const dataId = keccak256(toUtf8Bytes(`anvil-pending-${grantee}`));
    const nonce = await nonceOf(node.url, wallet.address);
    cli = spawnCli([...extra, "grant", "--grantee", grantee, "--data", dataId, "--purposes", "inference"], {
      OMNI_RPC_URL: node.url,
      OMNI_REGISTRY: registryAddress,
      OMNI_PRIVATE_KEY: WALLET_KEY,
    });
    const until = Date.now() + 60_000;
    for (;;) {
      const pool = await rpc<{ pending: Record<string, Record<string, PoolTx>> }>(node.url, "txpool_content");
      const mine = Object.entries(pool.pending).find(([a]) => getAddress(a) === wallet.address);
      if (mine) {
        await new Promise((r) => setTimeout(r, 1_000)); // it is now waiting for the receipt
        return { grantee, dataId, nonce, sent: Object.values(mine[1])[0], run: cli };
      }
      if (Date.now() > until || cli.child.exitCode !== null) throw new Error(`never sent: ${cli.stderr()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Mines `raw` (signed by the wallet) in place of the pending transaction, plus a few blocks. */
  async function mineInstead(tx: { to: string; data: string; value: bigint }, sent: PoolTx): Promise<string> {
    const raw = await wallet.signTransaction({
      type: 2,
      chainId: 31337n,
      ...tx,
      nonce: Number(BigInt(sent.nonce)),
      gasLimit: tx.data === "0x" ? 21_000n : BigInt(sent.gas),
      maxFeePerGas: BigInt(sent.maxFeePerGas) * 2n,
      maxPriorityFeePerGas: BigInt(sent.maxPriorityFeePerGas) * 2n + 1n,
    });
    const hash = await rpc<string>(node.url, "eth_sendRawTransaction", [raw]);
    for (let i = 0; i < 3; i++) await rpc(node.url, "evm_mine", []);
    return hash;
  }

  async function exitWithin(run: CliProcess, ms: number): Promise<number | null> {
    const timer = new Promise<"still running">((r) => setTimeout(() => r("still running"), ms));
    const code = await Promise.race([run.exited, timer]);
    if (code === "still running") throw new Error(`still running after ${ms} ms: ${run.stderr()}`);
    return code;
  }

  it("the node goes away while the transaction is pending: within --wait-timeout, sent-not-confirmed with its hash, exit 3", async () => {
    const { nonce, sent, run } = await grantPending(["--wait-timeout", "5s"]);
    await node.stop();
    const stopped = Date.now();
    expect(await exitWithin(run, 15_000)).to.equal(3);
    expect(Date.now() - stopped).to.be.below(10_000);
    expect(run.stdout()).to.equal("");
    expect(run.stderr()).to.equal(
      `sent, not confirmed: ${sent.hash} (from ${wallet.address}, nonce ${nonce}): no receipt came within 5 s of sending (--wait-timeout; the node may be gone, or the transaction is still pending), so it may be mined. Look it up (or check that account's nonce) before sending it again\n`,
    );
  });

  it("--json, the node up but nothing mined: after --wait-timeout the document names the transaction and the wait, exit 3", async () => {
    const { nonce, sent, run } = await grantPending(["--json", "--wait-timeout", "3s"]);
    expect(await exitWithin(run, 15_000)).to.equal(3);
    expect(JSON.parse(run.stdout())).to.deep.equal({
      status: "sent-not-confirmed",
      hash: sent.hash,
      from: wallet.address,
      nonce: Number(nonce),
      waitedMs: 3000,
    });
    expect(await nonceOf(node.url, wallet.address)).to.equal(nonce); // still pending, not mined
  });

  it("a speed-up (the same grant re-sent with a higher fee) is mined: the grant applied, said with the replacement's receipt, exit 0", async () => {
    const { grantee, dataId, sent, run } = await grantPending();
    const hash = await mineInstead({ to: sent.to, data: sent.input, value: 0n }, sent);
    expect(hash).to.not.equal(sent.hash);
    expect(await exitWithin(run, 20_000), run.stderr()).to.equal(0);
    const receipt = (await direct.getTransactionReceipt(hash))!;
    expect(receipt.status).to.equal(1);
    expect(run.stderr()).to.equal("");
    expect(run.stdout()).to.equal(
      [
        `granted ${grantee} consent on ${dataId.slice(0, 6)}…${dataId.slice(-4)} for INFERENCE(2) with no expiry`,
        `tx:       ${hash} (block ${receipt.blockNumber}, gas ${receipt.gasUsed})`,
        `replaced: ${sent.hash}: the transaction sent was re-sent with a higher fee (sped up); the copy above applied`,
        "",
      ].join("\n"),
    );
    const registry = ConsentRegistry__factory.connect(registryAddress, direct);
    expect((await registry.getConsent(wallet.address, grantee, dataId)).active).to.equal(true);
  });

  it("a cancel (a 0-value transfer to itself with the same nonce) is mined instead: said as cancelled, nothing applied, exit 1", async () => {
    const { grantee, dataId, sent, run } = await grantPending();
    const hash = await mineInstead({ to: wallet.address, data: "0x", value: 0n }, sent);
    expect(await exitWithin(run, 20_000)).to.equal(1);
    expect(run.stdout()).to.equal("");
    expect(run.stderr()).to.equal(
      `error: grant: transaction ${sent.hash} was cancelled: ${hash}, a transaction of nothing from the same account with the same nonce, was mined instead, so it never applies; nothing of it was done\n`,
    );
    const registry = ConsentRegistry__factory.connect(registryAddress, direct);
    expect((await registry.getConsent(wallet.address, grantee, dataId)).active).to.equal(false);
  });
});
