import { SignTypedDataVersion, signTypedData } from "@metamask/eth-sig-util";
import { expect } from "chai";
import { Wallet, getBytes, id } from "ethers";
import { network } from "hardhat";
import { privateKeyToAccount } from "viem/accounts";

import { ConsentRegistryClient } from "../../src/sdk/client.js";
import { CONSENT_TYPES, consentDomain, consentTypedData } from "../../src/sdk/eip712.js";
import type { MessageOf, Signed } from "../../src/sdk/eip712.js";
import { ConsentSdkError } from "../../src/sdk/errors.js";
import { digestOf, typedDataOf, withSignature } from "../../src/sdk/signed-message.js";
import { MemorySigningStore } from "../../src/sdk/signing-store.js";
import { deploySystem } from "../helpers/fixture.js";
import { approveOnChain, createSafe, deploySafeInfra, safeSignature } from "../helpers/safe.js";

/**
 * The gasless flow with clients nobody here wrote: the `eth_signTypedData_v4` payload signed by
 * MetaMask's own library (`@metamask/eth-sig-util` V4), by the node's unlocked account and by
 * viem, and a Safe 1.4.1 (from `@safe-global/safe-contracts`' artifacts) as the owner, 1-of-1,
 * 2-of-2 and by an on-chain approved message. Each signature is relayed by the SDK and applied.
 */

const { ethers, networkHelpers } = await network.create();

async function setup() {
  const sys = await deploySystem(ethers);
  const address = await sys.registry.getAddress();
  const store = new MemorySigningStore();
  const relayer = await ConsentRegistryClient.connect(address, sys.accounts[4]!, { signingStore: store });
  return { ...sys, address, store, relayer, grantee: sys.accounts[2]!.address };
}

