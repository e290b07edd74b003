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
 * Each {ChangeRecord} names the {Path} that authorised it: `Owner` (the owner sent it), `Manager`
 * (a manager of the owner at that moment sent it) or `Signature` (with the nonce).
 *
 * ## The signature path and nonces
 * The {SignatureHandler} relays EIP-712 requests signed with `vm.sign` by owners derived from
 * private keys. When the registry accepts one, the handler calls {consumeNonce} for each signed
 * request it carried (before {applyGrant} / {applyRevoke} / {applyRevokeAll}), then
 * `recordChanges(before, relayer, signedBy, ActionKind.Signature)`. A change made during a
 * Signature action is authorised only if one request consumed in that same action targeted
 * exactly that (owner, grantee, dataId) (or the owner's epoch, for revokeAll), was signed by
 * the owner's own key, and used a nonce that was unused before (neither consumed nor
 * invalidated) and has been consumed exactly once. `signedBy` is the key's address, or
 * address(0) for a signature that is not the owner's over exactly this request (tampered,
 * malleated, other domain), so an accepted forgery shows up as unauthorised.
 * The nonce ghost ({nonceUsed}, {consumedBitmap}, {invalidatedBitmap}, {signedUseAt}) lets the
 * invariant test compare the registry's nonce bitmap bit for bit.
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

    /// @notice What authorised a change of an owner's consents (None: nothing did).
    enum Path {
        None,
        Owner,
        Manager,
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
        Path path;
        uint256 nonce; // the consumed nonce when `path == Signature`, else 0
        uint64 time;
    }

    /// @notice One signed request the registry accepted, i.e. one nonce it consumed.
    /// `grantee == address(0)` for a revokeAll. `wasUnused`: the nonce was neither consumed nor
    /// invalidated (in the model) before this request.
    struct SignedUse {
        address owner;
        uint256 nonce;
        address signer;
        address grantee;
        bytes32 dataId;
        bool wasUnused;
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

    /// @dev Nonce ghost: how often each (owner, nonce) was consumed by an accepted signed request,
    /// and, per 256-nonce word, the bits consumed by signatures and the bits the owner invalidated.
    mapping(address owner => mapping(uint256 nonce => uint256 count)) private _sigUses;
    mapping(address owner => mapping(uint256 wordPos => uint256 bitmap)) private _consumedBits;
    mapping(address owner => mapping(uint256 wordPos => uint256 bitmap)) private _invalidatedBits;
    SignedUse[] private _signedUses;
    /// @dev Indexes into `_signedUses` of the requests consumed by the current Signature action
    /// (cleared by every {recordChanges}).
    uint256[] private _pendingSigned;

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

    /// @notice `owner` called `invalidateNonces(wordPos, mask)`.
    function applyInvalidateNonces(address owner, uint256 wordPos, uint256 mask) external {
        _invalidatedBits[owner][wordPos] |= mask;
    }

    /**
     * @notice The registry accepted a request signed by `signer` that consumed `owner`'s `nonce`
     * and targets `(grantee, dataId)` (both 0 for a revokeAll). Call before applying its effect.
     */
    function consumeNonce(address owner, uint256 nonce, address signer, address grantee, bytes32 dataId) external {
        bool wasUnused = !nonceUsed(owner, nonce);
        ++_sigUses[owner][nonce];
        _consumedBits[owner][nonce >> 8] |= uint256(1) << (nonce & 0xff);
        _pendingSigned.push(_signedUses.length);
        _signedUses.push(SignedUse(owner, nonce, signer, grantee, dataId, wasUnused, clock));
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

    /// @notice Whether the model knows `owner`'s `nonce` as used (consumed or invalidated).
    function nonceUsed(address owner, uint256 nonce) public view returns (bool) {
        uint256 bit = uint256(1) << (nonce & 0xff);
        return (_consumedBits[owner][nonce >> 8] | _invalidatedBits[owner][nonce >> 8]) & bit != 0;
    }

    function consumedBitmap(address owner, uint256 wordPos) external view returns (uint256) {
        return _consumedBits[owner][wordPos];
    }

    function invalidatedBitmap(address owner, uint256 wordPos) external view returns (uint256) {
        return _invalidatedBits[owner][wordPos];
    }

    /// @notice How many accepted signed requests consumed `owner`'s `nonce` (must be 0 or 1).
    function sigUsesOf(address owner, uint256 nonce) external view returns (uint256) {
        return _sigUses[owner][nonce];
    }

    function signedUseCount() external view returns (uint256) {
        return _signedUses.length;
    }

    function signedUseAt(uint256 i) external view returns (SignedUse memory) {
        return _signedUses[i];
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
    /// @param signer for a Signature action, the key whose signature was relayed (else address(0));
    ///               the authorisation itself comes from the requests passed to {consumeNonce}
    function recordChanges(bytes32[] calldata before, address actor, address signer, ActionKind kind) external {
        bytes32[] memory afterState = readState();
        uint256 nG = _grantees.length;
        uint256 nD = _dataIds.length;
        uint256 nKeys = _owners.length * nG * nD;
        for (uint256 i = 0; i < afterState.length; ++i) {
            if (afterState[i] == before[i]) continue;
            ChangeRecord memory c;
            if (i < nKeys) {
                c.owner = _owners[i / (nG * nD)];
                c.grantee = _grantees[(i / nD) % nG];
                c.dataId = _dataIds[i % nD];
            } else {
                c.owner = _owners[i - nKeys];
            }
            c.actor = actor;
            c.signer = signer;
            c.kind = kind;
            c.time = clock;
            if (kind == ActionKind.Owner) {
                if (actor == c.owner) c.path = Path.Owner;
                else if (_managers[c.owner][actor]) c.path = Path.Manager;
            } else if (kind == ActionKind.Signature) {
                (c.path, c.nonce, c.signer) = _signedPath(c.owner, c.grantee, c.dataId, signer);
            }
            c.authorized = c.path != Path.None;
            if (!c.authorized) ++unauthorizedChanges;
            if (kind == ActionKind.Governance) ++governanceConsentChanges;
            _changes.push(c);
        }
        delete _pendingSigned;
    }

    /// @dev The signed request of the current action that authorises a change of `(owner,
    /// grantee, dataId)`: the latest one consumed for exactly that target, if it was signed by the
    /// owner's key with a nonce unused before and consumed only once. Also returns its signer
    /// (`signer` when no request of the action targeted the entry).
    function _signedPath(
        address owner,
        address grantee,
        bytes32 dataId,
        address signer
    ) private view returns (Path, uint256, address) {
        for (uint256 j = _pendingSigned.length; j > 0; --j) {
            SignedUse storage u = _signedUses[_pendingSigned[j - 1]];
            if (u.owner != owner || u.grantee != grantee || u.dataId != dataId) continue;
            bool valid = u.signer == owner && u.wasUnused && _sigUses[owner][u.nonce] == 1;
            return (valid ? Path.Signature : Path.None, u.nonce, u.signer);
        }
        return (Path.None, 0, signer);
    }

    function changeCount() external view returns (uint256) {
        return _changes.length;
    }

    function changeAt(uint256 i) external view returns (ChangeRecord memory) {
        return _changes[i];
    }
}
