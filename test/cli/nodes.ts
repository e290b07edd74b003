import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { expect } from "chai";
import hre from "hardhat";
import { JsonRpcProvider, Wallet, id } from "ethers";
import type { Contract } from "ethers";

import { deployConsentSystem } from "../../src/sdk/deploy.js";
import { createSafe, deploySafeInfra, safeSignature } from "../helpers/safe.js";
import type { SafeInfra } from "../helpers/safe.js";
import { rpc, runCli, startAnvil, startNode } from "./harness.js";
import type { CliRun, DevNode } from "./harness.js";

/**
 * The gasless flow end to end through the CLI, on two nodes: `hardhat node` and anvil (Foundry's,
 * from `@foundry-rs/anvil`). Each has the governed system deployed by the SDK's
 * `deployConsentSystem`; an EOA owner signs with the node's own `eth_signTypedData_v4`
 * (`--account`), and a 2-of-2 Safe 1.4.1 owner gets its message prepared by `sign-grant --owner`,
 * its owners sign the digest, `add-signature` takes it back (refusing one owner's alone), and a
 * relayer relays. Also: what each node calls `finalized` (docs/CLI.md, `audit sync --finalized`).
 */

const NODES: [string, () => Promise<DevNode>, (head: bigint) => bigint][] = [
  ["hardhat node", () => startNode(), (head) => head],
  ["anvil", () => startAnvil(), (head) => head - 64n],
];

