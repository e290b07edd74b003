/**
 * The writing half of the SDK the page needs (the registry client with its bindings, the
 * signed-message serializer), imported on the first write so the first screen loads without it.
 */
export { ConsentRegistryClient } from "../../src/sdk/client.js";
export { encodeSignedMessage } from "../../src/sdk/signed-message.js";
