// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IPurposeCatalog} from "./IPurposeCatalog.sol";

/**
 * @title IConsentRegistry
 * @notice The outside view of the OmniTensor consent registry: per-address consent grants
 * (owner → grantee, data asset, purposes, expiry) that are checked, not just recorded, when a
 * processor records a data use or a third-party share.
 *
 * A consent is keyed by `(owner, grantee, dataId)`:
 * - `dataId` is a commitment to a data asset (a salted hash, never personal data). The reserved
 *   value {ALL_DATA} means "all of this owner's data"; every check for a specific asset also
 *   honours an all-data consent, so revoking a specific consent does not stop a grantee that
 *   still holds the owner's ALL_DATA consent. `bytes32(0)` is rejected so that an unset variable
 *   can never silently become a grant.
 * - `purposes` is a bitmap over purpose ids (bit `i` = purpose id `i`, see `Purposes.sol`).
 * - `expiresAt` is a unix time in seconds (a `uint40`: up to the year 36812, so that a consent,
 *   its epoch and its version fit one storage word); {NO_EXPIRY} (`0`) means the
 *   consent never expires. A consent is expired when `block.timestamp >= expiresAt`: it allows
 *   nothing *at* `expiresAt`. Every read path ({isAllowed}, {getConsent}, {activePurposes})
 *   honours expiry.
 *
 * Lockdown. {revokeAll} is the owner's "withdraw everything": in O(1), whatever the number of
 * consents, it starts a new owner *epoch*, which ends every consent, every outstanding signed
 * message and every manager of the owner at once. Managers must be appointed again afterwards.
 * (One call, not two: an owner who withdraws everything because a wallet app was compromised
 * expects that app's power gone too, and a lockdown that left managers in place would let the
 * app grant everything again in the next block.)
 *
 * The owner's latest word wins. Every key has a `version` that only grows:
 * `generation << 16 | sequence`. A change by transaction (owner or manager) moves the key to
 * the next generation, sequence 0. A signed {Grant}/{Revoke} message names the owner's `epoch`
 * and a `version`; it applies only if
 *   (1) `epoch` is the owner's current epoch, and
 *   (2) `version` is in the key's current generation and greater than the key's version;
 * applying it sets the key's version to the message's. Hence, whatever order relayers use:
 * - a signature made before a lockdown, or before any transaction change of that key, can never
 *   take effect (it names an old epoch or generation), provided it named the epoch and
 *   generation current when it was signed; one signed for a later epoch or generation is refused
 *   until the owner's own lockdown or transaction opens it (a known limit of registry 2.0,
 *   SECURITY.md "Dormant signatures": never sign such a message);
 * - of signatures made for one key in one generation, the one with the higher version (the SDK
 *   numbers them in signing order) wins: relaying an older one after it fails, relaying an older
 *   one before it is overwritten by it;
 * - no signature applies twice, and grant → revoke → old grant cannot come back (revocation keeps
 *   the version).
 * The rule compares only on-chain state and the message; it never depends on the signer's clock.
 * A signed {RevokeAll} names the epoch it ends and applies only in that epoch. A signed grant is
 * never refused for what time or governance changed after it was signed: an expiry that has
 * passed is stored (the consent is simply expired) and purposes deprecated since are dropped, so
 * a relayer cannot make an older message win by waiting. Deadlines are checked against chain
 * time; the SDK gives a later message a deadline no earlier than an outstanding older one.
 *
 * Nobody but the owner (directly, through a manager the owner appointed, or through the owner's
 * EIP-712 signature) can change the owner's consents. There is no admin, pause or upgrade path
 * over consents: governance only manages which purposes may be newly granted and which
 * integrations may receive shares, and withdrawal always works.
 */
interface IConsentRegistry is IPurposeCatalog {
    // ---------------------------------------------------------------------------------------
    // Types
    // ---------------------------------------------------------------------------------------

    /// @notice How the account in an {AllConsentsRevoked} event's `actor` field was authorised
    /// to act for `owner`. (For grants and revocations it follows from the event: see there.)
    enum Via {
        Owner, // the owner sent the transaction
        Manager, // a manager appointed by the owner sent it
        Signature // a relayer (`actor`) submitted the owner's EIP-712 signature
    }

    /**
     * @notice A consent as stored, plus whether it is active now.
     * @param purposes  bitmap of purpose ids (0 when nothing is granted)
     * @param expiresAt unix seconds; 0 = no expiry
     * @param epoch     the owner's epoch the consent was granted in
     * @param version   the key's version (see above): what the next signed message must exceed
     * @param active    granted, of the owner's current epoch, and not expired at this block
     */
    struct Consent {
        uint128 purposes;
        uint40 expiresAt;
        uint32 epoch;
        uint64 version;
        bool active;
    }

