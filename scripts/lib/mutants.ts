/**
 * The curated mutants of `contracts/` run by `npm run test:mutation` (scripts/mutation.ts).
 *
 * Each mutant is one textual replacement: `original` must occur EXACTLY ONCE in `file` (checked
 * by `applyMutant`, by the runner before it starts and by test/scripts/mutation.ts in the normal
 * suite), so a refactor that moves or rewrites a checked line breaks the definition loudly instead
 * of silently mutating nothing. Multi-line snippets carry the file's exact indentation; where a
 * line occurs more than once, the snippet includes a neighbouring line that makes it unique.
 *
 * Every check of the shipped contracts has at least one mutant: boundary flips, dropped checks
 * and returns, swapped operands, dropped state writes, wiring steps left out. `equivalent` marks
 * a mutant no test can kill because the program's behaviour does not change; it is still run (it
 * must survive: a killed "equivalent" mutant is a wrong definition) and is left out of the score.
 * `tests` overrides the focused test files of the mutated file (see FOCUS).
 */

export interface Mutant {
  /** Stable id, `<area>/<what>`. */
  id: string;
  /** Repository-relative path of the mutated source. */
  file: string;
  /** The exact text replaced; must occur exactly once in `file`. */
  original: string;
  replacement: string;
  /** The real bug this mutant stands for: what a test must notice. */
  why: string;
  /** Set when no observable behaviour changes: the reason. Such a mutant must survive. */
  equivalent?: string;
  /** Focused test files, run first (default: FOCUS[file]). */
  tests?: string[];
}

const REG = "contracts/ConsentRegistry.sol";
const SLOT = "contracts/libraries/ConsentSlot.sol";
const HASHES = "contracts/libraries/ConsentHashes.sol";
const SIG = "contracts/libraries/SignatureVerification.sol";
const GATED = "contracts/ConsentGated.sol";
const BOARD = "contracts/examples/TrainingJobBoard.sol";
const CAM = "contracts/governance/ConsentAccessManager.sol";
const DEPLOYER = "contracts/governance/ConsentSystemDeployer.sol";
const INTEGRATIONS = "contracts/governance/IntegrationRegistry.sol";
const CATALOG = "contracts/governance/PurposeCatalog.sol";
const COMMON = "contracts/Common.sol";

/** The registry's own mocha tests (all deploy the harness through test/helpers/fixture.ts). */
const REGISTRY_TESTS = [
  "test/ConsentRegistry.ts",
  "test/ConsentRegistry.signatures.ts",
  "test/ConsentRegistry.ordering.ts",
  "test/ConsentRegistry.lockdown.ts",
  "test/ConsentRegistry.managers.ts",
  "test/ConsentRegistry.records.ts",
  "test/ConsentRegistry.noAdmin.ts",
  "test/coverage-gaps.ts",
  "test/mutation-kills.ts",
];
const GOVERNANCE_TESTS = [
  // First: one quick test, and the only killer of two mutants that pass everything else.
  "test/governance/mutation-kills.ts",
  "test/governance/AccessManagerDelay.ts",
  "test/governance/NoInstantPower.ts",
];

/**
 * Focused tests per mutated file, most likely killers first (the run stops at the first failing
 * test). A mutant that survives them is run again against every functional test file before it
 * is reported as a survivor, so a focus set only saves time: it can never hide a kill.
 */
export const FOCUS: Record<string, string[]> = {
  [REG]: REGISTRY_TESTS,
  [SLOT]: REGISTRY_TESTS,
  [HASHES]: ["test/libraries/ConsentHashes.ts", ...REGISTRY_TESTS],
  [SIG]: ["test/ConsentRegistry.signatures.ts", ...REGISTRY_TESTS.filter((f) => !f.endsWith("signatures.ts"))],
  [CATALOG]: ["test/governance/PurposeCatalog.ts", ...REGISTRY_TESTS],
  [COMMON]: ["test/Purposes.ts", ...REGISTRY_TESTS, "test/governance/PurposeCatalog.ts"],
  [GATED]: ["test/ConsentGated.ts", "test/examples/TrainingJobBoard.ts", "test/mutation-kills.ts"],
  [BOARD]: ["test/examples/TrainingJobBoard.ts", "test/mutation-kills.ts"],
  [INTEGRATIONS]: [
    "test/governance/IntegrationRegistry.ts",
    "test/ConsentRegistry.records.ts",
    "test/mutation-kills.ts",
  ],
  [CAM]: GOVERNANCE_TESTS,
  [DEPLOYER]: GOVERNANCE_TESTS,
};

/** Drops `check` from `before + check + after` (the anchors make the snippet unique). */
function drop(before: string, check: string, after: string): { original: string; replacement: string } {
  return { original: before + check + after, replacement: before + after };
}

