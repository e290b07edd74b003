import type { ComponentChildren } from "preact";
import { getAddress, keccak256, toUtf8Bytes } from "ethers";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";

import { httpDocumentSource } from "../../src/documents/http-source.js";
import type { IntegrationDocument } from "../../src/documents/schemas.js";
import { parseLabelBook, type LabelBook, entryByLabel, derivedDataId } from "../../src/labels/label-book.js";
import type { ConsentRegistryClient } from "../../src/sdk/client.js";
import { ALL_DATA } from "../../src/sdk/constants.js";
import { ConsentSdkError } from "../../src/sdk/errors.js";
import { PURPOSES } from "../../src/sdk/purposes.js";
import { readTime, TIME_FORMS } from "../../src/sdk/time-input.js";
import type { ConsentItem } from "../../src/views/data.js";
import { explorerTxUrl, ViewSettings } from "../../src/views/context.js";
import { count, isoTime, purposeWords } from "../../src/views/format.js";
import { resolveIntegrationNames, viewNames } from "../../src/views/names.js";
import {
  EndedConsents,
  HistoryTimeline,
  Integrations,
  KeyReleases,
  Managers,
  Shares,
  Uses,
  Withdrawals,
} from "../../src/views/owner.js";
import { Account, DataRef, How, Note, Purposes, Section, Time } from "../../src/views/primitives.js";
import { Governance, ReleaseLogs } from "./components/live.js";
import { type DashboardConfig, watchedFor } from "./config.js";
import { buildOwnerData, type OwnerData } from "./owner-view.js";
import { releasesOf } from "./releases.js";
import type { SarFormat } from "./report.js";
import { IndexerSource } from "./source/indexer.js";
import { RpcSource } from "./source/rpc.js";
import type { OwnerHistory, Watched } from "./source/types.js";
import {
  connectLocal,
  connectWallet,
  discoverWallets,
  localAccounts,
  type Session,
  type WalletInfo,
} from "./wallet.js";
import { inWords, type Problem } from "./words.js";

/** Timings the browser tests read: first meaningful render of the owner's consents. */
declare global {
  interface Window {
    __dashboard?: {
      loadStartMs: number;
      connectedMs?: number;
      readStartMs?: number;
      loadedMs?: number;
      renderedMs?: number;
      events?: number;
      source?: string;
    };
  }
}

/** Grantees shown at first (and per "show more"): the first screen comes fast for a large history. */
const GROUPS_PER_PAGE = 20;
/** Rows of each shared table on the page (the subject-access report holds every row). */
const ROWS_PER_TABLE = 50;

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

const keyOf = (c: Pick<ConsentItem, "grantee" | "dataId">) => `${c.grantee}|${c.dataId}`;

