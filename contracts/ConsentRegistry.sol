// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

import {ALL_DATA, MAX_PURPOSE_ID, NO_EXPIRY, VERSION_SEQUENCE_BITS} from "./Common.sol";
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
 * custom error instead of reverting (an unassigned `bytes memory` return is empty and costs no
 * allocation, so success paths never write `return ""`), so a single call reverts with exactly that error and a
 * batch reverts with `ConsentRegistryBatchItemFailed(index, error)` naming the first bad item.
 */
contract ConsentRegistry is IConsentRegistry, PurposeCatalog, EIP712 {
    using ConsentSlot for uint256;

    string private constant _VERSION = "2.0.0";

    /**
     * @dev The most gas an owner's ERC-1271 `isValidSignature` gets for one item of
     * {revokeBySigBatch}. Without a cap a wallet that loops takes 63/64 of the remaining gas at
     * each check, and a few such items make the whole batch run out of gas, taking the other
     * owners' withdrawals with it. 500,000 is well above what deployed wallets need (a Safe's
     * multi-owner check is ~30,000; WebAuthn/P-256 passkey wallets verifying in Solidity, the
     * costliest in use, ~200,000-400,000); a wallet that needs more fails that item with
     * InvalidSignature (SignedRevokeFailed) and can still be relayed alone with {revokeBySig},
     * whose wallet check is not capped (its sender chooses the gas and risks only that call).
     */
    uint256 private constant _BATCH_WALLET_GAS = 500_000;

    IIntegrationRegistry private immutable _integrations;

    /// @dev One packed word per consent, see {ConsentSlot}. Wrapped in a one-field struct only so
    /// that a read-modify-write can hold a storage pointer and hash the key once (~60 gas).
    struct Cell {
        uint256 word;
    }
    mapping(address owner => mapping(address grantee => mapping(bytes32 dataId => Cell))) private _consents;
    /// @dev Lockdown epochs: consents, signatures and managers are live only in their epoch.
    mapping(address owner => uint32 epoch) private _epochs;
    /// @dev `epoch + 1` of the owner's epoch the manager was appointed in; 0 = never or removed.
    mapping(address owner => mapping(address manager => uint256 epochPlusOne)) private _managers;

    /**
     * @param initialAuthority the AccessManager governing the purpose catalogue
     * @param integrations_    the integration registry consulted by {recordShare}
     * @param initialPurposes  metadata hashes of the initial purposes 0..n-1 (see `Purposes.sol`)
     */
    constructor(
        address initialAuthority,
        IIntegrationRegistry integrations_,
        bytes32[] memory initialPurposes
    ) PurposeCatalog(initialAuthority, initialPurposes) EIP712("OmniTensor Consent Registry", "2") {
        _integrations = integrations_;
    }

    // ---------------------------------------------------------------------------------------
    // Owner writes
    // ---------------------------------------------------------------------------------------

    /// @inheritdoc IConsentRegistry
    function grant(address grantee, bytes32 dataId, uint128 purposes, uint40 expiresAt, bytes32 noticeHash) external {
        _bubble(_grantIn(_context(msg.sender), msg.sender, grantee, dataId, purposes, expiresAt, noticeHash));
    }

    /// @inheritdoc IConsentRegistry
    function revoke(address grantee, bytes32 dataId) external {
        _bubble(_revoke(msg.sender, grantee, dataId));
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
            bytes memory err = _grantIn(ctx, msg.sender, g.grantee, g.dataId, g.purposes, g.expiresAt, g.noticeHash);
            if (err.length != 0) revert ConsentRegistryBatchItemFailed(i, err);
        }
    }

    /// @inheritdoc IConsentRegistry
    function revokeBatch(RevokeInput[] calldata revokes) external {
        uint256 n = revokes.length;
        if (n == 0) revert ConsentRegistryEmptyBatch();
        for (uint256 i = 0; i < n; ++i) {
            bytes memory err = _revoke(msg.sender, revokes[i].grantee, revokes[i].dataId);
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
        uint256 current = uint256(_epochs[msg.sender]) + 1;
        if ((_managers[msg.sender][manager] == current) == approved) {
            revert ConsentRegistryManagerUnchanged(msg.sender, manager, approved);
        }
        // An if, not a ternary: coverage probes are per statement, so both outcomes stay measurable.
        if (!approved) current = 0;
        _managers[msg.sender][manager] = current;
        emit ManagerSet(msg.sender, manager, approved);
    }

    /// @inheritdoc IConsentRegistry
    function grantFor(
        address owner,
        address grantee,
        bytes32 dataId,
        uint128 purposes,
        uint40 expiresAt,
        bytes32 noticeHash
    ) external {
        _authorize(owner);
        _bubble(_grantIn(_context(owner), owner, grantee, dataId, purposes, expiresAt, noticeHash));
    }

    /// @inheritdoc IConsentRegistry
    function revokeFor(address owner, address grantee, bytes32 dataId) external {
        _authorize(owner);
        _bubble(_revoke(owner, grantee, dataId));
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
        _bubble(_revokeBySig(request, 0));
    }

    /// @inheritdoc IConsentRegistry
    function revokeAllBySig(SignedRevokeAll calldata r) external {
        uint64 nowTs = _time();
        if (nowTs > r.deadline) revert ConsentRegistrySignatureExpired(r.deadline, nowTs);
        uint32 epoch = _epochs[r.owner];
        if (r.epoch != epoch) revert ConsentRegistryStaleSignature(r.owner, r.epoch, 0, epoch, 0);
        if (!SignatureVerification.isValid(r.owner, _hashTypedDataV4(ConsentHashes.hash(r)), r.signature, 0)) {
            revert ConsentRegistryInvalidSignature(r.owner);
        }
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
    function revokeBySigBatch(SignedRevoke[] calldata requests) external returns (bytes[] memory failures) {
        uint256 n = requests.length;
        if (n == 0) revert ConsentRegistryEmptyBatch();
        failures = new bytes[](n);
        for (uint256 i = 0; i < n; ++i) {
            SignedRevoke calldata r = requests[i];
            bytes memory err = _revokeBySig(r, _BATCH_WALLET_GAS);
            if (err.length != 0) {
                failures[i] = err;
                emit SignedRevokeFailed(r.owner, r.grantee, r.dataId, i, err);
            }
        }
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
        uint256 word = _consents[owner][grantee][dataId].word;
        return
            Consent({
                purposes: word.purposes(),
                expiresAt: word.expiresAt(),
                epoch: word.epoch(),
                version: word.version(),
                active: word.isActive(_epochs[owner], _time())
            });
    }

    /// @inheritdoc IConsentRegistry
    function activePurposes(address owner, address grantee, bytes32 dataId) external view returns (uint128) {
        uint256 word = _consents[owner][grantee][dataId].word;
        // An if, not a ternary: coverage probes are per statement, so both outcomes stay measurable.
        if (!word.isActive(_epochs[owner], _time())) return 0;
        return word.purposes();
    }

    /// @inheritdoc IConsentRegistry
    function epochOf(address owner) external view returns (uint32) {
        return _epochs[owner];
    }

    /// @inheritdoc IConsentRegistry
    function isManager(address owner, address manager) external view returns (bool) {
        return _managers[owner][manager] == uint256(_epochs[owner]) + 1;
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

    /**
     * @dev What every grant of `owner` needs to read, packed in one word so that a batch reads
     * it once (saves ~250 gas per extra item): bits 0..127 grantable purposes, 128..159 the
     * owner's epoch, 192..255 the current time.
     */
    function _context(address owner) internal view returns (uint256) {
        return uint256(grantablePurposes()) | (uint256(_epochs[owner]) << 128) | (uint256(_time()) << 192);
    }

    /// @dev A grant by transaction (owner or manager): starts the key's next generation. The
    /// input checks are written out here, not shared with {_grantBySig} through a function
    /// returning `bytes`: the shared form costs ~400 gas per grant in memory allocations.
    function _grantIn(
        uint256 ctx,
        address owner,
        address grantee,
        bytes32 dataId,
        uint128 purposes,
        uint40 expiresAt,
        bytes32 noticeHash
    ) internal returns (bytes memory err) {
        if (grantee == address(0)) return abi.encodeWithSelector(ConsentRegistryZeroGrantee.selector);
        if (dataId == bytes32(0)) return abi.encodeWithSelector(ConsentRegistryZeroDataId.selector);
        if (purposes == 0) return abi.encodeWithSelector(ConsentRegistryEmptyPurposes.selector);
        uint64 nowTs = uint64(ctx >> 192);
        if (expiresAt != NO_EXPIRY && expiresAt <= nowTs) {
            return abi.encodeWithSelector(ConsentRegistryExpiryInPast.selector, expiresAt, nowTs);
        }
        Cell storage cell = _consents[owner][grantee][dataId];
        uint256 word = cell.word;
        uint32 epoch = uint32(ctx >> 128);
        uint128 notGrantable = purposes & ~uint128(ctx);
        if (notGrantable != 0) {
            notGrantable &= ~_keepable(word, epoch, nowTs, expiresAt);
            if (notGrantable != 0) {
                return abi.encodeWithSelector(ConsentRegistryPurposeNotGrantable.selector, purposes, notGrantable);
            }
        }
        word = word.nextGeneration();
        cell.word = word | ConsentSlot.pack(purposes, expiresAt, epoch);
        emit ConsentGranted(owner, grantee, dataId, purposes, expiresAt, noticeHash, msg.sender, word.version());
    }

    /// @dev A revocation by transaction: clears the consent and starts the key's next
    /// generation. It needs no epoch: the word keeps only its version.
    function _revoke(address owner, address grantee, bytes32 dataId) internal returns (bytes memory err) {
        err = _checkKey(grantee, dataId);
        if (err.length != 0) return err;
        Cell storage cell = _consents[owner][grantee][dataId];
        uint256 versionBits = cell.word.nextGeneration();
        cell.word = versionBits;
        emit ConsentRevoked(owner, grantee, dataId, msg.sender, uint64(versionBits >> ConsentSlot.VERSION_SHIFT));
    }

    /// @dev Cannot fail: withdrawal always works. The increment is checked; reaching 2^32 - 1
    /// lockdowns of one owner would take more transactions than Ethereum has carried in total,
    /// and only the owner (or its one-shot signatures, or a manager, removed by the first one)
    /// can start one.
    function _revokeAll(address owner, Via via) internal {
        uint32 newEpoch = _epochs[owner] + 1;
        _epochs[owner] = newEpoch;
        emit AllConsentsRevoked(owner, newEpoch, msg.sender, via);
    }

    /**
     * @dev A signed grant. Refused only for what can never become valid (a bad key, no
     * purposes), a passed deadline, a stale epoch or version, or a bad
     * signature. What time or governance changed since signing does not refuse it: an expiry
     * that has passed is stored as is (an expired consent), and purposes no longer grantable are
     * dropped. So a relayer cannot wait until a newer message fails to make an older one win.
     */
    function _grantBySig(SignedGrant calldata r) internal returns (bytes memory err) {
        uint64 nowTs = _time();
        if (nowTs > r.deadline) {
            return abi.encodeWithSelector(ConsentRegistrySignatureExpired.selector, r.deadline, nowTs);
        }
        err = _checkGrantInput(r.grantee, r.dataId, r.purposes);
        if (err.length != 0) return err;
        Cell storage cell = _consents[r.owner][r.grantee][r.dataId];
        uint256 word = cell.word;
        uint32 epoch = _epochs[r.owner];
        err = _checkSigned(r.owner, word, epoch, r.epoch, r.version);
        if (err.length != 0) return err;
        if (!SignatureVerification.isValid(r.owner, _hashTypedDataV4(ConsentHashes.hash(r)), r.signature, 0)) {
            return abi.encodeWithSelector(ConsentRegistryInvalidSignature.selector, r.owner);
        }
        uint128 purposes = r.purposes & (grantablePurposes() | _keepable(word, epoch, nowTs, r.expiresAt));
        cell.word = (uint256(r.version) << ConsentSlot.VERSION_SHIFT) | ConsentSlot.pack(purposes, r.expiresAt, epoch);
        emit ConsentGranted(r.owner, r.grantee, r.dataId, purposes, r.expiresAt, r.noticeHash, msg.sender, r.version);
    }

    /// @dev A signed revocation: applies whether or not a consent is live (the owner's word
    /// "no consent as of this version" must hold against older signed grants relayed later).
    /// `walletGas` caps an ERC-1271 owner's check (a batch item); 0 = no cap (a single call).
    function _revokeBySig(SignedRevoke calldata r, uint256 walletGas) internal returns (bytes memory err) {
        uint64 nowTs = _time();
        if (nowTs > r.deadline) {
            return abi.encodeWithSelector(ConsentRegistrySignatureExpired.selector, r.deadline, nowTs);
        }
        err = _checkKey(r.grantee, r.dataId);
        if (err.length != 0) return err;
        Cell storage cell = _consents[r.owner][r.grantee][r.dataId];
        err = _checkSigned(r.owner, cell.word, _epochs[r.owner], r.epoch, r.version);
        if (err.length != 0) return err;
        if (!SignatureVerification.isValid(r.owner, _hashTypedDataV4(ConsentHashes.hash(r)), r.signature, walletGas)) {
            return abi.encodeWithSelector(ConsentRegistryInvalidSignature.selector, r.owner);
        }
        cell.word = uint256(r.version) << ConsentSlot.VERSION_SHIFT;
        emit ConsentRevoked(r.owner, r.grantee, r.dataId, msg.sender, r.version);
    }

    function _recordUse(
        address owner,
        bytes32 dataId,
        uint8 purpose,
        bytes32 evidence
    ) internal returns (bytes memory err) {
        if (!_isAllowed(owner, msg.sender, dataId, purpose)) {
            return abi.encodeWithSelector(ConsentRegistryConsentRequired.selector, owner, msg.sender, dataId, purpose);
        }
        emit DataUsed(owner, msg.sender, dataId, purpose, evidence);
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
    ) internal returns (bytes memory err) {
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
    }

    // ---------------------------------------------------------------------------------------
    // Internal: checks
    // ---------------------------------------------------------------------------------------

    /// @dev The caller's authority to act for `owner`. Reverts with NotAuthorized. A manager
    /// counts only if appointed in the owner's current epoch (a lockdown removes them all).
    function _authorize(address owner) internal view returns (Via) {
        if (msg.sender == owner) return Via.Owner;
        if (_managers[owner][msg.sender] == uint256(_epochs[owner]) + 1) return Via.Manager;
        revert ConsentRegistryNotAuthorized(msg.sender, owner);
    }

    function _checkKey(address grantee, bytes32 dataId) internal pure returns (bytes memory err) {
        if (grantee == address(0)) return abi.encodeWithSelector(ConsentRegistryZeroGrantee.selector);
        if (dataId == bytes32(0)) return abi.encodeWithSelector(ConsentRegistryZeroDataId.selector);
    }

    /// @dev The checks of a grant's content that no later state can change.
    function _checkGrantInput(
        address grantee,
        bytes32 dataId,
        uint128 purposes
    ) internal pure returns (bytes memory err) {
        err = _checkKey(grantee, dataId);
        if (err.length != 0) return err;
        if (purposes == 0) return abi.encodeWithSelector(ConsentRegistryEmptyPurposes.selector);
    }

    /**
     * @dev The ordering rule (see {IConsentRegistry}): the message's epoch is the owner's, and
     * its version is above the key's version within the key's generation.
     */
    function _checkSigned(
        address owner,
        uint256 word,
        uint32 currentEpoch,
        uint32 epoch,
        uint64 signedVersion
    ) internal pure returns (bytes memory err) {
        uint64 current = word.version();
        if (
            epoch != currentEpoch ||
            signedVersion <= current ||
            signedVersion >> VERSION_SEQUENCE_BITS != current >> VERSION_SEQUENCE_BITS
        ) {
            return
                abi.encodeWithSelector(
                    ConsentRegistryStaleSignature.selector,
                    owner,
                    epoch,
                    signedVersion,
                    currentEpoch,
                    current
                );
        }
    }

    /**
     * @dev The purposes a new grant may keep although they are no longer grantable: those of the
     * live consent `word`, when the new expiry is not later than its expiry (narrowing never
     * fails because governance deprecated something after the grant).
     */
    function _keepable(uint256 word, uint32 epoch, uint64 nowTs, uint40 expiresAt) internal pure returns (uint128) {
        if (!word.isActive(epoch, nowTs)) return 0;
        uint40 oldExpiry = word.expiresAt();
        if (oldExpiry != NO_EXPIRY && (expiresAt == NO_EXPIRY || expiresAt > oldExpiry)) return 0;
        return word.purposes();
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
        mapping(bytes32 => Cell) storage byData = _consents[owner][grantee];
        uint256 word = byData[dataId].word;
        if (word & bit != 0 && word.isActive(_epochs[owner], _time())) return true;
        // No fallback for ALL_DATA itself, nor for data id 0: 0 can never be granted, and an unset
        // variable must not pass a check as "all data". `dataId + 1` wraps ALL_DATA to 0, so one
        // comparison covers both (+6 gas on the fallback path only; a specific hit is unchanged).
        unchecked {
            if (uint256(dataId) + 1 <= 1) return false;
        }
        word = byData[ALL_DATA].word;
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
