import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { expect } from "chai";
import { ZeroHash } from "ethers";

import { documentFileName, documentHash, documentText } from "../../src/documents/canonical.js";
import { documentSourceFrom, folderDocumentSource, writeDocumentToFolder } from "../../src/documents/folder-source.js";
import { httpDocumentSource, ipfsGatewaySource } from "../../src/documents/http-source.js";
import { initialPurposeDocumentHashes, initialPurposeDocuments } from "../../src/documents/initial-purposes.js";
import { resolveDocument, resolveIntegrationDocument, resolvePurposeDocument } from "../../src/documents/resolve.js";
import type { DocumentSource } from "../../src/documents/resolve.js";
import { SAMPLE_INTEGRATION } from "./helpers/samples.js";

const ROOT = join(import.meta.dirname, "..", "..");
const REPO_DOCS = join(ROOT, "documents");
const short = (h: string) => `${h.slice(0, 10)}…${h.slice(-4)}`;

const training = initialPurposeDocuments()[0];
const trainingHash = initialPurposeDocumentHashes()[0];
const integrationHash = documentHash(SAMPLE_INTEGRATION);
const onChainIntegration = {
  integration: SAMPLE_INTEGRATION.integration.toLowerCase(),
  metadataHash: integrationHash,
  purposes: 1n << 6n,
};

/** A port of 127.0.0.1 that nothing listens on (taken from the OS, then closed). */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, "127.0.0.1", () => {
      const a = srv.address();
      srv.close(() => resolve(typeof a === "object" && a !== null ? a.port : 0));
    });
  });
}

/** A folder with: the sample integration document; a file under a hash it does not have; a valid-JSON but invalid document under its own hash; text that is not JSON. */
function fixtureFolder() {
  const dir = mkdtempSync(join(tmpdir(), "omni-docs-"));
  writeFileSync(join(dir, documentFileName(integrationHash)), documentText(SAMPLE_INTEGRATION));
  const tampered = { ...training, description: "Anything at all" };
  writeFileSync(join(dir, documentFileName(trainingHash)), documentText(tampered));
  const invalid = {
    ...training,
    id: 3,
    aiVocabularies: { ...training.aiVocabularies, aipref: { "ai-use": "covers" } },
  };
  const invalidHash = documentHash(invalid);
  writeFileSync(join(dir, documentFileName(invalidHash)), documentText(invalid));
  const garbageHash = `0x${"ab".repeat(32)}`;
  writeFileSync(join(dir, documentFileName(garbageHash)), "{ not json");
  return { dir, tamperedHash: documentHash(tampered), invalidHash, garbageHash };
}