export const MUTANTS: Mutant[] = [
  // ------------------------------------------------------------------ ConsentRegistry: batches
  {
    id: "registry/grantBatch-empty-allowed",
    file: REG,
    ...drop(
      "uint256 n = grants.length;\n",
      "        if (n == 0) revert ConsentRegistryEmptyBatch();\n",
      "        uint256 ctx",
    ),
    why: "an empty grantBatch must revert EmptyBatch, not succeed doing nothing",
  },
  {
    id: "registry/grantBatch-not-atomic",
    file: REG,
    ...drop(
      "g.expiresAt, g.noticeHash);\n",
      "            if (err.length != 0) revert ConsentRegistryBatchItemFailed(i, err);\n",
      "        }",
    ),
    why: "grantBatch is all-or-nothing: a bad item must revert the whole batch, naming it",
  },
  {
    id: "registry/grantBatch-skips-first",
    file: REG,
    original: "for (uint256 i = 0; i < n; ++i) {\n            GrantInput calldata g = grants[i];",
    replacement: "for (uint256 i = 1; i < n; ++i) {\n            GrantInput calldata g = grants[i];",
    why: "every item of a batch is applied (a loop bound off by one)",
  },
  {
    id: "registry/revokeBatch-empty-allowed",
    file: REG,
    ...drop(
      "uint256 n = revokes.length;\n",
      "        if (n == 0) revert ConsentRegistryEmptyBatch();\n",
      "        for",
    ),
    why: "an empty revokeBatch must revert EmptyBatch",
  },
  {
    id: "registry/revokeBatch-not-atomic",
    file: REG,
    ...drop(
      "revokes[i].dataId);\n",
      "            if (err.length != 0) revert ConsentRegistryBatchItemFailed(i, err);\n",
      "        }",
    ),
    why: "revokeBatch must revert naming a bad item (zero grantee / data id), not skip it",
  },
  {
    id: "registry/grantBySigBatch-empty-allowed",
    file: REG,
    ...drop(
      "function grantBySigBatch(SignedGrant[] calldata requests) external {\n        uint256 n = requests.length;\n",
      "        if (n == 0) revert ConsentRegistryEmptyBatch();\n",
      "",
    ),
    why: "an empty grantBySigBatch must revert EmptyBatch",
  },
  {
    id: "registry/grantBySigBatch-not-atomic",
    file: REG,
    ...drop(
      "bytes memory err = _grantBySig(requests[i]);\n",
      "            if (err.length != 0) revert ConsentRegistryBatchItemFailed(i, err);\n",
      "",
    ),
    why: "grantBySigBatch stays all-or-nothing: a stale or bad item reverts the batch, naming it",
  },
  {
    id: "registry/revokeBySigBatch-empty-allowed",
    file: REG,
    ...drop(
      "returns (bytes[] memory failures) {\n        uint256 n = requests.length;\n",
      "        if (n == 0) revert ConsentRegistryEmptyBatch();\n",
      "",
    ),
    why: "an empty revokeBySigBatch must revert EmptyBatch",
  },
  {
    id: "registry/revokeBySigBatch-skips-first",
    file: REG,
    original: "for (uint256 i = 0; i < n; ++i) {\n            SignedRevoke calldata r = requests[i];",
    replacement: "for (uint256 i = 1; i < n; ++i) {\n            SignedRevoke calldata r = requests[i];",
    why: "every signed revocation of a best-effort batch is tried",
  },
  {
    id: "registry/revokeBySigBatch-failure-not-returned",
    file: REG,
    ...drop("if (err.length != 0) {\n", "                failures[i] = err;\n", ""),
    why: "the relayer learns which signed revocations did not apply from the returned failures",
  },
  {
    id: "registry/revokeBySigBatch-failure-not-logged",
    file: REG,
    ...drop(
      "failures[i] = err;\n",
      "                emit SignedRevokeFailed(r.owner, r.grantee, r.dataId, i, err);\n",
      "",
    ),
    why: "every item that did not apply is logged as SignedRevokeFailed(owner, grantee, dataId, index, reason)",
  },
  {
    id: "registry/recordUseBatch-empty-allowed",
    file: REG,
    ...drop(
      "function recordUseBatch(UseRecord[] calldata records) external {\n        uint256 n = records.length;\n",
      "        if (n == 0) revert ConsentRegistryEmptyBatch();\n",
      "",
    ),
    why: "an empty recordUseBatch must revert EmptyBatch",
  },
  {
    id: "registry/recordUseBatch-not-atomic",
    file: REG,
    ...drop(
      "bytes memory err = _recordUse(r.owner, r.dataId, r.purpose, r.evidence);\n",
      "            if (err.length != 0) revert ConsentRegistryBatchItemFailed(i, err);\n",
      "",
    ),
    why: "a use without consent inside a batch must revert the batch (no record without consent)",
  },
  {
    id: "registry/recordShareBatch-empty-allowed",
    file: REG,
    ...drop(
      "function recordShareBatch(ShareRecord[] calldata records) external {\n        uint256 n = records.length;\n",
      "        if (n == 0) revert ConsentRegistryEmptyBatch();\n",
      "",
    ),
    why: "an empty recordShareBatch must revert EmptyBatch",
  },
  {
    id: "registry/recordShareBatch-not-atomic",
    file: REG,
    ...drop(
      "bytes memory err = _recordShare(r.owner, r.to, r.dataId, r.purpose, r.evidence);\n",
      "            if (err.length != 0) revert ConsentRegistryBatchItemFailed(i, err);\n",
      "",
    ),
    why: "a share without both consents inside a batch must revert the batch",
  },

  // ------------------------------------------------------------------ ConsentRegistry: managers
  {
    id: "registry/setManager-zero-allowed",
    file: REG,
    original: "if (manager == address(0) || manager == msg.sender) revert",
    replacement: "if (manager == msg.sender) revert",
    why: "appointing address(0) as manager must revert InvalidManager",
  },
  {
    id: "registry/setManager-self-allowed",
    file: REG,
    original: "if (manager == address(0) || manager == msg.sender) revert",
    replacement: "if (manager == address(0)) revert",
    why: "an owner appointing itself as manager must revert InvalidManager",
  },
  {
    id: "registry/setManager-unchanged-allowed",
    file: REG,
    ...drop(
      "uint256 current = uint256(_epochs[msg.sender]) + 1;\n",
      "        if ((_managers[msg.sender][manager] == current) == approved) {\n            revert ConsentRegistryManagerUnchanged(msg.sender, manager, approved);\n        }\n",
      "",
    ),
    why: "a setManager that changes nothing must revert ManagerUnchanged (no misleading event)",
  },
  {
    id: "registry/setManager-removal-keeps-manager",
    file: REG,
    ...drop(
      "// An if, not a ternary: coverage probes are per statement, so both outcomes stay measurable.\n",
      "        if (!approved) current = 0;\n",
      "        _managers",
    ),
    why: "setManager(m, false) must remove the manager",
  },
  {
    id: "registry/setManager-ignores-epoch",
    file: REG,
    original: "uint256 current = uint256(_epochs[msg.sender]) + 1;",
    replacement: "uint256 current = 1;",
    why: "a manager (re-)appointed after a lockdown must count in the owner's current epoch",
  },
  {
    id: "registry/isManager-ignores-epoch",
    file: REG,
    original: "return _managers[owner][manager] == uint256(_epochs[owner]) + 1;",
    replacement: "return _managers[owner][manager] != 0;",
    why: "isManager must say false for a manager of an earlier epoch (the lockdown ended it)",
  },
  {
    id: "registry/authorize-ignores-epoch",
    file: REG,
    original: "if (_managers[owner][msg.sender] == uint256(_epochs[owner]) + 1) return Via.Manager;",
    replacement: "if (_managers[owner][msg.sender] != 0) return Via.Manager;",
    why: "a manager appointed before revokeAll must lose its power (the lockdown ends managers)",
  },
  {
    id: "registry/authorize-owner-as-manager",
    file: REG,
    original: "if (msg.sender == owner) return Via.Owner;",
    replacement: "if (msg.sender == owner) return Via.Manager;",
    why: "an owner calling revokeAllFor for itself acts as Owner, and the event says so",
  },
  {
    id: "registry/grantFor-unauthorized",
    file: REG,
    ...drop("", "_authorize(owner);\n        ", "_bubble(_grantIn(_context(owner)"),
    why: "only the owner or its current manager may grantFor",
  },
  {
    id: "registry/revokeFor-unauthorized",
    file: REG,
    ...drop("", "_authorize(owner);\n        ", "_bubble(_revoke(owner"),
    why: "only the owner or its current manager may revokeFor",
  },
  {
    id: "registry/revokeAllFor-unauthorized",
    file: REG,
    original: "_revokeAll(owner, _authorize(owner));",
    replacement: "_revokeAll(owner, Via.Manager);",
    why: "only the owner or its current manager may revokeAllFor",
  },

  // ------------------------------------------------------------------ ConsentRegistry: owner writes
  {
    id: "registry/revokeAll-via-manager",
    file: REG,
    original: "_revokeAll(msg.sender, Via.Owner);",
    replacement: "_revokeAll(msg.sender, Via.Manager);",
    why: "AllConsentsRevoked must say Via.Owner for the owner's own revokeAll",
  },
  {
    id: "registry/revokeAll-epoch-not-stored",
    file: REG,
    ...drop("uint32 newEpoch = _epochs[owner] + 1;\n", "        _epochs[owner] = newEpoch;\n", ""),
    why: "revokeAll must end every consent: the new epoch has to be stored",
  },
  {
    id: "registry/context-all-grantable",
    file: REG,
    original: "return uint256(grantablePurposes()) | (uint256(_epochs[owner]) << 128)",
    replacement: "return uint256(type(uint128).max) | (uint256(_epochs[owner]) << 128)",
    why: "a grant by transaction of an undefined or deprecated purpose must revert PurposeNotGrantable",
  },
  {
    id: "registry/context-epoch-zero",
    file: REG,
    original: "return uint256(grantablePurposes()) | (uint256(_epochs[owner]) << 128)",
    replacement: "return uint256(grantablePurposes()) | (uint256(0) << 128)",
    why: "a grant after revokeAll is stored in the owner's current epoch and is live",
  },
  {
    id: "registry/grantIn-zero-grantee",
    file: REG,
    ...drop(
      "",
      "if (grantee == address(0)) return abi.encodeWithSelector(ConsentRegistryZeroGrantee.selector);\n        ",
      "if (dataId == bytes32(0)) return abi.encodeWithSelector(ConsentRegistryZeroDataId.selector);\n        if (purposes == 0)",
    ),
    why: "a grant to address(0) must revert ZeroGrantee",
  },
  {
    id: "registry/grantIn-zero-data-id",
    file: REG,
    ...drop(
      "",
      "if (dataId == bytes32(0)) return abi.encodeWithSelector(ConsentRegistryZeroDataId.selector);\n        ",
      "if (purposes == 0) return abi.encodeWithSelector(ConsentRegistryEmptyPurposes.selector);\n        uint64 nowTs = uint64(ctx >> 192);",
    ),
    why: "a grant for data id 0 must revert ZeroDataId (an unset variable is no asset)",
  },
  {
    id: "registry/grantIn-empty-purposes",
    file: REG,
    ...drop(
      "",
      "if (purposes == 0) return abi.encodeWithSelector(ConsentRegistryEmptyPurposes.selector);\n        ",
      "uint64 nowTs = uint64(ctx >> 192);",
    ),
    why: "a grant of no purpose must revert EmptyPurposes (it would look like a revocation)",
  },
  {
    id: "registry/grantIn-expiry-now-allowed",
    file: REG,
    original: "if (expiresAt != NO_EXPIRY && expiresAt <= nowTs) {",
    replacement: "if (expiresAt != NO_EXPIRY && expiresAt < nowTs) {",
    why: "a grant expiring at the current second is already expired: ExpiryInPast",
  },
  {
    id: "registry/grantIn-no-expiry-refused",
    file: REG,
    original: "if (expiresAt != NO_EXPIRY && expiresAt <= nowTs) {",
    replacement: "if (expiresAt <= nowTs) {",
    why: "NO_EXPIRY (0) means never expires, not 'in the past'",
  },
  {
    id: "registry/grantIn-past-expiry-allowed",
    file: REG,
    original: "if (expiresAt != NO_EXPIRY && expiresAt <= nowTs) {",
    replacement: "if (false) {",
    why: "a grant by transaction whose expiry has passed must revert ExpiryInPast",
  },
  {
    id: "registry/grantIn-grantable-unchecked",
    file: REG,
    original: "if (notGrantable != 0) {\n            notGrantable &= ~_keepable",
    replacement: "if (false) {\n            notGrantable &= ~_keepable",
    why: "a grant by transaction of a deprecated purpose must revert PurposeNotGrantable",
  },
  {
    id: "registry/grantIn-narrowing-refused",
    file: REG,
    ...drop(
      "if (notGrantable != 0) {\n",
      "            notGrantable &= ~_keepable(word, epoch, nowTs, expiresAt);\n",
      "",
    ),
    why: "narrowing a consent that holds a since-deprecated purpose must succeed",
  },
  {
    id: "registry/grantIn-same-generation",
    file: REG,
    original: "word = word.nextGeneration();",
    replacement: "word = (word >> ConsentSlot.VERSION_SHIFT) << ConsentSlot.VERSION_SHIFT;",
    why: "a grant by transaction must start the next generation, voiding every outstanding signature for the key",
  },
  {
    id: "registry/grantIn-version-not-stored",
    file: REG,
    original: "cell.word = word | ConsentSlot.pack(purposes, expiresAt, epoch);",
    replacement: "cell.word = ConsentSlot.pack(purposes, expiresAt, epoch);",
    why: "the key's version must survive a grant (it only ever grows)",
  },
  {
    id: "registry/grantIn-actor-is-origin",
    file: REG,
    original: "noticeHash, msg.sender, word.version());",
    // `owner` instead would not compile (stack too deep): tx.origin is the same misattribution.
    replacement: "noticeHash, tx.origin, word.version());",
    why: "ConsentGranted names the actor (msg.sender): a grant through a contract wallet names the wallet",
  },
  {
    id: "registry/grantIn-event-version",
    file: REG,
    original: "noticeHash, msg.sender, word.version());",
    replacement: "noticeHash, msg.sender, 0);",
    why: "ConsentGranted carries the stored version (audit derives via and order from it)",
  },
  {
    id: "registry/revoke-zero-key",
    file: REG,
    ...drop(
      "",
      "err = _checkKey(grantee, dataId);\n        if (err.length != 0) return err;\n        ",
      "Cell storage cell = _consents[owner][grantee][dataId];\n        uint256 versionBits",
    ),
    why: "revoke(address(0), ..) / revoke(.., 0) must revert ZeroGrantee / ZeroDataId",
  },
  {
    id: "registry/revoke-same-generation",
    file: REG,
    original: "uint256 versionBits = cell.word.nextGeneration();",
    replacement: "uint256 versionBits = (cell.word >> ConsentSlot.VERSION_SHIFT) << ConsentSlot.VERSION_SHIFT;",
    why: "a revoke must start the next generation: an older signed grant relayed later must be stale",
  },
  {
    id: "registry/revoke-event-version",
    file: REG,
    original: "msg.sender, uint64(versionBits >> ConsentSlot.VERSION_SHIFT));",
    replacement: "msg.sender, uint64(0));",
    why: "ConsentRevoked carries the key's new version (audit derives via and order from it)",
  },
  {
    id: "registry/revoke-not-cleared",
    file: REG,
    original: "cell.word = versionBits;",
    replacement: "cell.word = cell.word | versionBits;",
    why: "a revoke must clear the consent",
  },

  // ------------------------------------------------------------------ ConsentRegistry: signatures
  {
    id: "registry/revokeAllBySig-deadline-inclusive",
    file: REG,
    original: "if (nowTs > r.deadline) revert ConsentRegistrySignatureExpired(r.deadline, nowTs);",
    replacement: "if (nowTs >= r.deadline) revert ConsentRegistrySignatureExpired(r.deadline, nowTs);",
    why: "a signed RevokeAll is valid up to and including its deadline second",
  },
  {
    id: "registry/revokeAllBySig-deadline-unchecked",
    file: REG,
    ...drop(
      "",
      "if (nowTs > r.deadline) revert ConsentRegistrySignatureExpired(r.deadline, nowTs);\n        ",
      "uint32 epoch = _epochs[r.owner];",
    ),
    why: "a signed RevokeAll past its deadline must revert SignatureExpired",
  },
  {
    id: "registry/revokeAllBySig-epoch-unchecked",
    file: REG,
    ...drop(
      "",
      "if (r.epoch != epoch) revert ConsentRegistryStaleSignature(r.owner, r.epoch, 0, epoch, 0);\n        ",
      "",
    ),
    why: "a signed RevokeAll applies once: replayed in a later epoch it is StaleSignature",
  },
  {
    id: "registry/revokeAllBySig-signature-unchecked",
    file: REG,
    ...drop(
      "",
      "if (!SignatureVerification.isValid(r.owner, _hashTypedDataV4(ConsentHashes.hash(r)), r.signature, 0)) {\n            revert ConsentRegistryInvalidSignature(r.owner);\n        }\n        ",
      "_revokeAll(r.owner, Via.Signature);",
    ),
    why: "anyone could lock an owner down without its signature",
  },
  {
    id: "registry/revokeAllBySig-via-owner",
    file: REG,
    original: "_revokeAll(r.owner, Via.Signature);",
    replacement: "_revokeAll(r.owner, Via.Owner);",
    why: "AllConsentsRevoked must say Via.Signature for a relayed RevokeAll",
  },
  {
    id: "registry/grantBySig-deadline-inclusive",
    file: REG,
    original:
      "if (nowTs > r.deadline) {\n            return abi.encodeWithSelector(ConsentRegistrySignatureExpired.selector, r.deadline, nowTs);\n        }\n        err = _checkGrantInput",
    replacement:
      "if (nowTs >= r.deadline) {\n            return abi.encodeWithSelector(ConsentRegistrySignatureExpired.selector, r.deadline, nowTs);\n        }\n        err = _checkGrantInput",
    why: "a signed grant is valid up to and including its deadline second",
  },
  {
    id: "registry/grantBySig-deadline-unchecked",
    file: REG,
    original:
      "if (nowTs > r.deadline) {\n            return abi.encodeWithSelector(ConsentRegistrySignatureExpired.selector, r.deadline, nowTs);\n        }\n        err = _checkGrantInput",
    replacement: "err = _checkGrantInput",
    why: "a signed grant past its deadline must be refused SignatureExpired",
  },
  {
    id: "registry/grantBySig-input-unchecked",
    file: REG,
    ...drop(
      "",
      "err = _checkGrantInput(r.grantee, r.dataId, r.purposes);\n        if (err.length != 0) return err;\n        ",
      "",
    ),
    why: "a signed grant with a zero key or no purpose must be refused (ZeroGrantee/ZeroDataId/EmptyPurposes)",
  },
  {
    id: "registry/grantBySig-ordering-unchecked",
    file: REG,
    ...drop(
      "",
      "err = _checkSigned(r.owner, word, epoch, r.epoch, r.version);\n        if (err.length != 0) return err;\n        ",
      "",
    ),
    why: "the heart of the rule: a stale signed grant (replayed, older, before revokeAll) must never apply",
  },
  {
    id: "registry/grantBySig-signature-unchecked",
    file: REG,
    ...drop(
      "",
      "if (!SignatureVerification.isValid(r.owner, _hashTypedDataV4(ConsentHashes.hash(r)), r.signature, 0)) {\n            return abi.encodeWithSelector(ConsentRegistryInvalidSignature.selector, r.owner);\n        }\n        ",
      "uint128 purposes",
    ),
    why: "anyone could grant in an owner's name",
  },
  {
    id: "registry/grantBySig-ungrantable-kept",
    file: REG,
    original: "uint128 purposes = r.purposes & (grantablePurposes() | _keepable(word, epoch, nowTs, r.expiresAt));",
    replacement: "uint128 purposes = r.purposes;",
    why: "a signed grant relayed after a deprecation must drop the purposes no longer grantable",
  },
  {
    id: "registry/grantBySig-live-purposes-dropped",
    file: REG,
    original: "uint128 purposes = r.purposes & (grantablePurposes() | _keepable(word, epoch, nowTs, r.expiresAt));",
    replacement: "uint128 purposes = r.purposes & grantablePurposes();",
    why: "a signed narrowing keeps the deprecated purposes the live consent already holds",
  },
  {
    id: "registry/grantBySig-version-not-stored",
    file: REG,
    original:
      "cell.word = (uint256(r.version) << ConsentSlot.VERSION_SHIFT) | ConsentSlot.pack(purposes, r.expiresAt, epoch);",
    replacement: "cell.word = ConsentSlot.pack(purposes, r.expiresAt, epoch);",
    why: "an applied signed grant must record its version, or it (and older ones) could be replayed",
  },
  {
    id: "registry/grantBySig-message-epoch-stored",
    file: REG,
    original:
      "cell.word = (uint256(r.version) << ConsentSlot.VERSION_SHIFT) | ConsentSlot.pack(purposes, r.expiresAt, epoch);",
    replacement:
      "cell.word = (uint256(r.version) << ConsentSlot.VERSION_SHIFT) | ConsentSlot.pack(purposes, r.expiresAt, r.epoch);",
    why: "the stored epoch must be the owner's",
    equivalent: "_checkSigned has just required r.epoch == epoch, so both store the same value",
  },
  {
    id: "registry/grantBySig-event-requested-purposes",
    file: REG,
    original: "emit ConsentGranted(r.owner, r.grantee, r.dataId, purposes, r.expiresAt",
    replacement: "emit ConsentGranted(r.owner, r.grantee, r.dataId, r.purposes, r.expiresAt",
    why: "ConsentGranted's purposes is what was stored (deprecated ones dropped), not what was signed",
  },
  {
    id: "registry/revokeBySig-deadline-inclusive",
    file: REG,
    original:
      "if (nowTs > r.deadline) {\n            return abi.encodeWithSelector(ConsentRegistrySignatureExpired.selector, r.deadline, nowTs);\n        }\n        err = _checkKey",
    replacement:
      "if (nowTs >= r.deadline) {\n            return abi.encodeWithSelector(ConsentRegistrySignatureExpired.selector, r.deadline, nowTs);\n        }\n        err = _checkKey",
    why: "a signed revoke is valid up to and including its deadline second",
  },
  {
    id: "registry/revokeBySig-deadline-unchecked",
    file: REG,
    original:
      "if (nowTs > r.deadline) {\n            return abi.encodeWithSelector(ConsentRegistrySignatureExpired.selector, r.deadline, nowTs);\n        }\n        err = _checkKey",
    replacement: "err = _checkKey",
    why: "a signed revoke past its deadline must be refused SignatureExpired",
  },
  {
    id: "registry/revokeBySig-zero-key",
    file: REG,
    ...drop("", "err = _checkKey(r.grantee, r.dataId);\n        if (err.length != 0) return err;\n        ", ""),
    why: "a signed revoke with a zero key must be refused ZeroGrantee / ZeroDataId",
  },
  {
    id: "registry/revokeBySig-ordering-unchecked",
    file: REG,
    ...drop(
      "",
      "err = _checkSigned(r.owner, cell.word, _epochs[r.owner], r.epoch, r.version);\n        if (err.length != 0) return err;\n        ",
      "",
    ),
    why: "a withheld signed revoke relayed after a re-grant must not kill the new consent",
  },
  {
    id: "registry/revokeBySig-signature-unchecked",
    file: REG,
    ...drop(
      "",
      "if (!SignatureVerification.isValid(r.owner, _hashTypedDataV4(ConsentHashes.hash(r)), r.signature, walletGas)) {\n            return abi.encodeWithSelector(ConsentRegistryInvalidSignature.selector, r.owner);\n        }\n        ",
      "cell.word = uint256(r.version)",
    ),
    why: "anyone could revoke an owner's consent",
  },
  {
    id: "registry/revokeBySig-version-not-stored",
    file: REG,
    original: "cell.word = uint256(r.version) << ConsentSlot.VERSION_SHIFT;",
    replacement: "cell.word = (cell.word >> ConsentSlot.VERSION_SHIFT) << ConsentSlot.VERSION_SHIFT;",
    why: "an applied signed revoke must record its version: older signed grants are then stale",
  },

  // ------------------------------------------------------------------ ConsentRegistry: records
  {
    id: "registry/recordUse-unchecked",
    file: REG,
    ...drop(
      "",
      "if (!_isAllowed(owner, msg.sender, dataId, purpose)) {\n            return abi.encodeWithSelector(ConsentRegistryConsentRequired.selector, owner, msg.sender, dataId, purpose);\n        }\n        ",
      "emit DataUsed",
    ),
    why: "a use without the owner's consent must revert ConsentRequired",
  },
  {
    id: "registry/recordShare-sender-unchecked",
    file: REG,
    ...drop(
      "",
      "if (!_isAllowed(owner, msg.sender, dataId, purpose)) {\n            return abi.encodeWithSelector(ConsentRegistryConsentRequired.selector, owner, msg.sender, dataId, purpose);\n        }\n        ",
      "if (!_isAllowed(owner, to, dataId, purpose)) {",
    ),
    why: "a share needs the sender's own consent",
  },
  {
    id: "registry/recordShare-recipient-unchecked",
    file: REG,
    ...drop(
      "",
      "if (!_isAllowed(owner, to, dataId, purpose)) {\n            return abi.encodeWithSelector(ConsentRegistryConsentRequired.selector, owner, to, dataId, purpose);\n        }\n        ",
      "",
    ),
    why: "a share needs the recipient's consent too",
  },
  {
    id: "registry/recordShare-integration-unchecked",
    file: REG,
    ...drop(
      "",
      "if (!_integrations.isActiveIntegration(to, purpose)) {\n            return abi.encodeWithSelector(ConsentRegistryIntegrationNotActive.selector, to, purpose);\n        }\n        ",
      "",
    ),
    why: "a share to a non-integration (or a suspended one) must revert IntegrationNotActive",
  },
  {
    id: "registry/recordShare-integration-is-sender",
    file: REG,
    original: "if (!_integrations.isActiveIntegration(to, purpose)) {",
    replacement: "if (!_integrations.isActiveIntegration(msg.sender, purpose)) {",
    why: "the recipient, not the sender, must be the active integration",
  },

  // ------------------------------------------------------------------ ConsentRegistry: checks
  {
    id: "registry/checkKey-zero-grantee",
    file: REG,
    ...drop(
      "",
      "if (grantee == address(0)) return abi.encodeWithSelector(ConsentRegistryZeroGrantee.selector);\n        ",
      "if (dataId == bytes32(0)) return abi.encodeWithSelector(ConsentRegistryZeroDataId.selector);\n    }",
    ),
    why: "revoke / signed messages for address(0) must be refused ZeroGrantee",
  },
  {
    id: "registry/checkKey-zero-data-id",
    file: REG,
    ...drop(
      "return abi.encodeWithSelector(ConsentRegistryZeroGrantee.selector);\n",
      "        if (dataId == bytes32(0)) return abi.encodeWithSelector(ConsentRegistryZeroDataId.selector);\n",
      "    }",
    ),
    why: "revoke / signed messages for data id 0 must be refused ZeroDataId",
  },
  {
    id: "registry/checkGrantInput-empty-purposes",
    file: REG,
    ...drop(
      "if (err.length != 0) return err;\n",
      "        if (purposes == 0) return abi.encodeWithSelector(ConsentRegistryEmptyPurposes.selector);\n",
      "    }",
    ),
    why: "a signed grant of no purpose must be refused EmptyPurposes",
  },
  {
    id: "registry/checkSigned-epoch-unchecked",
    file: REG,
    original: "epoch != currentEpoch ||\n            signedVersion <= current ||",
    replacement: "signedVersion <= current ||",
    why: "a signature made before revokeAll must be stale after it",
  },
  {
    id: "registry/checkSigned-replay-allowed",
    file: REG,
    original: "signedVersion <= current ||",
    replacement: "signedVersion < current ||",
    why: "re-relaying an applied signed message (same version) must be StaleSignature",
  },
  {
    id: "registry/checkSigned-older-allowed",
    file: REG,
    original: "epoch != currentEpoch ||\n            signedVersion <= current ||\n",
    replacement: "epoch != currentEpoch ||\n",
    why: "an older signed message of the same generation relayed after a newer one must be stale",
  },
  {
    id: "registry/checkSigned-generation-unchecked",
    file: REG,
    original:
      "signedVersion <= current ||\n            signedVersion >> VERSION_SEQUENCE_BITS != current >> VERSION_SEQUENCE_BITS\n",
    replacement: "signedVersion <= current\n",
    why: "a message signed for a later generation must be stale (only the current generation counts)",
  },

  // ------------------------------------------------------------------ ConsentRegistry: keepable
  {
    id: "registry/keepable-inactive-kept",
    file: REG,
    original: "if (!word.isActive(epoch, nowTs)) return 0;",
    replacement: "",
    why: "only a LIVE consent's purposes may be kept once deprecated (not an expired or locked-down one)",
  },
  {
    id: "registry/keepable-same-expiry-refused",
    file: REG,
    original: "expiresAt > oldExpiry)) return 0;",
    replacement: "expiresAt >= oldExpiry)) return 0;",
    why: "narrowing purposes with the same expiry must keep the deprecated purposes",
  },
  {
    id: "registry/keepable-old-no-expiry",
    file: REG,
    original: "if (oldExpiry != NO_EXPIRY && (expiresAt",
    replacement: "if ((expiresAt",
    why: "a consent with no expiry may be narrowed to any expiry",
  },
  {
    id: "registry/keepable-new-no-expiry",
    file: REG,
    original: "(expiresAt == NO_EXPIRY || expiresAt > oldExpiry)",
    replacement: "(expiresAt > oldExpiry)",
    why: "turning a finite consent into a no-expiry one widens it: deprecated purposes are not kept",
  },

  // ------------------------------------------------------------------ ConsentRegistry: isAllowed
  {
    id: "registry/isAllowed-max-purpose-gte",
    file: REG,
    original: "if (purpose > MAX_PURPOSE_ID) return false;\n        uint256 bit",
    replacement: "if (purpose >= MAX_PURPOSE_ID) return false;\n        uint256 bit",
    why: "purpose 127 is a valid id: granted, it must be allowed (review survivor)",
  },
  {
    id: "registry/isAllowed-max-purpose-unchecked",
    file: REG,
    original: "if (purpose > MAX_PURPOSE_ID) return false;\n        uint256 bit",
    replacement: "uint256 bit",
    why: "purpose ids above 127 hit the expiry/epoch/version bits of the word and must never be allowed",
  },
  {
    id: "registry/isAllowed-specific-inactive",
    file: REG,
    original: "if (word & bit != 0 && word.isActive(_epochs[owner], _time())) return true;",
    replacement: "if (word & bit != 0) return true;",
    why: "an expired or locked-down specific consent must not allow",
  },
  {
    id: "registry/isAllowed-zero-data-id-falls-back",
    file: REG,
    original: "if (uint256(dataId) + 1 <= 1) return false;",
    replacement: "if (dataId == ALL_DATA) return false;",
    why: "data id 0 must never fall back to the ALL_DATA consent",
  },
  {
    id: "registry/isAllowed-guard-dropped",
    file: REG,
    original: "if (uint256(dataId) + 1 <= 1) return false;",
    replacement: "",
    why: "no fallback for data id 0 (and none needed for ALL_DATA itself)",
  },
  {
    id: "registry/isAllowed-guard-zero-only",
    file: REG,
    original: "if (uint256(dataId) + 1 <= 1) return false;",
    replacement: "if (dataId == bytes32(0)) return false;",
    why: "the guard also skips the fallback for ALL_DATA itself",
    equivalent:
      "for dataId == ALL_DATA the fallback re-reads the same word and repeats the same test: only gas changes",
  },
  {
    id: "registry/isAllowed-fallback-inactive",
    file: REG,
    original: "return word & bit != 0 && word.isActive(_epochs[owner], _time());",
    replacement: "return word & bit != 0;",
    why: "an expired or locked-down ALL_DATA consent must not allow",
  },
  {
    id: "registry/isAllowed-fallback-any-purpose",
    file: REG,
    original: "return word & bit != 0 && word.isActive(_epochs[owner], _time());",
    replacement: "return word.isActive(_epochs[owner], _time());",
    why: "an ALL_DATA consent allows only its own purposes",
  },
  {
    id: "registry/isAllowed-no-fallback",
    file: REG,
    original: "word = byData[ALL_DATA].word;",
    replacement: "word = byData[dataId].word;",
    why: "every specific check honours the owner's ALL_DATA consent",
  },
  {
    id: "registry/getConsent-active-ignores-state",
    file: REG,
    original: "active: word.isActive(_epochs[owner], _time())",
    replacement: "active: word.purposes() != 0",
    why: "getConsent.active is false for an expired or locked-down consent",
  },
  {
    id: "registry/activePurposes-inactive",
    file: REG,
    original: "if (!word.isActive(_epochs[owner], _time())) return 0;",
    replacement: "",
    why: "activePurposes is 0 for an expired or locked-down consent",
  },
  {
    id: "registry/bubble-swallows-errors",
    file: REG,
    original: "if (err.length != 0) {\n            /// @solidity memory-safe-assembly",
    replacement: "if (false) {\n            /// @solidity memory-safe-assembly",
    why: "single calls must revert with the exact error the internal check returned",
  },

  // ------------------------------------------------------------------ ConsentSlot
  {
    id: "slot/pack-drops-epoch",
    file: SLOT,
    original: " | (uint256(epoch_) << _EPOCH_SHIFT);",
    replacement: ";",
    why: "a consent granted after a lockdown must carry the new epoch, or it is dead on arrival",
  },
  {
    id: "slot/pack-drops-expiry",
    file: SLOT,
    original: " | (uint256(expiresAt_) << _EXPIRES_SHIFT)",
    replacement: "",
    why: "a consent with an expiry must expire",
  },
  {
    id: "slot/nextGeneration-keeps-sequence",
    file: SLOT,
    original: "return ((word | _SEQUENCE_IN_WORD) + (uint256(1) << VERSION_SHIFT)) & _VERSION_IN_WORD;",
    replacement: "return (word + (uint256(1) << VERSION_SHIFT)) & _VERSION_IN_WORD;",
    why: "a transaction change must start the next generation at sequence 0 (the sequence mask)",
  },
  {
    id: "slot/nextGeneration-keeps-fields",
    file: SLOT,
    original: "return ((word | _SEQUENCE_IN_WORD) + (uint256(1) << VERSION_SHIFT)) & _VERSION_IN_WORD;",
    replacement: "return ((word | _SEQUENCE_IN_WORD) + (uint256(1) << VERSION_SHIFT));",
    why: "the next generation's word keeps only the version: a revoke clears purposes and expiry",
  },
  {
    id: "slot/isActive-ignores-purposes",
    file: SLOT,
    original: "return uint128(word) != 0 && epoch(word) == currentEpoch",
    replacement: "return epoch(word) == currentEpoch",
    why: "a revoked key (purposes 0, version kept) is not an active consent",
  },
  {
    id: "slot/isActive-ignores-epoch",
    file: SLOT,
    original: "return uint128(word) != 0 && epoch(word) == currentEpoch && (exp == 0 || nowTs < exp);",
    replacement: "return uint128(word) != 0 && (exp == 0 || nowTs < exp);",
    why: "revokeAll ends every consent of the earlier epoch",
  },
  {
    id: "slot/isActive-no-expiry-expired",
    file: SLOT,
    original: "(exp == 0 || nowTs < exp)",
    replacement: "(nowTs < exp)",
    why: "a consent with NO_EXPIRY never expires",
  },
  {
    id: "slot/isActive-expiry-inclusive",
    file: SLOT,
    original: "(exp == 0 || nowTs < exp)",
    replacement: "(exp == 0 || nowTs <= exp)",
    why: "a consent is expired AT expiresAt",
  },
  {
    id: "slot/expiresAt-truncated",
    file: SLOT,
    original: "return uint40(word >> _EXPIRES_SHIFT);",
    replacement: "return uint32(word >> _EXPIRES_SHIFT);",
    why: "expiresAt is 40 bits: an expiry past 2106 (up to MAX_EXPIRY) must read back exactly",
  },

  // ------------------------------------------------------------------ ConsentHashes
  {
    id: "hashes/grant-type-order",
    file: HASHES,
    original: '"bytes32 noticeHash,uint32 epoch,uint64 version,uint256 deadline)"',
    replacement: '"bytes32 noticeHash,uint64 version,uint32 epoch,uint256 deadline)"',
    why: "the Grant type string must be exactly the SDK's (wallets sign that type)",
  },
  {
    id: "hashes/grant-notice-unsigned",
    file: HASHES,
    original: "r.expiresAt,\n                    r.noticeHash,",
    replacement: "r.expiresAt,\n                    bytes32(0),",
    why: "the notice the owner saw is part of what it signs",
  },
  {
    id: "hashes/revoke-epoch-unsigned",
    file: HASHES,
    original: "r.dataId, r.epoch, r.version, r.deadline));",
    replacement: "r.dataId, uint32(0), r.version, r.deadline));",
    why: "a signed revoke binds the owner's epoch",
  },
  {
    id: "hashes/revokeAll-deadline-unsigned",
    file: HASHES,
    original: "abi.encode(REVOKE_ALL_TYPEHASH, r.owner, r.epoch, r.deadline)",
    replacement: "abi.encode(REVOKE_ALL_TYPEHASH, r.owner, r.epoch, uint256(0))",
    why: "a relayer must not be able to extend a RevokeAll's deadline",
  },

  // ------------------------------------------------------------------ SignatureVerification
  {
    id: "sig/any-signer-accepted",
    file: SIG,
    original: "if (err == ECDSA.RecoverError.NoError && recovered == signer) return true;",
    replacement: "if (err == ECDSA.RecoverError.NoError) return true;",
    why: "a valid signature by another key must not act for the owner",
  },
  {
    id: "sig/recover-error-ignored",
    file: SIG,
    original: "if (err == ECDSA.RecoverError.NoError && recovered == signer) return true;",
    replacement: "if (recovered == signer) return true;",
    why: "a garbage signature recovers address(0): a message naming owner address(0) must not pass",
  },
  {
    id: "sig/ecdsa-refused",
    file: SIG,
    original: "if (signature.length == 65) {",
    replacement: "if (false) {",
    why: "standard 65-byte ECDSA signatures are accepted",
  },
  {
    id: "sig/compact-refused",
    file: SIG,
    original: "} else if (signature.length == 64) {",
    replacement: "} else if (false) {",
    why: "EIP-2098 64-byte signatures are accepted",
  },
  {
    id: "sig/erc1271-without-code",
    file: SIG,
    original: "signer.code.length != 0 && SignatureChecker",
    replacement: "SignatureChecker",
    why: "an EOA with a bad ECDSA signature is refused",
    equivalent:
      "a STATICCALL to an account without code returns no data, which OpenZeppelin's ERC-1271 check already refuses (and no precompile returns the magic word): only gas changes",
  },

  {
    id: "sig/wallet-gas-uncapped",
    file: SIG,
    original: "if (walletGas != 0) {",
    replacement: "if (false) {",
    why: "a looping wallet in a revokeBySigBatch must cost at most its budget, not the whole batch (review of 2 Dec)",
  },
  {
    id: "sig/capped-erc1271-without-code",
    file: SIG,
    original: "return signer.code.length != 0 && _isValidERC1271Capped(",
    replacement: "return _isValidERC1271Capped(",
    why: "an EOA with a bad ECDSA signature is refused in a batch too",
    equivalent:
      "a STATICCALL to an account without code returns no data, which the capped check refuses as OpenZeppelin's does: only gas changes",
  },
  {
    id: "sig/underfunded-batch-unchecked",
    file: SIG,
    original: "if (!result && gasleft() < walletGas / 63) {",
    replacement: "if (false) {",
    why: "a relayer that sends too little gas must not make a valid wallet signature read as invalid",
  },

  // ------------------------------------------------------------------ ConsentGated
  {
    id: "gated/tx-origin",
    file: GATED,
    original: "_requireConsent(owner, msg.sender, dataId, purpose);\n        _;",
    replacement: "_requireConsent(owner, tx.origin, dataId, purpose);\n        _;",
    why: "the gate checks the calling contract, never tx.origin (review survivor)",
  },
  {
    id: "gated/modifier-unchecked",
    file: GATED,
    original: "_requireConsent(owner, msg.sender, dataId, purpose);\n        _;",
    replacement: "_;",
    why: "onlyWithConsent must refuse a caller without consent",
  },
  {
    id: "gated/zero-registry",
    file: GATED,
    original: "if (address(registry_) == address(0)) revert ConsentGatedZeroRegistry();",
    replacement: "",
    why: "a gate with no registry must not deploy",
  },
  {
    id: "gated/require-unchecked",
    file: GATED,
    original: "if (!_consentRegistry.isAllowed(owner, grantee, dataId, purpose)) {",
    replacement: "if (false) {",
    why: "_requireConsent must revert ConsentRequired without consent",
  },
  {
    id: "gated/require-checks-sender",
    file: GATED,
    original: "if (!_consentRegistry.isAllowed(owner, grantee, dataId, purpose)) {",
    replacement: "if (!_consentRegistry.isAllowed(owner, msg.sender, dataId, purpose)) {",
    why: "_requireConsent checks the named grantee, not msg.sender",
  },
  {
    id: "gated/hasConsent-swapped",
    file: GATED,
    original: "return _consentRegistry.isAllowed(owner, grantee, dataId, purpose);",
    replacement: "return _consentRegistry.isAllowed(grantee, owner, dataId, purpose);",
    why: "_hasConsent asks about owner's consent to grantee, not the reverse",
  },

  // ------------------------------------------------------------------ TrainingJobBoard (example)
  {
    id: "board/zero-processor",
    file: BOARD,
    original: "if (processor == address(0)) revert TrainingJobBoardZeroProcessor();",
    replacement: "",
    why: "a job needs a processor",
  },
  {
    id: "board/purpose-127-refused",
    file: BOARD,
    original: "if (purpose > MAX_PURPOSE_ID) revert TrainingJobBoardPurposeOutOfRange(purpose);",
    replacement: "if (purpose >= MAX_PURPOSE_ID) revert TrainingJobBoardPurposeOutOfRange(purpose);",
    why: "purpose 127 is a valid job purpose",
  },
  {
    id: "board/purpose-range-unchecked",
    file: BOARD,
    original: "if (purpose > MAX_PURPOSE_ID) revert TrainingJobBoardPurposeOutOfRange(purpose);",
    replacement: "",
    why: "a job for purpose 128..255 can never get consent: refused at creation",
  },
  {
    id: "board/not-creator",
    file: BOARD,
    original: "if (job.creator != msg.sender) revert TrainingJobBoardNotCreator(jobId, msg.sender);",
    replacement: "",
    why: "only the job's creator may add data",
  },
  {
    id: "board/zero-data-id",
    file: BOARD,
    original: "if (dataId == bytes32(0)) revert TrainingJobBoardZeroDataId();",
    replacement: "",
    why: "data id 0 names no asset",
  },
  {
    id: "board/duplicate",
    file: BOARD,
    original: "if (_added[jobId][owner][dataId]) revert TrainingJobBoardDuplicateData(jobId, owner, dataId);",
    replacement: "",
    why: "an item is added to a job once",
  },
  {
    id: "board/consent-of-creator",
    file: BOARD,
    original: "_requireConsent(owner, job.processor, dataId, job.purpose);",
    replacement: "_requireConsent(owner, msg.sender, dataId, job.purpose);",
    why: "the consent needed is the job processor's, not the creator's",
  },
  {
    id: "board/consent-default-purpose",
    file: BOARD,
    original: "_requireConsent(owner, job.processor, dataId, job.purpose);",
    replacement: "_requireConsent(owner, job.processor, dataId, Purposes.MODEL_TRAINING);",
    why: "the consent needed is for the job's purpose",
  },
  {
    id: "board/contributors-per-item",
    file: BOARD,
    original: "if (!_isContributor[jobId][owner]) {",
    replacement: "if (true) {",
    why: "contributors counts distinct owners, not items",
  },
  {
    id: "board/unknown-job",
    file: BOARD,
    original: "if (job.creator == address(0)) revert TrainingJobBoardUnknownJob(jobId);",
    replacement: "",
    why: "reading or adding to a job that does not exist reverts UnknownJob",
  },
  {
    id: "board/index-boundary",
    file: BOARD,
    original: "if (index >= items.length) revert",
    replacement: "if (index > items.length) revert",
    why: "index == count is out of range: IndexOutOfRange, not a panic",
  },
  {
    id: "board/stillConsented-creator",
    file: BOARD,
    original: "return _hasConsent(item.owner, job.processor, item.dataId, job.purpose);",
    replacement: "return _hasConsent(item.owner, job.creator, item.dataId, job.purpose);",
    why: "stillConsented checks the processor's consent",
  },

  // ------------------------------------------------------------------ ConsentAccessManager
  {
    id: "manager/min-delay-exclusive",
    file: CAM,
    original: "executionDelay < _minExecutionDelay) {",
    replacement: "executionDelay <= _minExecutionDelay) {",
    why: "a member with exactly the minimum execution delay is allowed",
  },
  {
    id: "manager/min-delay-unchecked",
    file: CAM,
    original: "if (address(this).code.length != 0 && executionDelay < _minExecutionDelay) {",
    replacement: "if (false) {",
    why: "rule 1: a role grant with less than the minimum execution delay must revert DelayTooShort",
  },
  {
    id: "manager/constructor-not-exempt",
    file: CAM,
    original: "if (address(this).code.length != 0 && executionDelay < _minExecutionDelay) {",
    replacement: "if (executionDelay < _minExecutionDelay) {",
    why: "the constructor's one bootstrap grant (no delay, to the deployer contract) is exempt",
    equivalent:
      "the base constructor's bootstrap grant runs before `_minExecutionDelay` is assigned, so the minimum " +
      "reads 0 there and the grant passes either way; the explicit construction check is kept so the " +
      "exemption does not rest on reading an unassigned immutable (which linters flag)",
  },
  {
    id: "manager/public-function-allowed",
    file: CAM,
    original: "if (roleId == PUBLIC_ROLE) revert ConsentAccessManagerPublicFunction(target, selector);",
    replacement: "",
    why: "rule 2: no governed function may be opened to every account",
  },
  {
    id: "manager/scheduler-cannot-cancel",
    file: CAM,
    original: "if (caller == sender) return true;",
    replacement: "",
    why: "rule 3: the account that scheduled an operation may cancel it",
  },
  {
    id: "manager/admin-cancels",
    file: CAM,
    original: "(bool isGuardian, ) = hasRole(GUARDIAN_ROLE, sender);",
    replacement: "(bool isGuardian, ) = hasRole(ADMIN_ROLE, sender);",
    why: "rule 3: the instant veto is the guardian's, not the admin's",
  },
  {
    id: "manager/anyone-cancels",
    file: CAM,
    original: "return isGuardian;",
    replacement: "return true;",
    why: "rule 3: a stranger cannot cancel a scheduled operation",
  },
  {
    id: "manager/guardian-cancels-guardian-change",
    file: CAM,
    original: "if (isGuardian && isGuardianRoleChange(target, data)) {",
    replacement: "if (false) {",
    why: "rule 3: a guardian cannot veto its own removal or replacement (review of 2 Dec)",
  },
  {
    id: "manager/guardian-change-any-target",
    file: CAM,
    original: "if (target != address(this) || data.length < 0x24) return false;",
    replacement: "if (data.length < 0x24) return false;",
    why: "only the manager's own role changes are protected: a call to another contract stays vetoable",
  },
  {
    id: "manager/guardian-change-short-data",
    file: CAM,
    original: "if (target != address(this) || data.length < 0x24) return false;",
    replacement: "if (target != address(this)) return false;",
    why: "a call too short to name a role is no role change (and must not revert the cancel)",
  },
  ...(["grantRole", "revokeRole", "setRoleAdmin", "setRoleGuardian"] as const).map((fn) => ({
    id: `manager/guardian-change-${fn}-unprotected`,
    file: CAM,
    original: `selector != this.${fn}.selector &&`,
    replacement: "",
    why: `a guardian cannot cancel a ${fn} of GUARDIAN_ROLE`,
  })),
  {
    id: "manager/guardian-change-setGrantDelay-unprotected",
    file: CAM,
    original: "selector != this.setRoleGuardian.selector &&\n            selector != this.setGrantDelay.selector\n",
    replacement: "selector != this.setRoleGuardian.selector\n",
    why: "a guardian cannot cancel a setGrantDelay of GUARDIAN_ROLE",
  },
  {
    id: "manager/guardian-change-any-role",
    file: CAM,
    original: "return uint256(bytes32(data[4:0x24])) == GUARDIAN_ROLE;",
    replacement: "return true;",
    why: "changes of other roles stay under the guardian's veto",
  },
  {
    id: "manager/public-role-admin-allowed",
    file: CAM,
    original: "if (admin == PUBLIC_ROLE) revert ConsentAccessManagerPublicRoleAdmin(roleId);",
    replacement: "",
    why: "rule 2: PUBLIC_ROLE as a role's admin would let every account grant and revoke it instantly",
  },
  {
    id: "manager/public-role-guardian-allowed",
    file: CAM,
    original: "if (guardian == PUBLIC_ROLE) revert ConsentAccessManagerPublicRoleGuardian(roleId);",
    replacement: "",
    why: "rule 2: PUBLIC_ROLE as a role's guardian",
  },
  {
    id: "manager/min-delay-reported",
    file: CAM,
    original: "function minExecutionDelay() public view returns (uint32) {\n        return _minExecutionDelay;",
    replacement: "function minExecutionDelay() public view returns (uint32) {\n        return 0;",
    why: "minExecutionDelay() is the notice users rely on: it must report the real minimum",
  },

  // ------------------------------------------------------------------ ConsentSystemDeployer
  {
    id: "deployer/zero-admin",
    file: DEPLOYER,
    original: 'if (admin == address(0)) revert ConsentSystemDeployerZeroAddress("admin");',
    replacement: "",
    why: "a system with no admin must not deploy",
  },
  {
    id: "deployer/zero-governor",
    file: DEPLOYER,
    original: 'if (governor == address(0)) revert ConsentSystemDeployerZeroAddress("governor");',
    replacement: "",
    why: "a system with no governor must not deploy",
  },
  {
    id: "deployer/zero-delay",
    file: DEPLOYER,
    original: "if (executionDelay == 0) revert ConsentSystemDeployerZeroDelay();",
    replacement: "",
    why: "an execution delay of 0 gives no notice at all",
  },
  {
    id: "deployer/initial-integrations-dropped",
    file: DEPLOYER,
    original: "ir.registerIntegration(initial[i].integration, initial[i].metadataHash, initial[i].purposes);",
    replacement: "",
    why: "the integrations given at deployment are registered",
  },
  {
    id: "deployer/registry-unrouted",
    file: DEPLOYER,
    original: "m.setTargetFunctionRole(address(r), _registrySelectors(), governorRole);",
    replacement: "",
    why: "the catalogue's functions belong to GOVERNOR_ROLE (else the admin alone)",
  },
  {
    id: "deployer/integrations-unrouted",
    file: DEPLOYER,
    original: "m.setTargetFunctionRole(address(ir), _integrationSelectors(), governorRole);",
    replacement: "",
    why: "the integration registry's functions belong to GOVERNOR_ROLE",
  },
  {
    id: "deployer/reinstate-unrouted",
    file: DEPLOYER,
    original: "s[3] = IIntegrationRegistry.reinstateIntegration.selector;",
    replacement: "",
    why: "every governed selector is routed (a missing one stays with the admin)",
  },
  {
    id: "deployer/deprecate-unrouted",
    file: DEPLOYER,
    original: "s[1] = IPurposeCatalog.deprecatePurpose.selector;",
    replacement: "",
    why: "deprecatePurpose is a governor function",
  },
  {
    id: "deployer/governor-label",
    file: DEPLOYER,
    original: 'm.labelRole(governorRole, "GOVERNOR");',
    replacement: "",
    why: "the roles are labelled on-chain (RoleLabel) so tools can name them",
  },
  {
    id: "deployer/guardian-label",
    file: DEPLOYER,
    original: 'm.labelRole(guardianRole, "GUARDIAN");',
    replacement: "",
    why: "the roles are labelled on-chain (RoleLabel) so tools can name them",
  },
  {
    id: "deployer/no-governor",
    file: DEPLOYER,
    original: "m.grantRole(governorRole, governor, executionDelay);",
    replacement: "",
    why: "the governor joins GOVERNOR_ROLE",
  },
  {
    id: "deployer/zero-guardian-granted",
    file: DEPLOYER,
    original: "if (guardian != address(0)) m.grantRole(guardianRole, guardian, executionDelay);",
    replacement: "m.grantRole(guardianRole, guardian, executionDelay);",
    why: "guardian 0x0 means no guardian: nobody joins GUARDIAN_ROLE",
  },
  {
    id: "deployer/guardian-dropped",
    file: DEPLOYER,
    original: "if (guardian != address(0)) m.grantRole(guardianRole, guardian, executionDelay);",
    replacement: "",
    why: "a guardian given as parameter joins GUARDIAN_ROLE",
  },
  {
    id: "deployer/no-admin",
    file: DEPLOYER,
    original: "m.grantRole(_ADMIN_ROLE, admin, executionDelay);",
    replacement: "",
    why: "the admin parameter holds ADMIN_ROLE with the execution delay",
  },
  {
    id: "deployer/admin-grant-delay",
    file: DEPLOYER,
    original: "m.setGrantDelay(_ADMIN_ROLE, executionDelay);",
    replacement: "",
    why: "granting ADMIN_ROLE must wait the delay",
  },
  {
    id: "deployer/governor-grant-delay",
    file: DEPLOYER,
    original: "m.setGrantDelay(governorRole, executionDelay);",
    replacement: "",
    why: "granting GOVERNOR_ROLE must wait the delay",
  },
  {
    id: "deployer/guardian-grant-delay",
    file: DEPLOYER,
    original: "m.setGrantDelay(guardianRole, executionDelay);",
    replacement: "",
    why: "granting GUARDIAN_ROLE must wait the delay",
  },
  {
    id: "deployer/registry-admin-delay",
    file: DEPLOYER,
    original: "m.setTargetAdminDelay(address(r), executionDelay);",
    replacement: "",
    why: "re-routing the registry's functions must wait the delay",
  },
  {
    id: "deployer/integrations-admin-delay",
    file: DEPLOYER,
    original: "m.setTargetAdminDelay(address(ir), executionDelay);",
    replacement: "",
    why: "re-routing the integration registry's functions must wait the delay",
  },
  {
    id: "deployer/manager-admin-delay",
    file: DEPLOYER,
    original: "m.setTargetAdminDelay(address(m), executionDelay);",
    replacement: "",
    why: "changing the manager's own configuration must wait the delay",
  },
  {
    id: "deployer/keeps-admin",
    file: DEPLOYER,
    original: "m.renounceRole(_ADMIN_ROLE, address(this));",
    replacement: "",
    why: "the deployer contract must not keep its instant bootstrap ADMIN_ROLE",
  },

  // ------------------------------------------------------------------ IntegrationRegistry
  {
    id: "integrations/register-zero",
    file: INTEGRATIONS,
    original: "if (integration == address(0)) revert IntegrationRegistryZeroAddress();",
    replacement: "",
    why: "address(0) cannot be an integration",
  },
  {
    id: "integrations/register-empty",
    file: INTEGRATIONS,
    ...drop(
      "",
      "if (purposes == 0) revert IntegrationRegistryEmptyPurposes();\n        ",
      "Integration storage entry = _integrations[integration];\n        if (entry.status != Status.None)",
    ),
    why: "an integration registered for no purpose must revert EmptyPurposes",
  },
  {
    id: "integrations/register-twice",
    file: INTEGRATIONS,
    original: "if (entry.status != Status.None) revert IntegrationRegistryAlreadyRegistered(integration);",
    replacement: "",
    why: "re-registering must revert AlreadyRegistered (it would reinstate a suspended integration)",
  },
  {
    id: "integrations/register-metadata",
    file: INTEGRATIONS,
    ...drop(
      "entry.status = Status.Active;\n",
      "        entry.metadataHash = metadataHash;\n",
      "        emit IntegrationRegistered",
    ),
    why: "the registered metadata hash is stored",
  },
  {
    id: "integrations/update-empty",
    file: INTEGRATIONS,
    ...drop(
      "",
      "if (purposes == 0) revert IntegrationRegistryEmptyPurposes();\n        ",
      "Integration storage entry = _integrations[integration];\n        if (entry.status == Status.None)",
    ),
    why: "updating to no purpose must revert EmptyPurposes",
  },
  {
    id: "integrations/update-unregistered",
    file: INTEGRATIONS,
    original: "if (entry.status == Status.None) revert IntegrationRegistryNotRegistered(integration);",
    replacement: "",
    why: "updating an unknown integration must revert NotRegistered",
  },
  {
    id: "integrations/update-purposes",
    file: INTEGRATIONS,
    ...drop(
      "",
      "entry.purposes = purposes;\n        ",
      "entry.metadataHash = metadataHash;\n        emit IntegrationUpdated",
    ),
    why: "an update changes the integration's purposes",
  },
  {
    id: "integrations/suspend-status",
    file: INTEGRATIONS,
    original: "if (entry.status != Status.Active) revert IntegrationRegistryWrongStatus(integration, entry.status);",
    replacement: "",
    why: "only an active integration can be suspended (an unknown one stays unknown)",
  },
  {
    id: "integrations/suspend-noop",
    file: INTEGRATIONS,
    original: "entry.status = Status.Suspended;",
    replacement: "",
    why: "a suspended integration stops receiving shares",
  },
  {
    id: "integrations/reinstate-status",
    file: INTEGRATIONS,
    original: "if (entry.status != Status.Suspended) revert IntegrationRegistryWrongStatus(integration, entry.status);",
    replacement: "",
    why: "only a suspended integration can be reinstated (an unknown one must not become active)",
  },
  {
    id: "integrations/active-127-refused",
    file: INTEGRATIONS,
    original: "if (purpose > MAX_PURPOSE_ID) return false;",
    replacement: "if (purpose >= MAX_PURPOSE_ID) return false;",
    why: "an integration registered for purpose 127 is active for it",
  },
  {
    id: "integrations/active-range-unchecked",
    file: INTEGRATIONS,
    original: "if (purpose > MAX_PURPOSE_ID) return false;",
    replacement: "",
    why: "purposes above 127 are never active",
    equivalent: "purposes is a uint128: shifted right by 128..255 it is 0, so the bit test already says false",
  },
  {
    id: "integrations/active-ignores-status",
    file: INTEGRATIONS,
    original: "return entry.status == Status.Active && (entry.purposes >> purpose) & 1 == 1;",
    replacement: "return (entry.purposes >> purpose) & 1 == 1;",
    why: "a suspended integration is not active",
  },
  {
    id: "integrations/active-ignores-purpose",
    file: INTEGRATIONS,
    original: "return entry.status == Status.Active && (entry.purposes >> purpose) & 1 == 1;",
    replacement: "return entry.status == Status.Active;",
    why: "an integration is active only for its registered purposes",
  },

  // ------------------------------------------------------------------ PurposeCatalog
  {
    id: "catalog/initial-skips-first",
    file: CATALOG,
    original: "for (uint256 i = 0; i < n; ++i) {\n            _definePurpose(uint8(i), initialMetadata[i]);",
    replacement: "for (uint256 i = 1; i < n; ++i) {\n            _definePurpose(uint8(i), initialMetadata[i]);",
    why: "every initial purpose (0..n-1) is defined at deployment",
  },
  {
    id: "catalog/deprecate-127-refused",
    file: CATALOG,
    original:
      "if (id > MAX_PURPOSE_ID) revert PurposeCatalogIdOutOfRange(id);\n        uint256 catalog = _catalog;\n        uint256 bit =",
    replacement:
      "if (id >= MAX_PURPOSE_ID) revert PurposeCatalogIdOutOfRange(id);\n        uint256 catalog = _catalog;\n        uint256 bit =",
    why: "purpose 127 can be deprecated",
  },
  {
    id: "catalog/deprecate-range-unchecked",
    file: CATALOG,
    original:
      "if (id > MAX_PURPOSE_ID) revert PurposeCatalogIdOutOfRange(id);\n        uint256 catalog = _catalog;\n        uint256 bit =",
    replacement: "uint256 catalog = _catalog;\n        uint256 bit =",
    why: "deprecating id 128+ would clear a 'defined' bit of purpose id-128: IdOutOfRange",
  },
  {
    id: "catalog/deprecate-inactive",
    file: CATALOG,
    original: "if (catalog & bit == 0) revert PurposeCatalogNotActive(id);",
    replacement: "",
    why: "deprecating an undefined or already deprecated purpose must revert NotActive",
  },
  {
    id: "catalog/deprecate-noop",
    file: CATALOG,
    original: "_catalog = catalog & ~bit;",
    replacement: "_catalog = catalog;",
    why: "a deprecated purpose is no longer grantable",
  },
  {
    id: "catalog/define-127-refused",
    file: CATALOG,
    original:
      "if (id > MAX_PURPOSE_ID) revert PurposeCatalogIdOutOfRange(id);\n        uint256 catalog = _catalog;\n        uint256 definedBit",
    replacement:
      "if (id >= MAX_PURPOSE_ID) revert PurposeCatalogIdOutOfRange(id);\n        uint256 catalog = _catalog;\n        uint256 definedBit",
    why: "purpose 127 can be defined",
  },
  {
    id: "catalog/define-range-unchecked",
    file: CATALOG,
    original:
      "if (id > MAX_PURPOSE_ID) revert PurposeCatalogIdOutOfRange(id);\n        uint256 catalog = _catalog;\n        uint256 definedBit",
    replacement: "uint256 catalog = _catalog;\n        uint256 definedBit",
    why: "defining id 128+ must revert IdOutOfRange",
  },
  {
    id: "catalog/define-twice",
    file: CATALOG,
    original: "if (catalog & definedBit != 0) revert PurposeCatalogAlreadyDefined(id);",
    replacement: "",
    why: "a purpose id keeps its meaning: re-defining (or reviving a deprecated one) reverts AlreadyDefined",
  },
  {
    id: "catalog/define-not-grantable",
    file: CATALOG,
    original: "_catalog = catalog | definedBit | (uint256(1) << id);",
    replacement: "_catalog = catalog | definedBit;",
    why: "a newly defined purpose is grantable",
  },
  {
    id: "catalog/define-metadata",
    file: CATALOG,
    original: "_metadata[id] = metadataHash;",
    replacement: "",
    why: "a purpose's metadata hash is stored",
  },
  {
    id: "catalog/defined-reads-grantable",
    file: CATALOG,
    original: "return uint128(_catalog >> 128);",
    replacement: "return uint128(_catalog);",
    why: "definedPurposes includes deprecated purposes",
  },

  // ------------------------------------------------------------------ Common
  {
    id: "common/max-purpose-126",
    file: COMMON,
    original: "uint8 constant MAX_PURPOSE_ID = 127;",
    replacement: "uint8 constant MAX_PURPOSE_ID = 126;",
    why: "127 is the top purpose id everywhere (catalogue, isAllowed, integrations, the example)",
  },
];

