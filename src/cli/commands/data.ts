import { JsonRpcProvider, Wallet, getAddress, isAddress } from "ethers";
import type { Command } from "commander";
import type { Signer } from "ethers";

import { litConsentCondition, tacoConsentCondition } from "../../keys/interop.js";
import { openFromStore, sealToStore } from "../../keys/workflow.js";
import { parsePurpose, purposeName } from "../../sdk/purposes.js";
import { ConsentSdkError } from "../../sdk/errors.js";
import { probeChainId } from "../../sdk/rpc-probe.js";
import { parsePrivateKey, rpcUnreachableWords } from "../context.js";
import { CliError } from "../failure.js";

/**
 * `omni-consent data seal|open|conditions`: encrypted assets whose key the custodians release
 * only while consent holds (logic in src/keys/workflow.ts; this file parses and prints).
 * Signer: env OMNI_PRIVATE_KEY, or the global `--account <i>` (a dev node's unlocked account).
 */

interface Globals {
  rpc?: string;
  account?: string;
  registry?: string;
  json?: boolean;
}

const BYTES32 = /^0x[0-9a-fA-F]{64}$/;

function bytes32(option: string, v: string): string {
  if (!BYTES32.test(v)) throw new Error(`${option}: "${v}" is not 32 bytes of 0x-hex`);
  return v.toLowerCase();
}

function int(option: string, v: string, min: number, max: number): number {
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max)
    throw new Error(`${option} must be an integer ${min}..${max}`);
  return Number(v);
}

async function signerOf(g: Globals): Promise<Signer> {
  const key = process.env.OMNI_PRIVATE_KEY ?? "";
  const url = g.rpc ?? "http://127.0.0.1:8545";
  if (key !== "" && g.account !== undefined)
    throw new Error("both OMNI_PRIVATE_KEY and --account are set; use only one signer");
  const hex = key === "" ? "" : parsePrivateKey("OMNI_PRIVATE_KEY", key);
  // The node is probed first, so a wrong URL is said in words rather than as ethers' retries.
  try {
    await probeChainId(url);
  } catch (err) {
    throw err instanceof ConsentSdkError && err.code === "RPC_UNREACHABLE"
      ? new CliError(rpcUnreachableWords(url, err))
      : err;
  }
  const provider = new JsonRpcProvider(url, undefined, { staticNetwork: true });
  if (hex !== "") return new Wallet(hex, provider);
  if (g.account === undefined)
    throw new Error("no signer: set OMNI_PRIVATE_KEY, or pass --account <index> on a dev node");
  return provider.getSigner(int("--account", g.account, 0, 1000));
}

function print(g: Globals, doc: unknown, lines: string[]): void {
  process.stdout.write(
    g.json
      ? `${JSON.stringify(doc, (_, v) => (typeof v === "bigint" ? v.toString() : v), 2)}\n`
      : `${lines.join("\n")}\n`,
  );
}

