import { workerData } from "node:worker_threads";

import { consentDomain } from "../sdk/eip712.js";
import { type SignedInput, workOn } from "./signature-pool.js";
import { RequestDigester } from "./signed-request.js";
import { fastKeccak256 } from "./ecdsa.js";

/** The worker thread of signature-pool.ts: recovers the signers of verify's signed requests ahead of it. */
const data = workerData as {
  domain: { chainId: number; registry: string };
  inputs: SignedInput[];
  status: Int32Array;
  signers: Uint8Array;
};
workOn({
  ...data,
  digester: new RequestDigester(consentDomain(data.domain.chainId, data.domain.registry), fastKeccak256),
});
