import { expect } from "chai";
import { TypedDataEncoder, concat, getAddress, hexlify, keccak256, randomBytes, toBigInt, toUtf8Bytes } from "ethers";
import { network } from "hardhat";

import { ALL_DATA, EIP712_NAME, EIP712_VERSION } from "../../src/sdk/constants.js";
import {
  CONSENT_TYPES,
  consentDigest,
  consentDomain,
  consentEncodedType,
  consentStructHash,
  consentTypeHash,
} from "../../src/sdk/eip712.js";
import type { GrantMessage, RevokeAllMessage, RevokeMessage } from "../../src/sdk/eip712.js";
import type { ConsentHashesMirror } from "../../types/ethers-contracts/index.js";
import { deploySystem } from "../helpers/fixture.js";

const { ethers } = await network.create();

const MAX_UINT32 = (1n << 32n) - 1n;
const MAX_UINT40 = (1n << 40n) - 1n;
const MAX_UINT64 = (1n << 64n) - 1n;
const MAX_UINT128 = (1n << 128n) - 1n;
const MAX_UINT256 = (1n << 256n) - 1n;

/** The type strings exactly as written in contracts/libraries/ConsentHashes.sol. */
const SOLIDITY_TYPES = {
  Grant:
    "Grant(address owner,address grantee,bytes32 dataId,uint128 purposes,uint40 expiresAt," +
    "bytes32 noticeHash,uint32 epoch,uint64 version,uint256 deadline)",
  Revoke: "Revoke(address owner,address grantee,bytes32 dataId,uint32 epoch,uint64 version,uint256 deadline)",
  RevokeAll: "RevokeAll(address owner,uint32 epoch,uint256 deadline)",
} as const;

const randomAddress = (): string => getAddress(hexlify(randomBytes(20)));
const randomWord = (): string => hexlify(randomBytes(32));
const randomUint = (bits: number): bigint => toBigInt(randomBytes(bits / 8));

function randomGrant(): GrantMessage {
  return {
    owner: randomAddress(),
    grantee: randomAddress(),
    dataId: randomWord(),
    purposes: randomUint(128),
    expiresAt: randomUint(40),
    noticeHash: randomWord(),
    epoch: randomUint(32),
    version: randomUint(64),
    deadline: randomUint(256),
  };
}

/** Random messages plus the boundary values of every field width. */
function grantSamples(): GrantMessage[] {
  const zero = `0x${"00".repeat(32)}`;
  return [
    ...Array.from({ length: 8 }, randomGrant),
    {
      owner: getAddress(`0x${"00".repeat(20)}`),
      grantee: getAddress(`0x${"00".repeat(20)}`),
      dataId: zero,
      purposes: 0n,
      expiresAt: 0n,
      noticeHash: zero,
      epoch: 0n,
      version: 0n,
      deadline: 0n,
    },
    {
      owner: getAddress(`0x${"ff".repeat(20)}`),
      grantee: getAddress(`0x${"ff".repeat(20)}`),
      dataId: ALL_DATA,
      purposes: MAX_UINT128,
      expiresAt: MAX_UINT40,
      noticeHash: ALL_DATA,
      epoch: MAX_UINT32,
      version: MAX_UINT64,
      deadline: MAX_UINT256,
    },
  ];
}

const revokeOf = (g: GrantMessage): RevokeMessage => ({
  owner: g.owner,
  grantee: g.grantee,
  dataId: g.dataId,
  epoch: g.epoch,
  version: g.version,
  deadline: g.deadline,
});
const revokeAllOf = (g: GrantMessage): RevokeAllMessage => ({ owner: g.owner, epoch: g.epoch, deadline: g.deadline });

