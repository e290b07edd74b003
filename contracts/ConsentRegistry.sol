// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

import {ALL_DATA, MAX_PURPOSE_ID, NO_EXPIRY} from "./Common.sol";
import {PurposeCatalog} from "./governance/PurposeCatalog.sol";
import {IConsentRegistry} from "./interfaces/IConsentRegistry.sol";
import {IIntegrationRegistry} from "./interfaces/IIntegrationRegistry.sol";
import {ConsentHashes} from "./libraries/ConsentHashes.sol";
import {ConsentSlot} from "./libraries/ConsentSlot.sol";
import {SignatureVerification} from "./libraries/SignatureVerification.sol";

/**
 * @title ConsentRegistry
 * @notice Per-address consent that is enforced: data owners grant and withdraw consent (by
 * transaction, through a manager they appoint, or by EIP-712 signature), and processors can
 * record a data use or a third-party share only while the owner's consent covers it.
 *
 * Trust model. Only the owner changes the owner's consents: there is no admin, owner role,
 * pause or upgrade path over consent storage, and every withdrawal path ({revoke}, {revokeAll}
 * and their manager and signature forms) works whatever governance does. Governance (an
 * OpenZeppelin AccessManager with a delay) manages only the purpose catalogue (which purposes
 * can be *newly* granted) and, in a separate contract, the integrations that may receive shares.
 *
 * Errors. Each write path validates through an internal function that returns the ABI-encoded
 * custom error instead of reverting, so a single call reverts with exactly that error and a
 * batch reverts with `ConsentRegistryBatchItemFailed(index, error)` naming the first bad item.
 */
