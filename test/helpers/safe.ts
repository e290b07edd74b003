import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { AbiCoder, Contract, ContractFactory, ZeroAddress, concat, getAddress, zeroPadValue } from "ethers";
import type { BaseWallet, InterfaceAbi, Signer } from "ethers";

/**
 * A Safe 1.4.1 (the contracts of `@safe-global/safe-contracts`, deployed from the package's own
 * artifacts: singleton, proxy factory, CompatibilityFallbackHandler, SignMessageLib) as a consent
 * owner, and the two ways its owners say yes to a digest under ERC-1271: their ECDSA signatures
 * of the Safe's message hash, sorted by owner address, or the message approved on-chain through
 * SignMessageLib (then the signature is empty). Tests only.
 */

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const ARTIFACTS = join(ROOT, "node_modules", "@safe-global", "safe-contracts", "build", "artifacts", "contracts");

function artifact(path: string): { abi: InterfaceAbi; bytecode: string } {
  return JSON.parse(readFileSync(join(ARTIFACTS, path), "utf8")) as { abi: InterfaceAbi; bytecode: string };
}

const SAFE = artifact("Safe.sol/Safe.json");
const FACTORY = artifact("proxies/SafeProxyFactory.sol/SafeProxyFactory.json");
const HANDLER = artifact("handler/CompatibilityFallbackHandler.sol/CompatibilityFallbackHandler.json");
const SIGN_MESSAGE_LIB = artifact("libraries/SignMessageLib.sol/SignMessageLib.json");

export interface SafeInfra {
  singleton: string;
  factory: Contract;
  handler: Contract;
  signMessageLib: Contract;
}

async function deploy(a: { abi: InterfaceAbi; bytecode: string }, signer: Signer): Promise<Contract> {
  const c = await new ContractFactory(a.abi, a.bytecode, signer).deploy();
  return (await c.waitForDeployment()) as Contract;
}

/** Deploys the Safe 1.4.1 singleton, proxy factory, fallback handler and SignMessageLib. */
export async function deploySafeInfra(signer: Signer): Promise<SafeInfra> {
  const singleton = await deploy(SAFE, signer);
  return {
    singleton: await singleton.getAddress(),
    factory: await deploy(FACTORY, signer),
    handler: await deploy(HANDLER, signer),
    signMessageLib: await deploy(SIGN_MESSAGE_LIB, signer),
  };
}

let saltNonce = 0;

/** A new Safe proxy with `owners` and `threshold` (the CompatibilityFallbackHandler answers ERC-1271). */
export async function createSafe(
  infra: SafeInfra,
  signer: Signer,
  owners: string[],
  threshold: number,
): Promise<Contract> {
  const safe = new Contract(infra.singleton, SAFE.abi, signer);
  const setup = safe.interface.encodeFunctionData("setup", [
    owners,
    threshold,
    ZeroAddress,
    "0x",
    await infra.handler.getAddress(),
    ZeroAddress,
    0,
    ZeroAddress,
  ]);
  const nonce = ++saltNonce;
  const proxy = (await infra.factory
    .getFunction("createProxyWithNonce")
    .staticCall(infra.singleton, setup, nonce)) as string;
  await (await infra.factory.getFunction("createProxyWithNonce")(infra.singleton, setup, nonce)).wait();
  return new Contract(proxy, SAFE.abi, signer);
}

/** The Safe's hash of `digest` as an ERC-1271 message (`getMessageHashForSafe(safe, abi.encode(digest))`). */
export async function safeMessageHash(infra: SafeInfra, safe: string, digest: string): Promise<string> {
  const message = AbiCoder.defaultAbiCoder().encode(["bytes32"], [digest]);
  return (await infra.handler.getFunction("getMessageHashForSafe")(safe, message)) as string;
}

/** The Safe signature of `digest` by `owners` (each signs the Safe message hash; sorted by address). */
export async function safeSignature(
  infra: SafeInfra,
  safe: string,
  digest: string,
  owners: BaseWallet[],
): Promise<string> {
  const hash = await safeMessageHash(infra, safe, digest);
  const sorted = [...owners].sort((a, b) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1));
  return concat(sorted.map((o) => o.signingKey.sign(hash).serialized));
}

/**
 * Approves `digest` on-chain (SignMessageLib.signMessage by delegatecall from the Safe, sent by
 * its single owner `owner` with a pre-validated signature): afterwards the empty signature is the
 * Safe's yes.
 */
export async function approveOnChain(infra: SafeInfra, safe: Contract, digest: string, owner: Signer): Promise<void> {
  const data = infra.signMessageLib.interface.encodeFunctionData("signMessage", [
    AbiCoder.defaultAbiCoder().encode(["bytes32"], [digest]),
  ]);
  // v = 1: "approved by msg.sender", who must be an owner.
  const prevalidated = concat([zeroPadValue(getAddress(await owner.getAddress()), 32), zeroPadValue("0x", 32), "0x01"]);
  const asOwner = safe.connect(owner) as Contract;
  const tx = await asOwner.getFunction("execTransaction")(
    await infra.signMessageLib.getAddress(),
    0,
    data,
    1,
    0,
    0,
    0,
    ZeroAddress,
    ZeroAddress,
    prevalidated,
  );
  await tx.wait();
}
