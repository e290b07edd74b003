import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

import { JsonRpcProvider, Network, Wallet, formatEther } from "ethers";
import type { Signer } from "ethers";
import { Option } from "commander";
import type { Command } from "commander";

import { ConsentRegistryClient } from "../sdk/client.js";
import { loadDeployment } from "../sdk/deployments.js";
import type { Deployment } from "../sdk/deployments.js";
import { ConsentSdkError } from "../sdk/errors.js";
import { FileSigningStore } from "../sdk/file-signing-store.js";
import { GovernanceClient } from "../sdk/governance-client.js";
import { IntegrationRegistryClient } from "../sdk/integrations.js";
import { probeChainId } from "../sdk/rpc-probe.js";
import { documentSources, namesOfCatalogue, setCurrentPurposeNames } from "./purposes.js";
import type { PurposeNames } from "./purposes.js";
import type { ConsentTransaction, Repricing } from "../sdk/transaction.js";
import { readDuration } from "../sdk/time-input.js";
import { CliError } from "./failure.js";
import { looksLikePrivateKey, parseAddress, parseUint } from "./parse.js";

/**
 * What every command shares: where the chain is, which registry, who signs, how to print.
 *
 * Options (global, valid before or after the command name):
 * - `--rpc <url>`          JSON-RPC endpoint (env OMNI_RPC_URL, default http://127.0.0.1:8545)
 * - `--registry <address>` the ConsentRegistry (env OMNI_REGISTRY; else the Ignition deployment
 *                          recorded for the node's chain id)
 * - `--chain-id <id>`      the chain the user expects; a different node chain is refused
 * - `--account <index>`    sign with unlocked account `index` of a local dev node; otherwise the
 *                          key comes from env OMNI_PRIVATE_KEY. A key on the command line is
 *                          refused: it would leak into shell history and process listings.
 * - `--signing-store <dir>` where signed-message versions are reserved (env OMNI_SIGNING_STORE,
 *                          default ~/.omni-consent/signing): every process that signs for the
 *                          same owner must use the same directory
 * - `--json`               machine-readable output (errors too: `{"error": …}` on stdout)
 * - `--documents <src>`    where purpose and integration documents are (a folder, an http(s)
 *                          URL or ipfs://<CID> with OMNI_IPFS_GATEWAY; env OMNI_DOCUMENTS;
 *                          default: the package's documents/ folder): names of purposes that
 *                          governance defined come from them
 * - `--yes`                answer yes to the warnings before risky writes (for scripts; without
 *                          it a risky write asks on a terminal and is refused elsewhere)
 * - `--wait-timeout <d>`   how long a write waits for its receipt after sending (env
 *                          OMNI_WAIT_TIMEOUT, default 2m); then its outcome is reported unknown
 *                          (`sent, not confirmed: <hash>`, exit code 3)
 */
export interface GlobalOptions {
  rpc: string;
  registry?: string;
  chainId?: string;
  account?: string;
  deployments?: string;
  signingStore?: string;
  json?: boolean;
  privateKey?: string;
  key?: string;
  documents?: string;
  labels?: string;
  yes?: boolean;
  waitTimeout?: string;
}

export const DEFAULT_RPC_URL = "http://127.0.0.1:8545";

/** The default signing-store directory (one per user, shared by every omni-consent process). */
export function defaultSigningStore(): string {
  return join(homedir(), ".omni-consent", "signing");
}