    /// @notice One grant in a batch, for the batch's owner.
    struct GrantInput {
        address grantee;
        bytes32 dataId;
        uint128 purposes;
        uint40 expiresAt;
        bytes32 noticeHash;
    }

    /// @notice One revocation in a batch, for the batch's owner.
    struct RevokeInput {
        address grantee;
        bytes32 dataId;
    }

    /// @notice A grant signed by `owner` (EIP-712 type `Grant`), to be relayed by anyone.
    /// `epoch` and `version`: see the ordering rule above.
    struct SignedGrant {
        address owner;
        address grantee;
        bytes32 dataId;
        uint128 purposes;
        uint40 expiresAt;
        bytes32 noticeHash;
        uint32 epoch;
        uint64 version;
        uint256 deadline;
        bytes signature;
    }

    /// @notice A revocation signed by `owner` (EIP-712 type `Revoke`).
    struct SignedRevoke {
        address owner;
        address grantee;
        bytes32 dataId;
        uint32 epoch;
        uint64 version;
        uint256 deadline;
        bytes signature;
    }

    /// @notice A lockdown signed by `owner` (EIP-712 type `RevokeAll`), valid in `epoch` only.
    struct SignedRevokeAll {
        address owner;
        uint32 epoch;
        uint256 deadline;
        bytes signature;
    }

    /// @notice One use record in a batch; the processor is always `msg.sender`.
    struct UseRecord {
        address owner;
        bytes32 dataId;
        uint8 purpose;
        bytes32 evidence;
    }

    /// @notice One share record in a batch; the sender is always `msg.sender`.
    struct ShareRecord {
        address owner;
        address to;
        bytes32 dataId;
        uint8 purpose;
        bytes32 evidence;
    }

    // ---------------------------------------------------------------------------------------
    // Events: everything an auditor needs to rebuild state from logs alone
    // ---------------------------------------------------------------------------------------

    /**
     * @notice `owner`'s consent for `(grantee, dataId)` is now `purposes` until `expiresAt`
     * (granted, replaced, or narrowed). The consent belongs to the owner's current epoch: the
     * `newEpoch` of the owner's latest {AllConsentsRevoked} (0 before any).
     * @param purposes   what is stored. For a signed grant: the signed purposes minus any that
     *                   governance deprecated since (kept only where the consent already had
     *                   them and the expiry is not later); it can then be 0, which allows nothing.
     * @param expiresAt  as granted; a signed grant relayed after it is stored already expired
     * @param noticeHash hash of the consent text / policy version shown to the owner (GDPR
     *                   Art. 7(1) evidence). Emitted, never stored.
     * @param actor      the account that sent the call (owner, manager, or relayer)
     * @param version    the key's version after this change. How `actor` was authorised follows
     *                   from it: a signature when `version`'s sequence (low 16 bits) is non-zero,
     *                   else the owner when `actor == owner`, else a manager (a manager is never
     *                   the owner). Carrying `version` instead of a separate `via` keeps the
     *                   event at five data words (256 gas less on every grant).
     */
    event ConsentGranted(
        address indexed owner,
        address indexed grantee,
        bytes32 indexed dataId,
        uint128 purposes,
        uint40 expiresAt,
        bytes32 noticeHash,
        address actor,
        uint64 version
    );

    /// @notice `owner` withdrew the consent for `(grantee, dataId)` (whether or not one was live;
    /// either way every signature made for it before is void). `actor` and `version` as in
    /// {ConsentGranted}.
    event ConsentRevoked(
        address indexed owner,
        address indexed grantee,
        bytes32 indexed dataId,
        address actor,
        uint64 version
    );

    /// @notice Lockdown: `owner` withdrew every consent, voided every outstanding signed
    /// message and removed every manager; consents, signatures and managers of epochs
    /// `< newEpoch` are dead.
    event AllConsentsRevoked(address indexed owner, uint32 newEpoch, address actor, Via via);

    /// @notice `owner` appointed (`approved = true`) or removed a manager. A lockdown removes
    /// every manager without this event (see {AllConsentsRevoked}).
    event ManagerSet(address indexed owner, address indexed manager, bool approved);

    /// @notice Item `index` of a {revokeBySigBatch} did not apply, for `reason` (an ABI-encoded
    /// error of this interface); the other items did.
    event SignedRevokeFailed(
        address indexed owner,
        address indexed grantee,
        bytes32 indexed dataId,
        uint256 index,
        bytes reason
    );

    /**
     * @notice `processor` used `owner`'s data asset for `purpose`, covered by consent at this block.
     * @param evidence commitment to the job / receipt (no personal data)
     */
    event DataUsed(
        address indexed owner,
        address indexed processor,
        bytes32 indexed dataId,
        uint8 purpose,
        bytes32 evidence
    );

