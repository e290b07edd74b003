import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { expect } from "chai";
import { JsonRpcProvider, keccak256, toUtf8Bytes } from "ethers";
import type { JsonRpcSigner } from "ethers";

import { encodeSignedFile } from "../../src/cli/signed-file.js";
import { Via } from "../../src/sdk/constants.js";
import { consentDomain, signConsent } from "../../src/sdk/eip712.js";
import type { ConsentMessageKind, MessageOf } from "../../src/sdk/eip712.js";
import { configureGovernance } from "../../src/sdk/governance.js";
import { initialPurposeMetadata } from "../../src/sdk/purposes.js";
import {
  AccessManager__factory,
  ConsentRegistry__factory,
  IntegrationRegistry__factory,
} from "../../types/ethers-contracts/index.js";
import type { ConsentRegistry } from "../../types/ethers-contracts/index.js";
import { nonceOf, rpc, runCli, startNode } from "./harness.js";
import type { CliRun, DevNode } from "./harness.js";

/**
 * `relay` of several signed revocations (one `revokeBySigBatch` transaction, a refused batch
 * names the file and sends nothing, revoke-alls one transaction each) and `gov pending` decoding
 * scheduled calls into words, against a real `hardhat node` with the CLI as a subprocess.
 */

interface RelayedJson {
  kind: string;
  files: string[];
  txHash: string;
  block: number;
  gasUsed: string;
  result: { count: number; items: Record<string, unknown>[] };
}

interface PendingJson {
  chainTime: string;
  pending: {
    operationId: string;
    nonce: string;
    readyAt: string;
    readyAtIso: string;
    ready: boolean;
    caller: string;
    target: string;
    targetName: string | null;
    data: string;
    decoded: { function: string | null; args: Record<string, unknown> };
    description: string;
    blockNumber: number;
    transactionHash: string;
  }[];
}

const DAY = 86_400n;