describe("ConsentHashes (Solidity ↔ TypeScript EIP-712 definition)", () => {
  let mirror: ConsentHashesMirror;

  before(async () => {
    mirror = (await ethers.deployContract("ConsentHashesMirror")) as unknown as ConsentHashesMirror;
  });

  it("the TypeScript encoded types are exactly the Solidity type strings", () => {
    for (const kind of Object.keys(CONSENT_TYPES) as (keyof typeof CONSENT_TYPES)[]) {
      expect(consentEncodedType(kind)).to.equal(SOLIDITY_TYPES[kind]);
    }
  });

  it("the typehashes equal the contract's", async () => {
    expect(consentTypeHash("Grant")).to.equal(await mirror.grantTypehash());
    expect(consentTypeHash("Revoke")).to.equal(await mirror.revokeTypehash());
    expect(consentTypeHash("RevokeAll")).to.equal(await mirror.revokeAllTypehash());
    // Independent of the SDK helper: keccak of the literal string.
    expect(await mirror.grantTypehash()).to.equal(keccak256(toUtf8Bytes(SOLIDITY_TYPES.Grant)));
    expect(await mirror.revokeTypehash()).to.equal(keccak256(toUtf8Bytes(SOLIDITY_TYPES.Revoke)));
    expect(await mirror.revokeAllTypehash()).to.equal(keccak256(toUtf8Bytes(SOLIDITY_TYPES.RevokeAll)));
  });

  it("Grant struct hashes of random and boundary messages equal the contract's", async () => {
    for (const g of grantSamples()) {
      // The signature is not part of the type: any bytes must give the same hash.
      const onChain = await mirror.hashGrant({ ...g, signature: hexlify(randomBytes(65)) });
      expect(consentStructHash("Grant", g)).to.equal(onChain);
    }
  });

  it("Revoke and RevokeAll struct hashes of random and boundary messages equal the contract's", async () => {
    for (const g of grantSamples()) {
      const r = revokeOf(g);
      expect(consentStructHash("Revoke", r)).to.equal(await mirror.hashRevoke({ ...r, signature: "0x" }));
      const a = revokeAllOf(g);
      expect(consentStructHash("RevokeAll", a)).to.equal(await mirror.hashRevokeAll({ ...a, signature: "0x" }));
    }
  });

  it("every field changes the Grant struct hash (no field is left out of the encoding)", async () => {
    const base = randomGrant();
    const baseHash = await mirror.hashGrant({ ...base, signature: "0x" });
    const tweaks: Partial<GrantMessage>[] = [
      { owner: randomAddress() },
      { grantee: randomAddress() },
      { dataId: randomWord() },
      { purposes: base.purposes ^ 1n },
      { expiresAt: base.expiresAt ^ 1n },
      { noticeHash: randomWord() },
      { epoch: base.epoch ^ 1n },
      { version: base.version ^ 1n },
      { deadline: base.deadline ^ 1n },
    ];
    for (const tweak of tweaks) {
      const m = { ...base, ...tweak };
      const onChain = await mirror.hashGrant({ ...m, signature: "0x" });
      expect(onChain).to.not.equal(baseHash);
      expect(consentStructHash("Grant", m)).to.equal(onChain);
    }
  });

  it("the digest is keccak256(0x1901 ‖ DOMAIN_SEPARATOR ‖ structHash) of the deployed registry", async () => {
    const { registry } = await deploySystem(ethers);
    const { chainId } = await ethers.provider.getNetwork();
    const address = await registry.getAddress();
    const domain = consentDomain(chainId, address);
    const separator = await registry.DOMAIN_SEPARATOR();
    expect(TypedDataEncoder.hashDomain(domain)).to.equal(separator);

    // ERC-5267: the registry describes its own domain; the SDK's must be the same.
    const [, name, version, onChainId, verifyingContract] = await registry.eip712Domain();
    expect([name, version, onChainId, verifyingContract]).to.deep.equal([
      EIP712_NAME,
      EIP712_VERSION,
      chainId,
      address,
    ]);

    const g = randomGrant();
    const samples = [
      ["Grant", g],
      ["Revoke", revokeOf(g)],
      ["RevokeAll", revokeAllOf(g)],
    ] as const;
    for (const [kind, message] of samples) {
      const expected = keccak256(concat(["0x1901", separator, consentStructHash(kind, message)]));
      expect(consentDigest(kind, domain, message)).to.equal(expected);
    }
  });
});
