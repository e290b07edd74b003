import { BrowserProvider, JsonRpcProvider, type Signer } from "ethers";

/**
 * Wallets: EIP-6963 discovery (every wallet extension announces itself; no fight over
 * `window.ethereum`), any EIP-1193 provider (`window.ethereum` when nothing announces), and a
 * local mode that uses a dev node's own unlocked accounts (`eth_accounts`, the node signs).
 */

export interface Eip1193Provider {
  request(args: { method: string; params?: unknown[] | Record<string, unknown> }): Promise<unknown>;
  on?(event: string, listener: (...args: unknown[]) => void): void;
  removeListener?(event: string, listener: (...args: unknown[]) => void): void;
}

export interface WalletInfo {
  uuid: string;
  name: string;
  icon?: string;
  rdns?: string;
  provider: Eip1193Provider;
}

interface AnnounceEvent extends Event {
  detail: { info: { uuid: string; name: string; icon: string; rdns: string }; provider: Eip1193Provider };
}

/** Listens for EIP-6963 announcements and asks wallets to announce; calls `onChange` with every wallet seen. */
export function discoverWallets(onChange: (wallets: WalletInfo[]) => void): () => void {
  const found = new Map<string, WalletInfo>();
  const publish = () => {
    const list = [...found.values()];
    const legacy = (window as unknown as { ethereum?: Eip1193Provider }).ethereum;
    if (legacy && !list.some((w) => w.provider === legacy)) {
      list.push({ uuid: "window.ethereum", name: "Browser wallet (window.ethereum)", provider: legacy });
    }
    onChange(list);
  };
  const onAnnounce = (e: Event) => {
    const { info, provider } = (e as AnnounceEvent).detail;
    found.set(info.uuid, { uuid: info.uuid, name: info.name, icon: info.icon, rdns: info.rdns, provider });
    publish();
  };
  window.addEventListener("eip6963:announceProvider", onAnnounce);
  window.dispatchEvent(new Event("eip6963:requestProvider"));
  publish();
  return () => window.removeEventListener("eip6963:announceProvider", onAnnounce);
}

export interface Session {
  mode: "wallet" | "local";
  /** The wallet's name, or `dev node at URL`. */
  label: string;
  provider: BrowserProvider | JsonRpcProvider;
  signer: Signer;
  /** Checksummed. */
  account: string;
  chainId: bigint;
  /** Raw JSON-RPC through the same provider (reads of logs and blocks). */
  send(method: string, params: unknown[]): Promise<unknown>;
  /** Asks the wallet to switch chains (EIP-3326); undefined in local mode. */
  switchChain?(chainId: bigint): Promise<void>;
}

/** Connects a wallet: asks for accounts (the wallet's own prompt), reads the chain. */
export async function connectWallet(w: WalletInfo): Promise<Session> {
  const accounts = (await w.provider.request({ method: "eth_requestAccounts" })) as string[];
  if (!accounts?.length) throw new Error(`${w.name} gave no account`);
  const provider = new BrowserProvider(w.provider, "any", { cacheTimeout: -1 });
  const signer = await provider.getSigner(accounts[0]);
  const chainId = BigInt((await w.provider.request({ method: "eth_chainId" })) as string);
  return {
    mode: "wallet",
    label: w.name,
    provider,
    signer,
    account: await signer.getAddress(),
    chainId,
    send: (method, params) => w.provider.request({ method, params }),
    switchChain: async (id) => {
      await w.provider.request({ method: "wallet_switchEthereumChain", params: [{ chainId: `0x${id.toString(16)}` }] });
    },
  };
}

/** The dev node's accounts (hardhat node, anvil: unlocked, the node signs). */
export async function localAccounts(rpcUrl: string): Promise<string[]> {
  const provider = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1 });
  try {
    return (await provider.send("eth_accounts", [])) as string[];
  } finally {
    provider.destroy();
  }
}

export async function connectLocal(rpcUrl: string, account: string): Promise<Session> {
  const probe = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true });
  let chainId: bigint;
  try {
    chainId = BigInt((await probe.send("eth_chainId", [])) as string);
  } finally {
    probe.destroy();
  }
  const provider = new JsonRpcProvider(rpcUrl, chainId, { staticNetwork: true, cacheTimeout: -1, batchMaxCount: 1 });
  const signer = await provider.getSigner(account);
  return {
    mode: "local",
    label: `dev node at ${rpcUrl}`,
    provider,
    signer,
    account: await signer.getAddress(),
    chainId,
    send: (method, params) => provider.send(method, params),
  };
}
