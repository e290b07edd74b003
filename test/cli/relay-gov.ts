import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { expect } from "chai";
import { JsonRpcProvider, keccak256, toUtf8Bytes } from "ethers";
import type { JsonRpcSigner } from "ethers";

import { encodeSignedMessage as encodeSignedFile } from "../../src/sdk/signed-message.js";
import { Via, viaOf } from "../../src/sdk/constants.js";
import { consentDomain, signConsent } from "../../src/sdk/eip712.js";
import type { ConsentMessageKind, MessageOf } from "../../src/sdk/eip712.js";
import { initialPurposeMetadata } from "../../src/sdk/purposes.js";
import {
  ConsentRegistry__factory,
  ConsentSystemDeployer__factory,
  IntegrationRegistry__factory,
} from "../../types/ethers-contracts/index.js";
import type { ConsentRegistry } from "../../types/ethers-contracts/index.js";
import { nonceOf, rpc, runCli, startNode } from "./harness.js";
import type { CliRun, DevNode } from "./harness.js";

/**
 * `relay` of several signed revocations (one best-effort `revokeBySigBatch`: every file that can
 * apply does, each one that cannot is reported, exit 4), grant batches (all or nothing, refused
 * naming the file), revoke-alls one transaction each; and governance through the real
 * ConsentAccessManager wiring (ConsentSystemDeployer): `gov pending` in words, `gov propose`
 * refusing a call that would fail unless --force, `gov execute` too early saying when, `gov
 * cancel`. Against a real `hardhat node`, the CLI as a subprocess.
 */

interface RevokeOutcomeJson {
  file: string;
  index: number;
  applied: boolean;
  error?: string;
  sent: boolean;
}