contract ConsentRegistry is IConsentRegistry, PurposeCatalog, EIP712 {
    using ConsentSlot for uint256;

    string private constant _VERSION = "1.0.0";

    IIntegrationRegistry private immutable _integrations;

    /// @dev One packed word per consent, see {ConsentSlot}.
    mapping(address owner => mapping(address grantee => mapping(bytes32 dataId => uint256 word))) private _consents;
    /// @dev Revoke-all epochs: a consent is live only in the epoch it was granted in.
    mapping(address owner => uint64 epoch) private _epochs;
    mapping(address owner => mapping(address manager => bool approved)) private _managers;
    /// @dev Unordered nonces (as Permit2): bit `nonce & 255` of word `nonce >> 8`.
    mapping(address owner => mapping(uint256 wordPos => uint256 bitmap)) private _nonces;

    /**
     * @param initialAuthority the AccessManager governing the purpose catalogue
     * @param integrations_    the integration registry consulted by {recordShare}
     * @param initialPurposes  metadata hashes of the initial purposes 0..n-1 (see `Purposes.sol`)
     */
    constructor(
        address initialAuthority,
        IIntegrationRegistry integrations_,
        bytes32[] memory initialPurposes
    ) PurposeCatalog(initialAuthority, initialPurposes) EIP712("OmniTensor Consent Registry", "1") {
        _integrations = integrations_;
    }

    // ---------------------------------------------------------------------------------------
    // Owner writes
    // ---------------------------------------------------------------------------------------

    /// @inheritdoc IConsentRegistry
    function grant(address grantee, bytes32 dataId, uint128 purposes, uint64 expiresAt, bytes32 noticeHash) external {
        _bubble(_grant(msg.sender, grantee, dataId, purposes, expiresAt, noticeHash, Via.Owner));
    }

    /// @inheritdoc IConsentRegistry
    function revoke(address grantee, bytes32 dataId) external {
        _bubble(_revoke(msg.sender, grantee, dataId, Via.Owner));
    }

    /// @inheritdoc IConsentRegistry
    function revokeAll() external {
        _revokeAll(msg.sender, Via.Owner);
    }

    /// @inheritdoc IConsentRegistry
    function grantBatch(GrantInput[] calldata grants) external {
        uint256 n = grants.length;
        if (n == 0) revert ConsentRegistryEmptyBatch();
        uint256 ctx = _context(msg.sender);
        for (uint256 i = 0; i < n; ++i) {
            GrantInput calldata g = grants[i];
            bytes memory err = _grantIn(
                ctx,
                msg.sender,
                g.grantee,
                g.dataId,
                g.purposes,
                g.expiresAt,
                g.noticeHash,
                Via.Owner
            );
            if (err.length != 0) revert ConsentRegistryBatchItemFailed(i, err);
        }
    }

    /// @inheritdoc IConsentRegistry
    function revokeBatch(RevokeInput[] calldata revokes) external {
        uint256 n = revokes.length;
        if (n == 0) revert ConsentRegistryEmptyBatch();
        for (uint256 i = 0; i < n; ++i) {
            bytes memory err = _revoke(msg.sender, revokes[i].grantee, revokes[i].dataId, Via.Owner);
            if (err.length != 0) revert ConsentRegistryBatchItemFailed(i, err);
        }
    }

    // ---------------------------------------------------------------------------------------
    // Managers
    // ---------------------------------------------------------------------------------------

    /// @inheritdoc IConsentRegistry
    /// @dev Always acts for `msg.sender`: a manager calling this only manages its *own*
    /// managers, so a manager can never appoint a manager for the owner it serves.
    function setManager(address manager, bool approved) external {
        if (manager == address(0) || manager == msg.sender) revert ConsentRegistryInvalidManager(manager);
        _managers[msg.sender][manager] = approved;
        emit ManagerSet(msg.sender, manager, approved);
    }

    /// @inheritdoc IConsentRegistry
    function grantFor(
        address owner,
        address grantee,
        bytes32 dataId,
        uint128 purposes,
        uint64 expiresAt,
        bytes32 noticeHash
    ) external {
        _bubble(_grant(owner, grantee, dataId, purposes, expiresAt, noticeHash, _authorize(owner)));
    }

    /// @inheritdoc IConsentRegistry
    function revokeFor(address owner, address grantee, bytes32 dataId) external {
        _bubble(_revoke(owner, grantee, dataId, _authorize(owner)));
    }

    /// @inheritdoc IConsentRegistry
    function revokeAllFor(address owner) external {
        _revokeAll(owner, _authorize(owner));
    }

    // ---------------------------------------------------------------------------------------
    // Signatures
    // ---------------------------------------------------------------------------------------

    /// @inheritdoc IConsentRegistry
    function grantBySig(SignedGrant calldata request) external {
        _bubble(_grantBySig(request));
    }

    /// @inheritdoc IConsentRegistry
    function revokeBySig(SignedRevoke calldata request) external {
        _bubble(_revokeBySig(request));
    }

    /// @inheritdoc IConsentRegistry
    function revokeAllBySig(SignedRevokeAll calldata r) external {
        _bubble(_useSignature(r.owner, r.nonce, r.deadline, ConsentHashes.hash(r), r.signature));
        _revokeAll(r.owner, Via.Signature);
    }

    /// @inheritdoc IConsentRegistry
    function grantBySigBatch(SignedGrant[] calldata requests) external {
        uint256 n = requests.length;
        if (n == 0) revert ConsentRegistryEmptyBatch();
        for (uint256 i = 0; i < n; ++i) {
            bytes memory err = _grantBySig(requests[i]);
            if (err.length != 0) revert ConsentRegistryBatchItemFailed(i, err);
        }
    }

    /// @inheritdoc IConsentRegistry
    function revokeBySigBatch(SignedRevoke[] calldata requests) external {
        uint256 n = requests.length;
        if (n == 0) revert ConsentRegistryEmptyBatch();
        for (uint256 i = 0; i < n; ++i) {
            bytes memory err = _revokeBySig(requests[i]);
            if (err.length != 0) revert ConsentRegistryBatchItemFailed(i, err);
        }
    }

    /// @inheritdoc IConsentRegistry
    function invalidateNonces(uint256 wordPos, uint256 mask) external {
        _nonces[msg.sender][wordPos] |= mask;
        emit NoncesInvalidated(msg.sender, wordPos, mask);
    }

    // ---------------------------------------------------------------------------------------
    // Enforced records
    // ---------------------------------------------------------------------------------------

    /// @inheritdoc IConsentRegistry
    function recordUse(address owner, bytes32 dataId, uint8 purpose, bytes32 evidence) external {
        _bubble(_recordUse(owner, dataId, purpose, evidence));
    }

    /// @inheritdoc IConsentRegistry
    function recordShare(address owner, address to, bytes32 dataId, uint8 purpose, bytes32 evidence) external {
        _bubble(_recordShare(owner, to, dataId, purpose, evidence));
    }

    /// @inheritdoc IConsentRegistry
    function recordUseBatch(UseRecord[] calldata records) external {
        uint256 n = records.length;
        if (n == 0) revert ConsentRegistryEmptyBatch();
        for (uint256 i = 0; i < n; ++i) {
            UseRecord calldata r = records[i];
            bytes memory err = _recordUse(r.owner, r.dataId, r.purpose, r.evidence);
            if (err.length != 0) revert ConsentRegistryBatchItemFailed(i, err);
        }
    }

    /// @inheritdoc IConsentRegistry
    function recordShareBatch(ShareRecord[] calldata records) external {
        uint256 n = records.length;
        if (n == 0) revert ConsentRegistryEmptyBatch();
        for (uint256 i = 0; i < n; ++i) {
            ShareRecord calldata r = records[i];
            bytes memory err = _recordShare(r.owner, r.to, r.dataId, r.purpose, r.evidence);
            if (err.length != 0) revert ConsentRegistryBatchItemFailed(i, err);
        }
    }

    // ---------------------------------------------------------------------------------------
    // Reads
    // ---------------------------------------------------------------------------------------

    /// @inheritdoc IConsentRegistry
    function isAllowed(address owner, address grantee, bytes32 dataId, uint8 purpose) external view returns (bool) {
        return _isAllowed(owner, grantee, dataId, purpose);
    }

    /// @inheritdoc IConsentRegistry
    function getConsent(address owner, address grantee, bytes32 dataId) external view returns (Consent memory) {
        uint256 word = _consents[owner][grantee][dataId];
        return
            Consent({
                purposes: word.purposes(),
                expiresAt: word.expiresAt(),
                epoch: word.epoch(),
                active: word.isActive(_epochs[owner], _time())
            });
    }

    /// @inheritdoc IConsentRegistry
    function activePurposes(address owner, address grantee, bytes32 dataId) external view returns (uint128) {
        uint256 word = _consents[owner][grantee][dataId];
        // An if, not a ternary: coverage probes are per statement, so both outcomes stay measurable.
        if (!word.isActive(_epochs[owner], _time())) return 0;
        return word.purposes();
    }

    /// @inheritdoc IConsentRegistry
    function epochOf(address owner) external view returns (uint64) {
        return _epochs[owner];
    }

    /// @inheritdoc IConsentRegistry
    function isManager(address owner, address manager) external view returns (bool) {
        return _managers[owner][manager];
    }

    /// @inheritdoc IConsentRegistry
    function isNonceUsed(address owner, uint256 nonce) external view returns (bool) {
        return (_nonces[owner][nonce >> 8] >> (nonce & 0xff)) & 1 == 1;
    }

    /// @inheritdoc IConsentRegistry
    function nonceBitmap(address owner, uint256 wordPos) external view returns (uint256) {
        return _nonces[owner][wordPos];
    }

    /// @inheritdoc IConsentRegistry
    function integrations() external view returns (address) {
        return address(_integrations);
    }

    /// @inheritdoc IConsentRegistry
    function version() external pure returns (string memory) {
        return _VERSION;
    }

    /// @notice The EIP-712 domain separator of this deployment (chain id and address bound).
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    // ---------------------------------------------------------------------------------------
    // Internal: state changes. Each returns the ABI-encoded custom error, or "" on success.
    // ---------------------------------------------------------------------------------------

    /// @dev {_grantIn} with the owner's context read now.
    function _grant(
        address owner,
        address grantee,
        bytes32 dataId,
        uint128 purposes,
        uint64 expiresAt,
        bytes32 noticeHash,
        Via via
    ) internal returns (bytes memory) {
        return _grantIn(_context(owner), owner, grantee, dataId, purposes, expiresAt, noticeHash, via);
    }

    /**
     * @dev What every grant of `owner` needs to read, packed in one word so that a batch reads
     * it once (saves ~250 gas per extra item): bits 0..127 grantable purposes, 128..191 the
     * owner's epoch, 192..255 the current time.
     */
    function _context(address owner) internal view returns (uint256) {
        return uint256(grantablePurposes()) | (uint256(_epochs[owner]) << 128) | (uint256(_time()) << 192);
    }

    function _grantIn(
        uint256 ctx,
        address owner,
        address grantee,
        bytes32 dataId,
        uint128 purposes,
        uint64 expiresAt,
        bytes32 noticeHash,
        Via via
    ) internal returns (bytes memory) {
        if (grantee == address(0)) return abi.encodeWithSelector(ConsentRegistryZeroGrantee.selector);
        if (dataId == bytes32(0)) return abi.encodeWithSelector(ConsentRegistryZeroDataId.selector);
        if (purposes == 0) return abi.encodeWithSelector(ConsentRegistryEmptyPurposes.selector);
        uint128 notGrantable = purposes & ~uint128(ctx);
        if (notGrantable != 0) {
            return abi.encodeWithSelector(ConsentRegistryPurposeNotGrantable.selector, purposes, notGrantable);
        }
        uint64 nowTs = uint64(ctx >> 192);
        if (expiresAt != NO_EXPIRY && expiresAt <= nowTs) {
            return abi.encodeWithSelector(ConsentRegistryExpiryInPast.selector, expiresAt, nowTs);
        }
        _consents[owner][grantee][dataId] = ConsentSlot.pack(purposes, expiresAt, uint64(ctx >> 128));
        emit ConsentGranted(owner, grantee, dataId, purposes, expiresAt, noticeHash, msg.sender, via);
        return "";
    }

    /// @dev A consent of an older epoch is already dead, so revoking it is "not granted"; an
    /// expired consent of the current epoch can still be revoked (it clears the record).
    function _revoke(address owner, address grantee, bytes32 dataId, Via via) internal returns (bytes memory) {
        mapping(bytes32 => uint256) storage byData = _consents[owner][grantee];
        uint256 word = byData[dataId];
        if (word == 0 || word.epoch() != _epochs[owner]) {
            return abi.encodeWithSelector(ConsentRegistryNotGranted.selector, owner, grantee, dataId);
        }
        delete byData[dataId];
        emit ConsentRevoked(owner, grantee, dataId, msg.sender, via);
        return "";
    }

    /// @dev Cannot fail: withdrawal always works. The increment is checked, but reaching
    /// 2^64 - 1 revoke-alls would take more transactions than any chain will ever carry.
    function _revokeAll(address owner, Via via) internal {
        uint64 newEpoch = _epochs[owner] + 1;
        _epochs[owner] = newEpoch;
        emit AllConsentsRevoked(owner, newEpoch, msg.sender, via);
    }

    function _grantBySig(SignedGrant calldata r) internal returns (bytes memory err) {
        err = _useSignature(r.owner, r.nonce, r.deadline, ConsentHashes.hash(r), r.signature);
        if (err.length == 0) {
            err = _grant(r.owner, r.grantee, r.dataId, r.purposes, r.expiresAt, r.noticeHash, Via.Signature);
        }
    }

    function _revokeBySig(SignedRevoke calldata r) internal returns (bytes memory err) {
        err = _useSignature(r.owner, r.nonce, r.deadline, ConsentHashes.hash(r), r.signature);
        if (err.length == 0) err = _revoke(r.owner, r.grantee, r.dataId, Via.Signature);
    }

    /**
     * @dev Checks deadline, nonce and signature, then marks the nonce used. Replay (same or
     * another relayer, or a front-runner) fails on the nonce; another chain or deployment fails
     * on the EIP-712 domain; another owner fails on the signer. If anything after this fails,
     * the whole call reverts and the nonce stays unused.
     */
    function _useSignature(
        address owner,
        uint256 nonce,
        uint256 deadline,
        bytes32 structHash,
        bytes calldata sig
    ) internal returns (bytes memory) {
        uint64 nowTs = _time();
        if (nowTs > deadline) return abi.encodeWithSelector(ConsentRegistrySignatureExpired.selector, deadline, nowTs);
        uint256 wordPos = nonce >> 8;
        uint256 bit = uint256(1) << (nonce & 0xff);
        uint256 word = _nonces[owner][wordPos];
        if (word & bit != 0) return abi.encodeWithSelector(ConsentRegistryNonceUsed.selector, owner, nonce);
        if (!SignatureVerification.isValid(owner, _hashTypedDataV4(structHash), sig)) {
            return abi.encodeWithSelector(ConsentRegistryInvalidSignature.selector, owner);
        }
        _nonces[owner][wordPos] = word | bit;
        return "";
    }

    function _recordUse(
        address owner,
        bytes32 dataId,
        uint8 purpose,
        bytes32 evidence
    ) internal returns (bytes memory) {
        if (!_isAllowed(owner, msg.sender, dataId, purpose)) {
            return abi.encodeWithSelector(ConsentRegistryConsentRequired.selector, owner, msg.sender, dataId, purpose);
        }
        emit DataUsed(owner, msg.sender, dataId, purpose, evidence);
        return "";
    }

    /// @dev Every hop needs its own consent: the sender's and the recipient's are both checked,
    /// and the recipient must be an active integration for `purpose`. The integration registry
    /// is a trusted, view-only STATICCALL target (no reentrancy surface).
    function _recordShare(
        address owner,
        address to,
        bytes32 dataId,
        uint8 purpose,
        bytes32 evidence
    ) internal returns (bytes memory) {
        if (!_isAllowed(owner, msg.sender, dataId, purpose)) {
            return abi.encodeWithSelector(ConsentRegistryConsentRequired.selector, owner, msg.sender, dataId, purpose);
        }
        if (!_isAllowed(owner, to, dataId, purpose)) {
            return abi.encodeWithSelector(ConsentRegistryConsentRequired.selector, owner, to, dataId, purpose);
        }
        if (!_integrations.isActiveIntegration(to, purpose)) {
            return abi.encodeWithSelector(ConsentRegistryIntegrationNotActive.selector, to, purpose);
        }
        emit DataShared(owner, msg.sender, to, dataId, purpose, evidence);
        return "";
    }

    // ---------------------------------------------------------------------------------------
    // Internal: checks
    // ---------------------------------------------------------------------------------------

    /// @dev The caller's authority to act for `owner`. Reverts with NotAuthorized.
    function _authorize(address owner) internal view returns (Via) {
        if (msg.sender == owner) return Via.Owner;
        if (_managers[owner][msg.sender]) return Via.Manager;
        revert ConsentRegistryNotAuthorized(msg.sender, owner);
    }

    /**
     * @dev The hot path. Reads the specific consent, and the owner's epoch only when that word
     * has the purpose bit; falls back to the ALL_DATA consent when the specific one does not
     * allow (missing, lacking the purpose, expired, or of an older epoch).
     * Purposes above MAX_PURPOSE_ID must be refused here: their bit would land in the
     * expiry/epoch part of the word.
     */
    function _isAllowed(address owner, address grantee, bytes32 dataId, uint8 purpose) internal view returns (bool) {
        if (purpose > MAX_PURPOSE_ID) return false;
        uint256 bit = uint256(1) << purpose;
        mapping(bytes32 => uint256) storage byData = _consents[owner][grantee];
        uint256 word = byData[dataId];
        if (word & bit != 0 && word.isActive(_epochs[owner], _time())) return true;
        // No fallback for ALL_DATA itself, nor for data id 0: 0 can never be granted, and an unset
        // variable must not pass a check as "all data". `dataId + 1` wraps ALL_DATA to 0, so one
        // comparison covers both (+6 gas on the fallback path only; a specific hit is unchanged).
        unchecked {
            if (uint256(dataId) + 1 <= 1) return false;
        }
        word = byData[ALL_DATA];
        return word & bit != 0 && word.isActive(_epochs[owner], _time());
    }

    /// @dev The clock. Virtual so that a test harness can move time without mining blocks.
    function _time() internal view virtual returns (uint64) {
        return uint64(block.timestamp);
    }

    /// @dev Reverts with `err` (an ABI-encoded custom error) unless it is empty.
    function _bubble(bytes memory err) private pure {
        if (err.length != 0) {
            /// @solidity memory-safe-assembly
            assembly {
                revert(add(err, 0x20), mload(err))
            }
        }
    }
}