export function App({ cfg }: { cfg: DashboardConfig }) {
  const [wallets, setWallets] = useState<WalletInfo[]>([]);
  const [session, setSession] = useState<Session | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [status, setStatus] = useState("");
  const [history, setHistory] = useState<OwnerHistory | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [labels, setLabels] = useState<LabelBook | null>(null);
  const [docs, setDocs] = useState<{ integrations: Map<string, IntegrationDocument>; problems: Map<string, string> }>({
    integrations: new Map(),
    problems: new Map(),
  });
  const [releaseFiles, setReleaseFiles] = useState<string[]>([]);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [confirm, setConfirm] = useState<null | "batch" | "lockdown">(null);
  const [devAccounts, setDevAccounts] = useState<string[] | null>(null);
  const [devAccount, setDevAccount] = useState("");
  /** A write sent while the node stopped answering: kept until the chain says what became of it. */
  const [unconfirmed, setUnconfirmed] = useState<{ action: string; from: string; nonce: number } | null>(null);

  useEffect(() => discoverWallets(setWallets), []);

  // Local mode straight away (`?account=`): tests and demos.
  useEffect(() => {
    if (cfg.account) void connect(() => connectLocal(cfg.rpc, cfg.account!), "connecting to the dev node");
  }, []);

  const expected = cfg.chainId ?? (session ? Number(session.chainId) : undefined);
  const wrongChain = session !== null && expected !== undefined && Number(session.chainId) !== expected;
  // The deployment read and written: the expected chain's, kept while the wallet is on another
  // chain (what is on screen stays; nothing is read or sent until it is back).
  const watched: Watched | null = useMemo(() => {
    if (!session || expected === undefined) return null;
    try {
      return watchedFor(cfg, expected);
    } catch {
      return null;
    }
  }, [session?.account, expected]);

  const names = useMemo(() => viewNames({ ...docs, labels: labels ?? undefined }), [labels, docs]);

  async function connect(open: () => Promise<Session>, action: string) {
    setBusy(action);
    setProblem(null);
    try {
      const s = await open();
      window.__dashboard = { ...window.__dashboard!, connectedMs: performance.now() };
      setSession(s);
      setStatus(`Connected ${s.account} through ${s.label}.`);
    } catch (err) {
      setProblem(inWords(err, action));
    } finally {
      setBusy(null);
    }
  }

  // A wallet that changes chain or account: follow it (and say so).
  useEffect(() => {
    if (!session || session.mode !== "wallet") return;
    const w = wallets.find((x) => x.name === session.label);
    const p = w?.provider;
    if (!p?.on) return;
    const onChain = (id: unknown) => setSession({ ...session, chainId: BigInt(String(id)) });
    // Another account in the wallet: the page shows that account's consents (never the previous
    // owner's with the new signer); none (the site disconnected): back to connecting.
    const onAccounts = (accounts: unknown) => {
      const list = Array.isArray(accounts) ? (accounts as string[]) : [];
      if (list.length === 0) {
        setSession(null);
        setHistory(null);
        setSelected(new Set());
        setStatus("Your wallet disconnected this page: connect again to see your consents.");
        return;
      }
      const next = getAddress(list[0]);
      if (next === session.account) return;
      void (async () => {
        try {
          const signer = await session.provider.getSigner(next);
          setHistory(null);
          setSelected(new Set());
          setConfirm(null);
          setSession({ ...session, account: next, signer });
          setStatus(`Your wallet switched to ${next}: showing that account's consents.`);
        } catch (err) {
          setProblem(inWords(err, "following the wallet's account"));
        }
      })();
    };
    p.on("chainChanged", onChain);
    p.on("accountsChanged", onAccounts);
    return () => {
      p.removeListener?.("chainChanged", onChain);
      p.removeListener?.("accountsChanged", onAccounts);
    };
  }, [session, wallets]);

  async function reload(s: Session, w: Watched): Promise<void> {
    const source = cfg.indexer ? new IndexerSource(cfg.indexer, undefined, cfg.indexerNetwork) : new RpcSource(s.send);
    window.__dashboard = { ...window.__dashboard!, readStartMs: window.__dashboard?.readStartMs ?? performance.now() };
    const h = await source.ownerHistory(s.account, w);
    window.__dashboard = {
      ...window.__dashboard!,
      loadedMs: performance.now(),
      events: h.events.length,
      source: source.kind,
    };
    setHistory(h);
  }

  const releases = useMemo(
    () => (session && releaseFiles.length ? safeReleases(session.account, releaseFiles, setProblem) : undefined),
    [session?.account, releaseFiles],
  );
  const data: OwnerData | null = useMemo(
    () => (history && watched ? buildOwnerData(history, watched, releases) : null),
    [history, watched, releases],
  );

  useEffect(() => {
    if (!session || !watched || wrongChain) return;
    setBusy("reading your consents");
    reload(session, watched)
      .catch((err: unknown) => setProblem(inWords(err, "reading your consents")))
      .finally(() => setBusy(null));
  }, [session?.account, watched]);

  // First meaningful render: the consents are on screen. The other views follow a frame later,
  // so a long history does not hold back the list an owner came for.
  const [rest, setRest] = useState(false);
  useEffect(() => {
    if (!data) return;
    if (window.__dashboard && window.__dashboard.renderedMs === undefined) {
      window.__dashboard.renderedMs = performance.now();
    }
    const t = setTimeout(() => setRest(true), 0);
    return () => clearTimeout(t);
  }, [data !== null]);

  // Names from integration documents, checked against their on-chain hash (the views' resolver).
  useEffect(() => {
    if (!data || !cfg.documents) return;
    let cancelled = false;
    const source = httpDocumentSource(new URL(cfg.documents, location.href).href);
    void resolveIntegrationNames(data.view.integrations, source)
      .then((found) => !cancelled && setDocs(found))
      .catch(() => undefined);
    return () => {
      cancelled = true;
    };
  }, [data?.view.integrations.map((i) => `${i.address}${i.metadataHash}`).join()]);

  /** Runs one write: chain checked at the moment of sending, errors in words, the page reloaded. */
  async function act(action: string, run: (c: ConsentRegistryClient, s: Session, w: Watched) => Promise<string>) {
    if (!session || !watched) return false;
    setBusy(action);
    setProblem(null);
    try {
      const now = BigInt((await session.send("eth_chainId", [])) as string);
      if (expected !== undefined && Number(now) !== expected) {
        setSession({ ...session, chainId: now });
        return false;
      }
      // The writing half of the SDK (clients, bindings) loads on the first write, not before the first screen.
      const { ConsentRegistryClient } = await import("./writes.js");
      const client = await ConsentRegistryClient.connect(watched.registry, session.signer, {
        expectedChainId: BigInt(watched.chainId),
      });
      const said = await run(client, session, watched);
      setStatus(said);
      try {
        await reload(session, watched);
      } catch (err) {
        setProblem(inWords(err, "reading your consents again"));
      }
      return true;
    } catch (err) {
      const sent = err instanceof ConsentSdkError && err.code === "NOT_CONFIRMED" ? err.sent : undefined;
      if (sent?.nonce !== undefined && sent.nonce !== null)
        setUnconfirmed({ action, from: sent.from, nonce: sent.nonce });
      setProblem(inWords(err, action));
      return false;
    } finally {
      setBusy(null);
    }
  }

  /** Asks the chain what became of the unconfirmed write: its nonce used or not. */
  async function checkUnconfirmed() {
    if (!unconfirmed || !session || !watched) return;
    setBusy("checking what became of it");
    try {
      const next = Number(await session.send("eth_getTransactionCount", [unconfirmed.from, "latest"]));
      await reload(session, watched);
      setProblem(null);
      setUnconfirmed(null);
      setStatus(
        next > unconfirmed.nonce
          ? `${cap(unconfirmed.action)} went through after all (transaction number ${unconfirmed.nonce} is on chain); the page shows it.`
          : `${cap(unconfirmed.action)} did not go through: transaction number ${unconfirmed.nonce} was never used, nothing changed. You can send it again.`,
      );
    } catch (err) {
      setProblem(inWords(err, "checking what became of it"));
    } finally {
      setBusy(null);
    }
  }

  const live = data?.view.consents.filter((c) => c.status === "active") ?? [];
  const chosen = live.filter((c) => selected.has(keyOf(c)));
  const currentManagers = data?.view.managers.filter((m) => m.ended === null).length ?? 0;
  const now = history?.asOf ?? Math.floor(Date.now() / 1000);

  const txUrl = useMemo(() => explorerTxUrl(cfg.explorer), [cfg.explorer]);
  const settings = useMemo(
    () => ({ names, now, self: session?.account.toLowerCase(), rowLimit: ROWS_PER_TABLE, txUrl }),
    [names, now, session?.account, txUrl],
  );
  const view = data?.view ?? null;

  return (
    <ViewSettings.Provider value={settings}>
      <a class="skip" href="#main">
        Skip to your consents
      </a>
      <header>
        <h1>My consents</h1>
        <p class="tagline">See who may use your data, for what and until when, and take it back.</p>
      </header>
      <main id="main" tabIndex={-1}>
        <section id="connection" aria-labelledby="connection-title">
          <h2 id="connection-title">Wallet</h2>
          {session ? (
            <p>
              Connected as <code class="hex">{session.account}</code> through {session.label}, chain{" "}
              {String(session.chainId)}.{" "}
              <button
                type="button"
                onClick={() => {
                  setSession(null);
                  setHistory(null);
                }}
              >
                Disconnect
              </button>
            </p>
          ) : (
            <div class="connect">
              {wallets.length === 0 && (
                <p>No browser wallet found. Use a dev node's accounts below, or install a wallet.</p>
              )}
              {wallets.map((w) => (
                <button
                  type="button"
                  key={w.uuid}
                  data-wallet={w.name}
                  onClick={() => void connect(() => connectWallet(w), `connecting ${w.name}`)}
                >
                  {w.icon && <img src={w.icon} alt="" width={16} height={16} />} Connect {w.name}
                </button>
              ))}
              <fieldset>
                <legend>Local mode: a dev node's accounts ({cfg.rpc})</legend>
                {devAccounts === null ? (
                  <button
                    type="button"
                    onClick={async () => {
                      try {
                        const list = await localAccounts(cfg.rpc);
                        setDevAccounts(list);
                        setDevAccount(list[0] ?? "");
                      } catch (err) {
                        setProblem(inWords(err, "listing the dev node's accounts"));
                      }
                    }}
                  >
                    List the dev node's accounts
                  </button>
                ) : (
                  <>
                    <label>
                      Account{" "}
                      <select value={devAccount} onChange={(e) => setDevAccount(e.currentTarget.value)}>
                        {devAccounts.map((a) => (
                          <option key={a} value={a}>
                            {a}
                          </option>
                        ))}
                      </select>
                    </label>{" "}
                    <button
                      type="button"
                      onClick={() =>
                        void connect(() => connectLocal(cfg.rpc, devAccount), "connecting to the dev node")
                      }
                    >
                      Use this account
                    </button>
                  </>
                )}
              </fieldset>
            </div>
          )}
          {session && (
            <LabelBookInput onBook={(b) => setLabels(b)} onProblem={(text) => setProblem({ kind: "refused", text })} />
          )}
          {wrongChain && (
            <div class="problem" role="alert" data-kind="wrong-chain">
              <p>
                Your wallet is on chain {String(session!.chainId)}, but the consent registry is on chain {expected}.
                Nothing is read or sent until you switch.
              </p>
              {session!.switchChain && (
                <button
                  type="button"
                  onClick={() =>
                    void session!.switchChain!(BigInt(expected!))
                      .then(async () => {
                        const id = BigInt((await session!.send("eth_chainId", [])) as string);
                        setSession({ ...session!, chainId: id });
                      })
                      .catch((err: unknown) => setProblem(inWords(err, "switching chains")))
                  }
                >
                  Switch to chain {expected}
                </button>
              )}
            </div>
          )}
          {session && !watched && (
            <p class="problem" role="alert">
              No consent registry is known on chain {String(session.chainId)}: give its addresses in the address bar
              (?registry=…&amp;integrations=…&amp;authority=…).
            </p>
          )}
        </section>

        <div aria-live="polite" class="app-status" role="status">
          {busy ? `Working: ${busy}…` : status}
        </div>
        {problem && (
          <div class="problem" role="alert" data-kind={problem.kind}>
            <p>{problem.text}</p>
            {unconfirmed && (
              <>
                <button type="button" onClick={() => void checkUnconfirmed()}>
                  Check again
                </button>{" "}
              </>
            )}
            <button type="button" onClick={() => setProblem(null)}>
              Dismiss
            </button>
          </div>
        )}

        {view && data && history && watched && session && (
          <>
            <p class="source">
              Read from {history.source}, as of <Time t={history.asOf} inline /> (block {history.lastBlock}).
            </p>
            <ConsentsPanel
              live={live}
              selected={selected}
              setSelected={setSelected}
              busy={busy !== null}
              onRevoke={(c) =>
                act("the withdrawal", async (client) => {
                  const { result } = await client.revoke({ grantee: c.grantee, dataId: c.dataId }).wait();
                  return `Withdrawn: ${c.grantee} no longer has your consent for this data (version ${result.version}).`;
                })
              }
              onNarrow={(c, purposes, expiresAt) =>
                act("narrowing the consent", async (client) => {
                  await client
                    .grant({
                      grantee: c.grantee,
                      dataId: c.dataId,
                      purposes,
                      expiresAt,
                      noticeHash: c.noticeHash ?? undefined,
                    })
                    .wait();
                  return `Narrowed: ${c.grantee} now has ${count(purposes.length, "purpose")}.`;
                })
              }
              onBatch={() => setConfirm("batch")}
            />
            {rest && <EndedConsents view={view} />}
            {confirm === "batch" && (
              <Confirm
                title={`Withdraw ${count(chosen.length, "consent")} in one transaction?`}
                yes={`Withdraw ${count(chosen.length, "consent")}`}
                onNo={() => setConfirm(null)}
                onYes={async () => {
                  const items = chosen.map((c) => ({ grantee: c.grantee, dataId: c.dataId }));
                  const ok = await act("the batch withdrawal", async (client) => {
                    const { result } = await client.revokeBatch(items).wait();
                    return `Withdrawn in one transaction: ${count(result.items.length, "consent")}.`;
                  });
                  setConfirm(null);
                  if (ok) setSelected(new Set());
                }}
              >
                <p>Your wallet asks once. Every one of these ends, or none does:</p>
                <ul>
                  {chosen.map((c) => (
                    <li key={keyOf(c)}>
                      <Account address={c.grantee} /> — <DataRef dataId={c.dataId} />
                    </li>
                  ))}
                </ul>
              </Confirm>
            )}

            <GrantForm
              now={now}
              labels={labels}
              integrations={view.integrations.map((i) => i.address)}
              busy={busy !== null}
              onGrant={(g) =>
                act("the grant", async (client) => {
                  const { result } = await client.grant(g).wait();
                  return `Granted: ${g.grantee} may use it for ${count(result.purposes.length, "purpose")}.`;
                })
              }
              onSign={(g) =>
                act("signing the consent", async (client, s, w) => {
                  const signed = await client.signGrant(s.signer, g);
                  const { encodeSignedMessage } = await import("./writes.js");
                  const text = encodeSignedMessage({
                    kind: "Grant",
                    chainId: BigInt(w.chainId),
                    registry: client.address,
                    signed,
                  });
                  const { download } = await import("./report.js");
                  download(text, "application/json", `signed-grant-${g.grantee.slice(0, 10)}-v${signed.version}.json`);
                  return `Signed offline (version ${signed.version}, valid until ${new Date(Number(signed.deadline) * 1000).toISOString().replace(".000Z", "Z")}): the file for a relayer was downloaded. Nothing was sent.`;
                })
              }
              onProblem={(text) => setProblem({ kind: "refused", text })}
            />

            <section id="lockdown" aria-labelledby="lockdown-title">
              <h2 id="lockdown-title">Lockdown</h2>
              <p>
                Withdraw everything at once: all {count(live.length, "consent")} in force, every signed message not yet
                relayed and your {count(currentManagers, "manager")}.
              </p>
              <button type="button" class="danger" disabled={busy !== null} onClick={() => setConfirm("lockdown")}>
                Lock down…
              </button>
            </section>
            {confirm === "lockdown" && (
              <Confirm
                title="Lock down: end every consent, signed message and manager?"
                yes="Yes, lock down now"
                danger
                onNo={() => setConfirm(null)}
                onYes={async () => {
                  await act("the lockdown", async (client) => {
                    const { result } = await client.lockdown().wait();
                    return `Locked down: every consent, signed message and manager of yours ended (new epoch ${result.newEpoch}).`;
                  });
                  setConfirm(null);
                }}
              >
                <p>
                  This ends {count(live.length, "consent")} in force and {count(currentManagers, "manager")} in one
                  transaction, and voids every signed message you made that was not relayed yet. It cannot be undone: to
                  allow anyone again you grant again, one by one.
                </p>
              </Confirm>
            )}

            {rest && (
              <>
                <HistoryTimeline history={view.history} />
                <Uses uses={view.uses} />
                <Shares shares={view.shares} />
                <Withdrawals withdrawals={view.withdrawals} />
                <KeyReleases releases={view.releases} />
                <ReleaseLogs view={view} onFile={(text) => setReleaseFiles((f) => [...f, text])} />
                <Managers managers={view.managers} />
                <Integrations integrations={view.integrations} />
                <Governance pending={data.pending} now={now} />
              </>
            )}

            <section id="downloads" aria-labelledby="downloads-title">
              <h2 id="downloads-title">My subject-access report</h2>
              <p>Everything the chain records about you, made in this browser (nothing is uploaded).</p>
              {(["html", "json", "csv"] as SarFormat[]).map((f) => (
                <button
                  type="button"
                  key={f}
                  onClick={async () => {
                    // The report code (with its chart renderer) loads on first use only.
                    const { download, subjectAccessReport } = await import("./report.js");
                    const r = await subjectAccessReport(history, watched, f, names);
                    download(r.text, r.type, r.name);
                    setStatus(`Downloaded ${r.name}.`);
                  }}
                >
                  Download {f.toUpperCase()}
                </button>
              ))}
            </section>
          </>
        )}
      </main>
    </ViewSettings.Provider>
  );
}