/**
 * `npm run test:mutation -- --ci`: the mutants of the rules most likely to regress unnoticed,
 * about a third of the list (ids or id prefixes): the signed-message ordering rule (epoch,
 * version, generation), the lockdown, isAllowed and its ALL_DATA fallback, keeping deprecated
 * purposes, the consent word, signatures, the gate, and ConsentAccessManager's rules.
 */
export const CI_SUBSET = [
  "registry/checkSigned-",
  "registry/grantBySig-ordering-unchecked",
  "registry/revokeBySig-ordering-unchecked",
  "registry/grantBySig-version-not-stored",
  "registry/revokeBySig-version-not-stored",
  "registry/grantIn-version-not-stored",
  "registry/grantIn-same-generation",
  "registry/revoke-same-generation",
  "registry/revokeAll-epoch-not-stored",
  "registry/revokeAllBySig-epoch-unchecked",
  "registry/authorize-ignores-epoch",
  "registry/isManager-ignores-epoch",
  "registry/isAllowed-",
  "registry/keepable-",
  "slot/",
  "sig/",
  "gated/",
  "manager/min-delay-unchecked",
  "manager/public-function-allowed",
  "manager/anyone-cancels",
  "manager/guardian-cancels-guardian-change",
  "manager/public-role-",
  "deployer/keeps-admin",
];

/** `text` with `m` applied. Throws unless `m.original` occurs exactly once. */
export function applyMutant(text: string, m: Mutant): string {
  const at = text.indexOf(m.original);
  if (at < 0) throw new Error(`mutant ${m.id}: its original snippet is not in ${m.file} (was the code changed?)`);
  if (text.indexOf(m.original, at + 1) >= 0) {
    throw new Error(`mutant ${m.id}: its original snippet occurs more than once in ${m.file}`);
  }
  if (m.original === m.replacement) throw new Error(`mutant ${m.id}: replacement equals the original`);
  return text.slice(0, at) + m.replacement + text.slice(at + m.original.length);
}

/** 1-based line of the mutant's snippet in `text` (for the report). */
export function mutantLine(text: string, m: Mutant): number {
  return text.slice(0, text.indexOf(m.original)).split("\n").length;
}