for (const [name, start, finalizedOf] of NODES) {
  describe(`the gasless flow through the CLI on ${name}`, function () {
    this.timeout(300_000);

    let node: DevNode;
    let provider: JsonRpcProvider;
    let registry: string;
    let infra: SafeInfra;
    let safe: Contract;
    let dir: string;
    let store: string;
    const owners = [Wallet.createRandom(), Wallet.createRandom()];
    const grantee = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";

    const cli = (...args: string[]): Promise<CliRun> =>
      runCli(["--rpc", node.url, "--registry", registry, ...args], { OMNI_SIGNING_STORE: store });
    const ok = <T>(run: CliRun): T => {
      expect(run.stderr, run.stdout).to.equal("");
      expect(run.code).to.equal(0);
      return JSON.parse(run.stdout) as T;
    };

    before(async function () {
      // Coverage instruments the bytecode past EIP-170's 24 KiB limit, which anvil enforces
      // (hardhat node under coverage does not): the anvil run is for real builds (npm test).
      if (hre.globalOptions.coverage && name === "anvil") this.skip();
      node = await start();
      provider = new JsonRpcProvider(node.url, undefined, { staticNetwork: true, cacheTimeout: -1 });
      const admin = await provider.getSigner(0);
      registry = (await deployConsentSystem(admin, { executionDelay: 60n })).ConsentRegistry;
      infra = await deploySafeInfra(admin);
      safe = await createSafe(
        infra,
        admin,
        owners.map((o) => o.address),
        2,
      );
      dir = mkdtempSync(join(tmpdir(), "omni-nodes-"));
      store = mkdtempSync(join(tmpdir(), "omni-nodes-store-"));
    });

    after(async () => {
      provider?.destroy();
      await node?.stop();
      for (const d of [dir, store]) if (d) rmSync(d, { recursive: true, force: true });
    });

    it("an EOA signs with the node's eth_signTypedData_v4 (--account 1), a relayer relays (--account 4)", async () => {
      const file = join(dir, "eoa-grant.json");
      const signed = ok<{ owner: string; version: string }>(
        await cli(
          "--json",
          "--account",
          "1",
          "sign-grant",
          "--grantee",
          grantee,
          "--data",
          "ALL",
          "--purposes",
          "model_training",
          "--out",
          file,
        ),
      );
      const owner = (await provider.getSigner(1)).address;
      expect([signed.owner, signed.version]).to.deep.equal([owner, "1"]);
      const relayed = ok<{ result: { owner: string; via: string; purposes: number[] } }>(
        await cli("--json", "--account", "4", "relay", file),
      );
      expect(relayed.result).to.deep.include({ owner, via: "Signature", purposes: [0] });
    });

    it("a 2-of-2 Safe: sign-grant --owner prepares it unsigned, add-signature takes both owners' signatures back, relay applies it", async () => {
      const safeAddress = await safe.getAddress();
      const file = join(dir, "safe-grant.json");
      const typed = join(dir, "safe-grant.typed.json");
      const prepared = ok<{
        signature: null;
        digest: string;
        owner: string;
        version: string;
        typedData: { primaryType: string };
      }>(
        await cli(
          "--json",
          "sign-grant",
          "--owner",
          safeAddress,
          "--grantee",
          grantee,
          "--data",
          id("safe-data"),
          "--purposes",
          "inference",
          "--out",
          file,
          "--typed-data",
          typed,
        ),
      );
      expect([prepared.signature, prepared.owner, prepared.version, prepared.typedData.primaryType]).to.deep.equal([
        null,
        safeAddress,
        "1",
        "Grant",
      ]);
      expect((JSON.parse(readFileSync(typed, "utf8")) as { types: Record<string, unknown> }).types).to.have.keys(
        "EIP712Domain",
        "Grant",
      );
      const unsignedText = readFileSync(file, "utf8");

      // Not yet signed: relay refuses it in words, sending nothing.
      const early = await cli("--account", "4", "relay", file);
      expect(early.code).to.equal(1);
      expect(early.stderr).to.equal(
        `error: ${file}: not signed yet (signature null): the owner signs its digest or typed data, then \`omni-consent add-signature ${file} --signature 0x…\` adds it\n`,
      );

      // One owner's signature is not the Safe's: refused, the file unchanged.
      const one = await safeSignature(infra, safeAddress, prepared.digest, [owners[0]!]);
      const refused = await cli("add-signature", file, "--signature", one);
      expect(refused.code).to.equal(1);
      expect(refused.stderr).to.match(
        new RegExp(
          `^error: --signature: the registry would refuse it as ${safeAddress}'s signature over ${file}: .*ERC-1271 isValidSignature reverted; the file is unchanged\\n$`,
        ),
      );
      expect(readFileSync(file, "utf8")).to.equal(unsignedText);

      const both = await safeSignature(infra, safeAddress, prepared.digest, owners);
      const added = await cli("add-signature", file, "--signature", both);
      expect([added.code, added.stderr, added.stdout]).to.deep.equal([
        0,
        "",
        `added the signature of ${safeAddress} (accepted by the owner's ERC-1271 wallet) → ${file}\n`,
      ]);
      const relayed = ok<{ result: { owner: string; via: string; version: string } }>(
        await cli("--json", "--account", "4", "relay", file),
      );
      expect(relayed.result).to.deep.include({ owner: safeAddress, via: "Signature", version: "1" });
      const status = ok<{ allowed: boolean }>(
        await cli(
          "--json",
          "status",
          "--owner",
          safeAddress,
          "--grantee",
          grantee,
          "--data",
          id("safe-data"),
          "--purpose",
          "INFERENCE",
        ),
      );
      expect(status.allowed).to.equal(true);
    });

    it(`"finalized" is ${name === "anvil" ? "64 blocks behind the head" : "the head"} (what audit sync --finalized follows)`, async () => {
      if (name === "anvil") await rpc(node.url, "anvil_mine", ["0x50"]);
      else await rpc(node.url, "hardhat_mine", ["0x50"]);
      const head = BigInt(await rpc<string>(node.url, "eth_blockNumber"));
      const finalized = await rpc<{ number: string }>(node.url, "eth_getBlockByNumber", ["finalized", false]);
      expect(BigInt(finalized.number)).to.equal(finalizedOf(head));
    });
  });
}
