import { realpathSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { Command, InvalidArgumentError, Option } from "commander";
import { getAddress, isAddress } from "ethers";

import { ChainReader } from "./chain.js";
import { Custodian } from "./custodian.js";
import { PASSPHRASE_ENV, createKeystore, loadKeystore } from "./keystore.js";
import { RpcClient } from "./rpc.js";
import { buildServer } from "./server.js";
import { recoveryBackend } from "./signatures.js";
import { CustodianStore } from "./store.js";

/**
 * The custodian as its own process. `omni-consent custodian …` (src/cli/commands/custodian.ts)
 * registers these same subcommands; this file can also be run directly
 * (`node dist/src/custodian/main.js start …`).
 */

export interface StartOptions {
  port: string;
  host: string;
  db: string;
  key: string;
  rpc: string;
  registry: string;
  chainId?: string;
  confirmations: string;
  maxTtl: string;
  rpcTimeout: string;
  logLevel: string;
  /** false with --no-fsync (synchronous=NORMAL); default true. */
  fsync?: boolean;
}

function int(name: string, min: number, max: number) {
  return (v: string): string => {
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max)
      throw new InvalidArgumentError(`${name} must be ${min}..${max}`);
    return v;
  };
}

function passphrase(): string {
  const p = process.env[PASSPHRASE_ENV] ?? "";
  if (p === "") throw new Error(`set ${PASSPHRASE_ENV} in the environment (the keystore passphrase)`);
  return p;
}

/** Starts the custodian; resolves once it listens. SIGTERM/SIGINT close it gracefully. */
export async function startCustodian(o: StartOptions): Promise<{ url: string; close: () => Promise<void> }> {
  if (
    o.host !== "127.0.0.1" &&
    o.host !== "::1" &&
    o.host !== "localhost" &&
    process.env.OMNI_CUSTODIAN_PUBLIC !== "1"
  ) {
    throw new Error(`refusing to listen on ${o.host}: put a TLS proxy in front and set OMNI_CUSTODIAN_PUBLIC=1`);
  }
  if (!isAddress(o.registry)) throw new Error(`--registry: ${o.registry} is not an address`);
  const keys = await loadKeystore(o.key, passphrase());
  const rpc = new RpcClient(o.rpc, Number(o.rpcTimeout));
  const nodeChainId = BigInt(await rpc.call<string>("eth_chainId", []));
  if (o.chainId !== undefined && BigInt(o.chainId) !== nodeChainId) {
    throw new Error(`wrong chain: the node at ${o.rpc} is chain ${nodeChainId}, --chain-id says ${o.chainId}`);
  }
  const code = await rpc.call<string>("eth_getCode", [o.registry, "latest"]);
  if (code === "0x") throw new Error(`no contract at ${o.registry} on chain ${nodeChainId}`);
  const store = new CustodianStore(o.db, { durable: o.fsync !== false });
  const custodian = new Custodian(
    {
      chainId: nodeChainId,
      registry: getAddress(o.registry),
      minConfirmations: Number(o.confirmations),
      maxRequestTtl: Number(o.maxTtl),
    },
    keys,
    store,
    new ChainReader(rpc, nodeChainId, getAddress(o.registry)),
  );
  const app = buildServer(custodian, { logLevel: o.logLevel });
  const url = await app.listen({ port: Number(o.port), host: o.host });
  app.log.info(
    {
      event: "start",
      url,
      publicKey: custodian.publicKey,
      chainId: nodeChainId.toString(),
      registry: o.registry,
      recovery: recoveryBackend,
      ...store.counts(),
    },
    "custodian listening",
  );
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closed ??= (async () => {
      await app.close(); // stops accepting, lets in-flight requests finish
      store.close();
      rpc.close();
    })());
  for (const sig of ["SIGTERM", "SIGINT"] as const) {
    process.once(sig, () => {
      app.log.info({ event: "stop", signal: sig }, "shutting down");
      void close().then(() => process.exit(0));
    });
  }
  return { url, close };
}

/** Adds `start`, `keygen` and `log` to a `custodian` command. */
export function addCustodianSubcommands(custodian: Command, rpcDefault = "http://127.0.0.1:8545"): Command {
  custodian
    .command("start")
    .description("run a custodian: HTTP on 127.0.0.1, key from --key, state in --db, consent from the chain")
    .requiredOption("--port <port>", "TCP port", int("--port", 0, 65535))
    .option("--host <host>", "address to listen on (loopback unless OMNI_CUSTODIAN_PUBLIC=1)", "127.0.0.1")
    .requiredOption("--db <file>", "SQLite file: shares, used nonces, release log")
    .requiredOption("--key <file>", `keystore file (passphrase from env ${PASSPHRASE_ENV})`)
    .requiredOption("--registry <address>", "the ConsentRegistry")
    .option("--rpc <url>", "JSON-RPC endpoint", process.env.OMNI_RPC_URL ?? rpcDefault)
    .option("--chain-id <id>", "expected chain id")
    .option(
      "--confirmations <n>",
      "minimum confirmation depth (a manifest may ask more)",
      int("--confirmations", 0, 10_000),
      "2",
    )
    .option("--max-ttl <seconds>", "longest accepted request lifetime", int("--max-ttl", 1, 86_400), "600")
    .option(
      "--rpc-timeout <ms>",
      "give up on a node request after this long (CHAIN_UNAVAILABLE)",
      int("--rpc-timeout", 100, 600_000),
      "10000",
    )
    .option("--log-level <level>", "pino log level", "info")
    .option(
      "--no-fsync",
      "commit releases without fsync (synchronous=NORMAL): they survive a crash of the process, not a power loss",
    )
    // The default since releases are group-committed; kept so that old command lines still start.
    .addOption(new Option("--durable", "fsync every release group (the default)").hideHelp())
    .action(async (o: StartOptions) => {
      await startCustodian(o);
      // Never resolve: the CLI's main exits when an action resolves. SIGTERM/SIGINT end the process.
      await new Promise<never>(() => undefined);
    });
  custodian
    .command("keygen")
    .description(`create a custodian key pair in a new keystore file (mode 0600, encrypted with ${PASSPHRASE_ENV})`)
    .requiredOption("--key <file>", "keystore file to create")
    .action(async (o: { key: string }) => {
      const publicKey = await createKeystore(o.key, passphrase());
      process.stdout.write(`${JSON.stringify({ publicKey, key: o.key })}\n`);
    });
  custodian
    .command("log")
    .description(
      "export the release log for audit (JSON: { format, entries, manifests }: the entries and the owner-signed manifests of their assets)",
    )
    .requiredOption("--db <file>", "the custodian's SQLite file")
    .option("--out <file>", "write to a file instead of stdout")
    .action((o: { db: string; out?: string }) => {
      const store = new CustodianStore(o.db);
      const text = `${JSON.stringify(store.exportLog(), null, 2)}\n`;
      store.close();
      if (o.out) writeFileSync(o.out, text);
      else process.stdout.write(text);
    });
  return custodian;
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  const program = addCustodianSubcommands(new Command("omni-custodian"));
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    process.exit(1);
  }
}