function safeReleases(owner: string, files: string[], onProblem: (p: Problem) => void) {
  try {
    return releasesOf(owner, files);
  } catch (err) {
    onProblem({ kind: "refused", text: `That release log cannot be read: ${(err as Error).message}` });
    return undefined;
  }
}

function Confirm({
  title,
  yes,
  danger,
  onYes,
  onNo,
  children,
}: {
  title: string;
  yes: string;
  danger?: boolean;
  onYes: () => void;
  onNo: () => void;
  children: ComponentChildren;
}) {
  const ref = useRef<HTMLDivElement>(null);
  // Focus moves into the confirmation, and back to what opened it when it closes.
  useEffect(() => {
    const opener = document.activeElement as HTMLElement | null;
    ref.current?.focus();
    return () => {
      if (opener?.isConnected && !(opener as HTMLButtonElement).disabled) opener.focus();
    };
  }, []);
  return (
    <div
      class="confirm"
      role="alertdialog"
      aria-modal="false"
      aria-labelledby="confirm-title"
      tabIndex={-1}
      ref={ref}
      onKeyDown={(e) => e.key === "Escape" && onNo()}
    >
      <h2 id="confirm-title">{title}</h2>
      {children}
      <button type="button" id="confirm-yes" class={danger ? "danger" : "primary"} onClick={onYes}>
        {yes}
      </button>{" "}
      <button type="button" id="confirm-no" onClick={onNo}>
        Cancel
      </button>
    </div>
  );
}

