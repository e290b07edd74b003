import { expect } from "chai";

import { id as keccakId, Signature, SigningKey, Wallet } from "ethers";

import { fastKeccak256, recoverStrict } from "../../src/audit/ecdsa.js";
import { SignaturePool, type SignedInput } from "../../src/audit/signature-pool.js";
import { RequestDigester } from "../../src/audit/signed-request.js";
import { consentDomain } from "../../src/sdk/eip712.js";

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const REGISTRY = "0x9fe46736679d2d9a65f0992f2272de9f3c7fa6e0";

/**
 * verify's signature pool: a worker thread recovers signers ahead of the replay and publishes
 * them in shared memory, the replay claims any row the worker has not reached. Both sides must
 * give exactly what recovering the row on the spot gives, bad signatures included, whoever
 * answers a row.
 */
describe("audit: verify's signature pool (worker thread and replay share the rows)", function () {
  this.timeout(60_000);

  it("every row's answer equals recovering it on the spot, with rows answered by the worker and by this thread", async () => {
    const domain = { chainId: 31337, registry: REGISTRY };
    const digester = new RequestDigester(consentDomain(domain.chainId, domain.registry), fastKeccak256);
    const keys = Array.from({ length: 20 }, (_, i) => new SigningKey(keccakId(`pool-key-${i}`)));
    const distinct: SignedInput[] = [];
    for (let i = 0; i < 240; i++) {
      const key = keys[i % keys.length];
      const owner = new Wallet(key.privateKey).address.toLowerCase();
      const q: Omit<SignedInput, "signature"> = {
        kind: "Grant",
        owner,
        fields: {
          grantee: `0x${(i + 1).toString(16).padStart(40, "0")}`,
          dataId: keccakId(`data-${i}`),
          purposes: String(1 + (i % 7)),
          expiresAt: "0",
          noticeHash: keccakId("notice"),
        },
        epoch: "0",
        version: String(i << 16),
        deadline: "4102444800",
      };
      const sig = Signature.from(key.sign(digester.digest(q)));
      let signature = sig.serialized;
      if (i % 12 === 5) {
        // the malleable twin: (r, n − s, flipped v), which the registry refuses
        signature = `0x${sig.r.slice(2)}${(N - BigInt(sig.s)).toString(16).padStart(64, "0")}${sig.v === 27 ? "1c" : "1b"}`;
      } else if (i % 12 === 7)
        signature = `0x${"ab".repeat(65)}`; // garbage
      else if (i % 12 === 9) signature = keys[(i + 1) % keys.length].sign(digester.digest(q)).serialized; // another signer
      distinct.push({ ...q, signature });
    }
    // 2,400 rows: past the size at which the pool starts its worker.
    const inputs = Array.from({ length: 2400 }, (_, i) => distinct[i % distinct.length]);
    const expected = inputs.map((q) => recoverStrict(digester.digest(q), q.signature));
    expect(expected.filter((r) => r.signer === null).length, "refused rows in the mix").to.equal(400);
    expect(
      expected.filter((r, i) => r.signer !== null && r.signer !== inputs[i].owner).length,
      "rows signed by someone else",
    ).to.equal(200);

    const pool = new SignaturePool(domain, digester, inputs);
    try {
      // Let the worker start and answer some rows, then claim from the other end, so that both
      // sides answer rows and meet somewhere in the middle.
      const started = Date.now();
      while (pool.answered().worker === 0) {
        expect(Date.now() - started, "the worker answered nothing within 20 s").to.be.lessThan(20_000);
        await new Promise((r) => setTimeout(r, 20));
      }
      const got = new Array<ReturnType<SignaturePool["recovered"]>>(inputs.length);
      for (let i = inputs.length - 1; i >= 0; i--) got[i] = pool.recovered(i);
      for (let i = 0; i < inputs.length; i++) expect(got[i], `row ${i}`).to.deep.equal(expected[i]);
      const { worker, here } = pool.answered();
      expect(worker, "rows answered by the worker").to.be.greaterThan(0);
      expect(here, "rows computed by this thread").to.be.greaterThan(0);
      expect(worker + here).to.equal(inputs.length);
    } finally {
      pool.close();
    }
  });
});