describe("documents: resolving a document by its hash", () => {
  const fx = fixtureFolder();
  const folder = folderDocumentSource(fx.dir);
  const repo = folderDocumentSource(REPO_DOCS);

  describe("from a local folder", () => {
    it("finds each initial purpose document in documents/, checked to be about its purpose", async () => {
      for (const [id, hash] of initialPurposeDocumentHashes().entries()) {
        const r = await resolvePurposeDocument({ id, metadataHash: hash }, repo);
        expect(r.status, r.message).to.equal("ok");
        if (r.status === "ok") expect(r.document).to.deep.equal(initialPurposeDocuments()[id]);
      }
    });

    it("says a document is missing, naming the file and every source tried", async () => {
      const h = `0x${"12".repeat(32)}`;
      const r = await resolveDocument("purpose", h, [repo, folder]);
      expect(r).to.deep.include({ status: "missing", sources: [`folder ${REPO_DOCS}`, `folder ${fx.dir}`] });
      expect(r.message).to.equal(
        `purpose document ${short(h)} is missing: no ${h}.json in folder ${REPO_DOCS}, folder ${fx.dir}`,
      );
    });

    it("says a document does not match its hash (expected X, got Y), and never shows it", async () => {
      const r = await resolvePurposeDocument({ id: 0, metadataHash: trainingHash }, folder);
      expect(r).to.deep.include({ status: "mismatch", actual: fx.tamperedHash });
      expect(r).to.not.have.property("document");
      expect(r.message).to.equal(
        `purpose document ${short(trainingHash)} from folder ${fx.dir} does not match (expected ${trainingHash}, got ${fx.tamperedHash}): it is not the document the chain commits to`,
      );
    });

    it("takes the matching document from a later source over a mismatching one", async () => {
      const r = await resolvePurposeDocument({ id: 0, metadataHash: trainingHash }, [folder, repo]);
      expect(r).to.deep.include({ status: "ok", source: `folder ${REPO_DOCS}` });
    });

    it("says a matching document is invalid, naming the field", async () => {
      const r = await resolveDocument("purpose", fx.invalidHash, folder);
      expect(r).to.deep.include({ status: "invalid", field: "aiVocabularies.aipref.ai-use" });
      expect(r.message).to.equal(
        `purpose document ${short(fx.invalidHash)} from folder ${fx.dir} is invalid (field aiVocabularies.aipref.ai-use: not a field of this format)`,
      );
      const notJson = await resolveDocument("integration", fx.garbageHash, folder);
      expect(notJson).to.deep.include({ status: "invalid", field: "(the document)" });
      expect(notJson.message).to.match(/^integration document 0xabababab…abab from folder .* is invalid \(not JSON: /);
    });

    it("says a valid document is about another purpose, or another integration, or other purposes", async () => {
      const wrongId = await resolvePurposeDocument({ id: 5, metadataHash: trainingHash }, repo);
      expect(wrongId).to.deep.include({ status: "invalid", field: "id" });
      expect(wrongId.message).to.equal(
        `purpose document ${short(trainingHash)} from folder ${REPO_DOCS} is invalid (field id: the document is for purpose 0, the chain defines it for 5)`,
      );
      const ok = await resolveIntegrationDocument(onChainIntegration, folder);
      expect(ok.status, ok.message).to.equal("ok");
      const other = `0x${"9".repeat(40)}`;
      const wrongAddress = await resolveIntegrationDocument({ ...onChainIntegration, integration: other }, folder);
      expect(wrongAddress.message).to.equal(
        `integration document ${short(integrationHash)} from folder ${fx.dir} is invalid (field integration: the document is about ${SAMPLE_INTEGRATION.integration}, not ${other})`,
      );
      const wrongPurposes = await resolveIntegrationDocument({ ...onChainIntegration, purposes: 0b1000100n }, folder);
      expect(wrongPurposes).to.deep.include({ status: "invalid", field: "purposes" });
      expect(wrongPurposes.message).to.match(/the document lists purposes 6, the chain registers 2, 6\)$/);
    });

    it("says when the chain commits to no document, and refuses a malformed hash", async () => {
      expect(await resolveDocument("integration", ZeroHash, folder)).to.deep.equal({
        status: "none",
        kind: "integration",
        hash: ZeroHash,
        message: "no integration document: the chain commits to none (metadata hash 0)",
      });
      let thrown: unknown;
      await resolveDocument("purpose", "0x1234", folder).catch((e) => (thrown = e));
      expect(String(thrown)).to.equal('TypeError: not a 32-byte metadata hash: "0x1234"');
    });

    it("writes a document as <hash>.json and finds it again", async () => {
      const dir = mkdtempSync(join(tmpdir(), "omni-docs-write-"));
      const doc = { ...training, id: 8, name: "PERSONALISATION", description: "Tailoring outputs to the owner" };
      const hash = await writeDocumentToFolder(dir, doc);
      expect(hash).to.equal(documentHash(doc));
      const r = await resolvePurposeDocument({ id: 8, metadataHash: hash }, documentSourceFrom(dir));
      expect(r.status, r.message).to.equal("ok");
    });
  });

  describe("over HTTP from a loopback server (its own process)", () => {
    let server: ChildProcess;
    let base = "";

    before(async function () {
      this.timeout(30_000);
      const dir = fixtureFolder().dir;
      for (const hash of initialPurposeDocumentHashes()) {
        await writeDocumentToFolder(dir, initialPurposeDocuments()[initialPurposeDocumentHashes().indexOf(hash)]);
      }
      server = spawn(
        process.execPath,
        ["--import", "tsx", join(ROOT, "test/documents/helpers/document-server.ts"), dir],
        {
          stdio: ["ignore", "pipe", "inherit"],
        },
      );
      const port = await new Promise<string>((resolve, reject) => {
        let out = "";
        server.stdout!.on("data", (d: Buffer) => {
          out += d.toString();
          const m = /listening (\d+)/.exec(out);
          if (m) resolve(m[1]);
        });
        server.once("exit", (code) => reject(new Error(`document server exited with ${code}`)));
      });
      base = `http://127.0.0.1:${port}`;
    });

    after(async () => {
      if (server?.pid !== undefined && server.exitCode === null) {
        const exited = new Promise((r) => server.once("exit", r));
        process.kill(server.pid, "SIGTERM");
        await exited;
      }
    });

    it("finds a document, and says missing on a 404", async () => {
      const src = httpDocumentSource(`${base}/docs`);
      const r = await resolvePurposeDocument({ id: 0, metadataHash: trainingHash }, src);
      expect(r).to.deep.include({ status: "ok", source: `${base}/docs/` });
      const h = `0x${"34".repeat(32)}`;
      const missing = await resolveDocument("purpose", h, src);
      expect(missing.message).to.equal(`purpose document ${short(h)} is missing: no ${h}.json in ${base}/docs/`);
    });

    it("checks the hash of what the server sends, whatever it is", async () => {
      const src = httpDocumentSource(`${base}/docs/`);
      const r = await resolveDocument("purpose", fx.invalidHash, src);
      expect(r).to.deep.include({ status: "invalid", field: "aiVocabularies.aipref.ai-use" });
      const i = await resolveIntegrationDocument(onChainIntegration, src);
      expect(i.status, i.message).to.equal("ok");
    });

    it("reads an IPFS directory through a gateway's path form", async () => {
      const cid = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi";
      const src = ipfsGatewaySource(base, cid);
      expect(src.description).to.equal(`${base}/ipfs/${cid}/`);
      const r = await resolvePurposeDocument({ id: 0, metadataHash: trainingHash }, src);
      expect(r.status, r.message).to.equal("ok");
      expect(() => ipfsGatewaySource(base, "not-a-cid")).to.throw('not a CID: "not-a-cid"');
      expect(() => documentSourceFrom(`ipfs://${cid}`)).to.throw("needs a gateway URL");
      expect(documentSourceFrom(`ipfs://${cid}`, { ipfsGateway: base }).description).to.equal(`${base}/ipfs/${cid}/`);
    });

    it("gives up on a server that does not answer, after the timeout", async function () {
      this.timeout(10_000);
      const src = httpDocumentSource(`${base}/stall`, { timeoutMs: 300 });
      const started = Date.now();
      const r = await resolvePurposeDocument({ id: 0, metadataHash: trainingHash }, src);
      expect(Date.now() - started).to.be.within(250, 3000);
      expect(r).to.deep.include({ status: "unavailable", source: `${base}/stall/` });
      expect(r.message).to.equal(
        `purpose document ${short(trainingHash)} could not be read from ${base}/stall/: ${base}/stall/${trainingHash}.json timed out after 300 ms`,
      );
    });

    it("reports an HTTP error, an oversized answer and a closed port as unavailable, and a later source still answers", async () => {
      const failing = await resolveDocument("purpose", trainingHash, httpDocumentSource(`${base}/fail`));
      expect(failing.message).to.match(/answered HTTP 500$/);
      const big = await resolveDocument(
        "purpose",
        trainingHash,
        httpDocumentSource(`${base}/big`, { maxBytes: 65536 }),
      );
      expect(big.message).to.match(/: the answer is more than 65536 bytes$/);
      const closed: DocumentSource = httpDocumentSource(`http://127.0.0.1:${await closedPort()}/`, { timeoutMs: 2000 });
      const unreachable = await resolveDocument("purpose", trainingHash, closed);
      expect(unreachable).to.deep.include({ status: "unavailable" });
      expect(unreachable.message).to.match(/unreachable \(ECONNREFUSED\)$/);
      const fallback = await resolveDocument("purpose", trainingHash, [closed, httpDocumentSource(`${base}/docs`)]);
      expect(fallback.status).to.equal("ok");
    });

    it("refuses a source URL that is not http(s), or has a query", () => {
      expect(() => httpDocumentSource("ftp://127.0.0.1/docs")).to.throw("a document source URL is http or https");
      expect(() => httpDocumentSource(`${base}/docs?x=1`)).to.throw("has no query or fragment");
      expect(() => documentSourceFrom("s3://bucket/docs")).to.throw(
        "a document source is a folder, an http(s) URL or ipfs://<CID>",
      );
    });
  });
});