function ConsentsPanel({
  live,
  selected,
  setSelected,
  busy,
  onRevoke,
  onNarrow,
  onBatch,
}: {
  live: ConsentItem[];
  selected: ReadonlySet<string>;
  setSelected: (s: ReadonlySet<string>) => void;
  busy: boolean;
  onRevoke: (c: ConsentItem) => void;
  onNarrow: (c: ConsentItem, purposes: number[], expiresAt: bigint) => Promise<boolean>;
  onBatch: () => void;
}) {
  const groups = new Map<string, ConsentItem[]>();
  for (const c of live) groups.set(c.grantee, [...(groups.get(c.grantee) ?? []), c]);
  const [narrowing, setNarrowing] = useState<string | null>(null);
  const toggle = (k: string) => {
    const next = new Set(selected);
    if (next.has(k)) next.delete(k);
    else next.add(k);
    setSelected(next);
  };
  const [shown, setShown] = useState(GROUPS_PER_PAGE);
  const shownGroups = [...groups.entries()].slice(0, shown);
  return (
    <Section
      id="consents"
      title="Who may use my data"
      count={live.length}
      empty="Nobody has your consent right now."
      intro="Grouped by who holds the consent. Tick several to withdraw them in one transaction."
    >
      <div class="queue" data-testid="queue">
        <span>{count(selected.size, "consent")} selected</span>{" "}
        <button type="button" id="batch-withdraw" disabled={selected.size === 0 || busy} onClick={onBatch}>
          Withdraw selected in one transaction…
        </button>{" "}
        {selected.size > 0 && (
          <button type="button" onClick={() => setSelected(new Set())}>
            Clear selection
          </button>
        )}
      </div>
      {shownGroups.map(([grantee, items]) => (
        <article class="grantee" key={grantee} aria-labelledby={`g-${grantee}`}>
          <h3 id={`g-${grantee}`}>
            <Account address={grantee} /> <span class="count">({count(items.length, "consent")})</span>
          </h3>
          <ul class="consents">
            {items.map((c) => {
              const k = keyOf(c);
              return (
                <li key={k} class={c.allData ? "consent all-data" : "consent"} data-key={k}>
                  <div class="row">
                    <input
                      type="checkbox"
                      id={`sel-${k}`}
                      checked={selected.has(k)}
                      onChange={() => toggle(k)}
                      aria-label={`Select ${c.allData ? "ALL_DATA" : c.dataId} of ${grantee} for the batch withdrawal`}
                    />
                    <div class="what">
                      <DataRef dataId={c.dataId} />
                      {c.allData && <Note>covers every data id of yours, including ones you add later</Note>}
                      <Purposes purposes={c.purposes} />
                    </div>
                    <div class="until">
                      {c.expiresAt === null ? <span>no expiry</span> : <Time t={c.expiresAt} prefix="until " />}
                    </div>
                    <div class="how">
                      given by <How via={c.given.via} by={c.given.by} />
                    </div>
                    <div class="actions">
                      <button
                        type="button"
                        disabled={busy}
                        aria-expanded={narrowing === k}
                        onClick={() => setNarrowing(narrowing === k ? null : k)}
                      >
                        Narrow…
                      </button>{" "}
                      <button type="button" disabled={busy} onClick={() => onRevoke(c)}>
                        Withdraw
                      </button>
                    </div>
                  </div>
                  {narrowing === k && (
                    <NarrowForm
                      c={c}
                      onDone={async (p, e) => {
                        if (await onNarrow(c, p, e)) setNarrowing(null);
                      }}
                    />
                  )}
                </li>
              );
            })}
          </ul>
        </article>
      ))}
      {groups.size > shownGroups.length && (
        <p class="more">
          Showing {shownGroups.length} of {groups.size} grantees.{" "}
          <button type="button" onClick={() => setShown(shown + GROUPS_PER_PAGE)}>
            Show {Math.min(GROUPS_PER_PAGE, groups.size - shownGroups.length)} more grantees
          </button>
        </p>
      )}
    </Section>
  );
}

