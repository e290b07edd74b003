import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { expect } from "chai";
import { Wallet, ZeroHash, getAddress, keccak256, toUtf8Bytes } from "ethers";

import { ALL_DATA } from "../../src/sdk/constants.js";
import { purposeMetadataHash, PURPOSES } from "../../src/sdk/purposes.js";
import { ROOT, freePort, rpc, runCli, startNode } from "../cli/harness.js";
import type { CliRun, DevNode } from "../cli/harness.js";

/**
 * End to end: a real `hardhat node` on a free port, the system deployed by Ignition over
 * JSON-RPC (the project's ConsentSystem module with ignition/parameters/local.json: governor =
 * account 0 with a 60 s execution delay), then the `omni-consent` CLI as a subprocess through a
 * whole consent life cycle, checking its --json output at each step:
 *
 * owner grant → processor record-use → integration registered through governance (propose,
 * execute refused before the delay saying when, time travel, execute) → record-share → owner
 * revoke → record-use refused with the decoded error → sign-grant offline + relay by another
 * account, a replay refused as stale → lockdown.
 *
 * Ignition deploys the system through `ConsentSystemDeployer` in one transaction; the CLI finds
 * the three contracts under the same deployment ids as before.
 */

const HARDHAT_CLI = join(ROOT, "node_modules", "hardhat", "dist", "src", "cli.js");