    /**
     * @notice `from` shared `owner`'s data asset `dataId` with integration `to` for `purpose`;
     * both held the owner's consent at this block and `to` was an active integration.
     */
    event DataShared(
        address indexed owner,
        address indexed from,
        address indexed to,
        bytes32 dataId,
        uint8 purpose,
        bytes32 evidence
    );

    // ---------------------------------------------------------------------------------------
    // Errors: each names the problem and carries the values involved
    // ---------------------------------------------------------------------------------------

    /// @notice The grantee is the zero address.
    error ConsentRegistryZeroGrantee();
    /// @notice `bytes32(0)` is not a valid data id (use a salted hash, or ALL_DATA).
    error ConsentRegistryZeroDataId();
    /// @notice A grant must name at least one purpose.
    error ConsentRegistryEmptyPurposes();
    /// @notice `purposes` contains bits that are not active purposes of the catalogue (and that
    /// the current consent does not already hold with an expiry no earlier than the new one).
    error ConsentRegistryPurposeNotGrantable(uint128 purposes, uint128 notGrantable);
    /// @notice `expiresAt` is not after the current time `nowTs` (and is not NO_EXPIRY).
    error ConsentRegistryExpiryInPast(uint40 expiresAt, uint64 nowTs);
    /// @notice `caller` may not act for `owner` (not the owner, nor one of its current managers).
    error ConsentRegistryNotAuthorized(address caller, address owner);
    /// @notice The manager is the zero address or the owner itself.
    error ConsentRegistryInvalidManager(address manager);
    /// @notice `manager` already is (`approved`) or already is not a manager of `owner`: nothing would change.
    error ConsentRegistryManagerUnchanged(address owner, address manager, bool approved);
    /// @notice The signature's deadline has passed.
    error ConsentRegistrySignatureExpired(uint256 deadline, uint64 nowTs);
    /**
     * @notice The signed message is not for the current state: the owner locked down since
     * (`epoch != currentEpoch`), or changed this consent since by transaction or by a later
     * signature (`version` is not above `currentVersion` in its generation). The owner's later
     * word holds. For {RevokeAll} both versions are 0.
     */
    error ConsentRegistryStaleSignature(
        address owner,
        uint32 epoch,
        uint64 version,
        uint32 currentEpoch,
        uint64 currentVersion
    );
    /// @notice The signature is not a valid signature of `owner` over the message.
    error ConsentRegistryInvalidSignature(address owner);
    /// @notice `processor` holds no active consent of `owner` for `dataId` and `purpose`.
    error ConsentRegistryConsentRequired(address owner, address processor, bytes32 dataId, uint8 purpose);
    /// @notice `to` is not a registered, active integration allowed to receive `purpose`.
    error ConsentRegistryIntegrationNotActive(address to, uint8 purpose);
    /// @notice Item `index` of a batch failed with `reason` (one of the errors above, ABI-encoded).
    error ConsentRegistryBatchItemFailed(uint256 index, bytes reason);
    /// @notice A batch must not be empty.
    error ConsentRegistryEmptyBatch();

    // ---------------------------------------------------------------------------------------
    // Owner writes
    // ---------------------------------------------------------------------------------------

    /**
     * @notice Grants `grantee` consent to use `dataId` (or ALL_DATA) for `purposes` until
     * `expiresAt` (NO_EXPIRY = 0). Replaces any previous consent for the same key and voids every
     * signature made for it before. Narrowing always works: purposes the current consent holds
     * may be kept even if deprecated since, as long as the new expiry is not later.
     * @dev Reverts with ZeroGrantee, ZeroDataId, EmptyPurposes, PurposeNotGrantable,
     * ExpiryInPast.
     */
    function grant(address grantee, bytes32 dataId, uint128 purposes, uint40 expiresAt, bytes32 noticeHash) external;

    /// @notice Withdraws the consent for `(grantee, dataId)` and voids every signature made for
    /// it before. Always succeeds for a valid key, live consent or not (so it is also how an
    /// owner cancels a signed message for that key); reverts only with ZeroGrantee or ZeroDataId.
    function revoke(address grantee, bytes32 dataId) external;

    /// @notice Lockdown: ends every consent, every outstanding signed message and every manager
    /// of the caller in O(1) by starting a new epoch. Cannot fail.
    function revokeAll() external;

    /// @notice Several grants by the caller, all or nothing; a failure reverts with BatchItemFailed.
    function grantBatch(GrantInput[] calldata grants) external;

    /// @notice Several revocations by the caller, all or nothing.
    function revokeBatch(RevokeInput[] calldata revokes) external;

    // ---------------------------------------------------------------------------------------
    // Managers (act for an owner; cannot appoint managers; removed by a lockdown)
    // ---------------------------------------------------------------------------------------

