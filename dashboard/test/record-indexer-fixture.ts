/**
 * Records test/dashboard/fixtures/indexer-events.json: the rows the indexer's `events` table
 * (indexer/ponder.schema.ts) holds after a short history on a dev node, decoded as the auditor
 * (and the indexer) store them. Run against a fresh `hardhat node`:
 *   node --import tsx dashboard/test/record-indexer-fixture.ts http://127.0.0.1:8545
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { JsonRpcProvider } from "ethers";

import { decodeLog, viaOfEvent } from "../../src/audit/decode.js";
import { ConsentRegistryClient } from "../../src/sdk/client.js";
import { ALL_DATA } from "../../src/sdk/constants.js";
import { deployConsentSystem } from "../../src/sdk/deploy.js";
import { GovernanceClient } from "../../src/sdk/governance-client.js";

const url = process.argv[2] ?? "http://127.0.0.1:8545";
const provider = new JsonRpcProvider(url, undefined, { staticNetwork: true, cacheTimeout: -1 });
const [admin, owner, acme, manager, other] = await Promise.all([0, 1, 2, 3, 4].map((i) => provider.getSigner(i)));
const sys = await deployConsentSystem(admin!, {
  executionDelay: 60n,
  integrations: [{ address: acme!.address, metadataHash: `0x${"1".repeat(64)}`, purposes: [0, 2] }],
});
const as = (s: typeof owner) => ConsentRegistryClient.connect(sys.ConsentRegistry, s!);
const o = await as(owner);
await o.grant({ grantee: acme!.address, dataId: ALL_DATA, purposes: ["MODEL_TRAINING", "INFERENCE"] }).wait();
await o.grant({ grantee: manager!.address, dataId: `0x${"2".repeat(64)}`, purposes: ["ANALYTICS"] }).wait();
await o.setManager(manager!.address, true).wait();
await o.revoke({ grantee: manager!.address, dataId: `0x${"2".repeat(64)}` }).wait();
// Another owner's consent: the adapter must not pick it up.
await (await as(other)).grant({ grantee: acme!.address, dataId: ALL_DATA, purposes: ["INFERENCE"] }).wait();
const gov = await GovernanceClient.connect(sys.AccessManager, admin!, {
  consentRegistry: sys.ConsentRegistry,
  integrationRegistry: sys.IntegrationRegistry,
});
await gov.propose(gov.calls.suspendIntegration(acme!.address)).wait();

const rows = [];
for (const [kind, address] of [
  ["registry", sys.ConsentRegistry],
  ["integrations", sys.IntegrationRegistry],
  ["authority", sys.AccessManager],
] as const) {
  for (const l of await provider.getLogs({ address, fromBlock: 0, toBlock: "latest" })) {
    const e = decodeLog(kind, l);
    rows.push({
      chainId: 31337,
      blockNumber: l.blockNumber,
      logIndex: l.index,
      txHash: l.transactionHash,
      address: address.toLowerCase(),
      eventName: e.name,
      argsJson: JSON.stringify(e.args),
      blockTimestamp: (await provider.getBlock(l.blockNumber))!.timestamp,
      via: viaOfEvent(e.name, e.args),
    });
  }
}
const out = fileURLToPath(new URL("../../test/dashboard/fixtures/indexer-events.json", import.meta.url));
const watched = {
  chainId: 31337,
  registry: sys.ConsentRegistry,
  integrations: sys.IntegrationRegistry,
  authority: sys.AccessManager,
};
writeFileSync(out, `${JSON.stringify({ watched, owner: owner!.address, rows }, null, 2)}\n`);
provider.destroy();
console.log(`${rows.length} rows -> ${out}`);