function NarrowForm({ c, onDone }: { c: ConsentItem; onDone: (purposes: number[], expiresAt: bigint) => void }) {
  const [keep, setKeep] = useState<ReadonlySet<number>>(new Set(c.purposes.map((p) => p.id)));
  const [until, setUntil] = useState(c.expiresAt === null ? "never" : isoTime(c.expiresAt));
  const [problem, setProblem] = useState("");
  const id = `narrow-${c.grantee}-${c.dataId}`;
  return (
    <form
      class="narrow"
      aria-label="Narrow this consent"
      onSubmit={(e) => {
        e.preventDefault();
        const r = readTime(until, { now: BigInt(Math.floor(Date.now() / 1000)), allowNever: true });
        if (!r.ok) return setProblem(`Until: ${r.problem}`);
        if (c.expiresAt !== null && (r.at === 0n || r.at > BigInt(c.expiresAt))) {
          return setProblem("Narrowing can only shorten the expiry; grant anew to extend it.");
        }
        if (keep.size === 0) return setProblem("Keep at least one purpose, or withdraw the consent instead.");
        setProblem("");
        onDone(
          [...keep].sort((a, b) => a - b),
          r.at,
        );
      }}
    >
      <fieldset>
        <legend>Purposes to keep</legend>
        {c.purposes.map((p) => (
          <label key={p.id}>
            <input
              type="checkbox"
              checked={keep.has(p.id)}
              onChange={() => {
                const n = new Set(keep);
                if (n.has(p.id)) n.delete(p.id);
                else n.add(p.id);
                setKeep(n);
              }}
            />{" "}
            {purposeWords(p.name)}
          </label>
        ))}
      </fieldset>
      <label for={`${id}-until`}>Until</label>{" "}
      <input id={`${id}-until`} size={24} value={until} onInput={(e) => setUntil(e.currentTarget.value)} />{" "}
      <button type="submit" class="primary">
        Narrow
      </button>
      {problem && (
        <p class="field-problem" role="alert">
          {problem}
        </p>
      )}
    </form>
  );
}

