import { expect } from "chai";
import { Signature, Wallet, concat, getBytes, hexlify, id, toBeHex } from "ethers";
import type { BaseWallet, Signer } from "ethers";
import { network } from "hardhat";

import { ConsentRegistryClient } from "../../src/sdk/client.js";
import { consentDigest, consentDomain } from "../../src/sdk/eip712.js";
import type { MessageOf, Signed } from "../../src/sdk/eip712.js";
import { ConsentSdkError } from "../../src/sdk/errors.js";
import { checkSignature, recoverStrict } from "../../src/sdk/signature-check.js";
import { MemorySigningStore } from "../../src/sdk/signing-store.js";
import { deploySystem } from "../helpers/fixture.js";
import { ALWAYS_VALID_WALLET_CODE } from "./stand-ins.js";

/**
 * One table of signatures, each put to the registry (a relay's dry run: accepted, or refused with
 * ConsentRegistryInvalidSignature) and to the SDK (`verifySigned`, i.e. `signature-check.ts`), and
 * both must give the expected verdict: off-chain verification says exactly what the contract says.
 */

const { ethers, networkHelpers } = await network.create();

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/** Runtime code stand-ins for ERC-1271 answers the table needs (tests only). */
const WALLET = {
  /** Always "valid" (0x1626ba7e padded with zeros), for any signature. */
  valid: ALWAYS_VALID_WALLET_CODE,
  /** The magic value with a non-zero byte after it: not the exact word, so not valid. */
  dirtyMagic: "0x7f1626ba7e" + "00".repeat(27) + "01" + "60005260206000f3",
  /** The magic value in only 4 bytes of return data: not a 32-byte answer, so not valid. */
  shortMagic: "0x631626ba7e60e01b60005260046000f3",
  /** A zero word: "invalid". */
  zero: "0x60206000f3",
  /** Reverts. */
  reverts: "0x60006000fd",
};

type Owner = { address: string; key?: BaseWallet };

interface Case {
  name: string;
  /** Prepares the owner (code, delegation) and returns it. */
  owner: () => Promise<Owner>;
  /** The signature over `digest` to try. */
  signature: (digest: string, owner: Owner) => Promise<string> | string;
  accepted: boolean;
}

const sig65 = (key: BaseWallet, digest: string): string => key.signingKey.sign(digest).serialized;

function withV(signature: string, v: number): string {
  const bytes = getBytes(signature);
  bytes[64] = v;
  return hexlify(bytes);
}

/** The malleable twin (r, n - s, flipped v) of a 65-byte signature. */
function highS(signature: string): string {
  const s = Signature.from(signature);
  const twinS = N - BigInt(s.s);
  return concat([s.r, toBeHex(twinS, 32), toBeHex(s.v === 27 ? 28 : 27, 1)]);
}

let funder: Signer;

async function eoa(): Promise<Owner> {
  const key = Wallet.createRandom().connect(ethers.provider);
  return { address: key.address, key };
}

async function withCode(code: string, key?: BaseWallet): Promise<Owner> {
  const address = key?.address ?? Wallet.createRandom().address;
  await networkHelpers.setCode(address, code);
  return { address, key };
}

/** An EOA that delegated its code to `code` (EIP-7702): a real type-4 transaction, authorised by its own key. */
async function delegated(code: string): Promise<Owner> {
  const delegate = Wallet.createRandom().address;
  await networkHelpers.setCode(delegate, code);
  const key = Wallet.createRandom().connect(ethers.provider);
  await (await funder.sendTransaction({ to: key.address, value: 10n ** 17n })).wait();
  // The key sends the type-4 transaction itself, so its nonce moves before the authorisation is
  // applied: the authorisation names the next nonce.
  const auth = await key.authorize({ address: delegate, nonce: (await key.getNonce()) + 1 });
  await (await key.sendTransaction({ to: key.address, type: 4, authorizationList: [auth] })).wait();
  const installed = await ethers.provider.getCode(key.address);
  expect(installed, "the EIP-7702 delegation is installed").to.equal(`0xef0100${delegate.slice(2).toLowerCase()}`);
  return { address: key.address, key };
}