describe("omni-consent relay (revocation batches) and gov pending (decoded)", function () {
  this.timeout(120_000);

  let node: DevNode;
  let provider: JsonRpcProvider;
  let owner: JsonRpcSigner;
  let otherOwner: JsonRpcSigner;
  let relayer: JsonRpcSigner;
  let governor: JsonRpcSigner;
  let grantees: string[];
  let registry: ConsentRegistry;
  let registryAddress: string;
  let integrationsAddress: string;
  let managerAddress: string;
  let dir: string;
  const dataId = keccak256(toUtf8Bytes("salt-19:voice-notes"));
  let fileCount = 0;

  const env = (): Record<string, string> => ({ OMNI_RPC_URL: node.url, OMNI_REGISTRY: registryAddress });
  const cli = (...args: string[]): Promise<CliRun> => runCli(args, env());
  const chainTime = async (): Promise<bigint> => BigInt((await provider.getBlock("latest"))!.timestamp);

  /** Signs `message` as `signer` and writes it as a signed-message file; returns the path. */
  async function signedFile<K extends ConsentMessageKind>(
    kind: K,
    signer: JsonRpcSigner,
    message: MessageOf[K],
  ): Promise<string> {
    const signed = await signConsent(kind, signer, consentDomain(31337n, registryAddress), message);
    const path = join(dir, `${++fileCount}-${kind.toLowerCase()}.json`);
    writeFileSync(path, encodeSignedFile({ kind, chainId: 31337n, registry: registryAddress, signed }));
    return path;
  }

  const revokeFile = async (grantee: string, nonce: bigint, signer = owner): Promise<string> =>
    signedFile("Revoke", signer, {
      owner: signer.address,
      grantee,
      dataId,
      nonce,
      deadline: (await chainTime()) + 3600n,
    });

  async function grantAll(signer: JsonRpcSigner): Promise<void> {
    for (const g of grantees) await (await registry.connect(signer).grant(g, dataId, 1n << 2n, 0n, dataId)).wait();
  }

  before(async function () {
    node = await startNode();
    provider = new JsonRpcProvider(node.url, undefined, { staticNetwork: true, cacheTimeout: -1 });
    const signers = await Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map((i) => provider.getSigner(i)));
    const admin = signers[0];
    [owner, otherOwner, relayer, governor] = [signers[1], signers[2], signers[3], signers[4]];
    grantees = [signers[5].address, signers[6].address, signers[7].address];
    const manager = await new AccessManager__factory(admin).deploy(admin.address);
    await manager.waitForDeployment();
    managerAddress = await manager.getAddress();
    const ints = await new IntegrationRegistry__factory(admin).deploy(managerAddress);
    await ints.waitForDeployment();
    integrationsAddress = await ints.getAddress();
    registry = await new ConsentRegistry__factory(admin).deploy(
      managerAddress,
      integrationsAddress,
      initialPurposeMetadata(),
    );
    await registry.waitForDeployment();
    registryAddress = await registry.getAddress();
    // The governor must schedule every governed call and wait one day.
    await configureGovernance(manager, {
      registry: registryAddress,
      integrations: integrationsAddress,
      governor: governor.address,
      executionDelay: DAY,
    });
    dir = mkdtempSync(join(tmpdir(), "omni-cli-relay-"));
  });

  after(async function () {
    provider?.destroy();
    await node?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("relays three signed revocations in one batch transaction", async function () {
    await grantAll(owner);
    const files = [await revokeFile(grantees[0], 100n), await revokeFile(grantees[1], 101n)];
    files.push(await revokeFile(grantees[2], 102n));
    const relayerNonce = await nonceOf(node.url, relayer.address);

    const run = await cli("--account", "3", "--json", "relay", ...files);

    expect(run.stderr).to.equal("");
    expect(run.code).to.equal(0);
    const out = JSON.parse(run.stdout) as RelayedJson;
    expect(out.kind).to.equal("Revoke");
    expect(out.files).to.deep.equal(files);
    expect(out.result.count).to.equal(3);
    expect(out.result.items).to.deep.equal(
      grantees.map((grantee) => ({
        owner: owner.address,
        grantee,
        dataId,
        actor: relayer.address,
        via: Via.Signature,
      })),
    );
    // One transaction: the relayer's nonce moved by one, and that receipt holds the three revocations.
    expect(await nonceOf(node.url, relayer.address)).to.equal(relayerNonce + 1n);
    const receipt = (await provider.getTransactionReceipt(out.txHash))!;
    expect(receipt.status).to.equal(1);
    expect(receipt.blockNumber).to.equal(out.block);
    const revoked = receipt.logs
      .map((l) => registry.interface.parseLog(l))
      .filter((p) => p?.name === "ConsentRevoked")
      .map((p) => [p!.args.grantee, Number(p!.args.via)]);
    expect(revoked).to.deep.equal(grantees.map((g) => [g, Via.Signature]));
    for (const g of grantees) expect((await registry.getConsent(owner.address, g, dataId)).active).to.equal(false);
    for (const n of [100n, 101n, 102n]) expect(await registry.isNonceUsed(owner.address, n)).to.equal(true);
  });

  it("refuses a batch whose second file reuses a spent nonce, naming that file, and sends nothing", async function () {
    await grantAll(owner);
    // Nonce 101 was spent by the previous relay; the message itself is new and validly signed.
    const files = [await revokeFile(grantees[0], 200n), await revokeFile(grantees[1], 101n)];
    files.push(await revokeFile(grantees[2], 202n));
    const block = await rpc<string>(node.url, "eth_blockNumber");
    const relayerNonce = await nonceOf(node.url, relayer.address);

    const run = await cli("--account", "3", "relay", ...files);

    expect(run.code).to.equal(1);
    expect(run.stdout).to.equal("");
    expect(run.stderr).to.equal(`error: ${files[1]}: nonce 101 of ${owner.address} was used or invalidated already\n`);
    expect(await nonceOf(node.url, relayer.address)).to.equal(relayerNonce);
    expect(await rpc<string>(node.url, "eth_blockNumber")).to.equal(block);
    for (const n of [200n, 202n]) expect(await registry.isNonceUsed(owner.address, n)).to.equal(false);
  });

  it("simulates the batch first: an item that would revert is mapped back to its file, and nothing is sent", async function () {
    // Every check a file can pass offline passes; the second revocation targets a consent
    // otherOwner never gave, so only the on-chain simulation can find it.
    await (await registry.connect(otherOwner).grant(grantees[0], dataId, 1n << 2n, 0n, dataId)).wait();
    await (await registry.connect(otherOwner).grant(grantees[2], dataId, 1n << 2n, 0n, dataId)).wait();
    const files = [
      await revokeFile(grantees[0], 300n, otherOwner),
      await revokeFile(grantees[1], 301n, otherOwner),
      await revokeFile(grantees[2], 302n, otherOwner),
    ];
    const block = await rpc<string>(node.url, "eth_blockNumber");
    const relayerNonce = await nonceOf(node.url, relayer.address);

    const run = await cli("--account", "3", "relay", ...files);

    expect(run.code).to.equal(1);
    expect(run.stdout).to.equal("");
    expect(run.stderr).to.equal(
      `error: ${files[1]}: batch item #1 of 3 would revert with ConsentRegistryNotGranted: ${otherOwner.address} has no live consent for ${grantees[1]} on data ${dataId}; the batch is all or nothing, so nothing was sent\n`,
    );
    expect(await nonceOf(node.url, relayer.address)).to.equal(relayerNonce);
    expect(await rpc<string>(node.url, "eth_blockNumber")).to.equal(block);
    expect((await registry.getConsent(otherOwner.address, grantees[0], dataId)).active).to.equal(true);
    expect(await registry.isNonceUsed(otherOwner.address, 300n)).to.equal(false);
  });

  it("batches consecutive revocations and sends a revoke-all on its own, saying so", async function () {
    const files = [await revokeFile(grantees[0], 400n), await revokeFile(grantees[1], 401n)];
    const now = await chainTime();
    files.push(
      await signedFile("RevokeAll", otherOwner, { owner: otherOwner.address, nonce: 402n, deadline: now + 600n }),
    );
    const relayerNonce = await nonceOf(node.url, relayer.address);

    const run = await cli("--account", "3", "relay", ...files);

    expect(run.stderr).to.equal("");
    expect(run.code).to.equal(0);
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines).to.have.length(7);
    expect(lines.slice(0, 3)).to.deep.equal([
      "relayed 2 signed revocations in one batch transaction (all or nothing):",
      `  ${files[0]}: Revoke by ${owner.address} of ${grantees[0]} on ${dataId}`,
      `  ${files[1]}: Revoke by ${owner.address} of ${grantees[1]} on ${dataId}`,
    ]);
    expect(lines[3]).to.match(/^tx: 0x[0-9a-f]{64} \(block \d+, gas \d+\)$/);
    expect(lines[4]).to.equal(
      `relayed RevokeAll by ${otherOwner.address} (revoke-alls have no batch form: one transaction each)`,
    );
    expect(lines[5]).to.match(/^tx: 0x[0-9a-f]{64} \(block \d+, gas \d+\)$/);
    expect(lines[6]).to.equal("relayed 3 signed messages in 2 transactions");
    expect(lines[3]).to.not.equal(lines[5]);
    expect(await nonceOf(node.url, relayer.address)).to.equal(relayerNonce + 2n);
    expect(await registry.epochOf(otherOwner.address)).to.equal(1n);
    expect((await registry.getConsent(owner.address, grantees[1], dataId)).active).to.equal(false);
    expect((await registry.getConsent(owner.address, grantees[2], dataId)).active).to.equal(true);
  });

  it("gov pending decodes a scheduled suspension and a scheduled registration into words", async function () {
    const [suspended, registered] = [grantees[0], grantees[1]];
    const t0 = (await chainTime()) + 1000n;
    await rpc(node.url, "evm_setNextBlockTimestamp", [Number(t0)]);
    const proposeSuspend = await cli("--account", "4", "--json", "gov", "propose", "suspend-integration", suspended);
    expect(proposeSuspend.stderr).to.equal("");
    await rpc(node.url, "evm_setNextBlockTimestamp", [Number(t0 + 60n)]);
    const proposeRegister = await cli(
      "--account",
      "4",
      "--json",
      "gov",
      "propose",
      "register-integration",
      registered,
      "--purposes",
      "research,model-training",
      "--metadata",
      "Acme Labs DPA v2",
    );
    expect(proposeRegister.stderr).to.equal("");
    const suspend = JSON.parse(proposeSuspend.stdout) as {
      txHash: string;
      block: number;
      result: { operationId: string };
    };
    const register = JSON.parse(proposeRegister.stdout) as typeof suspend;
    const metadata = keccak256(toUtf8Bytes("Acme Labs DPA v2"));
    await rpc(node.url, "evm_setNextBlockTimestamp", [Number(t0 + 61n)]);
    await rpc(node.url, "evm_mine");

    // Human: the suspension is 86339 s away, the registration 86399 s.
    const human = await cli("gov", "pending");
    expect(human.stderr).to.equal("");
    expect(human.code).to.equal(0);
    const iso = (t: bigint): string => new Date(Number(t) * 1000).toISOString().replace(".000Z", "Z");
    expect(human.stdout).to.equal(
      [
        `2 pending operations (chain time ${iso(t0 + 61n)}):`,
        "",
        `suspend integration ${suspended}`,
        `  operation: ${suspend.result.operationId}`,
        `  target:    IntegrationRegistry ${integrationsAddress}`,
        `  ready at:  ${iso(t0 + DAY)} (in 23 h 58 min)`,
        `  proposed:  by ${governor.address} in tx ${suspend.txHash} (block ${suspend.block})`,
        "",
        `register integration ${registered} for MODEL_TRAINING, RESEARCH (metadata ${metadata})`,
        `  operation: ${register.result.operationId}`,
        `  target:    IntegrationRegistry ${integrationsAddress}`,
        `  ready at:  ${iso(t0 + 60n + DAY)} (in 23 h 59 min)`,
        `  proposed:  by ${governor.address} in tx ${register.txHash} (block ${register.block})`,
        "",
      ].join("\n"),
    );

    // JSON, once the suspension's delay has passed: raw calldata and the decoded call.
    await rpc(node.url, "evm_setNextBlockTimestamp", [Number(t0 + DAY)]);
    await rpc(node.url, "evm_mine");
    const json = await cli("--json", "gov", "pending");
    expect(json.stderr).to.equal("");
    const out = JSON.parse(json.stdout) as PendingJson;
    expect(out.chainTime).to.equal((t0 + DAY).toString());
    const ints = IntegrationRegistry__factory.createInterface();
    expect(out.pending).to.deep.equal([
      {
        operationId: suspend.result.operationId,
        nonce: "1",
        readyAt: (t0 + DAY).toString(),
        caller: governor.address,
        target: integrationsAddress,
        data: ints.encodeFunctionData("suspendIntegration", [suspended]),
        ready: true,
        blockNumber: suspend.block,
        transactionHash: suspend.txHash,
        targetName: "IntegrationRegistry",
        readyAtIso: iso(t0 + DAY),
        decoded: { function: "suspendIntegration", args: { integration: suspended } },
        description: `suspend integration ${suspended}`,
      },
      {
        operationId: register.result.operationId,
        nonce: "1",
        readyAt: (t0 + 60n + DAY).toString(),
        caller: governor.address,
        target: integrationsAddress,
        data: ints.encodeFunctionData("registerIntegration", [registered, metadata, (1n << 0n) | (1n << 7n)]),
        ready: false,
        blockNumber: register.block,
        transactionHash: register.txHash,
        targetName: "IntegrationRegistry",
        readyAtIso: iso(t0 + 60n + DAY),
        decoded: {
          function: "registerIntegration",
          args: { integration: registered, metadataHash: metadata, purposes: "129" },
        },
        description: `register integration ${registered} for MODEL_TRAINING, RESEARCH (metadata ${metadata})`,
      },
    ]);
  });
});
