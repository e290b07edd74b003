import { realpathSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

import { Wallet, id } from "ethers";

import { FileSigningStore } from "../../src/sdk/file-signing-store.js";
import { signGrant, signRevoke } from "../../src/sdk/signing.js";
import type { SigningContext } from "../../src/sdk/signing.js";

/**
 * One OS process of the concurrent-signing test (test/sdk/file-signing-store.ts):
 *
 *   node --import tsx test/sdk/signing-worker.ts <store-dir> <count> <registry> <owner-key> <grantee>
 *
 * Prints `ready`, waits for a line on stdin (so every worker starts at once), then signs
 * `count` messages (grants and revocations, alternating) for ONE consent key through the file
 * store, against a fixed chain state (epoch 0, key version 0), and prints one JSON line with
 * every signed message. It runs only as a program: mocha loads every file under test/, and then
 * this file does nothing.
 */
const isEntryPoint =
  process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
if (isEntryPoint) await main();

async function main(): Promise<void> {
  const [dir, count, registry, key, grantee] = process.argv.slice(2);
  const owner = new Wallet(key);
  const ctx: SigningContext = {
    chainId: 31337n,
    registry,
    store: new FileSigningStore(dir, { lockTimeoutMs: 60_000 }),
    chain: { now: async () => 1_000_000n, epochOf: async () => 0n, versionOf: async () => 0n },
  };
  const dataId = id("concurrent-signing:one-key");

  process.stdout.write("ready\n");
  await new Promise<void>((resolve) => createInterface({ input: process.stdin }).once("line", () => resolve()));
  const out: unknown[] = [];
  for (let i = 0; i < Number(count); i++) {
    const signed =
      i % 2 === 0
        ? await signGrant(ctx, owner, { grantee, dataId, purposes: 1n, expiresAt: 0n, noticeHash: id("n") })
        : await signRevoke(ctx, owner, { grantee, dataId });
    out.push({ kind: i % 2 === 0 ? "Grant" : "Revoke", ...signed });
  }
  process.stdout.write(`${JSON.stringify(out, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))}\n`);
  process.exit(0);
}
