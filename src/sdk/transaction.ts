import { BaseWallet, ContractTransactionReceipt, ContractTransactionResponse, Transaction } from "ethers";
import type {
  ContractRunner,
  ContractTransaction,
  Interface,
  Provider,
  Signer,
  TransactionReceipt,
  TransactionResponse,
} from "ethers";

import { ConsentSdkError, isTransportError, toConsentSdkError } from "./errors.js";
import type { SentTransactionInfo } from "./errors.js";

/** A runner that can send transactions (an ethers Signer). */
export function signerOf(runner: ContractRunner, action: string): Signer {
  const candidate = runner as Partial<Signer>;
  if (typeof candidate.sendTransaction !== "function" || typeof candidate.getAddress !== "function") {
    throw new ConsentSdkError("NO_SIGNER", `${action}: connect the client with a Signer to send transactions`);
  }
  return runner as Signer;
}

export interface TransactionOptions {
  /**
   * Rewrites a refusal with what only the chain can tell (e.g. when a scheduled operation
   * becomes ready); runs on every REVERTED error before it is thrown.
   */
  explain?: (err: ConsentSdkError) => Promise<ConsentSdkError>;
}

/** A signer that hands the transaction to its node (`eth_sendTransaction`) and gets the hash back. */
interface UncheckedSender {
  sendUncheckedTransaction(tx: ContractTransaction): Promise<string>;
}

/**
 * The account's next nonce, asked of the node itself: through raw JSON-RPC where the provider
 * has it, because ethers answers an identical high-level read from a short cache, which would
 * give two transactions sent in quick succession the same nonce.
 */
async function pendingNonce(signer: Signer, provider: Provider, from: string): Promise<number> {
  const raw = provider as Partial<{ send(method: string, params: unknown[]): Promise<unknown> }>;
  if (typeof raw.send === "function") {
    const count = await raw.send("eth_getTransactionCount", [from, "pending"]);
    return Number(BigInt(count as string));
  }
  return signer.getNonce("pending");
}

const LOOKUP_ATTEMPTS = 50;
const LOOKUP_INTERVAL_MS = 200;

function messageOf(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split("\n")[0] ?? text;
}

/** How long {@link ConsentTransaction.wait} waits for the receipt unless told otherwise: 2 minutes. */
export const DEFAULT_WAIT_TIMEOUT_MS = 120_000;

export interface WaitOptions {
  /** Blocks that must include the transaction (default 1). */
  confirmations?: number;
  /**
   * How long to wait for the receipt after sending, in ms (default {@link DEFAULT_WAIT_TIMEOUT_MS};
   * `Infinity` waits without bound). When it passes, the outcome is unknown: NOT_CONFIRMED with
   * the hash and `sent.waitedMs`. Without a bound a node that went away would be waited for
   * forever, since ethers' receipt polling swallows connection errors.
   */
  timeoutMs?: number;
}

/** A transaction that applied through a re-priced copy (a wallet's "speed up": same call, higher fee). */
export interface Repricing {
  /** The hash first sent, which never mined. */
  original: string;
  /** The copy that was mined (the receipt's hash). */
  hash: string;
}

export interface ConfirmedTransaction<T> {
  receipt: ContractTransactionReceipt;
  result: T;
  /** Set when a re-priced copy of the transaction was mined instead of the one sent. */
  repriced?: Repricing;
}

/** `2 min` / `90 s` for a wait timeout in ms. */
function durationWords(ms: number): string {
  const s = ms / 1000;
  return s >= 60 && s % 60 === 0 ? `${s / 60} min` : `${s} s`;
}

/**
 * NOT_CONFIRMED: the transaction left for the node, but no answer says what became of it. It may
 * be mined; this is never reported as a failure. With `waitedMs`, the connection did not fail
 * but no receipt came within that time.
 */
