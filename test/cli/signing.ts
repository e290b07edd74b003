import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { expect } from "chai";
import { JsonRpcProvider, Wallet, getAddress, keccak256, toUtf8Bytes } from "ethers";
import type { JsonRpcSigner } from "ethers";

import { ConsentRegistry__factory } from "../../types/ethers-contracts/index.js";
import { deployDirect } from "../helpers/fixture.js";
import type { ConsentRegistry } from "../../types/ethers-contracts/index.js";
import { freePort, nonceOf, runCli, startNode } from "./harness.js";
import type { CliRun, DevNode } from "./harness.js";

/**
 * `sign-grant` / `sign-revoke` / `sign-revoke-all` and `lockdown` against a real `hardhat node`:
 * versions reserved in the file signing store across concurrent CLI processes, the one default
 * deadline (1 h after chain time) and its floor, explicit and offline epoch / version, the
 * signed-lockdown rule, and what a lockdown says it ends.
 */
describe("omni-consent signing and lockdown", function () {
  this.timeout(180_000);

  let node: DevNode;
  let provider: JsonRpcProvider;
  let registry: ConsentRegistry;
  let registryAddress: string;
  let owner: JsonRpcSigner;
  let grantee: string;
  let store: string;
  let dir: string;
  let n = 0;

  const env = (): Record<string, string> => ({
    OMNI_RPC_URL: node.url,
    OMNI_REGISTRY: registryAddress,
    OMNI_SIGNING_STORE: store,
  });
  const cli = (...args: string[]): Promise<CliRun> => runCli(args, env());
  const chainTime = async (): Promise<bigint> => BigInt((await provider.getBlock("latest"))!.timestamp);
  const out = (): string => join(dir, `${++n}.json`);
  const freshData = (): string => keccak256(toUtf8Bytes(`cli-signing-${n}-${Math.random()}`));
  const iso = (t: bigint): string => new Date(Number(t) * 1000).toISOString().replace(".000Z", "Z");

  function ok<T>(run: CliRun): T {
    expect(run.stderr, run.stderr).to.equal("");
    expect(run.code).to.equal(0);
    return JSON.parse(run.stdout) as T;
  }

  type SignedJson = Record<string, string> & { file: string };

  before(async () => {
    node = await startNode();
    provider = new JsonRpcProvider(node.url, undefined, { staticNetwork: true, cacheTimeout: -1 });
    const admin = await provider.getSigner(0);
    owner = await provider.getSigner(1);
    grantee = (await provider.getSigner(2)).address;
    registryAddress = (await deployDirect(admin)).ConsentRegistry;
    registry = ConsentRegistry__factory.connect(registryAddress, admin);
    store = mkdtempSync(join(tmpdir(), "omni-cli-store-"));
    dir = mkdtempSync(join(tmpdir(), "omni-cli-signed-"));
  });

  after(async () => {
    provider?.destroy();
    await node?.stop();
    for (const d of [store, dir]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it("four sign-grant processes at once for one key get versions 1..4; relayed newest first, the older ones are stale", async () => {
    const dataId = freshData();
    const purposes = ["model-training", "fine-tuning", "inference", "evaluation"];
    const files = purposes.map(() => out());
    const runs = await Promise.all(
      purposes.map((p, i) =>
        cli(
          "--account",
          "1",
          "--json",
          "sign-grant",
          "--grantee",
          grantee,
          "--data",
          dataId,
          "--purposes",
          p,
          "--out",
          files[i],
        ),
      ),
    );
    const signed = runs.map((r) => ok<SignedJson>(r));
    expect(signed.map((s) => s.version).sort()).to.deep.equal(["1", "2", "3", "4"]);
    expect(new Set(signed.map((s) => s.epoch))).to.deep.equal(new Set(["0"]));
    // The store: one file for this chain, registry and owner; no lock left behind.
    expect(readdirSync(store)).to.deep.equal([
      `31337-${registryAddress.toLowerCase()}-${owner.address.toLowerCase()}.json`,
    ]);

    const newest = signed.find((s) => s.version === "4")!;
    const relayed = ok<{ result: { version: string; purposes: number[] } }>(
      await cli("--account", "3", "--json", "relay", newest.file),
    );
    expect(relayed.result.version).to.equal("4");
    const older = signed.find((s) => s.version === "2")!;
    const stale = await cli("--account", "3", "relay", older.file);
    expect(stale.code).to.equal(1);
    expect(stale.stderr).to.equal(
      `error: ${older.file}: ConsentRegistryStaleSignature: the signed message of ${owner.address} has version 2 (generation 0, signature #2) but the consent is at version 4 (generation 0, signature #4): the owner changed this consent since (by transaction or a later signature), and that later word holds; nothing was sent\n`,
    );
    const consent = await registry.getConsent(owner.address, grantee, dataId);
    expect([consent.version, consent.purposes]).to.deep.equal([4n, BigInt(newest.purposes)]);
  });

  it("one default deadline (1 h after chain time), raised to an older outstanding message's; an earlier explicit one is refused", async () => {
    const dataId = freshData();
    const now = await chainTime();
    const grant = ok<SignedJson>(
      await cli(
        "--account",
        "1",
        "--json",
        "sign-grant",
        "--grantee",
        grantee,
        "--data",
        dataId,
        "--purposes",
        "research",
        "--out",
        out(),
      ),
    );
    expect(grant.deadline).to.equal((now + 3600n).toString());
    const long = ok<SignedJson>(
      await cli(
        "--account",
        "1",
        "--json",
        "sign-grant",
        "--grantee",
        grantee,
        "--data",
        dataId,
        "--purposes",
        "research",
        "--deadline",
        "+1d",
        "--out",
        out(),
      ),
    );
    expect(long.deadline).to.equal((now + 86_400n).toString());
    const revoke = ok<SignedJson>(
      await cli("--account", "1", "--json", "sign-revoke", "--grantee", grantee, "--data", dataId, "--out", out()),
    );
    expect([revoke.version, revoke.deadline]).to.deep.equal(["3", (now + 86_400n).toString()]);
    const short = await cli(
      "--account",
      "1",
      "sign-revoke",
      "--grantee",
      grantee,
      "--data",
      dataId,
      "--deadline",
      "+30m",
      "--out",
      out(),
    );
    expect(short.code).to.equal(1);
    expect(short.stderr).to.equal(
      `error: --deadline: ${iso(now + 1800n)} is before ${iso(now + 86_400n)}, the deadline of an outstanding signed message for this consent (version 3 (generation 0, signature #3)); a newer message must not expire before an older one (the older would apply once the newer expired unrelayed): give a deadline of ${now + 86_400n} or later, or none\n`,
    );
  });

  it("signs fully offline with --chain-id, --registry, OMNI_PRIVATE_KEY, --epoch and --version; without them it needs the node", async () => {
    const key = Wallet.createRandom();
    const closed = await freePort();
    const offline = (args: string[]) =>
      runCli(
        [
          "--rpc",
          `http://127.0.0.1:${closed}`,
          "--chain-id",
          "31337",
          "--registry",
          registryAddress,
          "--json",
          ...args,
        ],
        { OMNI_PRIVATE_KEY: key.privateKey, OMNI_SIGNING_STORE: store },
      );
    const file = out();
    const signed = ok<SignedJson>(
      await offline([
        "sign-revoke",
        "--grantee",
        grantee,
        "--data",
        "ALL",
        "--epoch",
        "0",
        "--version",
        "7",
        "--out",
        file,
      ]),
    );
    expect([signed.owner, signed.epoch, signed.version, signed.kind]).to.deep.equal([key.address, "0", "7", "Revoke"]);
    const envelope = JSON.parse(readFileSync(file, "utf8")) as { format: string; message: Record<string, string> };
    expect(envelope.format).to.equal("omni-consent/signed-message@2");
    expect(Object.keys(envelope.message)).to.deep.equal(["owner", "grantee", "dataId", "epoch", "version", "deadline"]);
    const relayed = ok<{ result: { owner: string; version: string } }>(
      await cli("--account", "3", "--json", "relay", file),
    );
    expect([relayed.result.owner, relayed.result.version]).to.deep.equal([key.address, "7"]);

    const needsNode = await offline([
      "sign-revoke",
      "--grantee",
      grantee,
      "--data",
      "ALL",
      "--epoch",
      "0",
      "--out",
      out(),
    ]);
    expect(needsNode.code).to.equal(1);
    expect(needsNode.stderr).to.equal(
      `error: cannot reach the RPC endpoint http://127.0.0.1:${closed}: nothing listens there (ECONNREFUSED); start a node or point --rpc / OMNI_RPC_URL at one\n`,
    );
  });

  it("a signed lockdown names the current epoch; a grant signed while it is outstanding is refused unless for the next epoch", async () => {
    const lockdown = ok<SignedJson>(await cli("--account", "1", "--json", "sign-revoke-all", "--out", out()));
    expect([lockdown.kind, lockdown.epoch, lockdown.version]).to.deep.equal(["RevokeAll", "0", undefined]);
    const blocked = await cli(
      "--account",
      "1",
      "sign-grant",
      "--grantee",
      grantee,
      "--data",
      "ALL",
      "--purposes",
      "research",
      "--out",
      out(),
    );
    expect(blocked.code).to.equal(1);
    expect(blocked.stderr).to.equal(
      `error: signGrant: a signed lockdown (RevokeAll of epoch 0) is outstanding until ${iso(BigInt(lockdown.deadline))}; relaying it would end this grant too. Relay the lockdown first (the grant then gets epoch 1), wait until its deadline has passed, or sign for epoch 1 explicitly\n`,
    );
    const next = ok<SignedJson>(
      await cli(
        "--account",
        "1",
        "--json",
        "sign-grant",
        "--grantee",
        grantee,
        "--data",
        "ALL",
        "--purposes",
        "research",
        "--epoch",
        "1",
        "--out",
        out(),
      ),
    );
    expect(next.epoch).to.equal("1");
    const withVersion = await cli("--account", "1", "sign-revoke", "--all", "--version", "3", "--out", out());
    expect(withVersion.stderr).to.equal("error: --version: a lockdown (RevokeAll) has no version, only an epoch\n");
    ok(await cli("--account", "3", "--json", "relay", lockdown.file, next.file));
    expect(await registry.epochOf(owner.address)).to.equal(1n);
    expect((await registry.getConsent(owner.address, grantee, "0x" + "f".repeat(64))).active).to.equal(true);
  });

  it("lockdown says what it ends: the active consents, every signed message, every manager (named)", async () => {
    const lockOwner = await provider.getSigner(4);
    const manager = getAddress((await provider.getSigner(5)).address);
    const e = (...args: string[]) => runCli(["--account", "4", ...args], env());
    ok(await e("--json", "grant", "--grantee", grantee, "--data", "ALL", "--purposes", "research"));
    ok(await e("--json", "grant", "--grantee", grantee, "--data", freshData(), "--purposes", "inference"));
    const added = await e("--json", "--yes", "managers", "add", manager);
    // Appointing a manager warns first (--yes goes on); the warning is on stderr, stdout stays JSON.
    expect([added.code, added.stderr.split(" becomes a manager of ")[0]]).to.deep.equal([0, `warning: ${manager}`]);
    JSON.parse(added.stdout);
    const nonce = await nonceOf(node.url, lockOwner.address);

    // Without --yes (no terminal here) it is refused, sending nothing.
    const refused = await e("lockdown");
    expect([refused.code, refused.stdout]).to.deep.equal([1, ""]);
    expect(await nonceOf(node.url, lockOwner.address)).to.equal(nonce);

    const run = await e("--yes", "lockdown");

    const warning = [
      `warning: lockdown of ${lockOwner.address} ends at once, with no undo:`,
      "warning:   all 2 active consents (ALL-data ones included), every signed message made before, and every manager (1)",
    ];
    expect(refused.stderr).to.equal(
      `${warning.join("\n")}\nerror: lockdown: refused without confirmation (no terminal to ask); re-run with --yes to go ahead. Nothing was sent\n`,
    );
    expect(run.stderr).to.equal(`${warning.join("\n")}\n`);
    expect(run.code).to.equal(0);
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines.slice(0, 4)).to.deep.equal([
      `lockdown of ${lockOwner.address}: epoch 0 → 1. Ended, all at once:`,
      "  consents:         all 2 active consents given (ALL-data ones included)",
      "  signed messages:  every grant, revocation and lockdown signed before, whoever holds them",
      `  managers:         every manager (removed: ${manager}); appoint again with \`managers add\``,
    ]);
    expect(lines[4]).to.match(/^tx: 0x[0-9a-f]{64} \(block \d+, gas \d+\)$/);
    expect(await nonceOf(node.url, lockOwner.address)).to.equal(nonce + 1n);
    expect(await registry.isManager(lockOwner.address, manager)).to.equal(false);
    // The old name still works, with the registry's event in --json.
    const againRun = await e("--json", "--yes", "revoke-all");
    expect(againRun.stderr).to.equal(
      `warning: lockdown of ${lockOwner.address} ends at once, with no undo:\nwarning:   all 0 active consents (ALL-data ones included), every signed message made before, and every manager (0)\n`,
    );
    const again = JSON.parse(againRun.stdout) as { result: Record<string, unknown> };
    expect(again.result).to.deep.equal({
      owner: lockOwner.address,
      newEpoch: "2",
      actor: lockOwner.address,
      via: "Owner",
    });
    // The manager is gone: removing it again is refused before anything is sent.
    const remove = await e("managers", "remove", manager);
    expect(remove.stderr).to.equal(
      `error: setManager: ${manager} is not a manager of ${lockOwner.address} (none appointed in its current epoch 2, and a lockdown removes every manager); nothing to remove, nothing was sent\n`,
    );
  });
});