export function registerDataCommands(program: Command): void {
  const data = program.command("data").description("seal assets for custodians, and open them with consent");

  data
    .command("seal")
    .description("encrypt a file, split its key k-of-n to custodians, sign the manifest (as the owner)")
    .requiredOption("--in <file>", "the file to seal")
    .requiredOption("--custodians <urls>", "comma-separated custodian URLs (n)")
    .requiredOption("--threshold <k>", "shares needed to open (2..n)")
    .option("--store <dir>", "local content-addressed store", "omni-store")
    .option("--no-use-record", "release on consent alone (no DataUsed record needed)")
    .option("--use-window <blocks>", "a use record may be at most this old", "7200")
    .option("--confirmations <n>", "consent and use record must be this deep", "2")
    .option("--chunk-size <bytes>", "AEAD chunk size", String(1 << 20))
    .option("--new-version-of <dataId>", "re-seal: a new version of this asset (same dataId, new key)")
    .action(async (o: Record<string, string | boolean>, cmd: Command) => {
      const g = cmd.optsWithGlobals<Globals>();
      const urls = String(o.custodians)
        .split(",")
        .map((u) => u.trim())
        .filter((u) => u !== "");
      for (const u of urls)
        if (!/^https?:\/\/\S+$/.test(u)) throw new Error(`--custodians: "${u}" is not an http(s) URL`);
      const k = int("--threshold", String(o.threshold), 2, urls.length);
      if (g.registry !== undefined && !isAddress(g.registry))
        throw new Error(`--registry: ${g.registry} is not an address`);
      const res = await sealToStore({
        owner: await signerOf(g),
        input: String(o.in),
        store: String(o.store),
        custodianUrls: urls,
        threshold: k,
        registry: g.registry,
        chunkSize: int("--chunk-size", String(o.chunkSize), 1, 1 << 26),
        newVersionOf: o.newVersionOf === undefined ? undefined : bytes32("--new-version-of", String(o.newVersionOf)),
        policy: {
          requireUseRecord: o.useRecord !== false,
          useRecordMaxAge: int("--use-window", String(o.useWindow), 0, 2 ** 32 - 1),
          confirmations: int("--confirmations", String(o.confirmations), 0, 10_000),
        },
      });
      const m = res.manifest;
      print(
        g,
        {
          dataId: m.dataId,
          cid: m.cid,
          version: m.version,
          manifest: res.manifestPath,
          registrations: res.registrations,
        },
        [
          `sealed ${o.in}: ${m.size} bytes, ${m.threshold}-of-${m.custodians.length} custodians`,
          `dataId   ${m.dataId}`,
          `cid      ${m.cid}`,
          `version  ${m.version}`,
          `manifest ${res.manifestPath}`,
          ...res.registrations.map(
            (r) => `custodian #${r.index} ${r.url}: ${r.ok ? "share registered" : `${r.code} (${r.message})`}`,
          ),
        ],
      );
    });

  data
    .command("open")
    .description("ask k custodians for the key (consent + your DataUsed record are checked) and decrypt")
    .requiredOption("--owner <address>", "the data owner")
    .requiredOption("--data <dataId>", "the asset's dataId")
    .requiredOption("--purpose <name|id>", "the purpose you use it for (must be consented)")
    .requiredOption("--out <file>", "where to write the plaintext (written only once verified)")
    .option("--use-tx <hash>", "the transaction of your DataUsed record (omit as the owner)")
    .option("--version <n>", "asset version (default: the latest in the store)")
    .option("--store <dir>", "local content-addressed store", "omni-store")
    .action(async (o: Record<string, string>, cmd: Command) => {
      const g = cmd.optsWithGlobals<Globals>();
      if (!isAddress(o.owner)) throw new Error(`--owner: ${o.owner} is not an address`);
      const purpose = parsePurpose(o.purpose);
      const m = await openFromStore({
        requester: await signerOf(g),
        store: o.store,
        owner: getAddress(o.owner),
        dataId: bytes32("--data", o.data),
        version: o.version === undefined ? undefined : BigInt(int("--version", o.version, 1, Number.MAX_SAFE_INTEGER)),
        purpose,
        useTx: o.useTx === undefined ? undefined : bytes32("--use-tx", o.useTx),
        output: o.out,
      });
      print(g, { out: o.out, dataId: m.dataId, version: m.version, size: m.size, purpose }, [
        `opened ${m.dataId} v${m.version} for ${purposeName(purpose)}: ${m.size} bytes → ${o.out}`,
      ]);
    });

  data
    .command("conditions")
    .description(
      "print the same consent condition for TACo (ContractCondition) and Lit (evmContractConditions); needs the global --registry and --chain-id",
    )
    .requiredOption("--owner <address>", "the data owner")
    .requiredOption("--data <dataId>", "the asset's dataId")
    .requiredOption("--purpose <name|id>", "the purpose")
    .option("--lit-chain <name>", "Lit's name of the chain", "ethereum")
    .action((o: Record<string, string>, cmd: Command) => {
      const g = cmd.optsWithGlobals<Globals & { chainId?: string }>();
      if (g.registry === undefined || !isAddress(g.registry)) throw new Error("--registry <address> is required");
      const base = {
        registry: g.registry,
        owner: getAddress(o.owner),
        dataId: bytes32("--data", o.data),
        purpose: parsePurpose(o.purpose),
      };
      if (g.chainId === undefined) throw new Error("--chain-id <id> (the EVM chain id, for TACo) is required");
      const chainId = int("--chain-id", g.chainId, 1, Number.MAX_SAFE_INTEGER);
      const doc = {
        taco: tacoConsentCondition({ ...base, chainId }),
        lit: [litConsentCondition({ ...base, chain: o.litChain })],
      };
      process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
    });
}
