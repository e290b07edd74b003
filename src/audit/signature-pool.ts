import { Worker } from "node:worker_threads";

import type { ConsentMessageKind } from "../sdk/eip712.js";
import { recoverStrict } from "./ecdsa.js";
import { RequestDigester, type RequestFields } from "./signed-request.js";

/**
 * The signer of every stored signed request, recovered on a second core while verify replays
 * the history on the first. Whether a signature recovers to its owner depends only on the row
 * (its digest and signature), never on the replayed state, so the work can run ahead: a worker
 * thread claims rows in order and writes each signer into shared memory; verify takes a row's
 * answer when it gets there, or claims and computes the row itself if the worker has not (so a
 * missing or slow worker only costs time, never answers). Small histories skip the worker.
 */

export interface SignedInput {
  kind: ConsentMessageKind;
  owner: string;
  fields: RequestFields;
  epoch: string;
  version: string | null;
  deadline: string;
  signature: string;
}

export interface Recovered {
  signer: string | null;
  reason?: string;
}

/** status[i]: 0 free, 1 done by the worker, 2 claimed by verify, 3 claimed by the worker. */
const FREE = 0;
const DONE = 1;
const MINE = 2;
const THEIRS = 3;

/** Below this many requests a worker costs more to start than it saves. */
const WORKER_MIN = 2000;

export class SignaturePool {
  private readonly status: Int32Array;
  private readonly signers: Uint8Array;
  private readonly digester: RequestDigester;
  private worker: Worker | undefined;

  constructor(
    private readonly domain: { chainId: number; registry: string },
    digester: RequestDigester,
    private readonly inputs: SignedInput[],
  ) {
    this.digester = digester;
    this.status = new Int32Array(new SharedArrayBuffer(4 * Math.max(1, inputs.length)));
    // 21 bytes a row: a flag (1 = recovered) and the 20-byte address.
    this.signers = new Uint8Array(new SharedArrayBuffer(21 * Math.max(1, inputs.length)));
    if (inputs.length >= WORKER_MIN && process.env.OMNI_AUDIT_WORKERS !== "0") this.startWorker();
  }

  private startWorker(): void {
    const ts = import.meta.url.endsWith(".ts");
    try {
      this.worker = new Worker(new URL(`./signature-worker.${ts ? "ts" : "js"}`, import.meta.url), {
        workerData: { domain: this.domain, inputs: this.inputs, status: this.status, signers: this.signers },
        // From the TypeScript sources (tests) the worker needs the loader too: a worker does not
        // inherit one registered in-process (without it every test ran on one thread). Under the
        // tsx command the loader is in execArgv already, which a worker inherits.
        execArgv:
          ts && !process.execArgv.some((a) => a.includes("tsx")) ? [...process.execArgv, "--import", "tsx"] : undefined,
      });
      // A worker that cannot start just leaves every row to this thread.
      this.worker.on("error", () => undefined);
      this.worker.unref();
    } catch {
      this.worker = undefined;
    }
  }

  /** The signer of request `i` (as the registry's ECDSA rules recover it). */
  recovered(i: number): Recovered {
    if (Atomics.compareExchange(this.status, i, FREE, MINE) === FREE) return this.compute(i);
    while (Atomics.load(this.status, i) === THEIRS) Atomics.wait(this.status, i, THEIRS, 50);
    if (Atomics.load(this.status, i) === MINE) return this.compute(i);
    const at = 21 * i;
    if (this.signers[at] === 1) {
      return { signer: `0x${Buffer.from(this.signers.subarray(at + 1, at + 21)).toString("hex")}` };
    }
    // A refusal's reason is not shared: recompute it here (only for rows that are violations).
    return this.compute(i);
  }

  private compute(i: number): Recovered {
    const q = this.inputs[i];
    return recoverStrict(this.digester.digest(q), q.signature);
  }

  /** How many rows the worker answered and how many this thread computed itself (so far). */
  answered(): { worker: number; here: number } {
    let worker = 0;
    let here = 0;
    for (let i = 0; i < this.inputs.length; i++) {
      const st = Atomics.load(this.status, i);
      if (st === DONE) worker++;
      else if (st === MINE) here++;
    }
    return { worker, here };
  }

  close(): void {
    void this.worker?.terminate();
    this.worker = undefined;
  }
}

/** The worker's loop (signature-worker.ts): claim rows in order, recover, publish. */
export function workOn(data: {
  domain: { chainId: number; registry: string };
  inputs: SignedInput[];
  status: Int32Array;
  signers: Uint8Array;
  digester: RequestDigester;
}): void {
  const { inputs, status, signers, digester } = data;
  for (let i = 0; i < inputs.length; i++) {
    if (Atomics.compareExchange(status, i, FREE, THEIRS) !== FREE) continue;
    const q = inputs[i];
    const r = recoverStrict(digester.digest(q), q.signature);
    if (r.signer !== null) {
      signers[21 * i] = 1;
      signers.set(Buffer.from(r.signer.slice(2), "hex"), 21 * i + 1);
    }
    Atomics.store(status, i, DONE);
    Atomics.notify(status, i);
  }
}
