import { ContractTransactionResponse } from "ethers";
import type { ContractRunner, ContractTransaction, ContractTransactionReceipt, Interface, Signer } from "ethers";

import { ConsentSdkError, toConsentSdkError } from "./errors.js";

/** A runner that can send transactions (an ethers Signer). */
export function signerOf(runner: ContractRunner, action: string): Signer {
  const candidate = runner as Partial<Signer>;
  if (typeof candidate.sendTransaction !== "function" || typeof candidate.getAddress !== "function") {
    throw new ConsentSdkError("NO_SIGNER", `${action}: connect the client with a Signer to send transactions`);
  }
  return runner as Signer;
}

/**
 * A write that has been validated but not sent: it can be populated (calldata only, no gas),
 * estimated, sent, and awaited into a domain result decoded from the receipt's logs. Validation
 * runs inside {@link populate}, so nothing reaches the chain until the input is known good.
 */
export class ConsentTransaction<T> {
  private populated?: Promise<ContractTransaction>;

  constructor(
    private readonly runner: ContractRunner,
    private readonly iface: Interface,
    private readonly action: string,
    private readonly build: () => Promise<ContractTransaction>,
    private readonly decode: (receipt: ContractTransactionReceipt) => T,
  ) {}

  /** The unsigned transaction (to, data, from); validates the input first. */
  populate(): Promise<ContractTransaction> {
    this.populated ??= this.build();
    return this.populated;
  }

  /** Gas the transaction would use now; a revert is decoded into words (ConsentSdkError REVERTED). */
  async estimateGas(): Promise<bigint> {
    const tx = await this.populate();
    const signer = signerOf(this.runner, this.action);
    try {
      return await signer.estimateGas(tx);
    } catch (err) {
      throw toConsentSdkError(err, this.action);
    }
  }

  /** Signs and broadcasts the transaction. */
  async send(): Promise<ContractTransactionResponse> {
    const tx = await this.populate();
    const signer = signerOf(this.runner, this.action);
    const provider = signer.provider;
    if (!provider) throw new ConsentSdkError("NO_SIGNER", `${this.action}: the signer has no provider`);
    try {
      const response = await signer.sendTransaction(tx);
      return new ContractTransactionResponse(this.iface, provider, response);
    } catch (err) {
      throw toConsentSdkError(err, this.action);
    }
  }

  /** Sends, waits for `confirmations` and decodes the domain result from the receipt. */
  async wait(confirmations = 1): Promise<{ receipt: ContractTransactionReceipt; result: T }> {
    const response = await this.send();
    let receipt: ContractTransactionReceipt | null;
    try {
      receipt = await response.wait(confirmations);
    } catch (err) {
      throw toConsentSdkError(err, this.action);
    }
    if (receipt === null)
      throw new ConsentSdkError("NOT_FOUND", `${this.action}: transaction ${response.hash} was dropped`);
    return { receipt, result: this.decode(receipt) };
  }
}
