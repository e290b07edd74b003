/**
 * A synchronous z3 for solc-js's synchronous SMT callback.
 *
 * solc-js calls `smtSolver(query)` and needs the answer before it returns; the npm `z3-solver`
 * (z3 compiled to wasm) only answers through promises. So z3 lives in a worker thread
 * (z3-worker.ts) and the main thread blocks on a SharedArrayBuffer:
 *
 *   main: flag := 0; worker.postMessage(query); Atomics.wait(flag, 0, 0, limit)
 *   worker: output := await z3(query); port.postMessage(output); flag := 1; Atomics.notify(flag)
 *   main: receiveMessageOnPort(port) → output (synchronous read of the queued message)
 *
 * Posting to a worker and the worker's own event loop do not need the main thread, so the
 * blocked main thread is no problem. Limits: the worker interrupts z3 (Z3_interrupt) at the
 * query's timeout; if z3 still has not answered `graceMs` later (Spacer does not always poll
 * its interrupt flag), the main thread terminates the worker, which ends z3's own threads, answers
 * `unknown`, and starts a fresh worker for the next query.
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from "node:worker_threads";

export interface Z3Answer {
  output: string;
  ms: number;
  /** the worker was terminated at the hard limit */
  killed: boolean;
  /** answered through the bit-vector lifting of a quantifier-free query (smt-bv-lift.ts) */
  lifted: boolean;
}

export class Z3Bridge {
  version = "";
  private worker!: Worker;
  private port!: MessagePort;
  private flag!: Int32Array;

  constructor(
    private readonly params: Record<string, string>,
    private readonly graceMs = 3_000,
  ) {
    this.spawn();
  }

  solve(query: string, timeoutMs: number): Z3Answer {
    const started = Date.now();
    Atomics.store(this.flag, 0, 0);
    this.worker.postMessage({ query, timeoutMs });
    if (Atomics.wait(this.flag, 0, 0, timeoutMs + this.graceMs) === "timed-out") {
      void this.worker.terminate();
      this.spawn();
      return { output: "unknown\n", ms: Date.now() - started, killed: true, lifted: false };
    }
    const message = receiveMessageOnPort(this.port)?.message as { output: string; lifted: boolean } | undefined;
    if (message === undefined) throw new Error("z3 worker signalled an answer but sent none");
    return { output: message.output, ms: Date.now() - started, killed: false, lifted: message.lifted };
  }

  close(): void {
    void this.worker.terminate();
  }

  private spawn(): void {
    this.flag = new Int32Array(new SharedArrayBuffer(4));
    const channel = new MessageChannel();
    this.port = channel.port1;
    this.worker = new Worker(new URL("./z3-worker.ts", import.meta.url), {
      workerData: { flag: this.flag, port: channel.port2, params: this.params },
      transferList: [channel.port2],
    });
    this.worker.unref();
    if (Atomics.wait(this.flag, 0, 0, 120_000) === "timed-out") throw new Error("z3 worker did not start in 120 s");
    const ready = receiveMessageOnPort(this.port)?.message as { ready?: string } | undefined;
    if (ready?.ready === undefined) throw new Error("z3 worker failed to start");
    this.version = ready.ready;
  }
}
