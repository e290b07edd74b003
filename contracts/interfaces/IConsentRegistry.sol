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
 *   honours an all-data consent. `bytes32(0)` is rejected so that an unset variable can never
 *   silently become a grant.
 * - `purposes` is a bitmap over purpose ids (bit `i` = purpose id `i`, see `Purposes.sol`).
 * - `expiresAt` is a unix time in seconds; {NO_EXPIRY} (`0`) means the consent never expires.
 *   A consent is expired when `block.timestamp >= expiresAt`: it allows nothing *at* `expiresAt`.
 *   Every read path ({isAllowed}, {getConsent}, {activePurposes}) honours expiry.
 * - The owner's revoke-all epoch: {revokeAll} increments it, and a consent granted under an
 *   older epoch is no longer active, whatever its expiry. Cost does not depend on the number of
 *   consents.
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

    /// @notice How the account in an event's `actor` field was authorised to act for `owner`.
    enum Via {
        Owner, // the owner sent the transaction
        Manager, // a manager appointed by the owner sent it
        Signature // a relayer (`actor`) submitted the owner's EIP-712 signature
    }

    /**
     * @notice A consent as stored, plus whether it is active now.
     * @param purposes  bitmap of purpose ids (0 when nothing is stored)
     * @param expiresAt unix seconds; 0 = no expiry
     * @param epoch     the owner's revoke-all epoch the consent was granted in
     * @param active    stored, granted in the owner's current epoch, and not expired at this block
     */
    struct Consent {
        uint128 purposes;
        uint64 expiresAt;
        uint64 epoch;
        bool active;
    }

    /// @notice One grant in a batch, for the batch's owner.
    struct GrantInput {
        address grantee;
        bytes32 dataId;
        uint128 purposes;
        uint64 expiresAt;
        bytes32 noticeHash;
    }

    /// @notice One revocation in a batch, for the batch's owner.
    struct RevokeInput {
        address grantee;
        bytes32 dataId;
    }

    /// @notice A grant signed by `owner` (EIP-712 type `Grant`), to be relayed by anyone.
    struct SignedGrant {
        address owner;
        address grantee;
        bytes32 dataId;
        uint128 purposes;
        uint64 expiresAt;
        bytes32 noticeHash;
        uint256 nonce;
        uint256 deadline;
        bytes signature;
    }

    /// @notice A revocation signed by `owner` (EIP-712 type `Revoke`).
    struct SignedRevoke {
        address owner;
        address grantee;
        bytes32 dataId;
        uint256 nonce;
        uint256 deadline;
        bytes signature;
    }

    /// @notice A revoke-all signed by `owner` (EIP-712 type `RevokeAll`).
    struct SignedRevokeAll {
        address owner;
        uint256 nonce;
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
     * @notice `owner` granted (or replaced) the consent for `(grantee, dataId)`. The consent
     * belongs to the owner's current revoke-all epoch: the `newEpoch` of the owner's latest
     * {AllConsentsRevoked} (0 before any), so the epoch is not repeated here (it saves gas on
     * every grant and is rebuilt from logs alone).
     * @param noticeHash hash of the consent text / policy version shown to the owner (GDPR
     *                   Art. 7(1) evidence). Emitted, never stored.
     * @param actor      the account that sent the call (owner, manager, or relayer)
     * @param via        how `actor` was authorised
     */
    event ConsentGranted(
        address indexed owner,
        address indexed grantee,
        bytes32 indexed dataId,
        uint128 purposes,
        uint64 expiresAt,
        bytes32 noticeHash,
        address actor,
        Via via
    );

    /// @notice `owner` withdrew the consent for `(grantee, dataId)`.
    event ConsentRevoked(
        address indexed owner,
        address indexed grantee,
        bytes32 indexed dataId,
        address actor,
        Via via
    );

    /// @notice `owner` withdrew every consent it had given; consents of epochs `< newEpoch` are dead.
    event AllConsentsRevoked(address indexed owner, uint64 newEpoch, address actor, Via via);

    /// @notice `owner` appointed (`approved = true`) or removed a manager.
    event ManagerSet(address indexed owner, address indexed manager, bool approved);

    /// @notice `owner` invalidated the nonces set in `mask` of bitmap word `wordPos`.
    event NoncesInvalidated(address indexed owner, uint256 indexed wordPos, uint256 mask);

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
    /// @notice `purposes` contains bits that are not active purposes of the catalogue.
    error ConsentRegistryPurposeNotGrantable(uint128 purposes, uint128 notGrantable);
    /// @notice `expiresAt` is not after the current time `nowTs` (and is not NO_EXPIRY).
    error ConsentRegistryExpiryInPast(uint64 expiresAt, uint64 nowTs);
    /// @notice There is no consent of the current epoch to revoke for `(owner, grantee, dataId)`.
    error ConsentRegistryNotGranted(address owner, address grantee, bytes32 dataId);
    /// @notice `caller` may not act for `owner` (not the owner, nor one of its managers).
    error ConsentRegistryNotAuthorized(address caller, address owner);
    /// @notice The manager is the zero address or the owner itself.
    error ConsentRegistryInvalidManager(address manager);
    /// @notice The signature's deadline has passed.
    error ConsentRegistrySignatureExpired(uint256 deadline, uint64 nowTs);
    /// @notice The nonce was used or invalidated already.
    error ConsentRegistryNonceUsed(address owner, uint256 nonce);
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
     * `expiresAt` (NO_EXPIRY = 0). Replaces any previous consent for the same key.
     * @dev Reverts with ZeroGrantee, ZeroDataId, EmptyPurposes, PurposeNotGrantable, ExpiryInPast.
     */
    function grant(address grantee, bytes32 dataId, uint128 purposes, uint64 expiresAt, bytes32 noticeHash) external;

    /// @notice Withdraws the consent for `(grantee, dataId)`. Reverts with NotGranted if none is live.
    function revoke(address grantee, bytes32 dataId) external;

    /// @notice Withdraws every consent of the caller in O(1) by starting a new epoch.
    function revokeAll() external;

    /// @notice Several grants by the caller, all or nothing; a failure reverts with BatchItemFailed.
    function grantBatch(GrantInput[] calldata grants) external;

    /// @notice Several revocations by the caller, all or nothing.
    function revokeBatch(RevokeInput[] calldata revokes) external;

    // ---------------------------------------------------------------------------------------
    // Managers (act for an owner; cannot appoint managers)
    // ---------------------------------------------------------------------------------------

    /// @notice Appoints (`approved = true`) or removes `manager` for the caller.
    function setManager(address manager, bool approved) external;

    /// @notice {grant} on behalf of `owner`; the caller must be `owner` or one of its managers.
    function grantFor(
        address owner,
        address grantee,
        bytes32 dataId,
        uint128 purposes,
        uint64 expiresAt,
        bytes32 noticeHash
    ) external;

    /// @notice {revoke} on behalf of `owner`; the caller must be `owner` or one of its managers.
    function revokeFor(address owner, address grantee, bytes32 dataId) external;

    /// @notice {revokeAll} on behalf of `owner`; the caller must be `owner` or one of its managers.
    function revokeAllFor(address owner) external;

    // ---------------------------------------------------------------------------------------
    // Signatures (EIP-712, unordered nonces; EOA 65/64-byte or ERC-1271)
    // ---------------------------------------------------------------------------------------

    /// @notice Relays a grant signed by its owner. Anyone may submit; each nonce works once.
    function grantBySig(SignedGrant calldata request) external;

    /// @notice Relays a revocation signed by its owner.
    function revokeBySig(SignedRevoke calldata request) external;

    /// @notice Relays a revoke-all signed by its owner.
    function revokeAllBySig(SignedRevokeAll calldata request) external;

    /// @notice Relays several signed grants (from any owners), all or nothing.
    function grantBySigBatch(SignedGrant[] calldata requests) external;

    /// @notice Relays several signed revocations (from any owners), all or nothing.
    function revokeBySigBatch(SignedRevoke[] calldata requests) external;

    /// @notice Marks the caller's nonces in `mask` of word `wordPos` as used (bulk cancel).
    function invalidateNonces(uint256 wordPos, uint256 mask) external;

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

    /// @notice The owner's current revoke-all epoch.
    function epochOf(address owner) external view returns (uint64);

    /// @notice Whether `manager` is currently a manager of `owner`.
    function isManager(address owner, address manager) external view returns (bool);

    /// @notice Whether `owner`'s `nonce` is used or invalidated.
    function isNonceUsed(address owner, uint256 nonce) external view returns (bool);

    /// @notice The bitmap word `wordPos` of `owner`'s used nonces.
    function nonceBitmap(address owner, uint256 wordPos) external view returns (uint256);

    /// @notice The integration registry consulted by {recordShare}.
    function integrations() external view returns (address);

    /// @notice Semantic version of this deployment, checked by the SDK.
    function version() external view returns (string memory);
}
