import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, scryptSync } from "node:crypto";
import { readFileSync, statSync, writeFileSync } from "node:fs";

import { fromHex, toHex } from "../keys/encoding.js";
import { generateKeyPair, importKeyPair } from "../keys/hpke.js";
import type { HpkeKeyPair } from "../keys/hpke.js";

/**
 * The custodian's HPKE private key at rest: BOTH encrypted with a passphrase and mode 0600.
 * - Encrypted: scrypt (N=2^15, r=8, p=1; ~32 MiB, ~0.1 s) derives an AES-256-GCM key from the
 *   passphrase in env `OMNI_CUSTODIAN_PASSPHRASE`; the public key is the AAD, so it cannot be
 *   swapped. A copied file, a backup or a disk image is useless without the passphrase.
 * - 0600: the file is written with mode 0600 (`wx`: never over an existing one), and loading
 *   refuses a file readable by group or others, as ssh does. The mode alone would protect
 *   nothing against backups, so both.
 * The passphrase comes from the environment, never the command line (process listings).
 *
 * From the private key the custodian also derives (HKDF-SHA256) the key that encrypts the
 * shares it stores in SQLite, so the database alone reveals no share either.
 */

export const KEYSTORE_FORMAT = "omnitensor-custodian-key/1";
export const PASSPHRASE_ENV = "OMNI_CUSTODIAN_PASSPHRASE";
const SCRYPT = { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

interface KeystoreFile {
  format: typeof KEYSTORE_FORMAT;
  publicKey: string;
  kdf: { name: "scrypt"; N: number; r: number; p: number; salt: string };
  cipher: { name: "aes-256-gcm"; iv: string; ciphertext: string; tag: string };
}

export class KeystoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KeystoreError";
  }
}

function passphraseKey(passphrase: string, salt: Buffer, kdf = SCRYPT): Buffer {
  if (passphrase.length < 8) throw new KeystoreError(`${PASSPHRASE_ENV} must be at least 8 characters`);
  return scryptSync(passphrase, salt, 32, { N: kdf.N, r: kdf.r, p: kdf.p, maxmem: SCRYPT.maxmem });
}

/** Creates a new key pair in a new keystore file; returns its public key. */
export async function createKeystore(path: string, passphrase: string): Promise<string> {
  const kp = await generateKeyPair();
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", passphraseKey(passphrase, salt), iv);
  cipher.setAAD(Buffer.from(`${KEYSTORE_FORMAT}:${kp.publicKey}`));
  const ciphertext = Buffer.concat([cipher.update(kp.privateKeyBytes), cipher.final()]);
  kp.privateKeyBytes.fill(0);
  const file: KeystoreFile = {
    format: KEYSTORE_FORMAT,
    publicKey: kp.publicKey,
    kdf: { name: "scrypt", N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p, salt: toHex(salt) },
    cipher: { name: "aes-256-gcm", iv: toHex(iv), ciphertext: toHex(ciphertext), tag: toHex(cipher.getAuthTag()) },
  };
  try {
    writeFileSync(path, JSON.stringify(file, null, 2) + "\n", { mode: 0o600, flag: "wx" });
  } catch (err) {
    if ((err as { code?: string }).code === "EEXIST")
      throw new KeystoreError(`${path} exists; refusing to overwrite a key`);
    throw err;
  }
  return kp.publicKey;
}

export interface CustodianKeys {
  keyPair: HpkeKeyPair;
  /** AES-256-GCM key for the shares stored in SQLite. */
  storageKey: Buffer;
}

/** Loads and decrypts a keystore file. */
export async function loadKeystore(path: string, passphrase: string): Promise<CustodianKeys> {
  let mode: number;
  let text: string;
  try {
    mode = statSync(path).mode;
    text = readFileSync(path, "utf8");
  } catch {
    throw new KeystoreError(
      `cannot read the keystore ${path}; create one with 'omni-consent custodian keygen --key ${path}'`,
    );
  }
  if (process.platform !== "win32" && (mode & 0o077) !== 0) {
    throw new KeystoreError(
      `${path} is readable by group or others (mode ${(mode & 0o777).toString(8)}); chmod 600 it`,
    );
  }
  let file: KeystoreFile;
  try {
    file = JSON.parse(text) as KeystoreFile;
  } catch {
    throw new KeystoreError(`${path} is not a keystore (not JSON)`);
  }
  if (file.format !== KEYSTORE_FORMAT || file.kdf?.name !== "scrypt" || file.cipher?.name !== "aes-256-gcm") {
    throw new KeystoreError(`${path} is not an ${KEYSTORE_FORMAT} keystore`);
  }
  const key = passphraseKey(passphrase, Buffer.from(fromHex(file.kdf.salt)), { ...SCRYPT, ...file.kdf });
  const decipher = createDecipheriv("aes-256-gcm", key, fromHex(file.cipher.iv, 12));
  decipher.setAAD(Buffer.from(`${KEYSTORE_FORMAT}:${file.publicKey}`));
  decipher.setAuthTag(fromHex(file.cipher.tag, 16));
  let privateKey: Buffer;
  try {
    privateKey = Buffer.concat([decipher.update(fromHex(file.cipher.ciphertext)), decipher.final()]);
  } catch {
    throw new KeystoreError(`wrong ${PASSPHRASE_ENV} for ${path} (or the file was altered)`);
  }
  const keyPair = await importKeyPair(privateKey, file.publicKey);
  const storageKey = Buffer.from(hkdfSync("sha256", privateKey, Buffer.alloc(0), "omnitensor-custodian-shares:v1", 32));
  privateKey.fill(0);
  return { keyPair, storageKey };
}