/** Adds the global options to the root command. */
export function addGlobalOptions(program: Command): void {
  program
    .addOption(new Option("--rpc <url>", "JSON-RPC endpoint").env("OMNI_RPC_URL").default(DEFAULT_RPC_URL))
    .addOption(
      new Option("--registry <address>", "ConsentRegistry address (default: the Ignition deployment of the chain)").env(
        "OMNI_REGISTRY",
      ),
    )
    .addOption(new Option("--chain-id <id>", "expected chain id; refuse to act on any other chain"))
    .addOption(new Option("--account <index>", "sign with unlocked account <index> of a local dev node"))
    .addOption(
      new Option("--deployments <dir>", "project root holding ignition/deployments (default: current directory)").env(
        "OMNI_DEPLOYMENTS_ROOT",
      ),
    )
    .addOption(
      new Option(
        "--signing-store <dir>",
        "directory where signed-message versions are reserved (default: ~/.omni-consent/signing); share it between every process that signs for an owner",
      ).env("OMNI_SIGNING_STORE"),
    )
    .addOption(new Option("--json", "print machine-readable JSON (failures too)"))
    .addOption(
      new Option(
        "--documents <folder|url>",
        "where purpose and integration documents are found (names of purposes defined by governance); default: the package's documents/ folder",
      ).env("OMNI_DOCUMENTS"),
    )
    .addOption(
      new Option(
        "--labels <file>",
        "your label book: labels of your data ids (default: ~/.omni-consent/label-book.json; it never leaves this machine)",
      ).env("OMNI_LABEL_BOOK"),
    )
    .addOption(new Option("--yes", "answer yes to the warnings before risky writes (for scripts)"))
    .addOption(
      new Option(
        "--wait-timeout <duration>",
        "how long a write waits for its receipt after sending (e.g. 90s, 5m; default 2m); then its outcome is reported unknown, with its hash (exit code 3)",
      ).env("OMNI_WAIT_TIMEOUT"),
    )
    // Accepted only to refuse it with a clear message (see `checkNoKeyOnCommandLine`).
    .addOption(new Option("--private-key <key>").hideHelp())
    .addOption(new Option("--key <key>").hideHelp());
}

const KEY_REFUSED =
  "refusing a private key on the command line (it leaks into shell history and process listings); set OMNI_PRIVATE_KEY in the environment, or use --account <index> on a dev node";

/**
 * Throws if a key was passed as an option (or pasted into `--account`). `keyIsOwnOption`: the
 * command defines a `--key` of its own (the custodian's keystore file), which is no private key.
 */
export function checkNoKeyOnCommandLine(opts: GlobalOptions, keyIsOwnOption = false): void {
  if (opts.privateKey !== undefined || (opts.key !== undefined && !keyIsOwnOption)) throw new CliError(KEY_REFUSED);
  if (opts.account !== undefined && looksLikePrivateKey(opts.account)) throw new CliError(KEY_REFUSED);
}

/** The default of `--wait-timeout`: 2 minutes (the SDK's default). */
export const DEFAULT_WAIT_TIMEOUT = "2m";
/** The longest `--wait-timeout` accepted: a day (longer is a typo, e.g. milliseconds). */
const MAX_WAIT_TIMEOUT_S = 86_400n;

/** `--wait-timeout` in ms: a duration by the SDK's rule (90s, 5m, PT2M), 1 s to 1 day. */
export function parseWaitTimeout(value: string): number {
  const read = readDuration(value);
  if (!read.ok) throw new CliError(`--wait-timeout: ${read.problem}`);
  if (read.seconds > MAX_WAIT_TIMEOUT_S) {
    throw new CliError(`--wait-timeout: "${value.trim()}" is longer than a day; give at most 24h (e.g. 2m, 10m)`);
  }
  return Number(read.seconds) * 1000;
}

/**
 * Why a node could not be reached, in words: an empty or non-JSON answer (a wrong path or port,
 * a web server that is no node) is said as such, never as "Unexpected end of JSON input".
 */
