import * as Ajv2020Module from "ajv/dist/2020.js";
import type { ValidateFunction } from "ajv";

/**
 * A JSON Schema 2020-12 validator (ajv, strict mode: an unknown keyword in a schema is an
 * error, so a schema cannot silently check less than it says) for the tests of the published
 * schemas and of the AI-vocabulary exports.
 */
const Ajv2020 = Ajv2020Module.Ajv2020;

export function compileSchema(schema: object): ValidateFunction {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  return ajv.compile(schema);
}

/** ajv's errors in one line each (`/path: message`), for assertion messages. */
export function errorsOf(validate: ValidateFunction): string[] {
  return (validate.errors ?? []).map((e) => `${e.instancePath || "/"}: ${e.message ?? e.keyword}`);
}
