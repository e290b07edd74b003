import { INTEGRATION_DOCUMENT_FORMAT } from "../../../src/documents/schemas.js";

/** A valid integration document (Acme Analytics, for THIRD_PARTY_SHARING), shared by the document tests. */
export const SAMPLE_INTEGRATION = {
  format: INTEGRATION_DOCUMENT_FORMAT,
  integration: "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65",
  displayName: "Acme Analytics",
  legalEntity: "Acme Analytics GmbH",
  country: "DE",
  privacyPolicy: "https://acme.example/privacy",
  contact: { email: "privacy@acme.example", dataProtectionOfficer: "dpo@acme.example" },
  purposes: [{ id: 6, name: "THIRD_PARTY_SHARING", dpv: "https://w3id.org/dpv#Share" }],
  retention: { period: "P30D", description: "deleted 30 days after receipt" },
};