export function notConfirmed(
  action: string,
  sent: SentTransactionInfo,
  cause: unknown,
  waitedMs?: number,
): ConsentSdkError {
  const what =
    sent.hash !== null
      ? `transaction ${sent.hash} (from ${sent.from}, nonce ${sent.nonce ?? "unknown"})`
      : `the transaction from ${sent.from} with nonce ${sent.nonce ?? "unknown"} (hash unknown: the node signed it)`;
  const why =
    waitedMs === undefined
      ? `the connection was lost before the node confirmed it (${messageOf(cause)})`
      : `no receipt came within ${durationWords(waitedMs)} of sending (the node may be gone, or the transaction is still pending)`;
  return new ConsentSdkError(
    "NOT_CONFIRMED",
    `${action}: sent, not confirmed: ${what}; ${why}. It may be mined: look it up before sending it again`,
    { cause, sent: waitedMs === undefined ? sent : { ...sent, waitedMs } },
  );
}

/** Thrown by {@link raceTimeout} when the wait timeout passes. */
class WaitTimeout extends Error {}

/** `promise`, or a {@link WaitTimeout} after `ms` (never for an infinite `ms`). */
async function raceTimeout<R>(promise: Promise<R>, ms: number): Promise<R> {
  if (!Number.isFinite(ms)) return promise;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new WaitTimeout(`no receipt within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The response of a sent transaction that keeps ethers' replacement detection: a response made
 * with `new ContractTransactionResponse(…)` has no start block, so ethers would never look for
 * a transaction that replaced it (a wallet's speed-up or cancel) and wait forever. Waiting goes
 * through the replaceable response; the receipt is the contract's (logs parsed by `iface`).
 */
class ReplaceableContractResponse extends ContractTransactionResponse {
  constructor(
    private readonly ifaceOf: Interface,
    provider: Provider,
    private readonly replaceable: TransactionResponse,
  ) {
    super(ifaceOf, provider, replaceable);
  }

  override async wait(confirms?: number, timeout?: number): Promise<ContractTransactionReceipt | null> {
    const receipt = await this.replaceable.wait(confirms, timeout);
    return receipt === null ? null : new ContractTransactionReceipt(this.ifaceOf, this.provider, receipt);
  }
}

/**
 * A write that has been validated but not sent: it can be populated (calldata only, no gas),
 * estimated, simulated, sent, and awaited into a domain result decoded from the receipt's logs.
 * Validation runs inside {@link populate}, so nothing reaches the chain until the input is known
 * good.
 *
 * Sending never says "failed" for a transaction that may be mined: once the signed transaction
 * has left, a lost connection (while sending, or while waiting for the receipt) is a
 * ConsentSdkError `NOT_CONFIRMED` whose `sent` names the transaction. With a Wallet the SDK
 * signs itself, so the hash is computed from the signed bytes before they are sent; with an
 * account the node signs (`eth_sendTransaction`) the hash may never arrive, so the nonce is set
 * explicitly beforehand and `sent` carries sender and nonce.
 */
export class ConsentTransaction<T> {
  private populated?: Promise<ContractTransaction>;
  private lastSent?: SentTransactionInfo;

  constructor(
    private readonly runner: ContractRunner,
    private readonly iface: Interface,
    private readonly action: string,
    private readonly build: () => Promise<ContractTransaction>,
    private readonly decode: (receipt: ContractTransactionReceipt) => T,
    private readonly opts: TransactionOptions = {},
  ) {}

  /** The unsigned transaction (to, data, from); validates the input first. */
  populate(): Promise<ContractTransaction> {
    this.populated ??= this.build();
    return this.populated;
  }

  private async fail(err: unknown): Promise<never> {
    const e = toConsentSdkError(err, this.action);
    throw e.code === "REVERTED" && this.opts.explain ? await this.opts.explain(e) : e;
  }

  /** Gas the transaction would use now; a revert is decoded into words (ConsentSdkError REVERTED). */
  async estimateGas(): Promise<bigint> {
    const tx = await this.populate();
    const signer = signerOf(this.runner, this.action);
    try {
      return await signer.estimateGas(tx);
    } catch (err) {
      return this.fail(err);
    }
  }

  /** Runs the transaction as an `eth_call` from the sender and returns its return data (nothing is sent). */
  async call(): Promise<string> {
    const tx = await this.populate();
    const runner = this.runner as Partial<Signer> & { provider?: Provider | null };
    try {
      if (typeof runner.call === "function") return await runner.call(tx);
      if (runner.provider) return await runner.provider.call(tx);
    } catch (err) {
      return this.fail(err);
    }
    throw new ConsentSdkError("INVALID_INPUT", `${this.action}: the runner has no provider to simulate with`);
  }

  /**
   * Signs and broadcasts the transaction (see the class comment for what a lost connection
   * gives). The response knows the block before sending, so waiting on it notices a
   * transaction that replaced it (ethers' TRANSACTION_REPLACED).
   */
  async send(): Promise<ContractTransactionResponse> {
    const tx = await this.populate();
    const signer = signerOf(this.runner, this.action);
    const provider = signer.provider;
    if (!provider) throw new ConsentSdkError("NO_SIGNER", `${this.action}: the signer has no provider`);
    let blockBeforeSend: number;
    try {
      blockBeforeSend = await provider.getBlockNumber();
    } catch (err) {
      return this.fail(err);
    }
    const response =
      signer instanceof BaseWallet
        ? await this.sendSigned(signer, provider, tx)
        : await this.sendThroughNode(signer, provider, tx);
    return new ReplaceableContractResponse(this.iface, provider, response.replaceableTransaction(blockBeforeSend));
  }

  /** A Wallet: sign here, know the hash, then `eth_sendRawTransaction`. */
  private async sendSigned(wallet: BaseWallet, provider: Provider, tx: ContractTransaction) {
    let raw: string;
    let nonce: number | null;
    try {
      const populated = await wallet.populateTransaction({
        ...tx,
        nonce: tx.nonce ?? (await pendingNonce(wallet, provider, wallet.address)),
      });
      nonce = populated.nonce ?? null;
      raw = await wallet.signTransaction(populated);
    } catch (err) {
      return this.fail(err);
    }
    const hash = Transaction.from(raw).hash;
    this.lastSent = { hash, from: wallet.address, nonce };
    try {
      return await provider.broadcastTransaction(raw);
    } catch (err) {
      if (isTransportError(err)) throw notConfirmed(this.action, this.lastSent, err);
      return this.fail(err);
    }
  }

  /** A node-unlocked account (or any other signer): the nonce is fixed first, so it is known if the hash is not. */
  private async sendThroughNode(signer: Signer, provider: Provider, tx: ContractTransaction) {
    let from: string;
    let nonce: number;
    try {
      from = await signer.getAddress();
      nonce = tx.nonce ?? (await pendingNonce(signer, provider, from));
    } catch (err) {
      return this.fail(err);
    }
    this.lastSent = { hash: null, from, nonce };
    const unchecked = signer as Partial<UncheckedSender>;
    if (typeof unchecked.sendUncheckedTransaction !== "function") {
      try {
        const response = await signer.sendTransaction({ ...tx, nonce });
        this.lastSent = { hash: response.hash, from, nonce };
        return response;
      } catch (err) {
        if (isTransportError(err)) throw notConfirmed(this.action, this.lastSent, err);
        return this.fail(err);
      }
    }
    let hash: string;
    try {
      hash = await unchecked.sendUncheckedTransaction({ ...tx, nonce });
    } catch (err) {
      if (isTransportError(err)) throw notConfirmed(this.action, this.lastSent, err);
      return this.fail(err);
    }
    this.lastSent = { hash, from, nonce };
    return this.lookUp(provider, hash);
  }

  /** The node knows the hash it returned; fetch the response (a lost connection now is NOT_CONFIRMED with the hash). */
  private async lookUp(provider: Provider, hash: string): Promise<TransactionResponse> {
    let lastError: unknown = new Error("the node does not return the transaction it accepted");
    for (let i = 0; i < LOOKUP_ATTEMPTS; i++) {
      try {
        const response = await provider.getTransaction(hash);
        if (response) return response;
      } catch (err) {
        lastError = err;
        if (isTransportError(err)) break;
      }
      await new Promise((r) => setTimeout(r, LOOKUP_INTERVAL_MS));
    }
    throw notConfirmed(this.action, this.lastSent ?? { hash, from: "unknown", nonce: null }, lastError);
  }

  /**
   * Sends, waits for `confirmations` and decodes the domain result from the receipt. A receipt
   * with status 0 is REVERTED; a connection lost while waiting, or no receipt within
   * `timeoutMs`, is NOT_CONFIRMED with the hash. A transaction replaced by a re-priced copy of
   * itself (a wallet's speed-up: same call, higher fee) applied: the copy's receipt is
   * returned, with `repriced`. Replaced by anything else (a cancel, another call with the same
   * nonce), it never applies: REPLACED.
   */
  async wait(options: number | WaitOptions = {}): Promise<ConfirmedTransaction<T>> {
    const { confirmations = 1, timeoutMs = DEFAULT_WAIT_TIMEOUT_MS } =
      typeof options === "number" ? { confirmations: options } : options;
    if (!(timeoutMs > 0)) {
      throw new ConsentSdkError(
        "INVALID_INPUT",
        `${this.action}: the wait timeout must be positive (got ${timeoutMs} ms)`,
      );
    }
    const response = await this.send();
    const sent: SentTransactionInfo = { hash: response.hash, from: response.from, nonce: response.nonce };
    let receipt: ContractTransactionReceipt | null;
    try {
      receipt = await raceTimeout(
        response.wait(confirmations, Number.isFinite(timeoutMs) ? timeoutMs : undefined),
        timeoutMs,
      );
    } catch (err) {
      const e = err as { code?: unknown; receipt?: unknown };
      if (e.code === "CALL_EXCEPTION" && e.receipt) {
        throw new ConsentSdkError(
          "REVERTED",
          `${this.action}: transaction ${response.hash} was mined but reverted (it was estimated to succeed: the chain changed in between)`,
          { cause: err },
        );
      }
      if (e.code === "TRANSACTION_REPLACED") return this.replaced(response, err);
      if (err instanceof WaitTimeout || e.code === "TIMEOUT") throw notConfirmed(this.action, sent, err, timeoutMs);
      throw notConfirmed(this.action, sent, err);
    }
    if (receipt === null) throw notConfirmed(this.action, sent, new Error("no receipt yet"));
    return { receipt, result: this.decode(receipt) };
  }

  /** The outcome of a transaction another one with its nonce replaced (ethers' TRANSACTION_REPLACED). */
  private replaced(response: ContractTransactionResponse, err: unknown): ConfirmedTransaction<T> {
    const r = err as { reason?: string; hash?: string; receipt?: TransactionReceipt };
    const by = r.hash ?? "unknown";
    if (r.reason === "repriced" && r.receipt) {
      if (r.receipt.status !== 1) {
        throw new ConsentSdkError(
          "REVERTED",
          `${this.action}: transaction ${response.hash} was re-sent with another fee as ${by}, which was mined but reverted`,
          { cause: err },
        );
      }
      const receipt = new ContractTransactionReceipt(this.iface, response.provider, r.receipt);
      return { receipt, result: this.decode(receipt), repriced: { original: response.hash, hash: receipt.hash } };
    }
    const what =
      r.reason === "cancelled"
        ? `was cancelled: ${by}, a transaction of nothing from the same account with the same nonce, was mined instead`
        : `was replaced: ${by}, a different transaction from the same account with the same nonce, was mined instead`;
    throw new ConsentSdkError(
      "REPLACED",
      `${this.action}: transaction ${response.hash} ${what}, so it never applies; nothing of it was done`,
      { cause: err },
    );
  }
}
