import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, unlink } from "node:fs/promises";
import { join, resolve } from "node:path";

import { documentFileName, documentHash, documentText } from "./canonical.js";
import { httpDocumentSource, ipfsGatewaySource } from "./http-source.js";
import type { HttpSourceOptions } from "./http-source.js";
import { DocumentSourceError } from "./resolve.js";
import type { DocumentSource } from "./resolve.js";

/**
 * Documents in a local folder (Node only), one file `<hash>.json` each: the default source
 * (`documents/` of this repository holds the initial purposes' documents).
 */
export function folderDocumentSource(directory: string): DocumentSource {
  const dir = resolve(directory);
  return {
    description: `folder ${directory}`,
    async fetchText(fileName: string): Promise<string | null> {
      try {
        return await readFile(join(dir, fileName), "utf8");
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === "ENOENT") return null;
        throw new DocumentSourceError(`cannot read ${join(directory, fileName)} (${code ?? String(err)})`);
      }
    },
  };
}

/**
 * Writes `document` into `directory` as `<hash>.json` (a temporary file renamed into place, so
 * a reader never sees half a file) and returns its metadata hash: what a governance proposal
 * passes on-chain.
 */
export async function writeDocumentToFolder(directory: string, document: unknown): Promise<string> {
  const hash = documentHash(document);
  await mkdir(directory, { recursive: true });
  const file = join(directory, documentFileName(hash));
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    const fh = await open(tmp, "wx", 0o644);
    try {
      await fh.writeFile(documentText(document));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  return hash;
}

/**
 * A source from the text a user configures (`--documents`, an environment variable):
 * `ipfs://<directory CID>` (through `opts.ipfsGateway`), an `http(s)://` URL, or else a folder.
 */
export function documentSourceFrom(
  spec: string,
  opts: HttpSourceOptions & { ipfsGateway?: string } = {},
): DocumentSource {
  const text = spec.trim();
  if (/^ipfs:\/\//i.test(text)) {
    if (!opts.ipfsGateway) {
      throw new TypeError(
        `${text}: an ipfs:// source needs a gateway URL (e.g. https://<gateway>), none is configured`,
      );
    }
    return ipfsGatewaySource(opts.ipfsGateway, text.slice("ipfs://".length).replace(/\/+$/, ""), opts);
  }
  if (/^https?:\/\//i.test(text)) return httpDocumentSource(text, opts);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    throw new TypeError(`${text}: a document source is a folder, an http(s) URL or ipfs://<CID>`);
  }
  return folderDocumentSource(text);
}