    /// @notice Appoints (`approved = true`) or removes `manager` for the caller. Reverts with
    /// ManagerUnchanged when that is already the case.
    function setManager(address manager, bool approved) external;

    /// @notice {grant} on behalf of `owner`; the caller must be `owner` or one of its managers.
    function grantFor(
        address owner,
        address grantee,
        bytes32 dataId,
        uint128 purposes,
        uint40 expiresAt,
        bytes32 noticeHash
    ) external;

    /// @notice {revoke} on behalf of `owner`; the caller must be `owner` or one of its managers.
    function revokeFor(address owner, address grantee, bytes32 dataId) external;

    /// @notice {revokeAll} (lockdown) on behalf of `owner`; the caller must be `owner` or one of
    /// its managers (and is, like every manager, removed by it).
    function revokeAllFor(address owner) external;

    // ---------------------------------------------------------------------------------------
    // Signatures (EIP-712, ordered by epoch and version; EOA 65/64-byte or ERC-1271)
    // ---------------------------------------------------------------------------------------

    /// @notice Relays a grant signed by its owner. Anyone may submit; see the ordering rule.
    function grantBySig(SignedGrant calldata request) external;

    /// @notice Relays a revocation signed by its owner.
    function revokeBySig(SignedRevoke calldata request) external;

    /// @notice Relays a lockdown signed by its owner.
    function revokeAllBySig(SignedRevokeAll calldata request) external;

    /**
     * @notice Relays several signed grants (from any owners), all or nothing. A grant batch may
     * stay atomic: a failing item blocks no one's withdrawal, the relayer resubmits without it,
     * and an owner signing a set of grants gets all of them or none.
     */
    function grantBySigBatch(SignedGrant[] calldata requests) external;

    /**
     * @notice Relays several signed revocations (from any owners) and applies every valid one:
     * an invalid, stale or already applied item never blocks the others' withdrawal. Each
     * failed item emits {SignedRevokeFailed}.
     * @dev An ERC-1271 owner's `isValidSignature` gets at most 500,000 gas per item (a Safe needs
     * ~30,000, a passkey wallet verifying P-256 in Solidity up to ~400,000), so a wallet that
     * burns its gas costs the batch that much and no more. A wallet that needs more fails its
     * item with InvalidSignature; relay it alone with {revokeBySig}, which does not cap it. A
     * batch sent with too little gas for a wallet to get its whole budget fails entirely (as out
     * of gas) rather than report that wallet's signature as invalid.
     * @return failures `failures[i]` is the ABI-encoded error of item `i`, empty if it applied
     */
    function revokeBySigBatch(SignedRevoke[] calldata requests) external returns (bytes[] memory failures);

    // ---------------------------------------------------------------------------------------
    // Enforced records
    // ---------------------------------------------------------------------------------------

    /// @notice Records that the caller used `owner`'s `dataId` for `purpose`; reverts with
    /// ConsentRequired unless the caller holds active consent at this block.
    function recordUse(address owner, bytes32 dataId, uint8 purpose, bytes32 evidence) external;

    /// @notice Records that the caller shared `owner`'s `dataId` with integration `to`; reverts
    /// unless both hold active consent and `to` is an active integration for `purpose`.
    function recordShare(address owner, address to, bytes32 dataId, uint8 purpose, bytes32 evidence) external;

    /// @notice Several use records by the caller, all or nothing.
    function recordUseBatch(UseRecord[] calldata records) external;

    /// @notice Several share records by the caller, all or nothing.
    function recordShareBatch(ShareRecord[] calldata records) external;

    // ---------------------------------------------------------------------------------------
    // Reads
    // ---------------------------------------------------------------------------------------

    /**
     * @notice Whether `grantee` may use `owner`'s `dataId` for `purpose` now: true if the
     * specific consent or the owner's ALL_DATA consent to `grantee` is active and includes it.
     * @dev Cheap by design (two or three storage reads); see BENCHMARKS.md.
     */
    function isAllowed(address owner, address grantee, bytes32 dataId, uint8 purpose) external view returns (bool);

    /// @notice The consent stored for the exact key (no ALL_DATA fallback), with `active` now.
    function getConsent(address owner, address grantee, bytes32 dataId) external view returns (Consent memory);

    /// @notice The purposes of the exact key that are active now (0 if expired, revoked or stale).
    function activePurposes(address owner, address grantee, bytes32 dataId) external view returns (uint128);

    /// @notice The owner's current epoch (the number of lockdowns so far).
    function epochOf(address owner) external view returns (uint32);

    /// @notice Whether `manager` is currently a manager of `owner` (appointed in this epoch).
    function isManager(address owner, address manager) external view returns (bool);

    /// @notice The integration registry consulted by {recordShare}.
    function integrations() external view returns (address);

    /// @notice Semantic version of this deployment, checked by the SDK.
    function version() external view returns (string memory);
}
