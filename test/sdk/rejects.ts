import { expect } from "chai";

import { ConsentSdkError } from "../../src/sdk/errors.js";

/** The ConsentSdkError `p` rejects with (the test fails if it resolves, or rejects with anything else). */
export async function rejects(p: Promise<unknown>): Promise<ConsentSdkError> {
  try {
    await p;
  } catch (err) {
    expect(err).to.be.instanceOf(ConsentSdkError);
    return err as ConsentSdkError;
  }
  expect.fail("expected a ConsentSdkError");
}
