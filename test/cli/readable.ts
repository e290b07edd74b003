import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { expect } from "chai";
import { Interface, JsonRpcProvider, Wallet, getAddress, id as keccakText, keccak256, toUtf8Bytes } from "ethers";
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
import { nonceOf, rpc, startAnvil } from "./harness.js";
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
      expect((await cli("--account", "1", "managers", "add", manager.address)).code).to.equal(0);
      expect((await cli("--account", "1", "managers", "add", signers[6].address)).code).to.equal(0);
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
        `release logs: 1 key release in 1 file re-checked against chain 31337 (registry ${registry}): 1 violation`,
        `VIOLATION release #1 of custodian custodian-1 (the key of ${owner.address}'s data ${dataId} for ${requester.address}, MODEL_TRAINING(0), released ${iso(BigInt(latest.timestamp))} (now)): no consent covered this release [UNCOVERED: no consent of ${owner.address} for ${requester.address}, ${dataId}, MODEL_TRAINING at block ${latest.number}]`,
        "",
      ]);
      expect(run.stderr).to.equal(
        "error: 1 key release(s) not covered by the chain's record (see the VIOLATION lines)\n",
      );
      const tampered = join(dir, "tampered.json");
      writeFileSync(tampered, JSON.stringify([{ ...entry, purpose: 2 }]));
      const edited = await cli("--json", "audit", "verify", "--releases", tampered);
      const codes = (
        JSON.parse(edited.stdout) as { releases: { violations: { code: string }[] } }
      ).releases.violations.map((v) => v.code);
      expect(codes[0]).to.equal("LOG_TAMPERED");
    });
  });
});
