import { index, onchainTable, primaryKey, relations } from "ponder";

/**
 * The indexer's tables (PostgreSQL, in the schema Ponder starts with). Property names are
 * camelCase for GraphQL; Ponder stores them snake_case, so the SQL columns of `events` are
 * those of the audit store's `events` table (src/audit), plus an indexed `owner`: one database shape for a
 * dashboard, a data team and the auditor. Every row carries its `chain_id`: one database holds
 * any number of chains.
 *
 * Integers that may exceed 2^53 (purposes bitmaps, versions, expiries, schedules) are `numeric`
 * (`bigint()`: exact, a JS bigint in handlers, a string in GraphQL); block numbers and timestamps
 * are `int8`. In `events`, as in the audit store, the decoded arguments are JSON with integers as
 * decimal strings, addresses lowercase and bytes as 0x-hex.
 */

/** Every log of the three contracts, decoded, in chain order (block_number, log_index). */
export const event = onchainTable(
  "events",
  (t) => ({
    chainId: t.integer().notNull(),
    blockNumber: t.int8({ mode: "number" }).notNull(),
    blockHash: t.text().notNull(),
    logIndex: t.integer().notNull(),
    txHash: t.text().notNull(),
    address: t.text().notNull(),
    eventName: t.text().notNull(),
    argsJson: t.text().notNull(),
    blockTimestamp: t.int8({ mode: "number" }).notNull(),
    /** How a consent change was authorised (0 owner, 1 manager, 2 signature); null for other events. */
    via: t.integer(),
    /** The key's version after a ConsentGranted / ConsentRevoked (decimal); null for other events. */
    version: t.text(),
    /**
     * The owner a registry event is about (its `owner` argument, lowercase): consent changes,
     * lockdowns, managers, failed signed revocations, uses and shares; null for other events.
     * Not in the audit store (which reads the owner from args_json); here it is indexed, so a
     * dashboard's "this owner's history" is an index range, not a scan.
     */
    owner: t.text(),
  }),
  (table) => ({
    pk: primaryKey({ columns: [table.chainId, table.blockNumber, table.logIndex] }),
    byName: index().on(table.chainId, table.eventName),
    byOwner: index().on(table.owner, table.chainId, table.blockNumber, table.logIndex),
  }),
);

/**
 * An owner's lockdown epoch, as the registry keeps it (`epochOf`): 0 until the first lockdown.
 * A row exists for every owner that granted, revoked, appointed a manager or locked down.
 */
export const owner = onchainTable(
  "owners",
  (t) => ({
    chainId: t.integer().notNull(),
    owner: t.text().notNull(),
    epoch: t.int8({ mode: "number" }).notNull(),
    lastLockdownBlock: t.int8({ mode: "number" }),
    lastLockdownActor: t.text(),
    lastLockdownVia: t.integer(),
  }),
  (table) => ({ pk: primaryKey({ columns: [table.chainId, table.owner] }) }),
);

/**
 * A consent key as the registry stores it (`getConsent` without `active`): a revocation
 * leaves purposes 0, expiry 0, epoch 0 and the new version. A consent is ACTIVE at time T when
 * `purposes <> 0 AND epoch = owners.epoch AND (expires_at = 0 OR T < expires_at)`: a lockdown
 * (new owner epoch) ends every consent at once without touching these rows, as on-chain.
 */
export const consent = onchainTable(
  "consents",
  (t) => ({
    chainId: t.integer().notNull(),
    owner: t.text().notNull(),
    grantee: t.text().notNull(),
    dataId: t.text().notNull(),
    purposes: t.bigint().notNull(),
    expiresAt: t.bigint().notNull(),
    epoch: t.int8({ mode: "number" }).notNull(),
    version: t.bigint().notNull(),
    /** The notice of the last grant; null after a revocation. */
    noticeHash: t.text(),
    actor: t.text().notNull(),
    via: t.integer().notNull(),
    updatedBlock: t.int8({ mode: "number" }).notNull(),
    updatedTx: t.text().notNull(),
  }),
  (table) => ({
    pk: primaryKey({ columns: [table.chainId, table.owner, table.grantee, table.dataId] }),
    byGrantee: index().on(table.chainId, table.grantee),
  }),
);

/**
 * A manager as the owner last set it. CURRENT (`isManager`) when `approved AND epoch =
 * owners.epoch`: a lockdown removes every manager without an event, so the rule, not a row
 * update, applies it (as on-chain).
 */
export const manager = onchainTable(
  "managers",
  (t) => ({
    chainId: t.integer().notNull(),
    owner: t.text().notNull(),
    manager: t.text().notNull(),
    approved: t.boolean().notNull(),
    /** The owner's epoch when the manager was last set. */
    epoch: t.int8({ mode: "number" }).notNull(),
    updatedBlock: t.int8({ mode: "number" }).notNull(),
  }),
  (table) => ({ pk: primaryKey({ columns: [table.chainId, table.owner, table.manager] }) }),
);

/** An integration as the IntegrationRegistry holds it; `status` is its enum (1 active, 2 suspended). */
export const integration = onchainTable(
  "integrations",
  (t) => ({
    chainId: t.integer().notNull(),
    integration: t.text().notNull(),
    metadataHash: t.text().notNull(),
    purposes: t.bigint().notNull(),
    status: t.integer().notNull(),
    registeredBlock: t.int8({ mode: "number" }).notNull(),
    updatedBlock: t.int8({ mode: "number" }).notNull(),
  }),
  (table) => ({ pk: primaryKey({ columns: [table.chainId, table.integration] }) }),
);

/** A purpose of the registry's catalogue. */
export const purpose = onchainTable(
  "purposes",
  (t) => ({
    chainId: t.integer().notNull(),
    id: t.integer().notNull(),
    metadataHash: t.text().notNull(),
    deprecated: t.boolean().notNull(),
    definedBlock: t.int8({ mode: "number" }).notNull(),
  }),
  (table) => ({ pk: primaryKey({ columns: [table.chainId, table.id] }) }),
);

/**
 * A governance operation of the AccessManager: its latest schedule and what became of it.
 * `opId` is the AccessManager's operationId (`hashOperation(caller, target, data)`); the column
 * cannot be named operation_id, which Ponder's reorg tables use for themselves.
 */
export const operation = onchainTable(
  "operations",
  (t) => ({
    chainId: t.integer().notNull(),
    opId: t.text().notNull(),
    nonce: t.int8({ mode: "number" }).notNull(),
    schedule: t.bigint().notNull(),
    caller: t.text().notNull(),
    target: t.text().notNull(),
    data: t.text().notNull(),
    /** "scheduled", "executed" or "canceled". */
    status: t.text().notNull(),
    scheduledBlock: t.int8({ mode: "number" }).notNull(),
    updatedBlock: t.int8({ mode: "number" }).notNull(),
  }),
  (table) => ({ pk: primaryKey({ columns: [table.chainId, table.opId] }) }),
);

// GraphQL: a consent and a manager reach their owner's epoch in the same query.
export const consentRelations = relations(consent, ({ one }) => ({
  ownerState: one(owner, { fields: [consent.chainId, consent.owner], references: [owner.chainId, owner.owner] }),
}));
export const managerRelations = relations(manager, ({ one }) => ({
  ownerState: one(owner, { fields: [manager.chainId, manager.owner], references: [owner.chainId, owner.owner] }),
}));
