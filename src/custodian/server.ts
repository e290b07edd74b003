import Fastify, { LogController } from "fastify";
import type { FastifyInstance } from "fastify";

import type { KeyRequestBody, ShareRegistrationBody } from "../keys/request.js";
import type { Custodian } from "./custodian.js";
import { Refusal } from "./errors.js";

/**
 * The custodian's HTTP API (Fastify; a JSON schema per route, validated before any handler
 * runs; errors as `{ error: { code, message } }` with the codes of `errors.ts`; one structured
 * log line per decision).
 *
 * - `GET  /v1/info`     → `{ publicKey, chainId, registry, confirmations, maxRequestTtl }`
 * - `GET  /v1/health`   → `{ ok: true, shares, releases }`
 * - `POST /v1/shares`   → register a share: `{ manifest, index, envelope: { enc, ct } }`
 * - `POST /v1/release`  → key request: `{ chainId, registry, request: {…}, signature }` →
 *                         `{ index, enc, ct, block, blockHash }`
 */

const hex32 = { type: "string", pattern: "^0x[0-9a-fA-F]{64}$" } as const;
const address = { type: "string", pattern: "^0x[0-9a-fA-F]{40}$" } as const;
const decimal = { type: "string", pattern: "^[0-9]{1,20}$" } as const;
const hexBytes = { type: "string", pattern: "^0x([0-9a-fA-F]{2}){1,4096}$" } as const;

export const releaseSchema = {
  type: "object",
  additionalProperties: false,
  required: ["chainId", "registry", "request", "signature"],
  properties: {
    chainId: decimal,
    registry: address,
    signature: hexBytes,
    request: {
      type: "object",
      additionalProperties: false,
      required: ["owner", "dataId", "version", "purpose", "requester", "ephemeralKey", "nonce", "deadline", "useTx"],
      properties: {
        owner: address,
        dataId: hex32,
        version: decimal,
        purpose: { type: "integer", minimum: 0, maximum: 127 },
        requester: address,
        ephemeralKey: hex32,
        nonce: hex32,
        deadline: decimal,
        useTx: hex32,
      },
    },
  },
} as const;

export const registerSchema = {
  type: "object",
  additionalProperties: false,
  required: ["manifest", "index", "envelope"],
  properties: {
    manifest: { type: "object" },
    index: { type: "integer", minimum: 0, maximum: 254 },
    envelope: {
      type: "object",
      additionalProperties: false,
      required: ["enc", "ct"],
      properties: { enc: hex32, ct: hexBytes },
    },
  },
} as const;

export function buildServer(custodian: Custodian, opts: { logLevel?: string } = {}): FastifyInstance {
  const app = Fastify({
    logger: { level: opts.logLevel ?? "info" },
    // One line per decision (below) instead of Fastify's two per request.
    logController: new LogController({ disableRequestLogging: true }),
    // No child logger per request (pino's child() cost ~0.09 ms a request here, a third of
    // Fastify's whole share): every line is the server's logger, and names its request itself.
    childLoggerFactory: (logger) => logger,
    bodyLimit: 256 * 1024,
    return503OnClosing: true,
  });
  let closing = false;
  app.addHook("onClose", async () => {
    closing = true;
  });

  app.setErrorHandler((err, req, reply) => {
    let refusal: Refusal;
    const e = err as { validation?: unknown; statusCode?: number; message: string };
    if (err instanceof Refusal) refusal = err;
    else if (e.validation !== undefined) refusal = new Refusal("INVALID_REQUEST", e.message);
    else if (e.statusCode !== undefined && e.statusCode < 500) refusal = new Refusal("INVALID_REQUEST", e.message);
    else {
      req.log.error({ reqId: req.id, err }, "internal error");
      refusal = new Refusal("INTERNAL");
    }
    void reply.status(refusal.status).send(refusal.toJSON());
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).send(new Refusal("INVALID_REQUEST", `no route ${req.method} ${req.url}`).toJSON());
  });

  app.get("/v1/info", async () => custodian.info());
  app.get("/v1/health", async () => ({ ok: !closing }));

  app.post<{ Body: ShareRegistrationBody }>("/v1/shares", { schema: { body: registerSchema } }, async (req) => {
    const res = await custodian.register(req.body);
    req.log.info({ reqId: req.id, event: "share", registered: res.registered }, "share registered");
    return res;
  });

  app.post<{ Body: KeyRequestBody }>("/v1/release", { schema: { body: releaseSchema } }, async (req) => {
    const r = req.body.request;
    const who = {
      reqId: req.id,
      owner: r.owner,
      requester: r.requester,
      dataId: r.dataId,
      version: r.version,
      purpose: r.purpose,
    };
    if (closing) throw new Refusal("SHUTTING_DOWN");
    try {
      const res = await custodian.release(req.body);
      req.log.info({ event: "release", ...who, block: res.block }, "released");
      return res;
    } catch (err) {
      if (err instanceof Refusal) req.log.info({ event: "refusal", code: err.code, ...who }, err.message);
      throw err;
    }
  });
  return app;
}