const keyOf = (o: Owner): BaseWallet => {
  if (!o.key) throw new Error("owner without key");
  return o.key;
};

describe("the registry's signature rule, off-chain and on-chain alike", function () {
  this.timeout(120_000);

  let registry: ConsentRegistryClient;
  let relay: ConsentRegistryClient;
  let grantee: string;
  let registryAddress: string;
  let ownerBoundWallet: (o: Owner) => Promise<Owner>;

  before(async () => {
    const sys = await deploySystem(ethers);
    funder = sys.admin;
    registryAddress = await sys.registry.getAddress();
    const store = new MemorySigningStore();
    registry = await ConsentRegistryClient.connect(registryAddress, sys.accounts[0]!, { signingStore: store });
    relay = await ConsentRegistryClient.connect(registryAddress, sys.accounts[1]!, { signingStore: store });
    grantee = sys.accounts[2]!.address;
    ownerBoundWallet = async (signerOwner) => {
      const w = await ethers.deployContract("CallerBoundERC1271WalletMock", [signerOwner.address, registryAddress]);
      return { address: await w.getAddress(), key: signerOwner.key };
    };
  });

  const cases: Case[] = [
    { name: "EOA, 65 bytes, v = 27/28", owner: eoa, signature: (d, o) => sig65(keyOf(o), d), accepted: true },
    {
      name: "EOA, 65 bytes, v = 0/1 (the same r and s): refused",
      owner: eoa,
      signature: (d, o) => {
        const s = sig65(keyOf(o), d);
        return withV(s, Signature.from(s).v - 27);
      },
      accepted: false,
    },
    {
      name: "EOA, 64-byte EIP-2098 compact",
      owner: eoa,
      signature: (d, o) => Signature.from(sig65(keyOf(o), d)).compactSerialized,
      accepted: true,
    },
    {
      name: "EOA, high s (the malleable twin): refused",
      owner: eoa,
      signature: (d, o) => highS(sig65(keyOf(o), d)),
      accepted: false,
    },
    {
      name: "EOA, someone else's key: refused",
      owner: eoa,
      signature: (d) => sig65(Wallet.createRandom(), d),
      accepted: false,
    },
    { name: "EOA, empty signature: refused", owner: eoa, signature: () => "0x", accepted: false },
    {
      name: "EOA, 66 bytes (a valid one plus a byte): refused",
      owner: eoa,
      signature: (d, o) => `${sig65(keyOf(o), d)}00`,
      accepted: false,
    },
    {
      name: "EIP-7702 delegated EOA (to a wallet that says no): its own key's ECDSA, tried first, is accepted",
      owner: () => delegated(WALLET.zero),
      signature: (d, o) => sig65(keyOf(o), d),
      accepted: true,
    },
    {
      name: "EIP-7702 delegated EOA, compact form of its own key",
      owner: () => delegated(WALLET.zero),
      signature: (d, o) => Signature.from(sig65(keyOf(o), d)).compactSerialized,
      accepted: true,
    },
    {
      name: "EIP-7702 delegated EOA, empty signature, delegate says no: refused",
      owner: () => delegated(WALLET.zero),
      signature: () => "0x",
      accepted: false,
    },
    {
      name: "EIP-7702 delegated EOA, empty signature, delegate's ERC-1271 says yes: accepted",
      owner: () => delegated(WALLET.valid),
      signature: () => "0x",
      accepted: true,
    },
    {
      name: "ERC-1271 wallet, empty signature",
      owner: () => withCode(WALLET.valid),
      signature: () => "0x",
      accepted: true,
    },
    { name: "ERC-1271 wallet, 1 byte", owner: () => withCode(WALLET.valid), signature: () => "0x01", accepted: true },
    {
      name: "ERC-1271 wallet, 65 bytes of junk (v = 0)",
      owner: () => withCode(WALLET.valid),
      signature: () => `0x${"ab".repeat(64)}00`,
      accepted: true,
    },
    {
      name: "ERC-1271 wallet, 200 bytes",
      owner: () => withCode(WALLET.valid),
      signature: () => `0x${"cd".repeat(200)}`,
      accepted: true,
    },
    {
      name: "ERC-1271 answer with a non-zero byte after the magic value: refused",
      owner: () => withCode(WALLET.dirtyMagic),
      signature: () => "0x",
      accepted: false,
    },
    {
      name: "ERC-1271 answer of only 4 bytes: refused",
      owner: () => withCode(WALLET.shortMagic),
      signature: () => "0x",
      accepted: false,
    },
    {
      name: "ERC-1271 wallet that reverts: refused",
      owner: () => withCode(WALLET.reverts),
      signature: () => "0x",
      accepted: false,
    },
    {
      name: "ERC-1271 wallet that answers only the registry (asked as the registry): accepted",
      owner: async () => ownerBoundWallet(await eoa()),
      signature: (d, o) => sig65(keyOf(o), d),
      accepted: true,
    },
    {
      name: "ERC-1271 wallet that answers only the registry, signed by another key: refused",
      owner: async () => ownerBoundWallet(await eoa()),
      signature: (d) => sig65(Wallet.createRandom(), d),
      accepted: false,
    },
  ];

  for (const [i, c] of cases.entries()) {
    it(c.name, async () => {
      const owner = await c.owner();
      const deadline = BigInt(await networkHelpers.time.latest()) + 3600n;
      const message: MessageOf["Revoke"] = {
        owner: owner.address,
        grantee,
        dataId: id(`rules:${i}`),
        epoch: 0n,
        version: 1n,
        deadline,
      };
      const digest = consentDigest("Revoke", consentDomain(31337n, registryAddress), message);
      const signed: Signed<"Revoke"> = { ...message, signature: await c.signature(digest, owner) };

      let contract: boolean;
      try {
        await relay.relayRevoke(signed).estimateGas();
        contract = true;
      } catch (err) {
        expect(err).to.be.instanceOf(ConsentSdkError);
        expect((err as ConsentSdkError).revert?.name).to.equal("ConsentRegistryInvalidSignature");
        contract = false;
      }
      const sdk = await registry.verifySigned("Revoke", signed);
      expect({ contract, sdk }).to.deep.equal({ contract: c.accepted, sdk: c.accepted });
    });
  }

  it("says why in words, and without a node decides only the ECDSA path", async () => {
    const key = Wallet.createRandom();
    const digest = id("a digest");
    const good = sig65(key, digest);
    expect(recoverStrict(digest, good)).to.deep.equal({ signer: key.address });
    expect(recoverStrict(digest, withV(good, 0))).to.deep.equal({
      reason: "v is 0; a 65-byte signature needs v = 27 or 28",
    });
    expect(recoverStrict(digest, highS(good))).to.deep.equal({
      reason: "its s is in the upper half of the curve order (a malleable signature)",
    });
    expect(recoverStrict(digest, "0x01")).to.deep.equal({
      reason: "1 bytes is no ECDSA signature (65, or 64 in EIP-2098 form)",
    });
    expect(await checkSignature(null, registryAddress, key.address, digest, good)).to.deep.equal({
      valid: true,
      by: "ecdsa",
    });
    expect(await checkSignature(null, registryAddress, key.address, digest, "0x")).to.deep.equal({
      valid: false,
      reason:
        "0 bytes is no ECDSA signature (65, or 64 in EIP-2098 form); offline, an ERC-1271 owner cannot be asked (check it against the chain)",
    });
    const wallet = await withCode(WALLET.dirtyMagic);
    expect(await checkSignature(ethers.provider, registryAddress, wallet.address, digest, "0x")).to.deep.equal({
      valid: false,
      reason: `0 bytes is no ECDSA signature (65, or 64 in EIP-2098 form), and its ERC-1271 isValidSignature answered 0x1626ba7e${"00".repeat(27)}01, not 0x1626ba7e`,
    });
  });
});
