import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { expect } from "chai";
import {
  Contract,
  Interface,
  JsonRpcProvider,
  Wallet,
  getAddress,
  id as keccakText,
  keccak256,
  toUtf8Bytes,
} from "ethers";
import type { JsonRpcSigner } from "ethers";

import { describeFailure } from "../../src/cli/failure.js";
import { writeDocumentToFolder } from "../../src/documents/folder-source.js";
import { PURPOSE_DOCUMENT_FORMAT } from "../../src/documents/schemas.js";
import { CONSENT_ACCESS_MANAGER_ABI, CONSENT_REGISTRY_ABI, INTEGRATION_REGISTRY_ABI } from "../../src/sdk/abi.js";
import { ALL_DATA } from "../../src/sdk/constants.js";
import { initialPurposeMetadata } from "../../src/sdk/purposes.js";
import { KeyRequestHasher, keyReleaseDomain } from "../../src/keys/eip712.js";
import { GENESIS_HASH, entryHashOf } from "../../src/custodian/store.js";
import type { ReleaseEntry } from "../../src/custodian/store.js";
import { ConsentSystemDeployer__factory } from "../../types/ethers-contracts/index.js";
import { freePort, nonceOf, rpc, spawnCli, startAnvil } from "./harness.js";
import type { DevNode } from "./harness.js";
import { runInProcess } from "./inproc.js";

/**
 * Issue 13, the CLI: names instead of hex, times with zone and relative form, messages that say
 * what to fix, warnings before risky writes (with --yes), manager mode, the label book, the AI
 * opt-out exports and `audit verify --releases`. The CLI runs in-process (test/cli/inproc.ts)
 * against anvil; every message is asserted as the exact line, and every refused write is shown
 * to have sent nothing (the signer's nonce is unchanged).
 */

const DAY = 86_400n;
const iso = (t: bigint): string => new Date(Number(t) * 1000).toISOString().replace(".000Z", "Z");

