// Run inside the consumer test's temporary Hardhat 3 project (scripts/consumer-test.ts), against
// the installed tarball: `hardhat run scripts/flow.ts` on the in-process chain.
import { id } from "ethers";
import { network } from "hardhat";
import {
  ConsentRegistryClient,
  ConsentSdkError,
  decodeConsentError,
  decodeSignedMessage,
  deployConsentSystem,
  encodeSignedMessage,
  loadDeployment,
  MemorySigningStore,
} from "omnitensor-consent";

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`consumer flow: ${what}`);
  console.log(`ok  ${what}`);
}

const { ethers } = await network.create();
const [deployer, owner, relayer, processor, other] = await ethers.getSigners();
if (!deployer || !owner || !relayer || !processor || !other) throw new Error("needs five accounts");

const system = await deployConsentSystem(deployer, { executionDelay: 60n });
const store = new MemorySigningStore();
const asOwner = await ConsentRegistryClient.connect(system.ConsentRegistry, owner, { signingStore: store });
const asRelayer = await ConsentRegistryClient.connect(system.ConsentRegistry, relayer, { signingStore: store });
const asProcessor = await ConsentRegistryClient.connect(system.ConsentRegistry, processor, { signingStore: store });
check(
  (await asOwner.contract.version()).startsWith("2."),
  `deployConsentSystem: registry ${system.ConsentRegistry} (version 2.x)`,
);

const trainer = await ethers.deployContract("MyTrainer", [system.ConsentRegistry]);
const dataId = id("dapp:dataset-1");

// The gate refuses without consent, with the gate's own custom error (decoded by the SDK too).
try {
  await (await trainer.getFunction("train").send(owner.address, dataId)).wait();
  throw new Error("the gate let a call through without consent");
} catch (err) {
  const decoded = decodeConsentError(err);
  check(
    decoded?.name === "ConsentGatedConsentRequired",
    `gate refuses without consent: ${decoded?.message ?? String(err)}`,
  );
}

// Grant (the purpose spelled the way people type it), check, pass the gate.
const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
const granted = await asOwner
  .grant({ grantee: deployer.address, dataId, purposes: ["model-training"], expiresAt: now + 86_400n })
  .wait();
check(granted.result.via === "Owner" && granted.result.purposes.join() === "0", "grant by the owner (via Owner)");
check(await asOwner.isAllowed(owner.address, deployer.address, dataId, "MODEL_TRAINING"), "isAllowed → true");
const receipt = await (await trainer.getFunction("train").send(owner.address, dataId)).wait();
check(receipt?.status === 1, "the gated train() passes with consent");

// A processor without consent is refused in words.
try {
  await asProcessor.recordUse({ owner: owner.address, dataId, purpose: "inference" }).wait();
  throw new Error("recordUse went through without consent");
} catch (err) {
  check(
    err instanceof ConsentSdkError && err.revert?.name === "ConsentRegistryConsentRequired",
    `decoded revert: ${(err as Error).message}`,
  );
}

// Sign (no gas) → save as a file → read it back → relay by someone else.
const signed = await asOwner.signGrant(other, { grantee: processor.address, dataId, purposes: ["INFERENCE"] });
const text = encodeSignedMessage({ kind: "Grant", chainId: asOwner.chainId, registry: asOwner.address, signed });
const file = decodeSignedMessage(text, "grant.json");
if (file.kind !== "Grant") throw new Error("the file is no Grant");
check(
  file.signed.version === signed.version && file.signed.purposes === signed.purposes,
  "signed-message@2 round trip",
);
const relayed = await asRelayer.relayGrant(file.signed).wait();
check(
  relayed.result.via === "Signature" && relayed.result.actor === relayer.address,
  "relayed by the relayer (via Signature)",
);
try {
  await asRelayer.relayGrant(signed).wait();
  throw new Error("a replay went through");
} catch (err) {
  check(
    err instanceof ConsentSdkError && err.revert?.name === "ConsentRegistryStaleSignature",
    "a replay is refused as stale",
  );
}

// The addresses the package ships: the local dev chain's, and none for mainnet.
check(
  (await loadDeployment(31337n)).ConsentRegistry.startsWith("0x"),
  "loadDeployment(31337) from the shipped addresses",
);
try {
  await loadDeployment(1n);
  throw new Error("a deployment on chain 1 was found");
} catch (err) {
  check(err instanceof ConsentSdkError && err.code === "NOT_FOUND", "loadDeployment(1): NOT_FOUND in words");
}