async function revokeFor(owner: string, dataId: string): Promise<MessageOf["Revoke"]> {
  const deadline = BigInt(await networkHelpers.time.latest()) + 3600n;
  return { owner, grantee: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", dataId, epoch: 0n, version: 1n, deadline };
}

describe("real wallets: eth_signTypedData_v4, MetaMask's eth-sig-util, viem, a Safe", function () {
  this.timeout(120_000);

  it("the v4 payload names EIP712Domain; eth-sig-util V4 signs it and the registry applies it", async () => {
    const { address, relayer } = await networkHelpers.loadFixture(setup);
    const key = Wallet.createRandom();
    const message = await revokeFor(key.address, id("wallets:eth-sig-util"));
    const payload = consentTypedData("Revoke", consentDomain(31337n, address), message);
    expect(payload.types.EIP712Domain).to.deep.equal([
      { name: "name", type: "string" },
      { name: "version", type: "string" },
      { name: "chainId", type: "uint256" },
      { name: "verifyingContract", type: "address" },
    ]);
    expect(payload.domain).to.deep.equal({
      name: "OmniTensor Consent Registry",
      version: "2",
      chainId: 31337,
      verifyingContract: address,
    });
    // JSON only: what a wallet's RPC method receives.
    expect(JSON.parse(JSON.stringify(payload))).to.deep.equal(payload);
    const privateKey = Buffer.from(getBytes(key.privateKey));
    const signature = signTypedData({ privateKey, data: payload, version: SignTypedDataVersion.V4 });
    const { result } = await relayer.relayRevoke({ ...message, signature }).wait();
    expect([result.owner, result.version, result.via]).to.deep.equal([key.address, 1n, "Signature"]);

    // Without EIP712Domain in `types`, eth-sig-util hashes an empty domain: the registry refuses it.
    const { EIP712Domain: _dropped, ...typesOnly } = payload.types;
    const bare = signTypedData({
      privateKey,
      data: { ...payload, types: typesOnly } as never,
      version: SignTypedDataVersion.V4,
    });
    const err = await relayer
      .relayRevoke({ ...message, version: 2n, signature: bare })
      .estimateGas()
      .catch((e: unknown) => e);
    expect((err as ConsentSdkError).revert?.name).to.equal("ConsentRegistryInvalidSignature");
  });

  it("the node's own eth_signTypedData_v4 (an unlocked account) signs the same payload", async () => {
    const { address, relayer, accounts } = await networkHelpers.loadFixture(setup);
    const owner = accounts[5]!.address;
    const message = await revokeFor(owner, id("wallets:node"));
    const payload = consentTypedData("Revoke", consentDomain(31337n, address), message);
    const signature = (await ethers.provider.send("eth_signTypedData_v4", [owner, JSON.stringify(payload)])) as string;
    expect((await relayer.relayRevoke({ ...message, signature }).wait()).result.owner).to.equal(owner);
  });

  it("viem signs (its own typed-data encoder), the SDK relays", async () => {
    const { address, relayer, grantee } = await networkHelpers.loadFixture(setup);
    const key = Wallet.createRandom();
    const account = privateKeyToAccount(key.privateKey as `0x${string}`);
    const deadline = BigInt(await networkHelpers.time.latest()) + 3600n;
    const message: MessageOf["Grant"] = {
      owner: key.address,
      grantee,
      dataId: id("wallets:viem"),
      purposes: 5n,
      expiresAt: 0n,
      noticeHash: id("notice"),
      epoch: 0n,
      version: 1n,
      deadline,
    };
    const signature = await account.signTypedData({
      domain: {
        name: "OmniTensor Consent Registry",
        version: "2",
        chainId: 31337,
        verifyingContract: address as `0x${string}`,
      },
      types: { Grant: [...CONSENT_TYPES.Grant] },
      primaryType: "Grant",
      message: { ...message, owner: key.address as `0x${string}`, grantee: grantee as `0x${string}` } as never,
    });
    const { result } = await relayer.relayGrant({ ...message, signature }).wait();
    expect([result.owner, result.purposes, result.via]).to.deep.equal([key.address, [0, 2], "Signature"]);
  });

  describe("a Safe 1.4.1 as the owner (ERC-1271): the SDK prepares for it, its owners sign, anyone relays", () => {
    async function safeSetup() {
      const base = await setup();
      const infra = await deploySafeInfra(base.admin);
      const client = await ConsentRegistryClient.connect(base.address, base.accounts[6]!, { signingStore: base.store });
      return { ...base, infra, client };
    }

    async function grantFor(safe: string, client: ConsentRegistryClient, grantee: string, label: string) {
      const prepared = await client.prepareGrant({ owner: safe, grantee, dataId: id(label), purposes: ["inference"] });
      expect([prepared.signature, prepared.message.owner, prepared.message.version]).to.deep.equal([null, safe, 1n]);
      expect(typedDataOf(prepared).message.owner).to.equal(safe);
      return prepared;
    }

    it("1-of-1: the owner's ECDSA signature of the Safe message hash (65 bytes, not the Safe's key: ERC-1271 decides)", async () => {
      const { infra, admin, client, relayer, grantee } = await networkHelpers.loadFixture(safeSetup);
      const owner = Wallet.createRandom();
      const safe = await createSafe(infra, admin, [owner.address], 1);
      const safeAddress = await safe.getAddress();
      const prepared = await grantFor(safeAddress, client, grantee, "safe:1of1");
      const signed = withSignature(prepared, await safeSignature(infra, safeAddress, digestOf(prepared), [owner]));
      expect(await client.checkSigned("Grant", signed.signed)).to.deep.equal({ valid: true, by: "erc1271" });
      const { result } = await relayer.relayGrant(signed.signed).wait();
      expect([result.owner, result.version, result.via, result.purposes]).to.deep.equal([
        safeAddress,
        1n,
        "Signature",
        [2],
      ]);
      expect(await client.isAllowed(safeAddress, grantee, id("safe:1of1"), "INFERENCE")).to.equal(true);
    });

    it("2-of-2: both owners' signatures, sorted by owner; one of them alone is refused by registry and SDK alike", async () => {
      const { infra, admin, client, relayer, grantee } = await networkHelpers.loadFixture(safeSetup);
      const [a, b] = [Wallet.createRandom(), Wallet.createRandom()];
      const safe = await createSafe(infra, admin, [a.address, b.address], 2);
      const safeAddress = await safe.getAddress();
      const prepared = await grantFor(safeAddress, client, grantee, "safe:2of2");
      const digest = digestOf(prepared);
      const one = withSignature(prepared, await safeSignature(infra, safeAddress, digest, [a])).signed;
      expect((await client.checkSigned("Grant", one)).valid).to.equal(false);
      const err = await relayer
        .relayGrant(one)
        .estimateGas()
        .catch((e: unknown) => e);
      expect((err as ConsentSdkError).revert?.name).to.equal("ConsentRegistryInvalidSignature");
      const both = withSignature(prepared, await safeSignature(infra, safeAddress, digest, [b, a])).signed;
      expect(both.signature.length).to.equal(2 + 2 * 130);
      expect(await client.verifySigned("Grant", both)).to.equal(true);
      expect((await relayer.relayGrant(both).wait()).result.owner).to.equal(safeAddress);
    });

    it("a message approved on-chain (SignMessageLib): the empty signature is the Safe's yes", async () => {
      const { infra, admin, client, relayer, grantee, accounts } = await networkHelpers.loadFixture(safeSetup);
      const owner = accounts[7]!;
      const safe = await createSafe(infra, admin, [owner.address], 1);
      const safeAddress = await safe.getAddress();
      const prepared = await grantFor(safeAddress, client, grantee, "safe:approved");
      const empty: Signed<"Grant"> = withSignature(prepared, "0x").signed;
      expect((await client.checkSigned("Grant", empty)).valid).to.equal(false);
      await approveOnChain(infra, safe, digestOf(prepared), owner);
      expect(await client.checkSigned("Grant", empty)).to.deep.equal({ valid: true, by: "erc1271" });
      const { result } = await relayer.relayGrant(empty).wait();
      expect([result.owner, result.via]).to.deep.equal([safeAddress, "Signature"]);
    });
  });
});