/** Runs a command to completion, failing with its output on a non-zero exit. */
function exec(args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env } });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${args.join(" ")} exited ${code}:\n${out}`)),
    );
  });
}

/** The parsed --json output of a successful run. */
function ok<T = Record<string, unknown>>(run: CliRun): T {
  expect(run.stderr, run.stderr).to.equal("");
  expect(run.code).to.equal(0);
  return JSON.parse(run.stdout) as T;
}

interface Sent<R> {
  txHash: string;
  block: number;
  gasUsed: string;
  result: R;
}

describe("omni-consent end to end against hardhat node + Ignition", function () {
  this.timeout(90_000);

  let node: DevNode;
  let accounts: string[];
  let deploymentId: string;
  let deploymentsRoot: string;
  let signingStore: string;
  let addresses: { AccessManager: string; IntegrationRegistry: string; ConsentRegistry: string };
  let env: Record<string, string>;

  const dataId = keccak256(toUtf8Bytes("salt-7f3a:chest-xray-set"));
  const notice = keccak256(toUtf8Bytes("consent notice v1"));
  const cli = (account: number | null, ...args: string[]): Promise<CliRun> =>
    runCli([...(account === null ? [] : ["--account", String(account)]), "--json", ...args], env);

  before(async function () {
    node = await startNode();
    accounts = (await rpc<string[]>(node.url, "eth_accounts")).map((a) => getAddress(a));
    // Ignition over JSON-RPC into a throwaway deployment id, so no shared deployment is touched.
    deploymentId = `e2e-cli-${process.pid}-${Date.now()}`;
    await exec(
      [
        HARDHAT_CLI,
        "ignition",
        "deploy",
        "ignition/modules/ConsentSystem.ts",
        "--config",
        "test/e2e/hardhat-e2e.config.ts",
        "--network",
        "e2e",
        "--parameters",
        "ignition/parameters/local.json",
        "--deployment-id",
        deploymentId,
        // Ignition builds with the isolated `production` profile by default: a full recompile
        // (~45 s here) whose one-file build infos (e.g. Common.sol, no contracts) make EDR fail
        // to start `hardhat node` and every in-process network until the next default build.
        "--build-profile",
        "default",
      ],
      { OMNI_E2E_NODE_URL: node.url, OMNI_INTEGRATIONS_FILE: "" },
    );
    // The CLI finds deployments by chain id (ignition/deployments/chain-<id>); serve ours from a
    // temporary root so the repository's own chain-31337 record is never read or written.
    const recorded = readFileSync(
      join(ROOT, "ignition", "deployments", deploymentId, "deployed_addresses.json"),
      "utf8",
    );
    deploymentsRoot = mkdtempSync(join(tmpdir(), "omni-e2e-"));
    mkdirSync(join(deploymentsRoot, "ignition", "deployments", "chain-31337"), { recursive: true });
    writeFileSync(join(deploymentsRoot, "ignition", "deployments", "chain-31337", "deployed_addresses.json"), recorded);
    signingStore = mkdtempSync(join(tmpdir(), "omni-e2e-signing-"));
    env = { OMNI_RPC_URL: node.url, OMNI_DEPLOYMENTS_ROOT: deploymentsRoot, OMNI_SIGNING_STORE: signingStore };
    const record = JSON.parse(recorded) as Record<string, string>;
    expect(Object.keys(record).sort()).to.deep.equal([
      "ConsentSystem#AccessManager",
      "ConsentSystem#ConsentRegistry",
      "ConsentSystem#ConsentSystemDeployer",
      "ConsentSystem#IntegrationRegistry",
    ]);
  });

  after(async function () {
    await node?.stop();
    if (deploymentId) rmSync(join(ROOT, "ignition", "deployments", deploymentId), { recursive: true, force: true });
    if (deploymentsRoot) rmSync(deploymentsRoot, { recursive: true, force: true });
    if (signingStore) rmSync(signingStore, { recursive: true, force: true });
  });

  it("runs a consent life cycle through the CLI", async function () {
    const [governor, owner, processor, integration, relayer] = accounts;

    // The deployment, as Ignition recorded it.
    const deployment = ok<Record<string, string>>(await cli(null, "deployment"));
    expect(deployment.chainId).to.equal("31337");
    addresses = {
      AccessManager: deployment.AccessManager,
      IntegrationRegistry: deployment.IntegrationRegistry,
      ConsentRegistry: deployment.ConsentRegistry,
    };
    for (const a of Object.values(addresses))
      expect(await rpc<string>(node.url, "eth_getCode", [a, "latest"])).to.not.equal("0x");

    const catalogue = ok<{ purposes: { id: number; name: string; metadataHash: string; grantable: boolean }[] }>(
      await cli(null, "purposes"),
    );
    expect(catalogue.purposes).to.deep.equal(
      PURPOSES.map((p) => ({ id: p.id, name: p.name, metadataHash: purposeMetadataHash(p), grantable: true })),
    );

    // 1. The owner grants the processor inference + third-party sharing for 30 days.
    const now0 = BigInt(
      (await rpc<{ timestamp: string }>(node.url, "eth_getBlockByNumber", ["latest", false])).timestamp,
    );
    const granted = ok<Sent<Record<string, unknown>>>(
      await cli(
        1,
        "grant",
        "--grantee",
        processor,
        "--data",
        dataId,
        "--purposes",
        "inference,third-party-sharing",
        "--expires",
        "+30d",
        "--notice",
        "consent notice v1",
      ),
    );
    expect(granted.result).to.include({
      owner,
      grantee: processor,
      dataId,
      noticeHash: notice,
      actor: owner,
      version: String(1n << 16n),
      via: "Owner",
    });
    expect(granted.result.purposes).to.deep.equal([2, 6]);
    const expiresAt = BigInt(granted.result.expiresAt as string);
    expect(expiresAt - now0).to.be.within(30n * 86_400n, 30n * 86_400n + 5n);

    // 2. The processor records a use, covered by that consent.
    const used = ok<Sent<Record<string, unknown>>>(
      await cli(2, "record-use", "--owner", owner, "--data", dataId, "--purpose", "inference", "--evidence", "job-1"),
    );
    expect(used.result).to.deep.equal({
      owner,
      processor,
      dataId,
      purpose: 2,
      evidence: keccak256(toUtf8Bytes("job-1")),
    });
    const status = ok<Record<string, unknown>>(
      await cli(null, "status", "--owner", owner, "--grantee", processor, "--data", dataId, "--purpose", "inference"),
    );
    expect(status.allowed).to.equal(true);
    expect(status.consent).to.deep.include({
      purposes: [2, 6],
      active: true,
      epoch: "0",
      version: String(1n << 16n),
      expiresAt: expiresAt.toString(),
    });

    // 3. Governance registers the integration: propose, refused before the delay, execute after it.
    const registerArgs = [
      "register-integration",
      integration,
      "--purposes",
      "third-party-sharing",
      "--metadata",
      "Acme DPA v1",
    ];
    const proposed = ok<Sent<{ operationId: string; readyAt: string; target: string }>>(
      await cli(0, "gov", "propose", ...registerArgs),
    );
    expect(proposed.result.target).to.equal(addresses.IntegrationRegistry);
    const pending = ok<{ pending: { operationId: string; ready: boolean; caller: string }[] }>(
      await cli(null, "gov", "pending"),
    );
    expect(pending.pending).to.have.length(1);
    expect(pending.pending[0]).to.include({ operationId: proposed.result.operationId, ready: false, caller: governor });

    const early = await cli(0, "gov", "execute", ...registerArgs);
    expect(early.code).to.equal(1);
    const iso = (t: bigint): string => new Date(Number(t) * 1000).toISOString().replace(".000Z", "Z");
    const readyAt = BigInt(proposed.result.readyAt);
    expect(early.stderr).to.equal(
      `error: AccessManagerNotReady: operation ${proposed.result.operationId} is scheduled but not ready yet: it becomes executable at ${iso(readyAt)} (in 1 min; chain time ${iso(readyAt - 60n)})\n`,
    );

    await rpc(node.url, "evm_increaseTime", [61]);
    await rpc(node.url, "evm_mine");
    const executed = ok<Sent<{ operationId: string | null; target: string }>>(
      await cli(0, "gov", "execute", ...registerArgs),
    );
    expect(executed.result.operationId).to.equal(proposed.result.operationId);
    expect(ok<{ pending: unknown[] }>(await cli(null, "gov", "pending")).pending).to.deep.equal([]);
    const listed = ok<{ integrations: Record<string, unknown>[] }>(await cli(null, "integrations"));
    const acmeHash = keccak256(toUtf8Bytes("Acme DPA v1"));
    expect(listed.integrations).to.deep.equal([
      {
        address: integration,
        purposes: [6],
        purposesMask: "64",
        status: "Active",
        metadataHash: keccak256(toUtf8Bytes("Acme DPA v1")),
        // Its metadata hash commits to no document in the package's documents/ folder: said so.
        name: null,
        document: `integration document ${acmeHash.slice(0, 10)}…${acmeHash.slice(-4)} is missing: no ${acmeHash}.json in folder ${join(ROOT, "documents")}`,
      },
    ]);

    // 4. The receiving integration needs the owner's consent too; then the share is recorded.
    ok(await cli(1, "grant", "--grantee", integration, "--data", "ALL", "--purposes", "third-party-sharing"));
    const shared = ok<Sent<Record<string, unknown>>>(
      await cli(
        2,
        "record-share",
        "--owner",
        owner,
        "--to",
        integration,
        "--data",
        dataId,
        "--purpose",
        "third-party-sharing",
        "--evidence",
        "transfer-1",
      ),
    );
    expect(shared.result).to.deep.equal({
      owner,
      from: processor,
      to: integration,
      dataId,
      purpose: 6,
      evidence: keccak256(toUtf8Bytes("transfer-1")),
    });

    // 5. The owner withdraws; the next use is refused with the decoded custom error.
    const revoked = ok<Sent<Record<string, unknown>>>(await cli(1, "revoke", "--grantee", processor, "--data", dataId));
    expect(revoked.result).to.deep.equal({
      owner,
      grantee: processor,
      dataId,
      actor: owner,
      version: String(2n << 16n),
      via: "Owner",
    });
    const refused = await cli(
      2,
      "record-use",
      "--owner",
      owner,
      "--data",
      dataId,
      "--purpose",
      "inference",
      "--evidence",
      "job-2",
    );
    const why = `ConsentRegistryConsentRequired: ${processor} holds no active consent of ${owner} on data ${dataId} for purpose INFERENCE (2)`;
    expect(refused.code).to.equal(1);
    // --json: the failure is a JSON document on stdout too (issue 13), besides the line on stderr.
    expect(JSON.parse(refused.stdout)).to.deep.equal({ status: "error", error: why, exitCode: 1 });
    expect(refused.stderr).to.equal(`error: ${why}\n`);

    // 6. A grant signed offline (no RPC reachable at all) and relayed by another account.
    const offlineOwner = Wallet.createRandom();
    const file = join(deploymentsRoot, "grant.json");
    const closed = await freePort();
    const signed = await runCli(
      [
        "--rpc",
        `http://127.0.0.1:${closed}`,
        "--chain-id",
        "31337",
        "--registry",
        addresses.ConsentRegistry,
        "--json",
        "sign-grant",
        "--grantee",
        processor,
        "--data",
        dataId,
        "--purposes",
        "evaluation",
        "--deadline",
        "+1d",
        // Offline, the epoch and version come from the owner (a fresh key: epoch 0, version 0 + 1).
        "--epoch",
        "0",
        "--version",
        "1",
        "--out",
        file,
      ],
      { OMNI_PRIVATE_KEY: offlineOwner.privateKey, OMNI_SIGNING_STORE: signingStore },
    );
    const signedOut = ok<Record<string, string>>(signed);
    expect(signedOut).to.include({
      file,
      kind: "Grant",
      owner: offlineOwner.address,
      purposes: "8",
      noticeHash: ZeroHash,
      epoch: "0",
      version: "1",
    });
    const relayed = ok<Sent<Record<string, unknown>>>(await cli(4, "relay", file));
    expect(relayed.result).to.include({
      owner: offlineOwner.address,
      grantee: processor,
      dataId,
      actor: relayer,
      version: "1",
      via: "Signature",
    });
    expect(relayed.result.purposes).to.deep.equal([3]);
    const replay = await cli(4, "relay", file);
    expect(replay.code).to.equal(1);
    expect(replay.stderr).to.equal(
      `error: ${file}: ConsentRegistryStaleSignature: the signed message of ${offlineOwner.address} has version 1 (generation 0, signature #1) but the consent is at version 1 (generation 0, signature #1): the owner changed this consent since (by transaction or a later signature), and that later word holds; nothing was sent\n`,
    );

    // The owner's own signed grant, signed through the node's unlocked account, relayed too.
    const ownerFile = join(deploymentsRoot, "owner-grant.json");
    ok(
      await cli(
        1,
        "sign-grant",
        "--grantee",
        processor,
        "--data",
        dataId,
        "--purposes",
        "inference",
        "--out",
        ownerFile,
      ),
    );
    const relayedOwner = ok<Sent<Record<string, unknown>>>(await cli(4, "relay", ownerFile));
    // The key is in generation 2 since the owner's revoke: the signature is its first there.
    expect(relayedOwner.result).to.include({
      owner,
      grantee: processor,
      actor: relayer,
      version: String((2n << 16n) + 1n),
      via: "Signature",
    });

    const history = ok<{ entries: { kind: string; actor: string; via: string }[] }>(
      await cli(null, "history", "--owner", owner, "--grantee", processor, "--data", dataId),
    );
    expect(history.entries.map((e) => [e.kind, e.actor, e.via])).to.deep.equal([
      ["granted", owner, "Owner"],
      ["revoked", owner, "Owner"],
      ["granted", relayer, "Signature"],
    ]);
    const mine = ok<{ consents: { grantee: string; dataId: string; purposes: number[] }[] }>(
      await cli(null, "my-consents", "--owner", owner),
    );
    expect(mine.consents.map((c) => [c.grantee, c.dataId, c.purposes])).to.have.deep.members([
      [processor, dataId, [2]],
      [integration, ALL_DATA, [6]],
    ]);

    // 7. Lockdown: one transaction ends every consent (and signature, and manager) of the owner.
    // It warns first (on stderr); --yes is the script's answer.
    const lockdown = await cli(1, "--yes", "lockdown");
    expect(lockdown.stderr.split("\n")[0]).to.equal(`warning: lockdown of ${owner} ends at once, with no undo:`);
    expect(lockdown.code).to.equal(0);
    const all = JSON.parse(lockdown.stdout) as Sent<Record<string, unknown>>;
    expect(all.result).to.deep.equal({ owner, newEpoch: "1", actor: owner, via: "Owner" });
    expect(ok<{ consents: unknown[] }>(await cli(1, "my-consents")).consents).to.deep.equal([]);
    const after = ok<Record<string, unknown>>(
      await cli(
        null,
        "status",
        "--owner",
        owner,
        "--grantee",
        integration,
        "--data",
        dataId,
        "--purpose",
        "third-party-sharing",
      ),
    );
    expect(after.allowed).to.equal(false);
  });
});