describe("omni-consent, readable (issue 13)", function () {
  this.timeout(120_000);

  let node: DevNode;
  let provider: JsonRpcProvider;
  let signers: JsonRpcSigner[];
  let owner: JsonRpcSigner;
  let grantee: JsonRpcSigner;
  let manager: JsonRpcSigner;
  let governor: JsonRpcSigner;
  let registry: string;
  let dir: string;
  const dataId = keccak256(toUtf8Bytes("salt-7:holiday-photos"));

  const env = (): Record<string, string> => ({
    OMNI_RPC_URL: node.url,
    OMNI_REGISTRY: registry,
    OMNI_SIGNING_STORE: join(dir, "signing"),
    OMNI_LABEL_BOOK: join(dir, "labels.json"),
  });
  const cli = (...args: string[]) => runInProcess(args, env());
  const chainTime = async (): Promise<bigint> => BigInt((await provider.getBlock("latest"))!.timestamp);
  const increaseTime = async (seconds: bigint): Promise<void> => {
    await rpc(node.url, "evm_increaseTime", [Number(seconds)]);
    await rpc(node.url, "evm_mine", []);
  };

  before(async function () {
    node = await startAnvil();
    provider = new JsonRpcProvider(node.url, undefined, { staticNetwork: true, cacheTimeout: -1 });
    signers = await Promise.all([0, 1, 2, 3, 4, 5, 6].map((i) => provider.getSigner(i)));
    const admin = signers[0];
    [owner, grantee, manager, governor] = [signers[1], signers[2], signers[3], signers[4]];
    const deployer = await new ConsentSystemDeployer__factory(admin).deploy(
      admin.address,
      governor.address,
      signers[5].address,
      DAY,
      initialPurposeMetadata(),
      [],
    );
    await deployer.waitForDeployment();
    registry = await deployer.registry();
    dir = mkdtempSync(join(tmpdir(), "omni-cli-readable-"));
  });

  after(async function () {
    provider?.destroy();
    await node?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Runs `run` and checks that `address` sent no transaction. */
  async function sendsNothing<T>(address: string, run: () => Promise<T>): Promise<T> {
    const before = await nonceOf(node.url, address);
    const result = await run();
    expect(await nonceOf(node.url, address)).to.equal(before);
    return result;
  }

  describe("messages that say what to fix (no chain needed)", function () {
    const someone = "0x00000000000000000000000000000000000000a1";

    it("a misspelt option is named as unknown, with the option meant, not as a missing required one", async function () {
      const run = await runInProcess(["grant", "--grante", someone, "--data", "ALL", "--purposes", "inference"]);
      expect([run.code, run.stdout, run.stderr]).to.deep.equal([
        2,
        "",
        "error: unknown option '--grante' (did you mean --grantee?)\n",
      ]);
      const json = await runInProcess(["--json", "revoke", "--grantee", someone, "--dta", "ALL"]);
      expect(json.code).to.equal(2);
      expect(JSON.parse(json.stdout)).to.deep.equal({
        status: "error",
        error: "unknown option '--dta' (did you mean --data?)",
        exitCode: 2,
      });
    });

    it("an all-zero key and a key with spaces are refused saying what to fix", async function () {
      const grant = ["grant", "--grantee", someone, "--data", "ALL", "--purposes", "inference"];
      const zero = await runInProcess(grant, { OMNI_PRIVATE_KEY: `0x${"0".repeat(64)}` });
      expect([zero.code, zero.stderr]).to.deep.equal([
        1,
        "error: OMNI_PRIVATE_KEY is all zeros, which is no private key (no account has it); set it to your account's key\n",
      ]);
      const key = Wallet.createRandom().privateKey;
      const spaced = await runInProcess(grant, { OMNI_PRIVATE_KEY: `${key.slice(0, 30)} ${key.slice(30)}` });
      expect([spaced.code, spaced.stderr]).to.deep.equal([
        1,
        "error: OMNI_PRIVATE_KEY has spaces or line breaks inside the key; set it to the 64 hex digits of the key (0x optional) with nothing between them\n",
      ]);
    });

    it("reverts are worded with times, the function's name, and the hint that execute repeats the proposal", function () {
      const registryErrors = new Interface(CONSENT_REGISTRY_ABI);
      const manager = new Interface(CONSENT_ACCESS_MANAGER_ABI);
      const deadline = 1_798_761_600n; // 2027-01-01T00:00:00Z
      const expired = {
        data: registryErrors.encodeErrorResult("ConsentRegistrySignatureExpired", [deadline, deadline + 3n * 3600n]),
      };
      expect(describeFailure(expired)).to.equal(
        "ConsentRegistrySignatureExpired: the signature's deadline 2027-01-01T00:00:00Z (3 h ago) has passed (chain time 2027-01-01T03:00:00Z); ask the owner to sign the message again with a later --deadline",
      );
      const op = keccak256(toUtf8Bytes("op"));
      expect(describeFailure({ data: manager.encodeErrorResult("AccessManagerNotScheduled", [op]) })).to.equal(
        `AccessManagerNotScheduled: no scheduled operation matches (id ${op}): it was never proposed with exactly these arguments, or was executed or cancelled since. \`gov execute\` must repeat the proposal's arguments exactly (same address, purposes and metadata); \`omni-consent gov pending\` lists what is scheduled`,
      );
      const selector = new Interface(INTEGRATION_REGISTRY_ABI).getFunction("suspendIntegration")!.selector;
      const caller = getAddress("0x00000000000000000000000000000000000000c1");
      const target = getAddress("0x00000000000000000000000000000000000000d1");
      expect(
        describeFailure({
          data: manager.encodeErrorResult("AccessManagerUnauthorizedCall", [caller, target, selector]),
        }),
      ).to.equal(
        `AccessManagerUnauthorizedCall: ${caller} may not call suspendIntegration(address) on ${target}: its role does not allow that function; ask an admin for the role, or propose it from an account that holds it`,
      );
    });

    it("an RPC URL that answers with an empty body is said as such, not as 'Unexpected end of JSON input'", async function () {
      // A web server that is no node, as its own process on loopback, stopped by its pid.
      const child = spawn(
        process.execPath,
        [
          "-e",
          "require('http').createServer((q,s)=>{s.writeHead(200);s.end()}).listen(0,'127.0.0.1',function(){console.log('listening '+this.address().port)})",
        ],
        { stdio: ["ignore", "pipe", "inherit"] },
      );
      try {
        const port = await new Promise<number>((resolve) =>
          child.stdout.on("data", (d: Buffer) => resolve(Number(/listening (\d+)/.exec(d.toString())![1]))),
        );
        const url = `http://127.0.0.1:${port}`;
        const run = await runInProcess(["--rpc", url, "--json", "purposes"]);
        const line = `the RPC endpoint ${url} answered, but not with JSON-RPC (an empty or non-JSON reply): check the host, port and path of the node's URL; start a node or point --rpc / OMNI_RPC_URL at one`;
        expect([run.code, run.stderr]).to.deep.equal([1, `error: ${line}\n`]);
        expect(JSON.parse(run.stdout)).to.deep.equal({ status: "error", error: line, exitCode: 1 });
      } finally {
        process.kill(child.pid!, "SIGTERM");
      }
    });

    it("--expires: a date-time without a zone is refused with a hint; +30D and '30 days' are read", async function () {
      const key = Wallet.createRandom();
      const out = join(dir, "offline-grant.json");
      const offline = (expires: string, file = out, ...more: string[]) =>
        runInProcess(
          [
            "--chain-id",
            "31337",
            "--registry",
            "0x00000000000000000000000000000000000000e1",
            "sign-grant",
            "--grantee",
            someone,
            "--data",
            "ALL_DATA",
            "--purposes",
            "MODEL-TRAINING,inference",
            "--expires",
            expires,
            "--epoch",
            "0",
            "--version",
            "1",
            "--out",
            file,
            ...more,
          ],
          { OMNI_PRIVATE_KEY: key.privateKey, OMNI_SIGNING_STORE: join(dir, "offline-signing") },
        );
      const zoneless = await offline("2027-01-01 12:00");
      expect([zoneless.code, zoneless.stderr]).to.deep.equal([
        1,
        'error: --expires: "2027-01-01 12:00" is a date-time without a time zone, which means another instant in every zone; write 2027-01-01T12:00Z for UTC, or give its offset (2027-01-01T12:00+02:00)\n',
      ]);
      expect(existsSync(out)).to.equal(false);

      for (const [i, text] of ["+30D", "30 days"].entries()) {
        const file = join(dir, `offline-${i}.json`);
        const before = BigInt(Math.floor(Date.now() / 1000));
        const run = await offline(text, file);
        const after = BigInt(Math.floor(Date.now() / 1000));
        expect(run.stderr).to.equal("");
        const signed = JSON.parse(readFileSync(file, "utf8")) as {
          message: { expiresAt: string; dataId: string; purposes: string };
        };
        const expiresAt = BigInt(signed.message.expiresAt);
        expect(expiresAt >= before + 30n * DAY && expiresAt <= after + 30n * DAY, text).to.equal(true);
        expect([signed.message.dataId, signed.message.purposes]).to.deep.equal([ALL_DATA, "5"]);
      }

      // Over an existing file only with --force.
      const again = await offline("+30d", join(dir, "offline-0.json"));
      expect([again.code, again.stderr]).to.deep.equal([
        1,
        `error: --out: ${join(dir, "offline-0.json")} exists already (perhaps another signed message); choose another file, or pass --force to overwrite it. Nothing was signed\n`,
      ]);
      const forced = await offline("+30d", join(dir, "offline-0.json"), "--force");
      expect([forced.code, forced.stderr]).to.deep.equal([0, ""]);
    });

    it("a private key on the command line is refused by every command: data and custodian too (one root check)", async function () {
      const KEY = "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba";
      const refusal =
        "error: refusing a private key on the command line (it leaks into shell history and process listings); set OMNI_PRIVATE_KEY in the environment, or use --account <index> on a dev node\n";
      const conditions = [
        "data",
        "conditions",
        "--owner",
        someone,
        "--data",
        keccakText("d"),
        "--purpose",
        "inference",
      ];
      const where = ["--registry", "0x00000000000000000000000000000000000000e1", "--chain-id", "1"];
      const data = await runInProcess(["--private-key", KEY, ...where, ...conditions]);
      expect([data.code, data.stdout, data.stderr]).to.deep.equal([1, "", refusal]);
      const pasted = await runInProcess(["--account", KEY, ...where, ...conditions]);
      expect([pasted.code, pasted.stdout, pasted.stderr]).to.deep.equal([1, "", refusal]);
      const keyFile = join(dir, "refused-custodian.json");
      const custodian = await runInProcess(["custodian", "keygen", "--key", keyFile, "--private-key", KEY], {
        OMNI_CUSTODIAN_PASSPHRASE: "correct horse battery staple 1234",
      });
      expect([custodian.code, custodian.stdout, custodian.stderr]).to.deep.equal([1, "", refusal]);
      expect(existsSync(keyFile)).to.equal(false);
      // --key is the keystore file of the custodian's commands; elsewhere it is refused as a key.
      const status = await runInProcess([
        "status",
        "--owner",
        someone,
        "--grantee",
        someone,
        "--data",
        "ALL",
        "--key",
        KEY,
      ]);
      expect([status.code, status.stderr]).to.deep.equal([1, refusal]);
    });

    it("custodian keygen --key <file>, as docs/KEYS.md writes it, creates the keystore", async function () {
      const keyFile = join(dir, "c1.json");
      const run = await runInProcess(["custodian", "keygen", "--key", keyFile], {
        OMNI_CUSTODIAN_PASSPHRASE: "correct horse battery staple 1234",
      });
      expect([run.code, run.stderr]).to.deep.equal([0, ""]);
      const out = JSON.parse(run.stdout) as { publicKey: string; key: string };
      expect(out).to.deep.equal({ publicKey: out.publicKey, key: keyFile });
      expect(out.publicKey).to.match(/^0x[0-9a-f]+$/);
      expect(existsSync(keyFile)).to.equal(true);
    });

    it("status --purpose refuses a list (it checks one purpose), as record-use does", async function () {
      const run = await runInProcess([
        "status",
        "--owner",
        someone,
        "--grantee",
        someone,
        "--data",
        "ALL",
        "--purpose",
        "inference,model-training",
      ]);
      expect([run.code, run.stdout, run.stderr]).to.deep.equal([
        1,
        "",
        "error: --purpose: give one purpose, not a list (status checks one; run it once per purpose)\n",
      ]);
    });

    it("--wait-timeout is checked before anything is sent: 0 and more than a day are refused", async function () {
      const grant = ["grant", "--grantee", someone, "--data", "ALL", "--purposes", "inference"];
      const zero = await runInProcess(["--wait-timeout", "0s", ...grant]);
      expect([zero.code, zero.stderr]).to.deep.equal([
        1,
        'error: --wait-timeout: "0s" is a duration of 0; give a longer one\n',
      ]);
      const long = await runInProcess([...grant, "--wait-timeout", "2d"]);
      expect([long.code, long.stderr]).to.deep.equal([
        1,
        'error: --wait-timeout: "2d" is longer than a day; give at most 24h (e.g. 2m, 10m)\n',
      ]);
    });
  });

  describe("on a chain", function () {
    it("a grant replacing purposes shows before → after and asks; no terminal without --yes refuses; --yes goes on", async function () {
      const first = await cli(
        "--account",
        "1",
        "grant",
        "--grantee",
        grantee.address,
        "--data",
        dataId,
        "--purposes",
        "INFERENCE,model_training",
        "--expires",
        "+30d",
      );
      expect(first.stderr).to.equal("");
      const status = await cli(
        "--json",
        "status",
        "--owner",
        owner.address,
        "--grantee",
        grantee.address,
        "--data",
        dataId,
      );
      const expiresAt = BigInt((JSON.parse(status.stdout) as { consent: { expiresAt: string } }).consent.expiresAt);
      expect(first.stdout.split("\n")[0]).to.equal(
        `granted ${grantee.address} consent on ${dataId.slice(0, 6)}…${dataId.slice(-4)} for MODEL_TRAINING(0), INFERENCE(2) until ${iso(expiresAt)} (in 30 days)`,
      );

      const replace = [
        "--account",
        "1",
        "grant",
        "--grantee",
        grantee.address,
        "--data",
        dataId,
        "--purposes",
        "inference",
      ];
      const warning = [
        `warning: ${grantee.address} already holds consent on ${dataId.slice(0, 6)}…${dataId.slice(-4)}; this grant replaces its purposes:`,
        `warning:   before: MODEL_TRAINING(0), INFERENCE(2) until ${iso(expiresAt)} (in ${(expiresAt - (await chainTime())) / DAY} days)`,
        "warning:   after:  INFERENCE(2) with no expiry",
        "warning:   withdrawn by this grant: MODEL_TRAINING(0)",
      ];
      const refused = await sendsNothing(owner.address, () => cli(...replace));
      expect([refused.code, refused.stdout]).to.deep.equal([1, ""]);
      expect(refused.stderr.split("\n")).to.deep.equal([
        ...warning,
        "error: grant: refused without confirmation (no terminal to ask); re-run with --yes to go ahead. Nothing was sent",
        "",
      ]);
      const declined = await sendsNothing(owner.address, () => runInProcess(replace, env(), ["n"]));
      expect(declined.asked).to.deep.equal(["proceed? [y/N] "]);
      expect(declined.stderr.split("\n").slice(-2)).to.deep.equal([
        "error: grant: not confirmed; nothing was sent",
        "",
      ]);

      const yes = await cli("--yes", ...replace);
      expect(yes.code).to.equal(0);
      expect(yes.stderr).to.equal(`${warning.join("\n")}\n`);
      expect(yes.stdout.split("\n")[0]).to.equal(
        `granted ${grantee.address} consent on ${dataId.slice(0, 6)}…${dataId.slice(-4)} for INFERENCE(2) with no expiry`,
      );
    });

    it("a grant to yourself warns; ALL_DATA is a data id; record-use names the purpose; --json on a failing write is JSON", async function () {
      const self = await sendsNothing(owner.address, () =>
        cli("--account", "1", "grant", "--grantee", owner.address, "--data", "ALL_DATA", "--purposes", "research"),
      );
      expect(self.stderr.split("\n")).to.deep.equal([
        `warning: this grants ${owner.address} consent to its own data (grantee = owner); an owner needs no consent to use its own data, so this is usually a mistyped --grantee`,
        "error: grant: refused without confirmation (no terminal to ask); re-run with --yes to go ahead. Nothing was sent",
        "",
      ]);

      const use = await cli(
        "--account",
        "2",
        "record-use",
        "--owner",
        owner.address,
        "--data",
        dataId,
        "--purpose",
        "Inference",
        "--evidence",
        "job 1",
      );
      expect(use.stderr).to.equal("");
      expect(use.stdout.split("\n")[0]).to.equal(`recorded use of ${owner.address}'s data ${dataId} for INFERENCE(2)`);

      const refused = await sendsNothing(grantee.address, () =>
        cli(
          "--account",
          "2",
          "--json",
          "record-use",
          "--owner",
          owner.address,
          "--data",
          "all",
          "--purpose",
          "research",
          "--evidence",
          "x",
        ),
      );
      const line = `ConsentRegistryConsentRequired: ${grantee.address} holds no active consent of ${owner.address} on ALL_DATA for purpose RESEARCH (7)`;
      expect([refused.code, refused.stderr]).to.deep.equal([1, `error: ${line}\n`]);
      expect(JSON.parse(refused.stdout)).to.deep.equal({ status: "error", error: line, exitCode: 1 });
    });

    it("manager mode: --owner on grant and revoke; a non-manager is refused; managers list shows current and past", async function () {
      expect((await cli("--account", "1", "--yes", "managers", "add", manager.address)).code).to.equal(0);
      expect((await cli("--account", "1", "--yes", "managers", "add", signers[6].address)).code).to.equal(0);
      expect((await cli("--account", "1", "managers", "remove", signers[6].address)).code).to.equal(0);
      const other = keccak256(toUtf8Bytes("salt-8:voice"));
      const granted = await cli(
        "--account",
        "3",
        "grant",
        "--owner",
        owner.address,
        "--grantee",
        grantee.address,
        "--data",
        other,
        "--purposes",
        "analytics",
      );
      expect(granted.stderr).to.equal("");
      expect(granted.stdout.split("\n")[0]).to.equal(
        `granted ${grantee.address} consent on ${other.slice(0, 6)}…${other.slice(-4)} for ANALYTICS(4) with no expiry (for ${owner.address}, as its manager)`,
      );
      const stranger = await sendsNothing(signers[6].address, () =>
        cli("--account", "6", "revoke", "--owner", owner.address, "--grantee", grantee.address, "--data", other),
      );
      expect(stranger.stderr).to.equal(
        `error: --owner: ${signers[6].address} is not a manager of ${owner.address}, so it cannot act for it; the owner appoints one with \`omni-consent managers add ${signers[6].address}\`. Nothing was sent\n`,
      );
      const revoked = await cli(
        "--account",
        "3",
        "revoke",
        "--owner",
        owner.address,
        "--grantee",
        grantee.address,
        "--data",
        other,
      );
      expect(revoked.stdout.split("\n")[0]).to.equal(
        `revoked the consent of ${grantee.address} on ${other.slice(0, 6)}…${other.slice(-4)} (for ${owner.address}, as its manager)`,
      );

      const list = await cli("--json", "managers", "list", "--owner", owner.address);
      const managers = (
        JSON.parse(list.stdout) as { managers: { manager: string; current: boolean; ended: { how: string } | null }[] }
      ).managers;
      expect(managers.map((m) => [m.manager, m.current, m.ended?.how ?? null])).to.deep.equal([
        [manager.address, true, null],
        [signers[6].address, false, "removed"],
      ]);
      const table = (await cli("managers", "list", "--owner", owner.address)).stdout.split("\n");
      expect(table[0]).to.match(
        /^managers of 0x[0-9a-fA-F]{40} \(chain time \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(now\)\):$/,
      );
      expect(table[3]).to.match(new RegExp(`^${manager.address}  current  \\d{4}-\\S+Z \\([^)]+\\)\\s+-$`));
      expect(table[4]).to.match(
        new RegExp(`^${signers[6].address}  past     \\d{4}-\\S+Z \\([^)]+\\)\\s+removed \\d{4}-\\S+Z \\([^)]+\\)$`),
      );
    });

    it("history names the owner as the signer of a relayed change, not only the relayer", async function () {
      const file = join(dir, "signed-grant.json");
      const signed = await cli(
        "--account",
        "1",
        "sign-grant",
        "--grantee",
        signers[5].address,
        "--data",
        dataId,
        "--purposes",
        "evaluation",
        "--out",
        file,
      );
      expect(signed.stderr).to.equal("");
      expect(signed.stdout).to.match(/deadline \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(in (1 h|59 min)\)\) → /);
      const relayed = await cli("--account", "5", "relay", file);
      expect(relayed.stderr).to.equal("");
      expect(relayed.stdout.split("\n")[0]).to.equal(
        `relayed Grant by ${owner.address} to ${signers[5].address} on ${dataId} for purposes [EVALUATION(3)] (version 1)`,
      );
      const history = await cli(
        "--json",
        "history",
        "--owner",
        owner.address,
        "--grantee",
        signers[5].address,
        "--data",
        dataId,
      );
      const entries = (JSON.parse(history.stdout) as { entries: { via: string; signer: string; by: string }[] })
        .entries;
      expect(entries.map((e) => [e.via, e.signer, e.by])).to.deep.equal([
        ["Signature", owner.address, `signed by the owner ${owner.address}, relayed by ${signers[5].address}`],
      ]);
    });

    it("governance: a purpose defined with a document is usable by its name; signing a deprecated purpose is refused; execute with other arguments says they must match", async function () {
      const docs = join(dir, "documents");
      const hash = await writeDocumentToFolder(docs, {
        format: PURPOSE_DOCUMENT_FORMAT,
        id: 8,
        name: "SYNTHETIC_DATA",
        description: "Generating synthetic data sets from the data",
        dpv: "https://w3id.org/dpv#ResearchAndDevelopment",
        aiVocabularies: { aipref: { "train-ai": "part" }, cawg: {}, erc7517: {}, tdmrep: {} },
        language: "en",
      });
      const gov = (...args: string[]) => cli("--account", "4", ...args);
      const defined = await gov("--documents", docs, "gov", "propose", "define-purpose", "8", "--metadata", hash);
      expect(defined.stdout.split("\n")[0]).to.match(
        /^proposed: define purpose 8 SYNTHETIC_DATA; executable from \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(in 1 d 0 h\)$/,
      );
      expect((await gov("gov", "propose", "deprecate-purpose", "7")).code).to.equal(0);
      const wrong = await sendsNothing(governor.address, () =>
        gov("gov", "execute", "define-purpose", "8", "--metadata", "another text"),
      );
      expect(wrong.stderr).to.match(
        /^error: AccessManagerNotScheduled: no scheduled operation matches \(id 0x[0-9a-f]{64}\): it was never proposed with exactly these arguments, or was executed or cancelled since\. `gov execute` must repeat the proposal's arguments exactly \(same address, purposes and metadata\); `omni-consent gov pending` lists what is scheduled\n$/,
      );
      await increaseTime(DAY + 1n);
      expect((await gov("gov", "execute", "define-purpose", "8", "--metadata", hash)).code).to.equal(0);
      expect((await gov("gov", "execute", "deprecate-purpose", "7")).code).to.equal(0);

      const granted = await cli(
        "--account",
        "1",
        "--documents",
        docs,
        "grant",
        "--grantee",
        signers[6].address,
        "--data",
        dataId,
        "--purposes",
        "synthetic-data",
      );
      expect(granted.stderr).to.equal("");
      expect(granted.stdout.split("\n")[0]).to.equal(
        `granted ${signers[6].address} consent on ${dataId.slice(0, 6)}…${dataId.slice(-4)} for SYNTHETIC_DATA(8) with no expiry`,
      );
      const unknown = await cli(
        "--account",
        "1",
        "grant",
        "--grantee",
        signers[6].address,
        "--data",
        dataId,
        "--purposes",
        "synthetic-data",
      );
      expect(unknown.stderr).to.equal(
        'error: --purposes: unknown purpose "synthetic-data"; use one of model-training, fine-tuning, inference, evaluation, analytics, product-improvement, third-party-sharing, research or an id\n',
      );
      const list = await cli("--json", "--documents", docs, "purposes");
      const purposes = (JSON.parse(list.stdout) as { purposes: { id: number; name: string; grantable: boolean }[] })
        .purposes;
      expect(purposes.slice(-2)).to.deep.equal([
        { id: 7, name: "RESEARCH", grantable: false, metadataHash: initialPurposeMetadata()[7] },
        { id: 8, name: "SYNTHETIC_DATA", grantable: true, metadataHash: hash },
      ]);

      const deprecated = await cli(
        "--account",
        "1",
        "sign-grant",
        "--grantee",
        grantee.address,
        "--data",
        dataId,
        "--purposes",
        "research",
        "--out",
        join(dir, "deprecated.json"),
      );
      expect([deprecated.code, deprecated.stderr]).to.deep.equal([
        1,
        "error: --purposes: RESEARCH(7) is deprecated by governance (no new grants); the registry would refuse this grant when relayed. Nothing was signed\n",
      ]);
      expect(existsSync(join(dir, "deprecated.json"))).to.equal(false);
    });

    it("custodian start --key --registry --rpc --chain-id, as docs/KEYS.md writes it: every option reaches it, and it listens", async function () {
      const pass = { OMNI_CUSTODIAN_PASSPHRASE: "correct horse battery staple 1234" };
      const keyFile = join(dir, "start-key.json");
      expect((await runInProcess(["custodian", "keygen", "--key", keyFile], pass)).code).to.equal(0);
      const common = ["--db", join(dir, "start.db"), "--key", keyFile, "--registry", registry, "--rpc", node.url];
      // --chain-id reaches it (and so does --rpc: the default 127.0.0.1:8545 is no node of this test).
      const wrong = await runInProcess(["custodian", "start", "--port", "0", ...common, "--chain-id", "1"], pass);
      expect([wrong.code, wrong.stdout, wrong.stderr]).to.deep.equal([
        1,
        "",
        `error: wrong chain: the node at ${node.url} is chain 31337, --chain-id says 1\n`,
      ]);
      const port = await freePort();
      const custodian = spawnCli(
        ["custodian", "start", "--port", String(port), ...common, "--chain-id", "31337", "--log-level", "warn"],
        pass,
      );
      try {
        let health: Response | undefined;
        for (let i = 0; i < 300 && health === undefined; i++) {
          if (custodian.child.exitCode !== null) throw new Error(`custodian exited: ${custodian.stderr()}`);
          health = await fetch(`http://127.0.0.1:${port}/v1/health`).catch(() => undefined);
          if (health === undefined) await new Promise((r) => setTimeout(r, 100));
        }
        expect(health?.status, custodian.stderr()).to.equal(200);
      } finally {
        process.kill(custodian.child.pid!, "SIGTERM");
        const timer = setTimeout(() => custodian.kill(), 5_000);
        await custodian.exited;
        clearTimeout(timer);
      }
    });

    it("--expires: a millisecond timestamp or a time beyond the registry's uint40 is refused naming the option; nothing is reserved or written", async function () {
      const store = join(dir, "big-expiry-signing");
      const signGrant = (out: string, expires: string, ...who: string[]) =>
        runInProcess(
          [
            "sign-grant",
            ...who,
            "--grantee",
            grantee.address,
            "--data",
            dataId,
            "--purposes",
            "inference",
            "--expires",
            expires,
            "--out",
            out,
          ],
          { ...env(), OMNI_SIGNING_STORE: store },
        );
      const ms = "1800000000000"; // 2027-01-15T08:00:00Z in milliseconds
      const msLine = `error: --expires: ${ms} looks like milliseconds (read as unix seconds it is more than 30,000 years away); give unix seconds (1800000000 = ${iso(1_800_000_000n)}), a date-time with its zone or a duration\n`;
      for (const who of [
        ["--account", "1"],
        ["--owner", owner.address],
      ]) {
        const out = join(dir, `big-${who[0]}.json`);
        const run = await signGrant(out, ms, ...who);
        expect([run.code, run.stdout, run.stderr]).to.deep.equal([1, "", msLine]);
        expect(existsSync(out)).to.equal(false);
      }
      const now = await chainTime();
      const far = await signGrant(join(dir, "far.json"), "+20000000d", "--owner", owner.address);
      expect(far.code).to.equal(1);
      const farIso = new Date(Number(now + 20_000_000n * DAY) * 1000).toISOString().replace(".000Z", "Z");
      expect(far.stderr.replace(/\(in \d+ years\)/, "(in N years)")).to.equal(
        `error: --expires: +20000000d = ${farIso} (in N years) is after the latest expiry the registry can store (2^40 - 1 unix seconds, in the year 36812); give an earlier time, or never\n`,
      );
      expect(existsSync(join(dir, "far.json"))).to.equal(false);
      expect(existsSync(store) ? readdirSync(store) : []).to.deep.equal([]);
      const tx = await sendsNothing(owner.address, () =>
        cli(
          "--account",
          "1",
          "grant",
          "--grantee",
          grantee.address,
          "--data",
          dataId,
          "--purposes",
          "inference",
          "--expires",
          ms,
        ),
      );
      expect([tx.code, tx.stderr]).to.deep.equal([1, msLine]);
    });

    it("--deadline: a millisecond timestamp, or more than a year ahead, is refused saying why; within a year is signed", async function () {
      const sign = (deadline: string, out: string) =>
        cli(
          "--account",
          "1",
          "--json",
          "sign-grant",
          "--grantee",
          Wallet.createRandom().address,
          "--data",
          dataId,
          "--purposes",
          "inference",
          "--deadline",
          deadline,
          "--out",
          out,
        );
      const ms = String(Date.now() + 3_600_000);
      const seconds = BigInt(ms) / 1000n;
      const milli = await sign(ms, join(dir, "ms-deadline.json"));
      expect([milli.code, milli.stderr]).to.deep.equal([
        1,
        `error: --deadline: ${ms} looks like milliseconds (read as unix seconds it is more than 30,000 years away); give unix seconds (${seconds} = ${iso(seconds)}), a date-time with its zone or a duration\n`,
      ]);
      expect(existsSync(join(dir, "ms-deadline.json"))).to.equal(false);
      const now = await chainTime();
      const late = await sign("+400d", join(dir, "late-deadline.json"));
      expect([late.code, late.stderr]).to.deep.equal([
        1,
        `error: --deadline: +400d = ${iso(now + 400n * DAY)} (in 13 months) is more than a year away: anyone who holds the signed file can relay it until its deadline; give a nearer one (the default is 1 hour; e.g. +7d)\n`,
      ]);
      const ok = await sign("+300d", join(dir, "ok-deadline.json"));
      expect(ok.stderr).to.equal("");
      expect(BigInt((JSON.parse(ok.stdout) as { deadline: string }).deadline)).to.equal(now + 300n * DAY);
    });

    it("the broadest grant (ALL data, every purpose, no expiry) warns first; so does appointing a manager; --yes goes on", async function () {
      // Account 7: an owner of its own, so the ALL-data consents here change no other test's owner.
      const other = getAddress((await provider.getSigner(7)).address);
      const who = Wallet.createRandom().address;
      const registryRead = new Contract(registry, CONSENT_REGISTRY_ABI, provider);
      const grantable = BigInt(await registryRead.grantablePurposes());
      const ids = [...Array(128).keys()].filter((i) => ((grantable >> BigInt(i)) & 1n) === 1n);
      const broad = ["--account", "7", "grant", "--grantee", who, "--data", "ALL", "--purposes", ids.join(",")];
      const refused = await sendsNothing(other, () => cli(...broad));
      expect(refused.code).to.equal(1);
      const [warning, error, end] = refused.stderr.split("\n");
      expect(
        warning.startsWith(
          `warning: this grants ${who} consent on ALL data of ${other} (every data id, those added later too) for every purpose the registry offers (MODEL_TRAINING(0), `,
        ),
        warning,
      ).to.equal(true);
      expect(
        warning.endsWith(
          ") with no expiry: it lasts until revoked (`revoke --data ALL`) or a lockdown; --expires bounds it",
        ),
        warning,
      ).to.equal(true);
      expect([error, end]).to.deep.equal([
        "error: grant: refused without confirmation (no terminal to ask); re-run with --yes to go ahead. Nothing was sent",
        "",
      ]);
      const done = await cli("--yes", ...broad);
      expect([done.code, done.stderr]).to.deep.equal([0, `${warning}\n`]);
      // With an expiry, or not every purpose, it is no broader than many: no warning.
      const bounded = await cli(...broad, "--expires", "+30d");
      expect([bounded.code, bounded.stderr]).to.deep.equal([0, ""]);

      const appointee = Wallet.createRandom().address;
      const managerLine = `warning: ${appointee} becomes a manager of ${other}: it may grant consent on any of your data (ALL data included, with no expiry) and revoke it, for you, until you remove it (\`managers remove\`) or lock down`;
      const add = await sendsNothing(other, () => cli("--account", "7", "managers", "add", appointee));
      expect([add.code, add.stdout, add.stderr]).to.deep.equal([
        1,
        "",
        `${managerLine}\nerror: managers add: refused without confirmation (no terminal to ask); re-run with --yes to go ahead. Nothing was sent\n`,
      ]);
      const declined = await sendsNothing(other, () =>
        runInProcess(["--account", "7", "managers", "add", appointee], env(), ["n"]),
      );
      expect(declined.stderr).to.equal(`${managerLine}\nerror: managers add: not confirmed; nothing was sent\n`);
      const added = await cli("--account", "7", "--yes", "managers", "add", appointee);
      expect([added.code, added.stderr, added.stdout.split("\n")[0]]).to.deep.equal([
        0,
        `${managerLine}\n`,
        `appointed manager ${appointee}`,
      ]);
      const removed = await cli("--account", "7", "managers", "remove", appointee);
      expect([removed.code, removed.stderr]).to.deep.equal([0, ""]);
    });

    it("revoke --data X says when the grantee's consent on ALL data still allows X (read after the revoke)", async function () {
      const other = getAddress((await provider.getSigner(7)).address);
      const who = Wallet.createRandom().address;
      const x = keccak256(toUtf8Bytes("revoke-note-x"));
      const short = `${x.slice(0, 6)}…${x.slice(-4)}`;
      for (const d of ["ALL", x]) {
        const g = await cli("--account", "7", "grant", "--grantee", who, "--data", d, "--purposes", "inference");
        expect([g.code, g.stderr]).to.deep.equal([0, ""]);
      }
      const r = await cli("--account", "7", "revoke", "--grantee", who, "--data", x);
      expect([r.code, r.stderr]).to.deep.equal([0, ""]);
      const lines = r.stdout.split("\n");
      expect(lines[0]).to.equal(`revoked the consent of ${who} on ${short}`);
      expect(lines[2]).to.equal(
        `note: ${who} still holds consent on ALL data of ${other} (INFERENCE(2) with no expiry), which covers ${short} too; \`revoke --grantee ${who} --data ALL\` ends it`,
      );
      expect(lines.length).to.equal(4);
      // Once the ALL-data consent is gone, a revoke has nothing to add.
      expect((await cli("--account", "7", "revoke", "--grantee", who, "--data", "ALL")).code).to.equal(0);
      expect(
        (await cli("--account", "7", "grant", "--grantee", who, "--data", x, "--purposes", "inference")).code,
      ).to.equal(0);
      const plain = await cli("--account", "7", "revoke", "--grantee", who, "--data", x);
      expect(plain.stdout.split("\n").length).to.equal(3);
    });

    it("a grant while a signed lockdown is outstanding in the signing store warns that relaying it would end the grant", async function () {
      const who = getAddress((await provider.getSigner(8)).address);
      const lockdown = await cli("--account", "8", "--json", "sign-revoke-all", "--out", join(dir, "lockdown-8.json"));
      expect([lockdown.code, lockdown.stderr]).to.deep.equal([0, ""]);
      const deadline = BigInt((JSON.parse(lockdown.stdout) as { deadline: string }).deadline);
      expect(deadline - (await chainTime())).to.equal(3600n); // the default deadline: in 1 h
      const grant = [
        "--account",
        "8",
        "grant",
        "--grantee",
        grantee.address,
        "--data",
        dataId,
        "--purposes",
        "inference",
      ];
      const refused = await sendsNothing(who, () => cli(...grant));
      expect([refused.code, refused.stderr]).to.deep.equal([
        1,
        `warning: a lockdown of ${who} signed for epoch 0 is outstanding (the signing store holds it; relayable until ${iso(deadline)} (in 1 h)): if it is relayed, it ends this grant too\nerror: grant: refused without confirmation (no terminal to ask); re-run with --yes to go ahead. Nothing was sent\n`,
      ]);
      expect((await cli("--yes", ...grant)).code).to.equal(0);
    });

    it("revoke-all asks first: refused without a terminal or --yes, sent with --yes", async function () {
      const who = signers[6];
      await cli("--account", "6", "grant", "--grantee", grantee.address, "--data", "ALL", "--purposes", "inference");
      const refused = await sendsNothing(who.address, () => cli("--account", "6", "revoke-all"));
      expect(refused.stderr.split("\n")).to.deep.equal([
        `warning: lockdown of ${who.address} ends at once, with no undo:`,
        "warning:   all 1 active consent (ALL-data ones included), every signed message made before, and every manager (0)",
        "error: lockdown: refused without confirmation (no terminal to ask); re-run with --yes to go ahead. Nothing was sent",
        "",
      ]);
      const done = await cli("--account", "6", "--yes", "revoke-all");
      expect(done.code).to.equal(0);
      expect(done.stdout.split("\n")[0]).to.equal(`lockdown of ${who.address}: epoch 0 → 1. Ended, all at once:`);
    });

    it("data-id <label> derives keccak(salt:label) once and keeps label and salt in the label book", async function () {
      const first = await cli("--json", "data-id", "holiday photos");
      const made = JSON.parse(first.stdout) as { label: string; dataId: string; created: boolean };
      const book = JSON.parse(readFileSync(join(dir, "labels.json"), "utf8")) as {
        entries: { label: string; salt: string; dataId: string }[];
      };
      expect(book.entries).to.have.length(1);
      expect(book.entries[0].salt).to.match(/^0x[0-9a-f]{64}$/);
      expect(made).to.deep.equal({
        label: "holiday photos",
        dataId: keccakText(`${book.entries[0].salt}:holiday photos`),
        created: true,
        labelBook: join(dir, "labels.json"),
      });
      const again = JSON.parse((await cli("--json", "data-id", "holiday photos")).stdout) as {
        dataId: string;
        created: boolean;
      };
      expect([again.dataId, again.created]).to.deep.equal([made.dataId, false]);
      const missing = await cli("data-id", "tax papers", "--no-create");
      expect(missing.stderr).to.equal(
        `error: "tax papers" is not in the label book ${join(dir, "labels.json")}; leave out --no-create to add it\n`,
      );

      // The owner's outputs show the label.
      await cli(
        "--account",
        "1",
        "grant",
        "--grantee",
        grantee.address,
        "--data",
        made.dataId,
        "--purposes",
        "fine-tuning",
      );
      const mine = (await cli("--account", "1", "my-consents")).stdout.split("\n");
      expect(
        mine.some((l) => l.startsWith(`${grantee.address}  holiday photos`) && l.includes("FINE_TUNING(1)")),
      ).to.equal(true);
    });

    it("export --format erc7517 / aipref writes the owner's current choices for an asset, governance's purposes mapped by their documents", async function () {
      const docs = join(dir, "documents");
      const erc = await cli(
        "--documents",
        docs,
        "export",
        "--format",
        "erc7517",
        "--owner",
        owner.address,
        "--data",
        dataId,
      );
      expect(erc.stderr).to.equal("");
      // Live on this data id: INFERENCE (grantee), EVALUATION (signers[5]), SYNTHETIC_DATA (signers[6]).
      expect(JSON.parse(erc.stdout)).to.deep.equal({
        format: "erc7517",
        dataMiningPreference: {
          dataMining: "notAllowed",
          aiInference: "constrained",
          aiTraining: "notAllowed",
          aiGenerativeTraining: "notAllowed",
          aiTrainingWithAuthorship: "notAllowed",
          aiGenerativeTrainingWithAuthorship: "notAllowed",
        },
        changesAt: null,
        warnings: [],
      });
      const aipref = await cli(
        "--documents",
        docs,
        "export",
        "--format",
        "aipref",
        "--owner",
        owner.address,
        "--data",
        dataId,
      );
      const statement = JSON.parse(aipref.stdout) as {
        contentUsage: string;
        grantees: { grantee: string; contentUsage: string }[];
      };
      expect(statement.contentUsage).to.equal("train-ai=n, search=n");
      // SYNTHETIC_DATA covers only part of train-ai: AIPREF has no "constrained", so n even for its grantee.
      expect(statement.grantees.map((g) => [g.grantee, g.contentUsage])).to.deep.equal([
        [grantee.address, "train-ai=n, search=n"],
        [signers[5].address, "train-ai=n, search=n"],
        [signers[6].address, "train-ai=n, search=n"],
      ]);
      // Without the document, SYNTHETIC_DATA's consent cannot be reflected, and the export says so.
      const blind = await cli("export", "--format", "erc7517", "--owner", owner.address, "--data", dataId);
      expect(blind.stderr).to.equal(
        "warning: purpose#8 (8) has no purpose document here, so consents for it are not reflected in this export (resolve its document first)\n",
      );
      const bad = await cli("export", "--format", "robots", "--owner", owner.address, "--data", dataId);
      expect(bad.stderr).to.equal(
        'error: --format: "robots" is not an export format; use one of aipref, cawg, erc7517, tdmrep\n',
      );
    });

    it("audit verify --releases re-checks custodians' logs against the chain and prints violations in words", async function () {
      const chainId = 31337n;
      const requester = Wallet.createRandom();
      const latest = (await provider.getBlock("latest"))!;
      const hasher = new KeyRequestHasher(keyReleaseDomain(chainId, registry));
      const nonce = keccak256(toUtf8Bytes("nonce-1"));
      const deadline = BigInt(latest.timestamp) + 600n;
      const ephemeralKey = keccak256(toUtf8Bytes("ephemeral"));
      const useTx = `0x${"0".repeat(64)}`;
      const digest = hasher.digest({
        owner: owner.address,
        dataId,
        version: 1n,
        purpose: 0,
        requester: requester.address,
        ephemeralKey,
        nonce,
        deadline,
        useTx,
      });
      const signature = requester.signingKey.sign(digest).serialized;
      const fields: Omit<ReleaseEntry, "seq" | "entryHash"> = {
        atMs: latest.timestamp * 1000,
        custodian: "custodian-1",
        chainId: String(chainId),
        registry,
        owner: owner.address,
        requester: requester.address,
        dataId,
        version: "1",
        purpose: 0,
        nonce,
        deadline: String(deadline),
        ephemeralKey,
        useTx,
        signature,
        block: latest.number,
        blockHash: latest.hash!,
        confirmations: 0,
        useBlock: null,
        requireUseRecord: false,
        useRecordMaxAge: 7200,
        shareIndex: 1,
        manifestDigest: keccak256(toUtf8Bytes("manifest")),
        prevHash: GENESIS_HASH,
      };
      const entry: ReleaseEntry = { seq: 1, ...fields, entryHash: entryHashOf(fields) };
      const log = join(dir, "releases.json");
      writeFileSync(log, JSON.stringify([entry]));
      const run = await cli("audit", "verify", "--releases", log);
      expect(run.code).to.equal(1);
      expect(run.stdout.split("\n")).to.deep.equal([
        `release logs: 1 key release in 1 file re-checked against chain 31337 (registry ${registry}): 2 violations`,
        // A bare array (an older log's shape) carries no owner-signed manifest: the owner's policy is unknown.
        `VIOLATION release #1 of custodian custodian-1 (the key of ${owner.address}'s data ${dataId} for ${requester.address}, MODEL_TRAINING(0), released ${iso(BigInt(latest.timestamp))} (now)): the owner's signed manifest of this asset is not at hand, so the owner's policy cannot be checked [MANIFEST_MISSING: no owner-signed manifest with digest ${fields.manifestDigest} is at hand: the release cannot be checked against the owner's policy]`,
        `VIOLATION release #1 of custodian custodian-1 (the key of ${owner.address}'s data ${dataId} for ${requester.address}, MODEL_TRAINING(0), released ${iso(BigInt(latest.timestamp))} (now)): no consent covered this release [UNCOVERED: no consent of ${owner.address} for ${requester.address}, ${dataId}, MODEL_TRAINING at block ${latest.number}]`,
        "",
      ]);
      expect(run.stderr).to.equal(
        `warning: --releases: ${log} is a bare array of entries (an older \`custodian log\`) and carries no manifests: its releases are MANIFEST_MISSING unless --manifests <path> gives the owners' signed manifests\n` +
          "error: 2 key release(s) not covered by the chain's record (see the VIOLATION lines)\n",
      );
      const tampered = join(dir, "tampered.json");
      writeFileSync(tampered, JSON.stringify([{ ...entry, purpose: 2 }]));
      const edited = await cli("--json", "audit", "verify", "--releases", tampered);
      const codes = (
        JSON.parse(edited.stdout) as { releases: { violations: { code: string }[] } }
      ).releases.violations.map((v) => v.code);
      expect(codes[0]).to.equal("LOG_TAMPERED");

      // --manifests: a path that is not there, or a named file that is no manifest, is refused in
      // one line before the chain is asked; in a folder, JSON files that are not manifests are
      // skipped (the release is still MANIFEST_MISSING: nothing was taken on trust).
      const missing = join(dir, "no-such-manifests");
      const gone = await cli("audit", "verify", "--releases", log, "--manifests", missing);
      expect([gone.code, gone.stdout, gone.stderr]).to.deep.equal([
        1,
        "",
        `error: --manifests: ${missing}: cannot read it (ENOENT)\n`,
      ]);
      const notText = join(dir, "not-a-manifest.json");
      writeFileSync(notText, "{ not json");
      const junk = await cli("audit", "verify", "--releases", log, "--manifests", notText);
      expect([junk.code, junk.stdout, junk.stderr]).to.deep.equal([
        1,
        "",
        `error: --manifests: ${notText}: the manifest is not JSON\n`,
      ]);
      const folder = mkdtempSync(join(dir, "manifests-"));
      writeFileSync(join(folder, "other.json"), JSON.stringify({ hello: "world" }));
      const skipped = await cli("--json", "audit", "verify", "--releases", log, "--manifests", folder);
      expect(
        (JSON.parse(skipped.stdout) as { releases: { violations: { code: string }[] } }).releases.violations.map(
          (v) => v.code,
        ),
      ).to.deep.equal(["MANIFEST_MISSING", "UNCOVERED"]);

      // The owner's report takes the same logs (--releases) and the label book (--labels).
      const db = join(dir, "audit.db");
      expect((await cli("audit", "sync", "--db", db)).code).to.equal(0);
      const out = join(dir, "owner.json");
      const report = await cli(
        "audit",
        "report",
        "--db",
        db,
        "--owner",
        owner.address,
        "--releases",
        log,
        "--out",
        out,
      );
      expect([report.code, report.stderr]).to.deep.equal([0, ""]);
      const view = (
        JSON.parse(readFileSync(out, "utf8")) as {
          view: { releases: { requester: string; dataId: string; purposeName: string; custodians: string[] }[] };
        }
      ).view;
      expect(view.releases.map((r) => [r.requester, r.dataId, r.purposeName, r.custodians])).to.deep.equal([
        [requester.address, dataId, "MODEL_TRAINING", ["custodian-1"]],
      ]);
      const html = join(dir, "owner.html");
      expect(
        (await cli("audit", "report", "--db", db, "--owner", owner.address, "--releases", log, "--out", html)).code,
      ).to.equal(0);
      const page = readFileSync(html, "utf8");
      expect(page).to.include("holiday photos");
      expect(page).to.include("1 custodian");
      expect(page).not.to.include("No custodian release logs were given");
      const wrongKind = await cli("audit", "report", "--db", db, "--releases", log);
      expect([wrongKind.code, wrongKind.stderr]).to.deep.equal([
        1,
        "error: --releases: key releases belong in an owner's report; add --owner <address>\n",
      ]);
    });
  });
});
