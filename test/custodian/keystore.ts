import { chmodSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { expect } from "chai";

import { KeystoreError, createKeystore, loadKeystore } from "../../src/custodian/keystore.js";
import { sealTo, openWith } from "../../src/keys/hpke.js";
import { tempDir } from "./helpers/processes.js";

const PASS = "correct horse battery staple";

async function error(f: () => Promise<unknown>): Promise<string> {
  try {
    await f();
    return "OK";
  } catch (e) {
    expect(e).to.be.instanceOf(KeystoreError);
    return (e as Error).message;
  }
}

describe("custodian: the keystore (encrypted with a passphrase, mode 0600)", () => {
  const dir = tempDir("omni-keystore-");

  it("creates a 0600 file with no plaintext key; loads it back to a working key pair", async () => {
    const path = join(dir, "a.json");
    const publicKey = await createKeystore(path, PASS);
    expect(statSync(path).mode & 0o777).to.equal(0o600);
    const file = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
    expect(Object.keys(file)).to.deep.equal(["format", "publicKey", "kdf", "cipher"]);
    const keys = await loadKeystore(path, PASS);
    expect(keys.keyPair.publicKey).to.equal(publicKey);
    const info = new TextEncoder().encode("x");
    const pt = await openWith(keys.keyPair.privateKey, info, await sealTo(publicKey, info, Uint8Array.of(1, 2, 3)));
    expect([...pt]).to.deep.equal([1, 2, 3]);
    expect(keys.storageKey.length).to.equal(32);
  });

  it("refuses a wrong passphrase, a swapped public key, a group-readable file, and overwriting", async () => {
    const path = join(dir, "b.json");
    await createKeystore(path, PASS);
    expect(await error(() => loadKeystore(path, "wrong passphrase!"))).to.match(/^wrong OMNI_CUSTODIAN_PASSPHRASE/);
    const file = JSON.parse(readFileSync(path, "utf8")) as { publicKey: string };
    const swapped = join(dir, "c.json");
    writeFileSync(swapped, JSON.stringify({ ...file, publicKey: `0x${"11".repeat(32)}` }), { mode: 0o600 });
    expect(await error(() => loadKeystore(swapped, PASS))).to.match(/^wrong OMNI_CUSTODIAN_PASSPHRASE .* altered/);
    chmodSync(path, 0o640);
    expect(await error(() => loadKeystore(path, PASS))).to.match(/readable by group or others \(mode 640\)/);
    expect(await error(() => createKeystore(path, PASS))).to.match(/exists; refusing to overwrite/);
    expect(await error(() => createKeystore(join(dir, "d.json"), "short"))).to.match(/at least 8 characters/);
  });
});