export function rpcUnreachableWords(url: string, err: unknown): string {
  const cause = (err as { cause?: unknown }).cause;
  const message = err instanceof Error ? err.message : String(err);
  const fix = "start a node or point --rpc / OMNI_RPC_URL at one";
  if (cause instanceof SyntaxError || /Unexpected (end of JSON|token)|is not valid JSON/.test(message)) {
    return `the RPC endpoint ${url} answered, but not with JSON-RPC (an empty or non-JSON reply): check the host, port and path of the node's URL; ${fix}`;
  }
  const inner = (cause as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  const code =
    /\((E[A-Z_]+|timed out)\)/.exec(message)?.[1] ?? (typeof inner?.code === "string" ? inner.code : undefined);
  const detail = typeof inner?.message === "string" ? inner.message : /\(([^()]*)\)$/.exec(message)?.[1];
  const reason =
    code === "ECONNREFUSED"
      ? "nothing listens there (ECONNREFUSED)"
      : code === "ENOTFOUND" || code === "EAI_AGAIN"
        ? `the host name does not resolve (${code})`
        : code === "EHOSTUNREACH" || code === "ENETUNREACH"
          ? `no route to that host (${code})`
          : code === "timed out"
            ? "no answer in time (timed out)"
            : detail === "bad port"
              ? "that port is one HTTP clients refuse to use (bad port); nodes listen on e.g. 8545"
              : (code ?? detail ?? message);
  return `cannot reach the RPC endpoint ${url}: ${reason}; ${fix}`;
}

/** The SDK's chain-id probe, its refusal worded with the CLI's options. */
async function chainIdAt(url: string): Promise<bigint> {
  try {
    return await probeChainId(url);
  } catch (err) {
    if (err instanceof ConsentSdkError && err.code === "RPC_UNREACHABLE")
      throw new CliError(rpcUnreachableWords(url, err));
    throw err;
  }
}

/** The order n of secp256k1: a private key is a number 1..n-1. */
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/**
 * A private key from the environment, checked in words (the key itself is never echoed):
 * whitespace around it is dropped; inside it, or a wrong length, or a value that is no key
 * (all zeros, not below the curve order) is refused saying what to fix.
 */
export function parsePrivateKey(name: string, raw: string): string {
  const text = raw.trim();
  if (/\s/.test(text)) {
    throw new CliError(
      `${name} has spaces or line breaks inside the key; set it to the 64 hex digits of the key (0x optional) with nothing between them`,
    );
  }
  const hex = /^0x/i.test(text) ? `0x${text.slice(2)}` : `0x${text}`;
  if (!/^0x[0-9a-fA-F]{64}$/.test(hex)) {
    throw new CliError(
      `${name} is not a private key: expected 64 hex digits (0x optional), got ${hex.length - 2} characters${/^0x[0-9a-fA-F]*$/.test(hex) ? "" : " that are not all hex digits"}`,
    );
  }
  const k = BigInt(hex);
  if (k === 0n) {
    throw new CliError(
      `${name} is all zeros, which is no private key (no account has it); set it to your account's key`,
    );
  }
  if (k >= SECP256K1_N) {
    throw new CliError(
      `${name} is not a private key: the value is not below the secp256k1 group order (a key is a number from 1 to n-1); set it to your account's key`,
    );
  }
  return hex.toLowerCase();
}

export class CliContext {
  readonly opts: GlobalOptions;
  private providerPromise?: Promise<{ provider: JsonRpcProvider; chainId: bigint }>;
  private signerPromise?: Promise<Signer>;
  private namesPromise?: Promise<PurposeNames>;

  private constructor(opts: GlobalOptions) {
    this.opts = opts;
  }

  /** The context of the command being run (its own options merged with the global ones). */
  static of(command: Command): CliContext {
    const opts = command.optsWithGlobals<GlobalOptions>();
    checkNoKeyOnCommandLine(opts);
    if (!/^https?:\/\/\S+$/.test(opts.rpc)) {
      throw new CliError(`--rpc: "${opts.rpc}" is not an http(s) URL (e.g. http://127.0.0.1:8545)`);
    }
    if (opts.chainId !== undefined) parseUint("--chain-id", opts.chainId);
    if (opts.account !== undefined) parseUint("--account", opts.account);
    if (opts.documents !== undefined) documentSources(opts.documents);
    parseWaitTimeout(opts.waitTimeout ?? DEFAULT_WAIT_TIMEOUT);
    return new CliContext(opts);
  }

  /** How long a write waits for its receipt (`--wait-timeout`), in ms. */
  get waitTimeoutMs(): number {
    return parseWaitTimeout(this.opts.waitTimeout ?? DEFAULT_WAIT_TIMEOUT);
  }

  get json(): boolean {
    return this.opts.json === true;
  }

  /** The expected chain id, if the user gave one. */
  get expectedChainId(): bigint | undefined {
    return this.opts.chainId === undefined ? undefined : BigInt(this.opts.chainId);
  }

  /** The provider, after checking the node is reachable and on the expected chain. */
  async provider(): Promise<JsonRpcProvider> {
    return (await this.connection()).provider;
  }

  /** The node's chain id. */
  async chainId(): Promise<bigint> {
    return (await this.connection()).chainId;
  }

  private connection(): Promise<{ provider: JsonRpcProvider; chainId: bigint }> {
    this.providerPromise ??= (async () => {
      const chainId = await chainIdAt(this.opts.rpc);
      const expected = this.expectedChainId;
      if (expected !== undefined && expected !== chainId) {
        throw new CliError(
          `wrong chain: the node at ${this.opts.rpc} is chain ${chainId} but --chain-id says ${expected}; fix --rpc or --chain-id`,
        );
      }
      // No response cache: an identical read (a nonce, a consent) right after a write must see it.
      const provider = new JsonRpcProvider(this.opts.rpc, Network.from(chainId), {
        staticNetwork: true,
        polling: true,
        pollingInterval: 200,
        cacheTimeout: -1,
      });
      return { provider, chainId };
    })();
    return this.providerPromise;
  }

  /** The chain's clock: the latest block's timestamp (expiries are checked against it). */
  async now(): Promise<bigint> {
    const block = await (await this.provider()).getBlock("latest");
    if (block === null) throw new CliError("the node returned no latest block");
    return BigInt(block.timestamp);
  }

  /** Whether a signer was configured (without contacting the chain). */
  hasSigner(): boolean {
    return this.opts.account !== undefined || (process.env.OMNI_PRIVATE_KEY ?? "") !== "";
  }

  /** Fails early, before any chain access, when a write command has no signer. */
  requireSigner(): void {
    if (this.opts.account !== undefined && (process.env.OMNI_PRIVATE_KEY ?? "") !== "") {
      throw new CliError("both OMNI_PRIVATE_KEY and --account are set; use only one signer");
    }
    const key = process.env.OMNI_PRIVATE_KEY ?? "";
    if (key !== "") parsePrivateKey("OMNI_PRIVATE_KEY", key);
    if (!this.hasSigner()) {
      throw new CliError(
        "no signer: set OMNI_PRIVATE_KEY in the environment, or pass --account <index> (an unlocked account of a local dev node)",
      );
    }
  }

  /** A wallet from OMNI_PRIVATE_KEY, without a provider (for offline signing). */
  offlineWallet(): Wallet | undefined {
    const key = process.env.OMNI_PRIVATE_KEY ?? "";
    if (key === "") return undefined;
    return new Wallet(parsePrivateKey("OMNI_PRIVATE_KEY", key));
  }

  /** The signer: OMNI_PRIVATE_KEY, or unlocked account `--account` of the node. */
  signer(): Promise<Signer> {
    this.signerPromise ??= (async () => {
      this.requireSigner();
      const provider = await this.provider();
      const wallet = this.offlineWallet();
      if (wallet) return wallet.connect(provider);
      const index = Number(this.opts.account);
      const accounts = (await provider.send("eth_accounts", [])) as string[];
      if (index >= accounts.length) {
        throw new CliError(
          `--account ${index}: the node has ${accounts.length} unlocked account(s); use an index below ${accounts.length} or OMNI_PRIVATE_KEY`,
        );
      }
      return provider.getSigner(accounts[index]);
    })();
    return this.signerPromise;
  }

  /** The signer's address. */
  async signerAddress(): Promise<string> {
    return (await this.signer()).getAddress();
  }

  /**
   * The deployment of the node's chain: Ignition's record under `--deployments` /
   * OMNI_DEPLOYMENTS_ROOT; else the current directory's `ignition/deployments/chain-<id>` if it
   * has one (a developer's own deployment); else the one the package ships for the chain.
   */
  async deployment(): Promise<Deployment> {
    const chainId = await this.chainId();
    const root = this.opts.deployments;
    if (root !== undefined && root !== "") return loadDeployment(chainId, { root });
    const here = process.cwd();
    if (existsSync(join(here, "ignition", "deployments", `chain-${chainId}`, "deployed_addresses.json"))) {
      return loadDeployment(chainId, { root: here });
    }
    return loadDeployment(chainId);
  }

  /**
   * The purpose names of the chain's catalogue: built-in ones, and governance's from their
   * documents (`--documents`). Read once per command; also used to word errors.
   */
  purposeNames(): Promise<PurposeNames> {
    this.namesPromise ??= (async () => {
      const client = await this.registry({ write: false });
      const names = await namesOfCatalogue(await client.purposes(), documentSources(this.opts.documents));
      setCurrentPurposeNames(names);
      return names;
    })();
    return this.namesPromise;
  }

  /** The registry address: --registry / OMNI_REGISTRY, else the chain's deployment ({@link deployment}). */
  async registryAddress(): Promise<string> {
    if (this.opts.registry !== undefined && this.opts.registry !== "") {
      return parseAddress("--registry", this.opts.registry);
    }
    return (await this.deployment()).ConsentRegistry;
  }

  /** The file store of `--signing-store` / OMNI_SIGNING_STORE (default ~/.omni-consent/signing). */
  signingStore(): FileSigningStore {
    const dir =
      this.opts.signingStore !== undefined && this.opts.signingStore !== ""
        ? this.opts.signingStore
        : defaultSigningStore();
    return new FileSigningStore(dir);
  }

  /**
   * A registry client; with `write`, bound to the signer. Version and chain are checked. Its
   * signing store is the file store, so several omni-consent processes never reuse a version.
   */
  async registry(opts: { write: boolean }): Promise<ConsentRegistryClient> {
    if (opts.write) this.requireSigner();
    const address = await this.registryAddress();
    const runner = opts.write ? await this.signer() : await this.provider();
    return ConsentRegistryClient.connect(address, runner, {
      expectedChainId: await this.chainId(),
      signingStore: this.signingStore(),
    });
  }

  /** The integration registry the consent registry consults. */
  async integrations(opts: { write: boolean }): Promise<IntegrationRegistryClient> {
    const registry = await this.registry({ write: false });
    const address = await registry.contract.integrations();
    const runner = opts.write ? await this.signer() : await this.provider();
    return IntegrationRegistryClient.connect(address, runner);
  }

  /** Governance over the registry's AccessManager (its `authority()`). */
  async governance(opts: { write: boolean }): Promise<GovernanceClient> {
    if (opts.write) this.requireSigner();
    const registry = await this.registry({ write: false });
    const runner = opts.write ? await this.signer() : await this.provider();
    return GovernanceClient.connect(await registry.contract.authority(), runner, {
      consentRegistry: registry.address,
      integrationRegistry: await registry.contract.integrations(),
    });
  }

  /**
   * Sends a transaction after a dry run: the estimate surfaces a revert as the decoded custom
   * error, and a balance check refuses a transaction the signer cannot pay for, before anything
   * reaches the mempool. A connection lost after sending propagates as the SDK's NOT_CONFIRMED
   * (main prints `sent, not confirmed: …`, exit code 3).
   */
  async send<T>(
    tx: ConsentTransaction<T>,
  ): Promise<{ txHash: string; block: number; gasUsed: bigint; result: T; repriced?: Repricing }> {
    const gas = await tx.estimateGas();
    const provider = await this.provider();
    const from = await this.signerAddress();
    const fee = await provider.getFeeData();
    const price = fee.maxFeePerGas ?? fee.gasPrice ?? 0n;
    const balance = await provider.getBalance(from);
    if (balance < gas * price) {
      throw new CliError(
        `insufficient funds: ${from} has ${formatEther(balance)} ETH but this transaction may cost up to ${formatEther(gas * price)} ETH; fund the account first`,
      );
    }
    const { receipt, result, repriced } = await tx.wait({ timeoutMs: this.waitTimeoutMs });
    return {
      txHash: receipt.hash,
      block: receipt.blockNumber,
      gasUsed: receipt.gasUsed,
      result,
      ...(repriced ? { repriced } : {}),
    };
  }
}
