// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ALL_DATA, MAX_PURPOSE_ID} from "../../../contracts/Common.sol";
import {IConsentRegistry} from "../../../contracts/interfaces/IConsentRegistry.sol";
import {IIntegrationRegistry} from "../../../contracts/interfaces/IIntegrationRegistry.sol";
import {vm} from "../utils/Vm.sol";

/**
 * @title ConsentModel
 * @notice Ghost state of the invariant suite: an independent model of every tracked consent
 * (purposes, expiry, epoch), of managers, of the purpose catalogue and of integrations; a log of
 * every use/share the registry accepted (with its time and what the model said then); and a log
 * of every change to an owner's consents with WHO made it.
 *
 * The handlers drive the registry and write here; the invariant test only reads.
 *
 * ## "Who changed what" (invariant 5) and how to extend it
 * Every handler action that may touch consents is wrapped as
 *
 *     bytes32[] memory before = model.readState();
 *     vm.prank(actor); registry.someWrite(...);
 *     model.recordChanges(before, actor, signer, kind);
 *
 * {readState} reads the registry's raw storage (the packed word of every tracked key, the epoch
 * of every owner; slots found by probing, see SystemBase), so a change is detected even if no
 * handler expected it. {recordChanges}
 * appends one {ChangeRecord} per changed entry and decides whether the change was authorised:
 * `actor == owner`, or `actor` is a manager of `owner` in the model at that moment, or `signer
 * == owner` (the owner's EIP-712 signature was relayed). Anything else increments
 * {unauthorizedChanges}; changes during Governance / Processor / Time actions are never allowed.
 *
 * To add the signature path: write a `SignatureHandler` whose actions build and sign a request
 * with `vm.sign(ownerKey, digest)` for an owner of {owners} (derive those owners from private
 * keys with `vm.addr`), relay it as `relayer`, and call `recordChanges(before, relayer,
 * signedBy, ActionKind.Signature)` where `signedBy` is the key's address (NOT necessarily the
 * request's `owner`: signing for someone else must show up as unauthorised). On success call
 * {applyGrant} / {applyRevoke} / {applyRevokeAll} so the consent model stays exact, and route
 * the outcome through {checkOutcome}.
 */
