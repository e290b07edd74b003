import { expect } from "chai";
import { Signature, TypedDataEncoder, Wallet, hexlify, randomBytes } from "ethers";

import { keccak256Bytes, keccakBackend, recoverSigner, recoveryBackend } from "../../src/custodian/signatures.js";
import { consentDomain } from "../../src/sdk/eip712.js";
import { KEY_REQUEST_TYPES, KeyRequestHasher, MANIFEST_TYPES, keyReleaseDomain } from "../../src/keys/eip712.js";
import type { KeyRequestMessage } from "../../src/keys/eip712.js";
import { requestFromWireLower, requestToWire, signKeyRequest, signingBackend } from "../../src/keys/request.js";

const REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

function randomRequest(): KeyRequestMessage {
  const w = new Wallet(hexlify(randomBytes(32)));
  return {
    owner: new Wallet(hexlify(randomBytes(32))).address,
    dataId: hexlify(randomBytes(32)),
    version: BigInt(1 + Math.floor(Math.random() * 1000)),
    purpose: Math.floor(Math.random() * 128),
    requester: w.address,
    ephemeralKey: hexlify(randomBytes(32)),
    nonce: hexlify(randomBytes(32)),
    deadline: BigInt(Math.floor(Date.now() / 1000) + 120),
    useTx: hexlify(randomBytes(32)),
  };
}

describe("keys: EIP-712 key requests and manifests", () => {
  it("the encoded types are exactly these (a change here is a breaking change of the wire format)", () => {
    expect(TypedDataEncoder.from(KEY_REQUEST_TYPES).encodeType("KeyRequest")).to.equal(
      "KeyRequest(address owner,bytes32 dataId,uint64 version,uint8 purpose,address requester,bytes32 ephemeralKey,bytes32 nonce,uint64 deadline,bytes32 useTx)",
    );
    expect(TypedDataEncoder.from(MANIFEST_TYPES).encodeType("Manifest")).to.equal(
      "Manifest(address owner,bytes32 dataId,uint64 version,string cid,bytes32 salt,uint64 size,uint32 chunkSize,bytes32 keyCommitment,uint8 threshold,Custodian[] custodians,ReleasePolicy policy)Custodian(string url,bytes32 publicKey,bytes32 shareCommitment)ReleasePolicy(bool requireUseRecord,uint32 useRecordMaxAge,uint32 confirmations)",
    );
  });

  it("the custodian's direct digest equals ethers' TypedDataEncoder for random requests", () => {
    const domain = keyReleaseDomain(31337n, REGISTRY);
    const hasher = new KeyRequestHasher(domain);
    for (let i = 0; i < 50; i++) {
      const m = randomRequest();
      expect(hasher.digest(m)).to.equal(TypedDataEncoder.hash(domain, KEY_REQUEST_TYPES, m));
    }
  });

  it("a request parsed with lower-case addresses, hashed as a custodian does (native keccak), has the same digest", () => {
    expect(keccakBackend).to.equal("native"); // the prebuilt keccak addon loads on this machine
    const domain = keyReleaseDomain(31337n, REGISTRY);
    const hasher = new KeyRequestHasher(domain, keccak256Bytes);
    for (let i = 0; i < 20; i++) {
      const m = randomRequest();
      const lower = requestFromWireLower(requestToWire(m));
      expect(lower.owner).to.equal(m.owner.toLowerCase());
      expect(lower.requester).to.equal(m.requester.toLowerCase());
      expect(hasher.digest(lower)).to.equal(TypedDataEncoder.hash(domain, KEY_REQUEST_TYPES, m));
    }
  });

  it("a local wallet's direct (libsecp256k1) signature of the digest is exactly ethers' signTypedData", async () => {
    const domain = keyReleaseDomain(31337n, REGISTRY);
    expect(await signingBackend()).to.equal("libsecp256k1"); // the prebuilt binary loads on this machine
    const hd = Wallet.fromPhrase("test test test test test test test test test test test junk");
    const wallets = [hd, ...Array.from({ length: 20 }, () => new Wallet(hexlify(randomBytes(32))))];
    for (const w of wallets) {
      const m = { ...randomRequest(), requester: w.address };
      const body = await signKeyRequest(w, 31337n, REGISTRY.toLowerCase(), m);
      expect(body.signature).to.equal(await w.signTypedData(domain, KEY_REQUEST_TYPES, m));
      expect(body.registry).to.equal(REGISTRY);
      expect(recoverSigner(new KeyRequestHasher(domain).digest(m), body.signature)).to.equal(w.address);
    }
  });

  it("the key-release domain differs from the registry's consent domain, per chain and per registry", () => {
    const d = (x: Parameters<typeof TypedDataEncoder.hashDomain>[0]) => TypedDataEncoder.hashDomain(x);
    const ours = d(keyReleaseDomain(31337n, REGISTRY));
    expect(
      new Set([
        ours,
        d(consentDomain(31337n, REGISTRY)),
        d(keyReleaseDomain(1n, REGISTRY)),
        d(keyReleaseDomain(31337n, new Wallet(hexlify(randomBytes(32))).address)),
      ]).size,
    ).to.equal(4);
  });

  it(`native recovery (${recoveryBackend}) matches ethers, accepts EIP-2098, refuses high-s, bad v and garbage`, async () => {
    expect(recoveryBackend).to.equal("libsecp256k1"); // the prebuilt binary loads on this machine
    const domain = keyReleaseDomain(31337n, REGISTRY);
    const hasher = new KeyRequestHasher(domain);
    for (let i = 0; i < 20; i++) {
      const w = new Wallet(hexlify(randomBytes(32)));
      const m = { ...randomRequest(), requester: w.address };
      const sig = await w.signTypedData(domain, KEY_REQUEST_TYPES, m);
      const digest = hasher.digest(m);
      expect(recoverSigner(digest, sig)).to.equal(w.address);
      expect(recoverSigner(digest, Signature.from(sig).compactSerialized)).to.equal(w.address);
      const s = Signature.from(sig);
      const highS = `0x${"0".repeat(0)}${s.r.slice(2)}${(N - BigInt(s.s)).toString(16).padStart(64, "0")}${(s.v === 27 ? 28 : 27).toString(16)}`;
      expect(recoverSigner(digest, highS)).to.equal(undefined);
      expect(recoverSigner(digest, `${sig.slice(0, -2)}1d`)).to.equal(undefined); // v = 29
      expect(recoverSigner(digest, "0x1234")).to.equal(undefined);
      expect(recoverSigner(digest, `0x${"00".repeat(65)}`)).to.equal(undefined);
    }
  });
});
