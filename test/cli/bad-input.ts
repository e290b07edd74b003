import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { expect } from "chai";
import { JsonRpcProvider, Wallet, getAddress, keccak256, toUtf8Bytes } from "ethers";
import type { JsonRpcSigner } from "ethers";

import { encodeSignedMessage as encodeSignedFile } from "../../src/sdk/signed-message.js";
import { consentDomain, signConsent } from "../../src/sdk/eip712.js";
import type { MessageOf } from "../../src/sdk/eip712.js";
import { deployDirect } from "../helpers/fixture.js";
import { REGISTRY_V1_CODE } from "../sdk/stand-ins.js";
import { freePort, nonceOf, rpc, runCli, startNode } from "./harness.js";
import type { DevNode } from "./harness.js";

/**
 * Bad input to `omni-consent`: each case runs the real CLI against a real `hardhat node` and
 * asserts the exit code, the exact one-line message on stderr (or a precise pattern where the
 * line carries a chain-dependent value), empty stdout, and that nothing was sent: the block
 * number and the signer's nonce are unchanged.
 */

interface Case {
  name: string;
  args: () => string[];
  env?: () => Record<string, string>;
  code: 1 | 2;
  stderr: () => string | RegExp;
  /** Address whose nonce must not move (default: account 1, the signer of most cases). */
  sender?: () => string;
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("omni-consent: bad input is refused in one line, before anything is sent", function () {
  this.timeout(120_000);

  let node: DevNode;
  let provider: JsonRpcProvider;
  let owner: JsonRpcSigner;
  let grantee: JsonRpcSigner;
  let registry: string;
  let integrations: string;
  let wrongVersion: string;
  let dir: string;
  let closedPort: number;
  const poor = Wallet.createRandom();
  const dataId = keccak256(toUtf8Bytes("salt:dataset-42"));
  const files: Record<string, string> = {};

  before(async function () {
    node = await startNode();
    provider = new JsonRpcProvider(node.url, undefined, { staticNetwork: true });
    const [admin, o, g] = await Promise.all([0, 1, 2].map((i) => provider.getSigner(i)));
    owner = o;
    grantee = g;
    const deployed = await deployDirect(admin);
    registry = deployed.ConsentRegistry;
    integrations = deployed.IntegrationRegistry;
    // A stand-in answering version() "1.0.0": the nonce-based registry of major 1.
    wrongVersion = Wallet.createRandom().address;
    await rpc(node.url, "hardhat_setCode", [wrongVersion, REGISTRY_V1_CODE]);
    closedPort = await freePort();

    // Signed-message files for `relay`: one valid template, then damaged variants.
    dir = mkdtempSync(join(tmpdir(), "omni-cli-bad-"));
    const now = BigInt((await provider.getBlock("latest"))!.timestamp);
    const grant = (deadline: bigint): MessageOf["Grant"] => ({
      owner: owner.address,
      grantee: grantee.address,
      dataId,
      purposes: 1n << 2n,
      expiresAt: 0n,
      noticeHash: keccak256(toUtf8Bytes("notice v1")),
      epoch: 0n,
      version: 1n,
      deadline,
    });
    const signedOk = await signConsent("Grant", owner, consentDomain(31337n, registry), grant(now + 3600n));
    const valid = JSON.parse(encodeSignedFile({ kind: "Grant", chainId: 31337n, registry, signed: signedOk }));
    const write = (name: string, content: string): void => {
      files[name] = join(dir, `${name}.json`);
      writeFileSync(files[name], content);
    };
    write("notJson", "{ this is not json");
    write("missingField", JSON.stringify({ ...valid, message: { ...valid.message, grantee: undefined } }));
    write("badHexSignature", JSON.stringify({ ...valid, signature: "0xzz" + "00".repeat(64) }));
    const byGrantee = await signConsent("Grant", grantee, consentDomain(31337n, registry), grant(now + 3600n));
    write("signedBySomeoneElse", encodeSignedFile({ kind: "Grant", chainId: 31337n, registry, signed: byGrantee }));
    const otherChain = await signConsent("Grant", owner, consentDomain(1n, registry), grant(now + 3600n));
    write("otherChain", encodeSignedFile({ kind: "Grant", chainId: 1n, registry, signed: otherChain }));
    const expired = await signConsent("Grant", owner, consentDomain(31337n, registry), grant(now - 10n));
    write("expired", encodeSignedFile({ kind: "Grant", chainId: 31337n, registry, signed: expired }));
    // The same message in the nonce-based format of registry 1.x.
    write(
      "formatV1",
      JSON.stringify({
        ...valid,
        format: "omni-consent/signed-message@1",
        message: { ...valid.message, epoch: undefined, version: undefined, nonce: "42" },
      }),
    );
    const otherRegistry = await signConsent("Grant", owner, consentDomain(31337n, integrations), grant(now + 3600n));
    write(
      "otherRegistry",
      encodeSignedFile({ kind: "Grant", chainId: 31337n, registry: integrations, signed: otherRegistry }),
    );
  });

  after(async function () {
    provider?.destroy();
    await node?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const env = (): Record<string, string> => ({ OMNI_RPC_URL: node.url, OMNI_REGISTRY: registry });
  const grantArgs = (over: Record<string, string> = {}): string[] => {
    const opts: Record<string, string> = {
      "--grantee": grantee.address,
      "--data": dataId,
      "--purposes": "inference",
      ...over,
    };
    return ["--account", "1", "grant", ...Object.entries(opts).flat()];
  };
  const flipCase = (address: string): string => {
    // Change the case of the first letter of the checksummed form: same value, broken checksum.
    const i = address.slice(2).search(/[a-fA-F]/) + 2;
    const c = address[i];
    return address.slice(0, i) + (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()) + address.slice(i + 1);
  };

  const cases: Case[] = [
    {
      name: "invalid address",
      args: () => grantArgs({ "--grantee": "0x1234" }),
      code: 1,
      stderr: () => `error: --grantee: "0x1234" is not an address (expected 0x followed by 40 hex digits)`,
    },
    {
      name: "address with a bad EIP-55 checksum",
      args: () => grantArgs({ "--grantee": flipCase(grantee.address) }),
      code: 1,
      stderr: () =>
        `error: --grantee: ${flipCase(grantee.address)} has a bad EIP-55 checksum (mistyped?); the checksummed form of this value is ${grantee.address}`,
    },
    {
      name: "zero grantee",
      args: () => grantArgs({ "--grantee": "0x0000000000000000000000000000000000000000" }),
      code: 1,
      stderr: () => "error: --grantee: the zero address is not allowed",
    },
    {
      name: "unknown purpose name",
      args: () => grantArgs({ "--purposes": "inference,telepathy" }),
      code: 1,
      stderr: () =>
        `error: --purposes: unknown purpose "telepathy"; use one of model-training, fine-tuning, inference, evaluation, analytics, product-improvement, third-party-sharing, research or an id`,
    },
    {
      name: "purpose id 128",
      args: () => grantArgs({ "--purposes": "128" }),
      code: 1,
      stderr: () => "error: --purposes: purpose id 128 is outside 0..127",
    },
    {
      name: "empty purposes",
      args: () => grantArgs({ "--purposes": " , " }),
      code: 1,
      stderr: () => "error: --purposes: the purpose list is empty; name at least one (e.g. inference,model-training)",
    },
    {
      name: "expiry in the past",
      args: () => grantArgs({ "--expires": "2020-01-01T00:00:00Z" }),
      code: 1,
      stderr: () =>
        /^error: --expires: 2020-01-01T00:00:00Z \(\d+ years ago\) is not in the future \(chain time 20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ\); give a later time$/,
    },
    {
      name: "unparsable expiry",
      args: () => grantArgs({ "--expires": "tomorrow" }),
      code: 1,
      stderr: () =>
        `error: --expires: cannot read "tomorrow" as a time; give a date-time with its zone (2027-01-01T12:00Z, 2027-01-01T12:00+02:00), unix seconds, or a duration from now (+30d, +12h, 30 days, P2W) or never`,
    },
    {
      name: "malformed bytes32 data id",
      args: () => grantArgs({ "--data": "0x1234" }),
      code: 1,
      stderr: () =>
        `error: --data: "0x1234" is not a data id (expected ALL, ALL_DATA or 0x followed by 64 hex digits; "omni-consent data-id <label>" gives the data id of a label)`,
    },
    {
      name: "zero data id",
      args: () => grantArgs({ "--data": `0x${"0".repeat(64)}` }),
      code: 1,
      stderr: () => "error: --data: the zero data id is not allowed (use a salted hash of the asset, or ALL)",
    },
    {
      name: "evidence that looks like hex but is not 32 bytes",
      args: () => [
        "--account",
        "2",
        "record-use",
        "--owner",
        owner.address,
        "--data",
        dataId,
        "--purpose",
        "inference",
        "--evidence",
        "0xabc",
      ],
      code: 1,
      stderr: () => `error: --evidence: "0xabc" looks like hex but is not 32 bytes (0x followed by 64 hex digits)`,
      sender: () => grantee.address,
    },
    {
      name: "missing signer",
      args: () => grantArgs().slice(2),
      code: 1,
      stderr: () =>
        "error: no signer: set OMNI_PRIVATE_KEY in the environment, or pass --account <index> (an unlocked account of a local dev node)",
    },
    {
      name: "private key on the command line",
      args: () => ["--private-key", poor.privateKey, ...grantArgs().slice(2)],
      code: 1,
      stderr: () =>
        "error: refusing a private key on the command line (it leaks into shell history and process listings); set OMNI_PRIVATE_KEY in the environment, or use --account <index> on a dev node",
    },
    {
      name: "private key pasted into --account",
      args: () => ["--account", poor.privateKey, ...grantArgs().slice(2)],
      code: 1,
      stderr: () =>
        "error: refusing a private key on the command line (it leaks into shell history and process listings); set OMNI_PRIVATE_KEY in the environment, or use --account <index> on a dev node",
    },
    {
      name: "account index the node does not have",
      args: () => ["--account", "25", ...grantArgs().slice(2)],
      code: 1,
      stderr: () =>
        "error: --account 25: the node has 20 unlocked account(s); use an index below 20 or OMNI_PRIVATE_KEY",
    },
    {
      name: "wrong chain id",
      args: () => ["--chain-id", "1", ...grantArgs()],
      code: 1,
      stderr: () =>
        `error: wrong chain: the node at ${node.url} is chain 31337 but --chain-id says 1; fix --rpc or --chain-id`,
    },
    {
      name: "no contract at the registry address",
      args: () => ["--registry", grantee.address, ...grantArgs()],
      code: 1,
      stderr: () => `error: no contract at ${grantee.address}: is the consent registry deployed on this chain?`,
    },
    {
      name: "incompatible registry (a contract without version())",
      args: () => ["--registry", integrations, ...grantArgs()],
      code: 1,
      stderr: () =>
        `error: ${integrations} does not answer version(); it is not a consent registry this SDK (v2.0.0) can talk to`,
    },
    {
      name: "incompatible registry version (major 1, nonce-based)",
      args: () => ["--registry", wrongVersion, ...grantArgs()],
      code: 1,
      stderr: () => `error: registry ${wrongVersion} is version 1.0.0; this SDK speaks 2.x (2.0.0)`,
    },
    {
      name: "RPC unreachable (closed port)",
      args: () => ["--rpc", `http://127.0.0.1:${closedPort}`, ...grantArgs()],
      code: 1,
      stderr: () =>
        `error: cannot reach the RPC endpoint http://127.0.0.1:${closedPort}: nothing listens there (ECONNREFUSED); start a node or point --rpc / OMNI_RPC_URL at one`,
    },
    {
      name: "--rpc that is not a URL",
      args: () => ["--rpc", "localhost:8545", ...grantArgs()],
      code: 1,
      stderr: () => `error: --rpc: "localhost:8545" is not an http(s) URL (e.g. http://127.0.0.1:8545)`,
    },
    {
      name: "insufficient funds (fresh key)",
      args: () => grantArgs().slice(2),
      env: () => ({ OMNI_PRIVATE_KEY: poor.privateKey }),
      code: 1,
      stderr: () =>
        new RegExp(
          `^error: insufficient funds: ${poor.address} has 0\\.0 ETH but this transaction may cost up to 0\\.\\d+ ETH; fund the account first$`,
        ),
      sender: () => poor.address,
    },
    {
      name: "revert: a purpose the catalogue does not define (decoded custom error)",
      args: () => grantArgs({ "--purposes": "100" }),
      code: 1,
      stderr: () =>
        "error: ConsentRegistryPurposeNotGrantable: purposes [purpose#100(100)] of [purpose#100(100)] are not defined or are deprecated",
    },
    {
      name: "managers remove of an account that is not a manager (refused before sending)",
      args: () => ["--account", "1", "managers", "remove", grantee.address],
      code: 1,
      stderr: () =>
        `error: setManager: ${grantee.address} is not a manager of ${owner.address} (none appointed in its current epoch 0, and a lockdown removes every manager); nothing to remove, nothing was sent`,
    },
    {
      name: "revert: record-use without consent (decoded custom error)",
      args: () => [
        "--account",
        "2",
        "record-use",
        "--owner",
        owner.address,
        "--data",
        dataId,
        "--purpose",
        "model-training",
        "--evidence",
        "job-1",
      ],
      code: 1,
      stderr: () =>
        `error: ConsentRegistryConsentRequired: ${grantee.address} holds no active consent of ${owner.address} on data ${dataId} for purpose MODEL_TRAINING (0)`,
      sender: () => grantee.address,
    },
    {
      name: "relay: file is not JSON",
      args: () => ["--account", "3", "relay", files.notJson],
      code: 1,
      stderr: () =>
        `error: ${files.notJson}: not a JSON file; expected a signed message written by sign-grant or sign-revoke`,
    },
    {
      name: "relay: missing field",
      args: () => ["--account", "3", "relay", files.missingField],
      code: 1,
      stderr: () => `error: ${files.missingField}.message.grantee: expected an address string`,
    },
    {
      name: "relay: signature is not hex",
      args: () => ["--account", "3", "relay", files.badHexSignature],
      code: 1,
      stderr: () =>
        `error: ${files.badHexSignature}.signature: expected a 0x-prefixed hex signature of whole bytes (65 or 64 for an EOA; any length for an ERC-1271 wallet)`,
    },
    {
      name: "relay: a signed-message@1 file (nonce-based)",
      args: () => ["--account", "3", "relay", files.formatV1],
      code: 1,
      stderr: () =>
        `error: ${files.formatV1}: a omni-consent/signed-message@1 file (nonce-based, for registry 1.x); registry 2.x orders signed messages by the owner's epoch and the consent's version instead, so this message can never apply: ask the owner to sign it again (sign-grant / sign-revoke / sign-revoke-all)`,
    },
    {
      name: "relay: signature by someone else",
      args: () => ["--account", "3", "relay", files.signedBySomeoneElse],
      code: 1,
      stderr: () =>
        `error: ${files.signedBySomeoneElse}: the signature was made by ${grantee.address}, not by the owner ${owner.address} (or for another chain/registry)`,
    },
    {
      name: "relay: signed for another chain",
      args: () => ["--account", "3", "relay", files.otherChain],
      code: 1,
      stderr: () => `error: ${files.otherChain}: signed for chain 1, but the node is chain 31337`,
    },
    {
      name: "relay: signed for another registry",
      args: () => ["--account", "3", "relay", files.otherRegistry],
      code: 1,
      stderr: () =>
        `error: ${files.otherRegistry}: signed for registry ${integrations}, but the target registry is ${registry}`,
    },
    {
      name: "relay: deadline passed",
      args: () => ["--account", "3", "relay", files.expired],
      code: 1,
      stderr: () =>
        new RegExp(
          `^error: ${escape(files.expired)}: the signature's deadline \\S+Z \\((\\d+ (s|min|h)|\\d+ days?) ago\\) has passed \\(chain time \\S+Z\\); ask the owner to sign it again with a later --deadline\\. Nothing was sent$`,
        ),
    },
    {
      name: "relay: file does not exist",
      args: () => ["--account", "3", "relay", join(dir, "nope.json")],
      code: 1,
      stderr: () => `error: ${join(dir, "nope.json")}: cannot read the file (ENOENT)`,
    },
    {
      name: "governance: purpose id out of range",
      args: () => ["--account", "0", "gov", "propose", "define-purpose", "200", "--metadata", "new purpose"],
      code: 1,
      stderr: () => `error: <id>: "200" is not a purpose id (an integer 0..127)`,
    },
    {
      name: "sign-grant: a deadline of never",
      args: () => [
        ...grantArgs({ "--deadline": "never" }).map((a) => (a === "grant" ? "sign-grant" : a)),
        "--out",
        join(dir, "x.json"),
      ],
      code: 1,
      stderr: () =>
        `error: --deadline: "never" is not allowed here; give a date-time with its zone (2027-01-01T12:00Z, 2027-01-01T12:00+02:00), unix seconds, or a duration from now (+30d, +12h, 30 days, P2W)`,
    },
    {
      name: "read: unknown purpose in status",
      args: () => [
        "status",
        "--owner",
        owner.address,
        "--grantee",
        grantee.address,
        "--data",
        "ALL",
        "--purpose",
        "mind-reading",
      ],
      code: 1,
      stderr: () =>
        `error: --purpose: unknown purpose "mind-reading"; use one of model-training, fine-tuning, inference, evaluation, analytics, product-improvement, third-party-sharing, research or an id`,
    },
    {
      name: "usage: unknown option (exit 2)",
      args: () => [...grantArgs(), "--frobnicate"],
      code: 2,
      stderr: () => "error: unknown option '--frobnicate'",
    },
    {
      name: "usage: missing required option (exit 2)",
      args: () => ["--account", "1", "grant", "--grantee", grantee.address, "--data", dataId],
      code: 2,
      stderr: () => "error: required option '--purposes <list>' not specified",
    },
  ];

  for (const c of cases) {
    it(c.name, async function () {
      const sender = c.sender ? c.sender() : owner.address;
      const blockBefore = await rpc<string>(node.url, "eth_blockNumber");
      const nonceBefore = await nonceOf(node.url, sender);

      const run = await runCli(c.args(), { ...env(), ...(c.env ? c.env() : {}) });

      const expected = c.stderr();
      const lines = run.stderr.trimEnd().split("\n");
      expect(lines, `stderr: ${run.stderr}`).to.have.length(1);
      if (typeof expected === "string") expect(lines[0]).to.equal(expected);
      else expect(lines[0]).to.match(expected);
      expect(run.code, run.stderr).to.equal(c.code);
      expect(run.stdout).to.equal("");
      expect(await rpc<string>(node.url, "eth_blockNumber")).to.equal(blockBefore);
      expect(await nonceOf(node.url, sender)).to.equal(nonceBefore);
    });
  }

  it("has at least 38 cases, and the happy path through the same setup works (the refusals are not a broken setup)", async function () {
    expect(cases.length).to.be.at.least(38);
    const run = await runCli(["--json", ...grantArgs({ "--expires": "+30d" })], env());
    expect(run.stderr).to.equal("");
    expect(run.code).to.equal(0);
    const out = JSON.parse(run.stdout) as {
      result: { owner: string; grantee: string; dataId: string; purposes: number[] };
    };
    expect(out.result.owner).to.equal(owner.address);
    expect(out.result.grantee).to.equal(getAddress(grantee.address));
    expect(out.result.dataId).to.equal(dataId);
    expect(out.result.purposes).to.deep.equal([2]);
  });
});
