import { id, Interface } from "ethers";

import { CONSENT_REGISTRY_ABI } from "../../../src/sdk/abi.js";
import { ALL_DATA, NO_EXPIRY } from "../../../src/sdk/constants.js";
import type { System } from "./system.js";

/**
 * A long history for backfills: the shape of `npm run bench:audit` (scripts/bench-audit.ts),
 * so the figures sit side by side. Nine owners (the dev node's accounts 11-19) grant the
 * processor and the partner integration ALL_DATA consent; then the processor records `total`
 * events with recordUseBatch, `batch` records per transaction (one block each), every 10th
 * transaction a recordShareBatch to the partner. Returns the number of records sent.
 */
export async function playBulk(sys: System, total: number, batch = 200): Promise<number> {
  const { provider, registry, actors } = sys;
  const accounts = (await provider.send("eth_accounts", [])) as string[];
  const owners = accounts.slice(11, 20);
  for (const o of owners) {
    const signer = await provider.getSigner(o);
    await (
      await registry.connect(signer).grant(actors.processor.address, ALL_DATA, 0xffn, NO_EXPIRY, id("bulk"))
    ).wait();
    await (
      await registry.connect(signer).grant(actors.partner.address, ALL_DATA, 1n << 6n, NO_EXPIRY, id("bulk"))
    ).wait();
  }
  const iface = new Interface(CONSENT_REGISTRY_ABI);
  const txs = Math.ceil(total / batch);
  for (let b = 0; b < txs; b++) {
    const share = b % 10 === 9;
    const records = Array.from({ length: batch }, (_, i) => {
      const owner = owners[(b * batch + i) % owners.length];
      const dataId = id(`asset-${i % 50}`);
      const evidence = id(`job-${b}-${i}`);
      return share
        ? { owner, to: actors.partner.address, dataId, purpose: 6, evidence }
        : { owner, dataId, purpose: i % 6, evidence };
    });
    const data = share
      ? iface.encodeFunctionData("recordShareBatch", [records])
      : iface.encodeFunctionData("recordUseBatch", [records]);
    await provider.send("eth_sendTransaction", [
      { from: actors.processor.address, to: sys.addresses.registry, data, gas: "0xe4e1c0" },
    ]);
  }
  return txs * batch;
}