interface GrantInput {
  grantee: string;
  dataId: string;
  purposes: number[];
  expiresAt: bigint;
  noticeHash?: string;
}

function GrantForm({
  now,
  labels,
  integrations,
  busy,
  onGrant,
  onSign,
  onProblem,
}: {
  now: number;
  labels: LabelBook | null;
  integrations: string[];
  busy: boolean;
  onGrant: (g: GrantInput) => Promise<boolean>;
  onSign: (g: GrantInput) => Promise<boolean>;
  onProblem: (text: string) => void;
}) {
  const [grantee, setGrantee] = useState("");
  const [data, setData] = useState("");
  const [purposes, setPurposes] = useState<ReadonlySet<number>>(new Set());
  const [until, setUntil] = useState("+30d");
  const [notice, setNotice] = useState("");
  const [problem, setProblem] = useState("");

  function read(): GrantInput | null {
    const g = grantee.trim();
    if (!/^0x[0-9a-fA-F]{40}$/.test(g)) return fail("Grantee: give its 0x address (40 hex digits).");
    let dataId: string;
    const d = data.trim();
    if (d.toUpperCase() === "ALL" || d.toUpperCase() === "ALL_DATA") dataId = ALL_DATA;
    else if (/^0x[0-9a-fA-F]{64}$/.test(d)) dataId = d.toLowerCase();
    else {
      const entry = labels ? entryByLabel(labels, d) : undefined;
      if (!entry)
        return fail(`Data: "${d}" is not a label in your label book; give a 0x data id (64 hex digits) or ALL.`);
      dataId = derivedDataId(entry);
    }
    if (purposes.size === 0) return fail("Purposes: choose at least one.");
    const t = readTime(until, { now: BigInt(now), allowNever: true });
    if (!t.ok) return fail(`Until: ${t.problem}`);
    const n = notice.trim();
    const noticeHash = n === "" ? undefined : /^0x[0-9a-fA-F]{64}$/.test(n) ? n : keccak256(toUtf8Bytes(n));
    setProblem("");
    return { grantee: g, dataId, purposes: [...purposes].sort((a, b) => a - b), expiresAt: t.at, noticeHash };
  }
  function fail(text: string): null {
    setProblem(text);
    return null;
  }

  return (
    <section id="grant" aria-labelledby="grant-title">
      <h2 id="grant-title">Give consent</h2>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          const g = read();
          if (g && (await onGrant(g))) {
            setGrantee("");
            setData("");
            setPurposes(new Set());
          }
        }}
      >
        <div class="field">
          <label for="grant-grantee">Who (their address)</label>
          <input
            id="grant-grantee"
            list="known-integrations"
            value={grantee}
            autoComplete="off"
            onInput={(e) => setGrantee(e.currentTarget.value)}
          />
          <datalist id="known-integrations">
            {integrations.map((a) => (
              <option key={a} value={a} />
            ))}
          </datalist>
        </div>
        <div class="field">
          <label for="grant-data">Which data (a label of your label book, a 0x data id, or ALL)</label>
          <input id="grant-data" value={data} autoComplete="off" onInput={(e) => setData(e.currentTarget.value)} />
        </div>
        <fieldset class="field">
          <legend>For what</legend>
          {PURPOSES.map((p) => (
            <label key={p.id} title={p.description}>
              <input
                type="checkbox"
                name="purpose"
                value={p.name}
                checked={purposes.has(p.id)}
                onChange={() => {
                  const n = new Set(purposes);
                  if (n.has(p.id)) n.delete(p.id);
                  else n.add(p.id);
                  setPurposes(n);
                }}
              />{" "}
              {purposeWords(p.name)} <span class="muted">— {p.description}</span>
            </label>
          ))}
        </fieldset>
        <div class="field">
          <label for="grant-until">Until</label>
          <input
            id="grant-until"
            value={until}
            aria-describedby="grant-until-help"
            onInput={(e) => setUntil(e.currentTarget.value)}
          />
          <p id="grant-until-help" class="help">
            {TIME_FORMS}
          </p>
        </div>
        <div class="field">
          <label for="grant-notice">The notice you were shown (text or its 0x hash; optional)</label>
          <textarea id="grant-notice" rows={2} value={notice} onInput={(e) => setNotice(e.currentTarget.value)} />
        </div>
        {problem && (
          <p class="field-problem" role="alert">
            {problem}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          Grant
        </button>{" "}
        <button
          type="button"
          disabled={busy}
          onClick={() => {
            const g = read();
            if (g) void onSign(g).catch((err: unknown) => onProblem(String(err)));
          }}
        >
          Sign offline and download the file for a relayer
        </button>
      </form>
    </section>
  );
}

function LabelBookInput({ onBook, onProblem }: { onBook: (b: LabelBook) => void; onProblem: (t: string) => void }) {
  return (
    <p>
      <label class="file">
        Your label book (names for your data ids; it stays in this browser){" "}
        <input
          id="labelbook"
          type="file"
          accept="application/json,.json"
          onChange={async (e) => {
            const f = (e.currentTarget as HTMLInputElement).files?.[0];
            if (!f) return;
            try {
              onBook(parseLabelBook(await f.text(), f.name));
            } catch (err) {
              onProblem(`That label book cannot be read: ${(err as Error).message}`);
            }
          }}
        />
      </label>
    </p>
  );
}