// A ghost model is state by nature (one field per fact it tracks): the state count is expected.
// solhint-disable-next-line max-states-count
contract ConsentModel {
    enum ActionKind {
        Owner,
        Processor,
        Governance,
        Time,
        Signature
    }

    struct ModelConsent {
        uint128 purposes;
        uint64 expiresAt;
        uint64 epoch;
        bool stored;
    }

    /// @notice One change of an owner's consent state seen in the registry's storage.
    /// `grantee == address(0)` means the owner's revoke-all epoch changed.
    struct ChangeRecord {
        address owner;
        address grantee;
        bytes32 dataId;
        address actor;
        address signer;
        ActionKind kind;
        bool authorized;
        uint64 time;
    }

    /// @notice One use (`to == address(0)`) or share the registry accepted, and what the model
    /// said at that moment.
    struct UseRecord {
        address owner;
        address from;
        address to;
        bytes32 dataId;
        uint8 purpose;
        uint64 time;
        bool fromAllowed; // model: sender held active consent
        bool toAllowed; // model: recipient held active consent (true for uses)
        bool toActiveIntegration; // model: recipient was an active integration for purpose (true for uses)
        bool fromUnrevoked; // a covering consent had not been revoked since it was granted
        bool toUnrevoked;
    }

    /// @dev Purpose ids the model tracks: the 8 initial ones plus two governance may define.
    uint8 public constant TRACKED_PURPOSES = 10;

    IConsentRegistry public immutable registry;

    address[] private _owners;
    address[] private _grantees;
    bytes32[] private _dataIds;
    address[] private _strangers;

    uint64 public clock;
    mapping(bytes32 key => ModelConsent) private _consents;
    mapping(bytes32 key => bool) private _revokedSinceGrant;
    mapping(address owner => uint64) private _epochs;
    mapping(address owner => mapping(address manager => bool)) private _managers;

    uint128 public grantable;
    uint128 public defined;
    mapping(address integration => IIntegrationRegistry.Integration) private _integrations;

    /// @dev Registry storage slots of every tracked consent word, then of every owner's epoch.
    bytes32[] private _stateSlots;

    UseRecord[] private _uses;
    ChangeRecord[] private _changes;

    uint256 public unauthorizedChanges;
    uint256 public governanceConsentChanges;
    uint256 public outcomeMismatches;
    string public lastMismatchAction;
    bytes public lastMismatchExpected;
    bytes public lastMismatchActual;

    /// @notice Per action name, how often the registry accepted / refused it (coverage evidence).
    mapping(bytes32 action => uint256) public successes;
    mapping(bytes32 action => uint256) public failures;

    constructor(
        IConsentRegistry registry_,
        address[] memory owners_,
        address[] memory grantees_,
        bytes32[] memory dataIds_,
        address[] memory strangers_,
        uint64 startTime,
        uint128 initialPurposes,
        uint256 consentsSlot,
        uint256 epochsSlot
    ) {
        registry = registry_;
        _owners = owners_;
        _grantees = grantees_;
        _dataIds = dataIds_;
        _strangers = strangers_;
        clock = startTime;
        grantable = initialPurposes;
        defined = initialPurposes;
        for (uint256 o = 0; o < owners_.length; ++o) {
            bytes32 byOwner = keccak256(abi.encode(owners_[o], consentsSlot));
            for (uint256 g = 0; g < grantees_.length; ++g) {
                bytes32 byGrantee = keccak256(abi.encode(grantees_[g], byOwner));
                for (uint256 d = 0; d < dataIds_.length; ++d) {
                    _stateSlots.push(keccak256(abi.encode(dataIds_[d], byGrantee)));
                }
            }
        }
        for (uint256 o = 0; o < owners_.length; ++o) {
            _stateSlots.push(keccak256(abi.encode(owners_[o], epochsSlot)));
        }
    }

    // ---------------------------------------------------------------------------------------
    // Actors
    // ---------------------------------------------------------------------------------------

    function owners() external view returns (address[] memory) {
        return _owners;
    }

    function grantees() external view returns (address[] memory) {
        return _grantees;
    }

    function dataIds() external view returns (bytes32[] memory) {
        return _dataIds;
    }

    function strangers() external view returns (address[] memory) {
        return _strangers;
    }

    // ---------------------------------------------------------------------------------------
    // Model updates (called by handlers after the registry accepted the action)
    // ---------------------------------------------------------------------------------------

    function setClock(uint64 t) external {
        clock = t;
    }

    function applyGrant(address owner, address grantee, bytes32 dataId, uint128 purposes, uint64 expiresAt) external {
        bytes32 k = key(owner, grantee, dataId);
        _consents[k] = ModelConsent(purposes, expiresAt, _epochs[owner], true);
        _revokedSinceGrant[k] = false;
    }

    function applyRevoke(address owner, address grantee, bytes32 dataId) external {
        bytes32 k = key(owner, grantee, dataId);
        delete _consents[k];
        _revokedSinceGrant[k] = true;
    }

    /// @dev The epoch bump kills the owner's consents in the model; the revoked flags (kept
    /// without epochs, for invariant 3) are set on every tracked key of the owner.
    function applyRevokeAll(address owner) external {
        ++_epochs[owner];
        for (uint256 g = 0; g < _grantees.length; ++g) {
            for (uint256 d = 0; d < _dataIds.length; ++d) {
                _revokedSinceGrant[key(owner, _grantees[g], _dataIds[d])] = true;
            }
        }
    }

    function applySetManager(address owner, address manager, bool approved) external {
        _managers[owner][manager] = approved;
    }

    function applyDefine(uint8 id) external {
        grantable |= uint128(1) << id;
        defined |= uint128(1) << id;
    }

    function applyDeprecate(uint8 id) external {
        grantable &= ~(uint128(1) << id);
    }

    function applyIntegration(address integration, IIntegrationRegistry.Status status, uint128 purposes) external {
        _integrations[integration].status = status;
        _integrations[integration].purposes = purposes;
    }

    // ---------------------------------------------------------------------------------------
    // Model queries
    // ---------------------------------------------------------------------------------------

    function key(address owner, address grantee, bytes32 dataId) public pure returns (bytes32) {
        return keccak256(abi.encode(owner, grantee, dataId));
    }

    function consentOf(address owner, address grantee, bytes32 dataId) external view returns (ModelConsent memory) {
        return _consents[key(owner, grantee, dataId)];
    }

    function epochOf(address owner) external view returns (uint64) {
        return _epochs[owner];
    }

    function isManager(address owner, address manager) external view returns (bool) {
        return _managers[owner][manager];
    }

    function integrationOf(address integration) external view returns (IIntegrationRegistry.Integration memory) {
        return _integrations[integration];
    }

    /// @notice The exact consent of the key is active now and includes `purpose` (no fallback).
    function exactAllows(address owner, address grantee, bytes32 dataId, uint8 purpose) public view returns (bool) {
        if (purpose > MAX_PURPOSE_ID) return false;
        ModelConsent storage c = _consents[key(owner, grantee, dataId)];
        return
            c.stored &&
            c.epoch == _epochs[owner] &&
            (c.expiresAt == 0 || clock < c.expiresAt) &&
            (c.purposes >> purpose) & 1 == 1;
    }

    /// @notice The model's answer to `isAllowed`: the exact consent, else the ALL_DATA one.
    function allows(address owner, address grantee, bytes32 dataId, uint8 purpose) public view returns (bool) {
        if (exactAllows(owner, grantee, dataId, purpose)) return true;
        return dataId != ALL_DATA && exactAllows(owner, grantee, ALL_DATA, purpose);
    }

    /// @notice Whether some consent that could cover the check (exact key or ALL_DATA) was
    /// granted with `purpose` and not revoked (by revoke or revokeAll) since. Ignores epochs and
    /// expiry on purpose: it is the independent witness for invariant 3.
    function unrevokedCovers(address owner, address grantee, bytes32 dataId, uint8 purpose) public view returns (bool) {
        return _unrevoked(key(owner, grantee, dataId), purpose) || _unrevoked(key(owner, grantee, ALL_DATA), purpose);
    }

    function integrationActive(address integration, uint8 purpose) public view returns (bool) {
        IIntegrationRegistry.Integration storage i = _integrations[integration];
        return
            purpose <= MAX_PURPOSE_ID &&
            i.status == IIntegrationRegistry.Status.Active &&
            (i.purposes >> purpose) & 1 == 1;
    }

    function _unrevoked(bytes32 k, uint8 purpose) private view returns (bool) {
        ModelConsent storage c = _consents[k];
        return c.stored && !_revokedSinceGrant[k] && purpose <= MAX_PURPOSE_ID && (c.purposes >> purpose) & 1 == 1;
    }

    // ---------------------------------------------------------------------------------------
    // Outcomes: the registry's answer vs the model's prediction
    // ---------------------------------------------------------------------------------------

    /**
     * @notice Compares what the registry did (`ok`, revert data `actual`) with the model's
     * prediction (`expected`: empty = success, else the exact ABI-encoded custom error).
     * @return accepted whether the registry accepted the action (the handler then updates the model)
     */
    function checkOutcome(
        string calldata action,
        bytes calldata expected,
        bool ok,
        bytes calldata actual
    ) external returns (bool accepted) {
        bytes32 id = keccak256(bytes(action));
        if (ok) ++successes[id];
        else ++failures[id];
        bytes memory got = ok ? bytes("") : actual;
        if (keccak256(got) != keccak256(expected)) {
            ++outcomeMismatches;
            lastMismatchAction = action;
            lastMismatchExpected = expected;
            lastMismatchActual = got;
        }
        return ok;
    }

    function logUse(address owner, address from, address to, bytes32 dataId, uint8 purpose) external {
        bool isShare = to != address(0);
        _uses.push(
            UseRecord({
                owner: owner,
                from: from,
                to: to,
                dataId: dataId,
                purpose: purpose,
                time: clock,
                fromAllowed: allows(owner, from, dataId, purpose),
                toAllowed: !isShare || allows(owner, to, dataId, purpose),
                toActiveIntegration: !isShare || integrationActive(to, purpose),
                fromUnrevoked: unrevokedCovers(owner, from, dataId, purpose),
                toUnrevoked: !isShare || unrevokedCovers(owner, to, dataId, purpose)
            })
        );
    }

    function useCount() external view returns (uint256) {
        return _uses.length;
    }

    function useAt(uint256 i) external view returns (UseRecord memory) {
        return _uses[i];
    }

    // ---------------------------------------------------------------------------------------
    // Change detection: who changed what
    // ---------------------------------------------------------------------------------------

    /// @notice The registry's raw storage: every tracked consent word (owner-major, then
    /// grantee, then data id), then every owner's epoch. Raw words, so that ANY write shows up,
    /// even one no read function would reveal.
    function readState() public view returns (bytes32[] memory state) {
        uint256 n = _stateSlots.length;
        state = new bytes32[](n);
        address target = address(registry);
        for (uint256 i = 0; i < n; ++i) {
            state[i] = vm.load(target, _stateSlots[i]);
        }
    }

    /// @notice Diffs the registry state against `before` and records who changed what.
    /// @param actor  the account that sent the call (msg.sender seen by the registry)
    /// @param signer the account whose valid signature was relayed, or address(0)
    function recordChanges(bytes32[] calldata before, address actor, address signer, ActionKind kind) external {
        bytes32[] memory afterState = readState();
        uint256 nG = _grantees.length;
        uint256 nD = _dataIds.length;
        uint256 nKeys = _owners.length * nG * nD;
        for (uint256 i = 0; i < afterState.length; ++i) {
            if (afterState[i] == before[i]) continue;
            address owner;
            address grantee;
            bytes32 dataId;
            if (i < nKeys) {
                owner = _owners[i / (nG * nD)];
                grantee = _grantees[(i / nD) % nG];
                dataId = _dataIds[i % nD];
            } else {
                owner = _owners[i - nKeys];
            }
            bool ownerAction = kind == ActionKind.Owner || kind == ActionKind.Signature;
            bool authorized = ownerAction && (actor == owner || _managers[owner][actor] || signer == owner);
            if (!authorized) ++unauthorizedChanges;
            if (kind == ActionKind.Governance) ++governanceConsentChanges;
            _changes.push(ChangeRecord(owner, grantee, dataId, actor, signer, kind, authorized, clock));
        }
    }

    function changeCount() external view returns (uint256) {
        return _changes.length;
    }

    function changeAt(uint256 i) external view returns (ChangeRecord memory) {
        return _changes[i];
    }
}
