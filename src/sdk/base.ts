import { getAddress } from "ethers";
import type { BaseContract, ContractRunner, ContractTransactionReceipt, Log, Provider, Signer } from "ethers";

import { ConsentSdkError, toConsentSdkError } from "./errors.js";
import { ConsentTransaction } from "./transaction.js";
import type { TransactionOptions } from "./transaction.js";
import { addressSchema, parseInput } from "./validation.js";

/**
 * The plumbing every client of the SDK shares (eas-sdk's `base.ts`): the runner and its
 * provider, the sender of a write, the transaction object, decoding a receipt's events of the
 * client's own contract, reads with errors in words, the chain's clock, and the checks made on
 * connecting (the chain id, code at the address). Each client (`ConsentRegistryClient`,
 * `IntegrationRegistryClient`, `GovernanceClient`) extends it and adds only its contract's
 * calls.
 */

/** Block range for event scans (defaults: the whole chain). */
export interface EventRange {
  fromBlock?: number;
  toBlock?: number | "latest";
}

/** The provider behind a runner, or INVALID_INPUT naming what is missing. */
export function providerOf(runner: ContractRunner): Provider {
  if (!runner.provider)
    throw new ConsentSdkError("INVALID_INPUT", "runner: connect a Provider or a Signer with a provider");
  return runner.provider;
}

/** Checks there is code at `address` on the runner's chain (NO_CONTRACT otherwise). */
export async function assertContract(provider: Provider, address: string, what: string): Promise<void> {
  let code: string;
  try {
    code = await provider.getCode(address);
  } catch (err) {
    throw toConsentSdkError(err, `reading the code at ${address}`);
  }
  if (code === "0x") {
    throw new ConsentSdkError("NO_CONTRACT", `no contract at ${address}: is ${what} deployed on this chain?`);
  }
}

/** The chain id of a provider (RPC_UNREACHABLE when it does not answer). */
export async function chainIdOf(provider: Provider): Promise<bigint> {
  try {
    return (await provider.getNetwork()).chainId;
  } catch (err) {
    throw toConsentSdkError(err, "reading the chain id");
  }
}

/** The latest block's timestamp: the clock deadlines and expiries are compared with. */
export async function chainTimeOf(provider: Provider): Promise<bigint> {
  try {
    const block = await provider.getBlock("latest");
    if (!block) throw new Error("no latest block");
    return BigInt(block.timestamp);
  } catch (err) {
    throw toConsentSdkError(err, "reading the chain time");
  }
}

/** The address of a runner that can sign, or undefined for a read-only runner. */
export async function addressOfRunner(runner: ContractRunner): Promise<string | undefined> {
  const signer = runner as Partial<Signer>;
  return typeof signer.getAddress === "function" ? getAddress(await signer.getAddress()) : undefined;
}

/** What a client checks on connecting, and what it learns: the normalised address and the chain id. */
export interface Connection {
  address: string;
  chainId: bigint;
}

/** How a contract is named in what {@link connectTo} refuses. */
export interface ContractLabel {
  /** The label of the address argument, e.g. `registry address`. */
  label: string;
  /** The contract in words, e.g. `the consent registry`. */
  what: string;
}

/**
 * Validates `address`, reads the chain id (WRONG_CHAIN if it is not `expectedChainId`) and
 * checks that there is code at the address (NO_CONTRACT naming the contract).
 */
export async function connectTo(
  address: string,
  runner: ContractRunner,
  name: ContractLabel,
  expectedChainId?: bigint,
): Promise<Connection> {
  const target = parseInput(addressSchema, address, name.label);
  const provider = providerOf(runner);
  const chainId = await chainIdOf(provider);
  if (expectedChainId !== undefined && expectedChainId !== chainId) {
    throw new ConsentSdkError(
      "WRONG_CHAIN",
      `the provider is on chain ${chainId}, expected chain ${expectedChainId}; check the RPC URL`,
    );
  }
  await assertContract(provider, target, name.what);
  return { address: target, chainId };
}

/** A call of a write: where to and the calldata (the sender is added by the client). */
export interface CallData {
  to: string;
  data: string;
}

/** The base of every contract client. */
export abstract class ContractClient<C extends BaseContract> {
  protected constructor(
    /** The contract's checksummed address. */
    readonly address: string,
    /** The TypeChain binding, connected to the client's runner. */
    readonly contract: C,
    /** The chain the client was connected on. */
    readonly chainId: bigint,
    protected readonly runner: ContractRunner,
  ) {}

  protected get provider(): Provider {
    return providerOf(this.runner);
  }

  /** The address that sends this client's writes (NO_SIGNER on a read-only client). */
  protected async senderAddress(action: string): Promise<string> {
    const address = await addressOfRunner(this.runner);
    if (address === undefined) {
      throw new ConsentSdkError("NO_SIGNER", `${action}: connect the client with a Signer to send transactions`);
    }
    return address;
  }

  /** The chain's clock (latest block timestamp). */
  protected chainTime(): Promise<bigint> {
    return chainTimeOf(this.provider);
  }

  /**
   * A write: `build` validates the input and returns the call (it runs inside `populate`, so a
   * refusal surfaces before anything is sent), `decode` turns the receipt into the result.
   */
  protected tx<T>(
    action: string,
    build: () => Promise<CallData>,
    decode: (receipt: ContractTransactionReceipt) => T,
    opts: TransactionOptions = {},
  ): ConsentTransaction<T> {
    return new ConsentTransaction(
      this.runner,
      this.contract.interface,
      action,
      async () => {
        const call = await build();
        return { to: call.to, data: call.data, from: await this.senderAddress(action) };
      },
      decode,
      opts,
    );
  }

  /** The `{ to, data }` of a TypeChain `populateTransaction` (the sender is added by {@link tx}). */
  protected async callData(populated: Promise<{ to: string; data: string }>): Promise<CallData> {
    const tx = await populated;
    return { to: tx.to, data: tx.data };
  }

  /**
   * The `name` events this contract emitted in `receipt`, in log order, as the TypeChain
   * `OutputObject` `E` of that event: decoded once here, typed from here on.
   */
  protected events<E>(receipt: ContractTransactionReceipt, name: string): E[] {
    const out: E[] = [];
    for (const log of receipt.logs as readonly Log[]) {
      if (getAddress(log.address) !== this.address) continue;
      const parsed = this.contract.interface.parseLog({ topics: [...log.topics], data: log.data });
      if (parsed?.name === name) out.push(parsed.args.toObject() as E);
    }
    return out;
  }

  /** The first `name` event of `receipt`, mapped; NOT_FOUND when the transaction emitted none. */
  protected one<E, T>(receipt: ContractTransactionReceipt, name: string, map: (event: E) => T): T {
    const [first] = this.events<E>(receipt, name);
    if (!first) throw new ConsentSdkError("NOT_FOUND", `transaction ${receipt.hash} emitted no ${name} event`);
    return map(first);
  }

  /** Every `name` event of `receipt`, mapped, with their count. */
  protected batch<E, T>(
    receipt: ContractTransactionReceipt,
    name: string,
    map: (event: E) => T,
  ): { count: number; items: T[] } {
    const items = this.events<E>(receipt, name).map(map);
    return { count: items.length, items };
  }

  /** A read, with whatever the RPC stack throws turned into a ConsentSdkError naming `what`. */
  protected async read<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      throw toConsentSdkError(err, what);
    }
  }
}
