/**
 * Every answer a custodian refuses with: a stable code (what clients and tests match on), the
 * HTTP status, and words. The body is always `{ "error": { "code": …, "message": … } }`.
 */
export const REFUSALS = {
  INVALID_REQUEST: { status: 400, words: "the request does not match the API schema" },
  WRONG_CHAIN: { status: 400, words: "the request is for another chain or registry than this custodian serves" },
  EXPIRED: { status: 403, words: "the request's deadline has passed" },
  DEADLINE_TOO_FAR: { status: 400, words: "the request's deadline is further ahead than this custodian accepts" },
  BAD_SIGNATURE: { status: 401, words: "the signature is not the requester's over this request" },
  REPLAY: { status: 409, words: "this request (requester, nonce) was already served" },
  UNKNOWN_ASSET: { status: 404, words: "this custodian holds no share of that asset version" },
  SUPERSEDED: { status: 410, words: "the owner sealed a newer version of this asset; ask for that one" },
  NOT_ALLOWED: {
    status: 403,
    words: "the owner's consent does not allow this requester this purpose at the latest block",
  },
  NOT_CONFIRMED: { status: 403, words: "not yet confirmed: the consent or the use record is too close to the head" },
  NO_USE_RECORD: { status: 403, words: "the named transaction holds no matching DataUsed record from this registry" },
  USE_RECORD_TOO_OLD: { status: 403, words: "the use record is older than the asset's policy allows" },
  CHAIN_UNAVAILABLE: { status: 503, words: "the chain cannot be read right now; nothing was released" },
  BAD_MANIFEST: { status: 400, words: "the manifest is malformed or inconsistent" },
  BAD_MANIFEST_SIGNATURE: { status: 401, words: "the manifest is not signed by the asset's owner" },
  NOT_THIS_CUSTODIAN: { status: 400, words: "share index does not name this custodian's public key in the manifest" },
  BAD_SHARE: {
    status: 400,
    words: "the share envelope does not open for this custodian or does not match its commitment",
  },
  SHARE_CONFLICT: { status: 409, words: "a different share is already registered for this asset version" },
  SHUTTING_DOWN: { status: 503, words: "the custodian is shutting down" },
  INTERNAL: { status: 500, words: "internal error; nothing was released" },
} as const;

export type RefusalCode = keyof typeof REFUSALS;

export class Refusal extends Error {
  readonly status: number;
  constructor(
    readonly code: RefusalCode,
    detail?: string,
  ) {
    super(detail === undefined ? REFUSALS[code].words : `${REFUSALS[code].words}: ${detail}`);
    this.name = "Refusal";
    this.status = REFUSALS[code].status;
  }

  toJSON(): { error: { code: RefusalCode; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}
