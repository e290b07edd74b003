import { Wallet, ZeroHash, id as keccakId } from "ethers";
import type { Signer } from "ethers";

import { CustodianRefusal, requestShare } from "../../../src/keys/custodian-client.js";
import { generateKeyPair } from "../../../src/keys/hpke.js";
import { keyRequestMessage, signKeyRequest } from "../../../src/keys/request.js";
import type { KeyRequestBody } from "../../../src/keys/request.js";
import type { SignedManifest } from "../../../src/keys/manifest.js";
import type { Chain } from "./processes.js";

/** A signed key request for `m` by `requester` (fields overridable, to build attacks). */
export async function keyRequestBody(
  m: SignedManifest,
  requester: Signer,
  purpose: number,
  over: {
    useTx?: string;
    deadline?: bigint;
    requesterAddress?: string;
    chainId?: bigint;
    registry?: string;
    signAs?: Signer;
    nonce?: string;
  } = {},
): Promise<KeyRequestBody> {
  const eph = await generateKeyPair();
  const message = keyRequestMessage({
    owner: m.owner,
    dataId: m.dataId,
    version: m.version,
    purpose,
    requester: over.requesterAddress ?? (await requester.getAddress()),
    ephemeralKey: eph.publicKey,
    useTx: over.useTx ?? ZeroHash,
    ...(over.deadline === undefined ? {} : { deadline: over.deadline }),
    ...(over.nonce === undefined ? {} : { nonce: over.nonce }),
  });
  const body = await signKeyRequest(
    over.signAs ?? requester,
    over.chainId ?? m.chainId,
    over.registry ?? m.registry,
    message,
  );
  return { ...body, chainId: m.chainId.toString(), registry: m.registry };
}

/** The refusal code of one custodian for `body` (or "RELEASED"). */
export async function outcome(url: string, body: KeyRequestBody): Promise<string> {
  try {
    await requestShare(url, body);
    return "RELEASED";
  } catch (err) {
    if (err instanceof CustodianRefusal) return err.code;
    throw err;
  }
}

/** Grants `grantee` consent for `purposes` on `dataId`; returns the block. */
export async function grant(
  chain: Chain,
  owner: Signer,
  grantee: string,
  dataId: string,
  purposes: number[],
): Promise<number> {
  const mask = purposes.reduce((m, p) => m | (1n << BigInt(p)), 0n);
  const tx = await chain.registry.connect(owner).grant(grantee, dataId, mask, 0n, keccakId("notice v1"));
  return (await tx.wait())!.blockNumber;
}

/** Records a use; returns the tx hash and its block. */
export async function recordUse(
  chain: Chain,
  processor: Signer,
  owner: string,
  dataId: string,
  purpose: number,
): Promise<{ hash: string; block: number }> {
  const tx = await chain.registry.connect(processor).recordUse(owner, dataId, purpose, keccakId("job-1"));
  const r = (await tx.wait())!;
  return { hash: r.hash, block: r.blockNumber };
}

export const randomWallet = (): Wallet => Wallet.createRandom() as unknown as Wallet;