interface RelayedJson {
  kind: string;
  files: string[];
  txHash: string;
  block: number;
  gasUsed: string;
  result: { count: number; items: Record<string, unknown>[]; failures: Record<string, unknown>[] };
  outcomes: RevokeOutcomeJson[];
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
const GEN1 = 1n << 16n;

describe("omni-consent relay (revocation batches) and gov (pending, propose, execute, cancel)", function () {
  this.timeout(180_000);

  let node: DevNode;
  let provider: JsonRpcProvider;
  let owner: JsonRpcSigner;
  let otherOwner: JsonRpcSigner;
  let relayer: JsonRpcSigner;
  let governor: JsonRpcSigner;
  let guardian: JsonRpcSigner;
  let grantees: string[];
  let integration: string;
  let registry: ConsentRegistry;
  let registryAddress: string;
  let integrationsAddress: string;
  let dir: string;
  const dataId = keccak256(toUtf8Bytes("salt-19:voice-notes"));
  let fileCount = 0;

  const env = (): Record<string, string> => ({ OMNI_RPC_URL: node.url, OMNI_REGISTRY: registryAddress });
  const cli = (...args: string[]): Promise<CliRun> => runCli(args, env());
  const chainTime = async (): Promise<bigint> => BigInt((await provider.getBlock("latest"))!.timestamp);
  const iso = (t: bigint): string => new Date(Number(t) * 1000).toISOString().replace(".000Z", "Z");

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

  /** A signed revocation for `grantee` at `version` (default: the key's next one on-chain). */
  async function revokeFile(grantee: string, signer = owner, version?: bigint): Promise<string> {
    const current = await registry.getConsent(signer.address, grantee, dataId);
    return signedFile("Revoke", signer, {
      owner: signer.address,
      grantee,
      dataId,
      epoch: await registry.epochOf(signer.address),
      version: version ?? current.version + 1n,
      deadline: (await chainTime()) + 3600n,
    });
  }

  async function grantAll(signer: JsonRpcSigner): Promise<void> {
    for (const g of grantees) await (await registry.connect(signer).grant(g, dataId, 1n << 2n, 0n, dataId)).wait();
  }

  before(async function () {
    node = await startNode();
    provider = new JsonRpcProvider(node.url, undefined, { staticNetwork: true, cacheTimeout: -1 });
    const signers = await Promise.all([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => provider.getSigner(i)));
    const admin = signers[0];
    [owner, otherOwner, relayer, governor] = [signers[1], signers[2], signers[3], signers[4]];
    grantees = [signers[5].address, signers[6].address, signers[7].address];
    guardian = signers[8];
    integration = signers[9].address;
    // The production wiring: one deployer transaction, every role with a one-day delay.
    const deployer = await new ConsentSystemDeployer__factory(admin).deploy(
      admin.address,
      governor.address,
      guardian.address,
      DAY,
      initialPurposeMetadata(),
      [{ integration, metadataHash: keccak256(toUtf8Bytes("Initial DPA")), purposes: 1n << 6n }],
    );
    await deployer.waitForDeployment();
    registryAddress = await deployer.registry();
    integrationsAddress = await deployer.integrations();
    registry = ConsentRegistry__factory.connect(registryAddress, provider);
    dir = mkdtempSync(join(tmpdir(), "omni-cli-relay-"));
  });

  after(async function () {
    provider?.destroy();
    await node?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("relays three signed revocations in one best-effort batch transaction", async function () {
    await grantAll(owner);
    const files = [await revokeFile(grantees[0]), await revokeFile(grantees[1]), await revokeFile(grantees[2])];
    const relayerNonce = await nonceOf(node.url, relayer.address);

    const run = await cli("--account", "3", "--json", "relay", ...files);

    expect(run.stderr).to.equal("");
    expect(run.code).to.equal(0);
    const out = JSON.parse(run.stdout) as RelayedJson;
    expect(out.kind).to.equal("Revoke");
    expect(out.files).to.deep.equal(files);
    expect(out.outcomes).to.deep.equal(files.map((file, index) => ({ file, index, applied: true, sent: true })));
    expect(out.result.count).to.equal(3);
    expect(out.result.failures).to.deep.equal([]);
    expect(out.result.items).to.deep.equal(
      grantees.map((grantee, index) => ({
        owner: owner.address,
        grantee,
        dataId,
        actor: relayer.address,
        version: (GEN1 + 1n).toString(),
        via: "Signature",
        index,
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
      .map((p) => [p!.args.grantee, viaOf(p!.args.owner, p!.args.actor, p!.args.version)]);
    expect(revoked).to.deep.equal(grantees.map((g) => [g, Via.Signature]));
    for (const g of grantees) expect((await registry.getConsent(owner.address, g, dataId)).active).to.equal(false);
  });

  it("a stale file in a revocation batch is left out and reported; the others apply (exit 4)", async function () {
    await grantAll(owner);
    // The second file reuses the version of a revocation already applied to its key: stale.
    const files = [await revokeFile(grantees[0]), await revokeFile(grantees[1], owner, GEN1 + 1n)];
    files.push(await revokeFile(grantees[2]));
    const relayerNonce = await nonceOf(node.url, relayer.address);
    const current = (await registry.getConsent(owner.address, grantees[1], dataId)).version;

    const run = await cli("--account", "3", "relay", ...files);

    expect(run.code).to.equal(4);
    expect(run.stderr).to.equal(
      `error: 1 of 3 signed messages did not apply: ${files[1]} (each listed with its reason); the others did\n`,
    );
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines.slice(0, 4)).to.deep.equal([
      "relayed 2 of 3 signed revocations in one best-effort batch transaction (each applies or fails on its own):",
      `  applied      ${files[0]}: Revoke by ${owner.address} of ${grantees[0]} on ${dataId} (version ${2n * GEN1 + 1n})`,
      `  NOT SENT     ${files[1]}: Revoke by ${owner.address} of ${grantees[1]} on ${dataId} (version ${GEN1 + 1n}): would fail with ConsentRegistryStaleSignature: the signed message of ${owner.address} has version ${GEN1 + 1n} (generation 1, signature #1) but the consent is at version ${current} (generation 2, set by transaction): the owner changed this consent since (by transaction or a later signature), and that later word holds`,
      `  applied      ${files[2]}: Revoke by ${owner.address} of ${grantees[2]} on ${dataId} (version ${2n * GEN1 + 1n})`,
    ]);
    expect(lines[4]).to.match(/^tx: 0x[0-9a-f]{64} \(block \d+, gas \d+\)$/);
    expect(lines).to.have.length(5);
    expect(await nonceOf(node.url, relayer.address)).to.equal(relayerNonce + 1n);
    expect((await registry.getConsent(owner.address, grantees[0], dataId)).active).to.equal(false);
    expect((await registry.getConsent(owner.address, grantees[1], dataId)).active).to.equal(true);
    expect((await registry.getConsent(owner.address, grantees[2], dataId)).active).to.equal(false);
  });

  it("a revocation batch of which nothing would apply sends nothing and says why for each file", async function () {
    const files = [
      await revokeFile(grantees[0], otherOwner, 0n), // version 0 is never above the key's
      await revokeFile(grantees[1], otherOwner, 0n),
    ];
    const block = await rpc<string>(node.url, "eth_blockNumber");
    const relayerNonce = await nonceOf(node.url, relayer.address);

    const run = await cli("--account", "3", "--json", "relay", ...files);

    expect(run.code).to.equal(4);
    const out = JSON.parse(run.stdout) as RelayedJson;
    const stale = `ConsentRegistryStaleSignature: the signed message of ${otherOwner.address} has version 0 (generation 0, set by transaction) but the consent is at version 0 (generation 0, set by transaction): the owner changed this consent since (by transaction or a later signature), and that later word holds`;
    expect(out).to.deep.equal({
      kind: "Revoke",
      files,
      outcomes: files.map((file, index) => ({ file, index, applied: false, error: stale, sent: false })),
    });
    expect(run.stderr).to.equal(
      `error: 2 of 2 signed messages did not apply: ${files.join(", ")} (each listed with its reason); the others did\n`,
    );
    expect(await nonceOf(node.url, relayer.address)).to.equal(relayerNonce);
    expect(await rpc<string>(node.url, "eth_blockNumber")).to.equal(block);
  });

  it("a grant batch is all or nothing: an item that would revert is named by its file, and nothing is sent", async function () {
    const grant = async (grantee: string, version: bigint) =>
      signedFile("Grant", otherOwner, {
        owner: otherOwner.address,
        grantee,
        dataId,
        purposes: 1n << 3n,
        expiresAt: 0n,
        noticeHash: dataId,
        epoch: 0n,
        version,
        deadline: (await chainTime()) + 3600n,
      });
    const files = [await grant(grantees[0], 1n), await grant(grantees[1], 1n), await grant(grantees[1], 1n)];
    const block = await rpc<string>(node.url, "eth_blockNumber");
    const relayerNonce = await nonceOf(node.url, relayer.address);

    const run = await cli("--account", "3", "relay", ...files);

    expect(run.code).to.equal(1);
    expect(run.stdout).to.equal("");
    expect(run.stderr).to.equal(
      `error: ${files[2]}: batch item #2 of 3 would revert with ConsentRegistryStaleSignature: the signed message of ${otherOwner.address} has version 1 (generation 0, signature #1) but the consent is at version 1 (generation 0, signature #1): the owner changed this consent since (by transaction or a later signature), and that later word holds; a grant batch is all or nothing, so nothing was sent\n`,
    );
    expect(await nonceOf(node.url, relayer.address)).to.equal(relayerNonce);
    expect(await rpc<string>(node.url, "eth_blockNumber")).to.equal(block);
    expect((await registry.getConsent(otherOwner.address, grantees[0], dataId)).active).to.equal(false);
  });

  it("batches consecutive revocations and sends a revoke-all on its own, saying so", async function () {
    await grantAll(owner);
    const files = [await revokeFile(grantees[0]), await revokeFile(grantees[1])];
    const now = await chainTime();
    files.push(
      await signedFile("RevokeAll", otherOwner, { owner: otherOwner.address, epoch: 0n, deadline: now + 600n }),
    );
    const relayerNonce = await nonceOf(node.url, relayer.address);

    const run = await cli("--account", "3", "relay", ...files);

    expect(run.stderr).to.equal("");
    expect(run.code).to.equal(0);
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines).to.have.length(7);
    expect(lines.slice(0, 3)).to.deep.equal([
      "relayed 2 of 2 signed revocations in one best-effort batch transaction (each applies or fails on its own):",
      `  applied      ${files[0]}: Revoke by ${owner.address} of ${grantees[0]} on ${dataId} (version ${3n * GEN1 + 1n})`,
      `  applied      ${files[1]}: Revoke by ${owner.address} of ${grantees[1]} on ${dataId} (version ${3n * GEN1 + 1n})`,
    ]);
    expect(lines[3]).to.match(/^tx: 0x[0-9a-f]{64} \(block \d+, gas \d+\)$/);
    expect(lines[4]).to.equal(
      `relayed RevokeAll by ${otherOwner.address} (lockdown of epoch 0) (revoke-alls have no batch form: one transaction each)`,
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
    const [suspended, registered] = [integration, grantees[1]];
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

  /** Nothing was sent by `address` (nonce) and no block was mined, while `run` ran. */
  async function sendsNothing(address: string, run: () => Promise<CliRun>): Promise<CliRun> {
    const block = await rpc<string>(node.url, "eth_blockNumber");
    const nonce = await nonceOf(node.url, address);
    const result = await run();
    expect(await rpc<string>(node.url, "eth_blockNumber")).to.equal(block);
    expect(await nonceOf(node.url, address)).to.equal(nonce);
    return result;
  }

  it("gov propose refuses a call that would fail when executed, saying why, unless --force", async function () {
    const notAnIntegration = grantees[2];
    const how = "simulated on the current state with the node's eth_call state overrides";
    const suspend = await sendsNothing(governor.address, () =>
      cli("--account", "4", "gov", "propose", "suspend-integration", notAnIntegration),
    );
    expect([suspend.code, suspend.stdout]).to.deep.equal([1, ""]);
    expect(suspend.stderr).to.equal(
      `error: gov propose: "suspend integration ${notAnIntegration}" would fail when executed: IntegrationRegistryWrongStatus: integration ${notAnIntegration} is None, which this operation does not accept (${how}); nothing was scheduled. Pass --force to schedule it anyway\n`,
    );
    const define = await sendsNothing(governor.address, () =>
      cli("--account", "4", "gov", "propose", "define-purpose", "3", "--metadata", "a second EVALUATION"),
    );
    expect(define.stderr).to.equal(
      `error: gov propose: "define purpose 3" would fail when executed: PurposeCatalogAlreadyDefined: purpose id 3 was defined before (ids are never reused) (${how}); nothing was scheduled. Pass --force to schedule it anyway\n`,
    );

    const forced = await cli(
      "--account",
      "4",
      "--json",
      "gov",
      "propose",
      "suspend-integration",
      notAnIntegration,
      "--force",
    );
    expect(forced.stderr).to.equal("");
    expect(forced.code).to.equal(0);
    const out = JSON.parse(forced.stdout) as { result: { operationId: string; target: string; caller: string } };
    expect([out.result.target, out.result.caller]).to.deep.equal([integrationsAddress, governor.address]);
    const pending = JSON.parse((await cli("--json", "gov", "pending")).stdout) as PendingJson;
    expect(pending.pending.map((p) => p.operationId)).to.include(out.result.operationId);
  });

  it("gov execute too early says when the call becomes executable (ISO time and time left)", async function () {
    const proposed = await cli("--account", "4", "--json", "gov", "propose", "deprecate-purpose", "5");
    expect(proposed.stderr).to.equal("");
    const { result, block } = JSON.parse(proposed.stdout) as {
      block: number;
      result: { operationId: string; readyAt: string };
    };
    const readyAt = BigInt(result.readyAt);
    const proposedAt = BigInt((await provider.getBlock(block))!.timestamp);
    expect(readyAt).to.equal(proposedAt + DAY);

    const early = await sendsNothing(governor.address, () =>
      cli("--account", "4", "gov", "execute", "deprecate-purpose", "5"),
    );
    expect(early.code).to.equal(1);
    expect(early.stderr).to.equal(
      `error: AccessManagerNotReady: operation ${result.operationId} is scheduled but not ready yet: it becomes executable at ${iso(readyAt)} (in 1 d 0 h; chain time ${iso(proposedAt)})\n`,
    );
  });

  it("gov cancel: a stranger is refused in words, the guardian cancels at once, and a call no longer pending is refused before sending", async function () {
    const proposed = await cli("--account", "4", "--json", "gov", "propose", "deprecate-purpose", "6");
    const { operationId } = (JSON.parse(proposed.stdout) as { result: { operationId: string } }).result;

    const stranger = await sendsNothing(relayer.address, () => cli("--account", "3", "gov", "cancel", operationId));
    expect(stranger.code).to.equal(1);
    expect(stranger.stderr).to.equal(
      `error: AccessManagerUnauthorizedCancel: ${relayer.address} may not cancel the deprecatePurpose(uint8) call on ${registryAddress} that ${governor.address} proposed: only its proposer or a member of GUARDIAN_ROLE (2) can\n`,
    );

    const cancelled = await cli("--account", "8", "gov", "cancel", operationId);
    expect(cancelled.stderr).to.equal("");
    expect(cancelled.code).to.equal(0);
    const lines = cancelled.stdout.trimEnd().split("\n");
    expect(lines[0]).to.equal(
      `cancelled: deprecate purpose THIRD_PARTY_SHARING (id 6) (operation ${operationId}, proposed by ${governor.address})`,
    );
    expect(lines[1]).to.match(/^tx: 0x[0-9a-f]{64} \(block \d+, gas \d+\)$/);
    const pending = JSON.parse((await cli("--json", "gov", "pending")).stdout) as PendingJson;
    expect(pending.pending.map((p) => p.operationId)).to.not.include(operationId);

    const again = await sendsNothing(guardian.address, () => cli("--account", "8", "gov", "cancel", operationId));
    expect(again.stderr).to.equal(
      `error: gov cancel: operation ${operationId} is not pending (never scheduled, or executed, cancelled or expired since); nothing to cancel, nothing was sent\n`,
    );
    const malformed = await cli("--account", "8", "gov", "cancel", "0x1234");
    expect(malformed.stderr).to.equal(
      `error: <operation-id>: "0x1234" is not an operation id (0x followed by 64 hex digits, as gov pending shows it)\n`,
    );
  });

  it("an account without GOVERNOR_ROLE cannot propose: refused before sending, naming the role", async function () {
    const run = await sendsNothing(relayer.address, () =>
      cli("--account", "3", "gov", "propose", "deprecate-purpose", "4"),
    );
    expect(run.code).to.equal(1);
    expect(run.stderr).to.equal(
      `error: ${relayer.address} does not hold GOVERNOR_ROLE (1), the role this governed function needs; only its members can propose or execute it. Nothing was sent\n`,
    );
  });
});
