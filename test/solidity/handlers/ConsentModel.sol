// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ALL_DATA, MAX_PURPOSE_ID, NO_EXPIRY} from "../../../contracts/Common.sol";
import {IConsentRegistry} from "../../../contracts/interfaces/IConsentRegistry.sol";
import {IIntegrationRegistry} from "../../../contracts/interfaces/IIntegrationRegistry.sol";
import {vm} from "../utils/Vm.sol";

/**
 * @title ConsentModel
 * @notice Ghost state of the invariant suite. It holds three independent views of the system:
 *
 * 1. The RULE MIRROR: every tracked consent word as the registry's rules say it must be
 *    (purposes, expiry, epoch, version), managers per epoch, the purpose catalogue and the
 *    integrations. Handlers predict each call's exact outcome from it (invariant 8) and the
 *    suite compares it with the registry's storage (invariants 6 and 7).
 *
 * 2. The OWNER'S INSTRUCTIONS (invariant 9), which know nothing of versions: per key, the
 *    owner's instructions in the order the owner gave them. A change by transaction (owner or
 *    manager) is given when it is sent, and takes effect at once; a signed Grant/Revoke is given
 *    when it is signed ({newMessage}) and takes effect only if and when the registry applies it.
 *    A lockdown (revokeAll by transaction, manager or signature) is an instruction for every key
 *    of the owner (kept once per owner, not copied into every key's log), counted when it takes
 *    effect: a signed RevokeAll names only an epoch, so it
 *    may apply after instructions signed later in that epoch (withdrawal wins; see
 *    `testWithheldSignedLockdownEndsLaterGrantsOfItsEpoch` in the invariant suite). The
 *    requirement "the owner's latest word holds" then reads:
 *    - a signed message applies only if no instruction for its key given after it has taken
 *      effect, and a signed message applies at most once ({orderViolations});
 *    - a signed message is refused as stale only if such a later instruction has taken effect,
 *      or it applied before ({unjustifiedRefusals});
 *    - the registry's consent for every key is the effect of the instruction in effect
 *      ({effectOf}), whatever order and delay relayers chose.
 *
 * 3. WHO CHANGED WHAT (invariant 5): every handler action is wrapped as
 *
 *        model.beginAction();
 *        vm.prank(actor); registry.someWrite(...);
 *        model.apply...(...);                       // only if the registry accepted
 *        model.recordChanges(actor, kind);
 *
 *    {beginAction} starts `vm.record()`; {recordChanges} takes every slot of the registry the
 *    action wrote (`vm.accesses`), and compares each tracked one (the packed word of every
 *    tracked key, the epoch of every owner; slots found by probing, see SystemBase) with its
 *    last value seen, so any write shows up, even one no read function reveals (and only the
 *    written slots are read: this runs around every call of every campaign). It attributes
 *    each changed entry to a path: the owner
 *    sent it, a manager of the owner (at the start of the action) sent it, or a signed message of
 *    the owner applied in that action, exactly once and in order ({applySigned}). It also checks
 *    the version rule on raw words: every change of a consent word raises its version, a
 *    transaction change moves it to the next generation, a signed change stays in the
 *    generation with a non-zero sequence, and an epoch only moves by one.
 *
 * The handlers drive the registry and write here; the invariant test only reads.
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

    enum MessageKind {
        Grant,
        Revoke,
        RevokeAll
    }

    enum InstructionKind {
        Grant,
        Revoke,
        Lockdown
    }

    /// @notice A tracked consent word as the rules say it must be stored.
    struct ModelConsent {
        uint128 purposes;
        uint40 expiresAt;
        uint32 epoch;
        uint64 version;
    }

    /// @notice A signed message. `instruction`: signed by the owner's key and numbered by the SDK
    /// rule, i.e. one of the owner's instructions; false for probes crafted to be refused
    /// (forged, tampered, deliberately stale), which must never take effect.
    /// Fields ordered so that it packs in six slots (ghost writes are most of a handler's cost).
    struct Message {
        MessageKind kind;
        address owner;
        uint32 epoch;
        uint32 applied; // how often the registry applied it
        bool instruction;
        bool inOrder; // when it applied: no later instruction for its key had taken effect
        address grantee;
        uint64 version;
        bytes32 dataId;
        uint128 purposes;
        uint40 expiresAt;
        uint64 seq; // when the owner gave it, among all instructions (0 for probes)
        uint256 deadline;
        address signer; // whose key signed exactly this message; address(0) if nobody's
    }

    /// @notice One instruction of an owner for one key (one slot). `messageId` 0: by transaction.
    struct Instruction {
        uint64 seq;
        InstructionKind kind;
        uint64 messageId;
        bool applied;
    }

    /// @notice What the instruction in effect says the consent is (no versions here).
    struct Effect {
        uint128 purposes;
        uint40 expiresAt;
    }

    /// @notice One change of an owner's consent state seen in the registry's storage.
    /// `grantee == address(0)` means the owner's epoch changed.
    struct ChangeRecord {
        address owner;
        ActionKind kind;
        Path path;
        bool authorized;
        uint64 time;
        address grantee;
        uint64 messageId; // the applied message when `path == Signature`, else 0
        bytes32 dataId;
        address actor;
        address signer; // for a signature path: the key that signed the applied message
    }

    /// @notice One use (`to == address(0)`) or share the registry accepted, and what the model
    /// said at that moment.
    struct UseRecord {
        address owner;
        uint64 time;
        uint8 purpose;
        bool fromAllowed; // model: sender held active consent
        bool toAllowed; // model: recipient held active consent (true for uses)
        bool toActiveIntegration; // model: recipient was an active integration for purpose (true for uses)
        address from;
        bool fromUnrevoked; // a covering consent had not been revoked since it was granted
        bool toUnrevoked;
        address to;
        bytes32 dataId;
    }

    /// @dev Purpose ids the model tracks: the 8 initial ones, two governance may define (8, 9)
    /// and the top id 127 (also definable), the boundary of the purpose range.
    uint128 public constant TRACKED_MASK = uint128((1 << 10) - 1) | (uint128(1) << 127);
    uint8 public constant TRACKED_LOW = 10;
    uint64 private constant SEQUENCE_MASK = 0xffff;

    IConsentRegistry public immutable registry;

    address[] private _owners;
    address[] private _grantees;
    bytes32[] private _dataIds;
    address[] private _strangers;

    uint64 public clock;
    mapping(bytes32 key => ModelConsent) private _consents;
    mapping(bytes32 key => bool) private _revokedSinceGrant;
    mapping(address owner => uint32) private _epochs;
    mapping(address owner => uint32) private _snapEpochs;
    mapping(address owner => mapping(address manager => uint256 epochPlusOne)) private _managers;

    uint128 public grantable;
    uint128 public defined;
    mapping(address integration => IIntegrationRegistry.Integration) private _integrations;

    /// @dev Registry storage slots of every tracked consent word, then of every owner's epoch;
    /// each slot's index + 1; and each slot's value as last seen after an action.
    bytes32[] private _stateSlots;
    mapping(bytes32 slot => uint256 indexPlusOne) private _slotIndex;
    bytes32[] private _seen;

    UseRecord[] private _uses;
    ChangeRecord[] private _changes;

    // --- the owner's instructions ---
    Message[] private _messages; // id = index + 1
    uint64 private _seq;
    mapping(bytes32 key => Instruction[]) private _log;
    mapping(bytes32 key => Effect) private _effect;
    /// @dev Per owner, when each lockdown took effect (an instruction for every key of the owner).
    mapping(address owner => uint64[] seqs) private _lockdowns;
    /// @dev The SDK's local signing store: the highest version it handed out per key, with the
    /// epoch it was for (a later message of the same epoch and generation must go above it).
    mapping(bytes32 key => uint64) private _reservedVersion;
    mapping(bytes32 key => uint32) private _reservedEpoch;
    /// @dev Ids of the messages applied during the current action (cleared by {recordChanges}).
    uint256[] private _appliedInAction;

    uint256 public unauthorizedChanges;
    string public lastUnauthorizedChange;
    uint256 public governanceConsentChanges;
    /// @notice Accepted uses/shares the model did not allow (invariant 1) or that relied on a
    /// revoked consent (invariant 3), judged when logged (a record never changes afterwards).
    uint256 public recordsWithoutConsent;
    uint256 public recordsAfterRevoke;
    uint256 public outcomeMismatches;
    string public lastMismatchAction;
    bytes public lastMismatchExpected;
    bytes public lastMismatchActual;
    uint256 public versionViolations;
    string public lastVersionViolation;
    uint256 public orderViolations;
    uint256 public unjustifiedRefusals;
    /// @notice Coverage evidence for invariant 9: stale refusals explained by a later
    /// instruction, and signed messages that applied while a later one for the same key was
    /// still held back (it then overwrote them, or will).
    uint256 public justifiedStaleRefusals;
    uint256 public appliedAheadOfALaterMessage;
    string public lastOrderViolation;

    /// @notice How many fuzzed handler calls ran ({newCall}), and when each input of `isAllowed`
    /// last changed: a key's word, an owner's epoch, the clock. Invariant 7 re-reads only what
    /// changed in the latest call (every call is followed by the check, and `isAllowed` is a
    /// function of those inputs alone); with no call yet, everything.
    uint256 public callCount;
    mapping(bytes32 key => uint256 call) private _changedAtCall;
    mapping(address owner => uint256 call) private _epochChangedAtCall;
    uint256 private _clockChangedAtCall;

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
        for (uint256 i = 0; i < _stateSlots.length; ++i) {
            _slotIndex[_stateSlots[i]] = i + 1;
            _seen.push(vm.load(address(registry_), _stateSlots[i]));
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
    // Model updates by transaction (called by handlers after the registry accepted the action)
    // ---------------------------------------------------------------------------------------

    function setClock(uint64 t) external {
        clock = t;
        _clockChangedAtCall = callCount;
    }

    /// @notice A fuzzed handler call starts (HandlerBase's `fuzzCall` modifier).
    function newCall() external {
        ++callCount;
    }

    /// @notice A grant by transaction (owner or manager): the next generation, and an
    /// instruction that takes effect at once.
    function applyTxGrant(address owner, address grantee, bytes32 dataId, uint128 purposes, uint40 expiresAt) external {
        bytes32 k = key(owner, grantee, dataId);
        ModelConsent storage c = _consents[k];
        _consents[k] = ModelConsent(purposes, expiresAt, _epochs[owner], nextGeneration(c.version));
        _revokedSinceGrant[k] = false;
        _giveApplied(k, ++_seq, InstructionKind.Grant, 0);
        _effect[k] = Effect(purposes, expiresAt);
    }

    /// @notice A revocation by transaction: the word keeps only its next-generation version.
    function applyTxRevoke(address owner, address grantee, bytes32 dataId) external {
        bytes32 k = key(owner, grantee, dataId);
        _consents[k] = ModelConsent(0, 0, 0, nextGeneration(_consents[k].version));
        _revokedSinceGrant[k] = true;
        _giveApplied(k, ++_seq, InstructionKind.Revoke, 0);
        delete _effect[k];
    }

    /// @notice A lockdown by transaction (owner or manager).
    function applyLockdown(address owner) external {
        _lockdown(owner, 0);
    }

    function applySetManager(address owner, address manager, bool approved) external {
        _managers[owner][manager] = approved ? uint256(_epochs[owner]) + 1 : 0;
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
    // Signed messages
    // ---------------------------------------------------------------------------------------

    /**
     * @notice Registers a signed message and returns its id. An owner's instruction
     * (`m.instruction`) is given now: it is logged for its key (Grant/Revoke) and its version is
     * reserved in the SDK store. `seq`, `applied` and `inOrder` are set here.
     */
    function newMessage(Message memory m) external returns (uint256 id) {
        m.applied = 0;
        m.inOrder = false;
        m.seq = 0;
        if (m.instruction) {
            m.seq = ++_seq;
            if (m.kind != MessageKind.RevokeAll) {
                bytes32 k = key(m.owner, m.grantee, m.dataId);
                InstructionKind kind = m.kind == MessageKind.Grant ? InstructionKind.Grant : InstructionKind.Revoke;
                _log[k].push(Instruction(m.seq, kind, uint64(_messages.length + 1), false));
                _reservedVersion[k] = m.version;
                _reservedEpoch[k] = m.epoch;
            }
        }
        _messages.push(m);
        id = _messages.length;
    }

    /**
     * @notice The registry applied message `id` (single relay, or a batch item it reported as
     * applied). Checks the owner's-latest-word rule, then updates the rule mirror (as the
     * registry must have) and, if the message was in order, the effect of the owner's word.
     * @return stored the purposes the registry must have stored (grants: the signed ones minus
     * those no longer grantable and not keepable; else 0)
     */
    function applySigned(uint256 id) external returns (uint128 stored) {
        Message storage m = _messages[id - 1];
        _appliedInAction.push(id);
        bool inOrder = true;
        if (!m.instruction) {
            inOrder = false;
            _orderViolation("a signed message that is no instruction of its owner took effect");
        } else if (m.applied != 0) {
            inOrder = false;
            _orderViolation("a signed message took effect twice");
        }
        if (m.kind == MessageKind.RevokeAll) {
            if (inOrder && _lastLockdown(m.owner) > m.seq) {
                inOrder = false;
                _orderViolation("a signed lockdown took effect after a later lockdown");
            }
            ++m.applied;
            m.inOrder = inOrder;
            _lockdown(m.owner, id);
            return 0;
        }
        bytes32 k = key(m.owner, m.grantee, m.dataId);
        if (inOrder) {
            if (_latestInEffect(k, m.owner) > m.seq) {
                inOrder = false;
                _orderViolation("a message signed before a later instruction that took effect applied");
            }
            Instruction[] storage log = _log[k];
            bool laterPending;
            for (uint256 i = 0; i < log.length; ++i) {
                if (log[i].messageId == id) log[i].applied = true;
                else if (!log[i].applied && log[i].seq > m.seq) laterPending = true;
            }
            if (laterPending) ++appliedAheadOfALaterMessage;
        }
        ++m.applied;
        m.inOrder = inOrder;

        ModelConsent storage c = _consents[k];
        if (m.kind == MessageKind.Grant) {
            stored = m.purposes & (grantable | _keepable(c, _epochs[m.owner], m.expiresAt));
            uint128 effective = m.purposes & (grantable | _effectKeepable(k, m.expiresAt));
            _consents[k] = ModelConsent(stored, m.expiresAt, _epochs[m.owner], m.version);
            _revokedSinceGrant[k] = false;
            if (inOrder) _effect[k] = Effect(effective, m.expiresAt);
        } else {
            _consents[k] = ModelConsent(0, 0, 0, m.version);
            _revokedSinceGrant[k] = true;
            if (inOrder) delete _effect[k];
        }
    }

    /// @notice The registry refused message `id` with `err`. A stale-signature refusal of an
    /// owner's instruction must be explained by a later instruction that took effect (or by the
    /// message having applied already): otherwise the owner's latest word was lost.
    function refuseSigned(uint256 id, bytes calldata err) external {
        _refuse(id, err);
    }

    /// @notice An all-or-nothing batch of messages `ids` reverted with `err`: if it is
    /// BatchItemFailed(index, reason), message `ids[index]` was refused for `reason`. Nothing
    /// of the batch took effect, but within it the items before `index` had applied, so a stale
    /// refusal is also explained by an earlier item for the same key given no earlier than it
    /// (the same message twice, or a later instruction first).
    function refuseSignedBatchItem(uint256[] calldata ids, bytes calldata err) external {
        if (err.length < 4 || bytes4(err[0:4]) != IConsentRegistry.ConsentRegistryBatchItemFailed.selector) return;
        (uint256 index, bytes memory reason) = abi.decode(err[4:], (uint256, bytes));
        if (index >= ids.length) return;
        Message storage m = _messages[ids[index] - 1];
        for (uint256 j = 0; j < index; ++j) {
            Message storage e = _messages[ids[j] - 1];
            if (e.owner == m.owner && e.grantee == m.grantee && e.dataId == m.dataId && e.seq >= m.seq) return;
        }
        _refuse(ids[index], reason);
    }

    function _refuse(uint256 id, bytes memory err) private {
        Message storage m = _messages[id - 1];
        if (!m.instruction || err.length < 4) return;
        if (bytes4(err) != IConsentRegistry.ConsentRegistryStaleSignature.selector) return;
        if (m.applied != 0) return;
        bool justified =
            m.kind == MessageKind.RevokeAll
                ? _lastLockdown(m.owner) > m.seq
                : _latestInEffect(key(m.owner, m.grantee, m.dataId), m.owner) > m.seq;
        if (justified) ++justifiedStaleRefusals;
        if (!justified) {
            ++unjustifiedRefusals;
            lastOrderViolation = "an instruction was refused as stale although nothing later had taken effect";
        }
    }

    function messageCount() external view returns (uint256) {
        return _messages.length;
    }

    function messageAt(uint256 id) external view returns (Message memory) {
        return _messages[id - 1];
    }

    function kindOf(uint256 id) external view returns (MessageKind) {
        return _messages[id - 1].kind;
    }

    /**
     * @notice The version the SDK gives the next message for a key: the key's version + 1, or
     * above the highest version the signing store reserved in the same epoch and generation
     * (messages still held back by relayers).
     */
    function nextSignedVersion(address owner, address grantee, bytes32 dataId) external view returns (uint64) {
        bytes32 k = key(owner, grantee, dataId);
        uint64 v = _consents[k].version;
        uint64 reserved = _reservedVersion[k];
        if (_reservedEpoch[k] == _epochs[owner] && reserved >> 16 == v >> 16 && reserved > v) v = reserved;
        return v + 1;
    }

    /// @notice The owner's instructions for a key, in the order given (lockdowns: {lockdownsOf}).
    function instructionsOf(
        address owner,
        address grantee,
        bytes32 dataId
    ) external view returns (Instruction[] memory) {
        return _log[key(owner, grantee, dataId)];
    }

    /// @notice When each of the owner's lockdowns took effect (an instruction for all its keys).
    function lockdownsOf(address owner) external view returns (uint64[] memory) {
        return _lockdowns[owner];
    }

    /**
     * @notice For every tracked key (owner-major, then grantee, then data id): the purposes the
     * instruction in effect allows now, and its expiry (one call for the whole invariant).
     */
    function effects() external view returns (uint128[] memory active, uint40[] memory expiries) {
        uint256 n = _owners.length * _grantees.length * _dataIds.length;
        active = new uint128[](n);
        expiries = new uint40[](n);
        uint256 i;
        for (uint256 o = 0; o < _owners.length; ++o) {
            for (uint256 g = 0; g < _grantees.length; ++g) {
                for (uint256 d = 0; d < _dataIds.length; ++d) {
                    active[i] = effectActivePurposes(_owners[o], _grantees[g], _dataIds[d]);
                    expiries[i] = _effect[key(_owners[o], _grantees[g], _dataIds[d])].expiresAt;
                    ++i;
                }
            }
        }
    }

    /**
     * @notice For one owner and grantee, per tracked data id then data id 0: a bitmap over
     * `purposes` (bit j = purposes[j]) of what `isAllowed` must answer, bit 255 set when the
     * exact consent must be reported active (data id 0: never), and bit 254 set when an input of
     * `isAllowed` for it changed in the latest call (or no call ran yet).
     */
    function allowedMasks(
        address owner,
        address grantee,
        uint8[] calldata purposes
    ) external view returns (uint256[] memory masks) {
        masks = new uint256[](_dataIds.length + 1);
        uint32 epoch = _epochs[owner];
        ModelConsent storage all = _consents[key(owner, grantee, ALL_DATA)];
        uint128 fallbackPurposes = _isActive(all, epoch) ? all.purposes : 0;
        for (uint256 d = 0; d <= _dataIds.length; ++d) {
            bytes32 dataId = d < _dataIds.length ? _dataIds[d] : bytes32(0);
            if (!_changedSinceLastCall(owner, grantee, dataId)) continue;
            ModelConsent storage c = _consents[key(owner, grantee, dataId)];
            bool active = _isActive(c, epoch);
            // The same rule as {allows}, with the two words read once for every purpose.
            uint128 allowed = active ? c.purposes : 0;
            if (dataId != ALL_DATA && dataId != bytes32(0)) allowed |= fallbackPurposes;
            uint256 m = uint256(1) << 254;
            if (active && d < _dataIds.length) m |= uint256(1) << 255;
            for (uint256 j = 0; j < purposes.length; ++j) {
                if (purposes[j] <= MAX_PURPOSE_ID && (allowed >> purposes[j]) & 1 == 1) m |= uint256(1) << j;
            }
            masks[d] = m;
        }
    }

    /// @dev Whether the key's word, its owner's ALL_DATA word (the fallback), the owner's epoch or
    /// the clock changed in the latest call. Data id 0 reads only the ALL_DATA word's answer.
    function _changedSinceLastCall(address owner, address grantee, bytes32 dataId) private view returns (bool) {
        uint256 n = callCount;
        return
            n == 0 ||
            _clockChangedAtCall == n ||
            _epochChangedAtCall[owner] == n ||
            _changedAtCall[key(owner, grantee, dataId)] == n ||
            _changedAtCall[key(owner, grantee, ALL_DATA)] == n;
    }

    /// @notice Bitmap over `candidates` of those that are current managers of `owner`.
    function managerMask(address owner, address[] calldata candidates) external view returns (uint256 m) {
        for (uint256 i = 0; i < candidates.length; ++i) if (isManager(owner, candidates[i])) m |= uint256(1) << i;
    }

    /// @notice The effect of the owner's instruction in effect: purposes active now (0 if none).
    function effectActivePurposes(address owner, address grantee, bytes32 dataId) public view returns (uint128) {
        Effect storage e = _effect[key(owner, grantee, dataId)];
        if (e.expiresAt != NO_EXPIRY && clock >= e.expiresAt) return 0;
        return e.purposes;
    }

    function effectOf(address owner, address grantee, bytes32 dataId) external view returns (Effect memory) {
        return _effect[key(owner, grantee, dataId)];
    }

    // ---------------------------------------------------------------------------------------
    // Model queries
    // ---------------------------------------------------------------------------------------

    function key(address owner, address grantee, bytes32 dataId) public pure returns (bytes32) {
        return keccak256(abi.encode(owner, grantee, dataId));
    }

    /// @notice The version after a transaction change: the next generation, sequence 0.
    function nextGeneration(uint64 version) public pure returns (uint64) {
        return (version | SEQUENCE_MASK) + 1;
    }

    function consentOf(address owner, address grantee, bytes32 dataId) external view returns (ModelConsent memory) {
        return _consents[key(owner, grantee, dataId)];
    }

    function epochOf(address owner) external view returns (uint32) {
        return _epochs[owner];
    }

    /// @notice A manager counts only if appointed in the owner's current epoch.
    function isManager(address owner, address manager) public view returns (bool) {
        return _managers[owner][manager] == uint256(_epochs[owner]) + 1;
    }

    function integrationOf(address integration) external view returns (IIntegrationRegistry.Integration memory) {
        return _integrations[integration];
    }

    /// @notice The stored consent is active now: granted, of the owner's epoch, not expired.
    function isActive(address owner, address grantee, bytes32 dataId) public view returns (bool) {
        return _isActive(_consents[key(owner, grantee, dataId)], _epochs[owner]);
    }

    /// @notice The purposes a grant with `expiresAt` may keep although no longer grantable: those
    /// of the live consent, if the new expiry is not later (NO_EXPIRY is the latest).
    function keepable(
        address owner,
        address grantee,
        bytes32 dataId,
        uint40 expiresAt
    ) external view returns (uint128) {
        return _keepable(_consents[key(owner, grantee, dataId)], _epochs[owner], expiresAt);
    }

    /// @notice The exact consent of the key is active now and includes `purpose` (no fallback).
    function exactAllows(address owner, address grantee, bytes32 dataId, uint8 purpose) public view returns (bool) {
        if (purpose > MAX_PURPOSE_ID) return false;
        ModelConsent storage c = _consents[key(owner, grantee, dataId)];
        return _isActive(c, _epochs[owner]) && (c.purposes >> purpose) & 1 == 1;
    }

    /// @notice The model's answer to `isAllowed`: the exact consent, else the ALL_DATA one; no
    /// fallback for ALL_DATA itself nor for data id 0.
    function allows(address owner, address grantee, bytes32 dataId, uint8 purpose) public view returns (bool) {
        if (exactAllows(owner, grantee, dataId, purpose)) return true;
        return dataId != ALL_DATA && dataId != bytes32(0) && exactAllows(owner, grantee, ALL_DATA, purpose);
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
        return !_revokedSinceGrant[k] && purpose <= MAX_PURPOSE_ID && (c.purposes >> purpose) & 1 == 1;
    }

    function _isActive(ModelConsent storage c, uint32 currentEpoch) private view returns (bool) {
        return c.purposes != 0 && c.epoch == currentEpoch && (c.expiresAt == NO_EXPIRY || clock < c.expiresAt);
    }

    function _keepable(ModelConsent storage c, uint32 currentEpoch, uint40 expiresAt) private view returns (uint128) {
        if (!_isActive(c, currentEpoch)) return 0;
        if (c.expiresAt != NO_EXPIRY && (expiresAt == NO_EXPIRY || expiresAt > c.expiresAt)) return 0;
        return c.purposes;
    }

    /// @dev {_keepable} over the instruction view (no epochs: a lockdown clears the effect).
    function _effectKeepable(bytes32 k, uint40 expiresAt) private view returns (uint128) {
        Effect storage e = _effect[k];
        if (e.purposes == 0 || (e.expiresAt != NO_EXPIRY && clock >= e.expiresAt)) return 0;
        if (e.expiresAt != NO_EXPIRY && (expiresAt == NO_EXPIRY || expiresAt > e.expiresAt)) return 0;
        return e.purposes;
    }

    /// @dev A lockdown takes effect now: an instruction for every key of the owner, recorded once
    /// for the owner; the effect of every tracked key is cleared.
    function _lockdown(address owner, uint256) private {
        ++_epochs[owner];
        _lockdowns[owner].push(++_seq);
        for (uint256 g = 0; g < _grantees.length; ++g) {
            for (uint256 d = 0; d < _dataIds.length; ++d) {
                bytes32 k = key(owner, _grantees[g], _dataIds[d]);
                _revokedSinceGrant[k] = true;
                delete _effect[k];
            }
        }
    }

    function _giveApplied(bytes32 k, uint64 seq, InstructionKind kind, uint256 messageId) private {
        _log[k].push(Instruction(seq, kind, uint64(messageId), true));
    }

    function _lastLockdown(address owner) private view returns (uint64) {
        uint64[] storage seqs = _lockdowns[owner];
        return seqs.length == 0 ? 0 : seqs[seqs.length - 1];
    }

    /// @dev When the latest instruction for key `k` (of `owner`) that took effect was given: its
    /// own log, or the owner's latest lockdown.
    function _latestInEffect(bytes32 k, address owner) private view returns (uint64 latest) {
        latest = _lastLockdown(owner);
        Instruction[] storage log = _log[k];
        for (uint256 i = 0; i < log.length; ++i) if (log[i].applied && log[i].seq > latest) latest = log[i].seq;
    }

    function _orderViolation(string memory what) private {
        ++orderViolations;
        lastOrderViolation = what;
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
        if (keccak256(got) != keccak256(expected)) _mismatch(action, expected, got);
        return ok;
    }

    /// @notice Compares any other observed result (return data, events) with the prediction;
    /// counts nothing on a match.
    function checkEqual(string calldata action, bytes calldata expected, bytes calldata actual) external {
        if (keccak256(actual) != keccak256(expected)) _mismatch(action, expected, actual);
    }

    /// @notice Counts a success or a failure of `action` without a prediction to compare (batch
    /// items, whose outcomes are compared as a whole with {checkEqual}).
    function count(string calldata action, bool ok) external {
        bytes32 id = keccak256(bytes(action));
        if (ok) ++successes[id];
        else ++failures[id];
    }

    function _mismatch(string calldata action, bytes memory expected, bytes memory actual) private {
        ++outcomeMismatches;
        lastMismatchAction = action;
        lastMismatchExpected = expected;
        lastMismatchActual = actual;
    }

    function logUse(address owner, address from, address to, bytes32 dataId, uint8 purpose) external {
        bool isShare = to != address(0);
        UseRecord memory u = UseRecord({
            owner: owner,
            time: clock,
            purpose: purpose,
            fromAllowed: allows(owner, from, dataId, purpose),
            toAllowed: !isShare || allows(owner, to, dataId, purpose),
            toActiveIntegration: !isShare || integrationActive(to, purpose),
            from: from,
            fromUnrevoked: unrevokedCovers(owner, from, dataId, purpose),
            toUnrevoked: !isShare || unrevokedCovers(owner, to, dataId, purpose),
            to: to,
            dataId: dataId
        });
        if (!u.fromAllowed || !u.toAllowed || !u.toActiveIntegration) ++recordsWithoutConsent;
        if (!u.fromUnrevoked || !u.toUnrevoked) ++recordsAfterRevoke;
        _uses.push(u);
    }

    function useCount() external view returns (uint256) {
        return _uses.length;
    }

    function useAt(uint256 i) external view returns (UseRecord memory) {
        return _uses[i];
    }

    // ---------------------------------------------------------------------------------------
    // Change detection: who changed what, and the version rule on raw storage
    // ---------------------------------------------------------------------------------------

    /// @notice The registry's raw storage: every tracked consent word (owner-major, then
    /// grantee, then data id), then every owner's epoch.
    function readState() public view returns (bytes32[] memory state) {
        uint256 n = _stateSlots.length;
        state = new bytes32[](n);
        address target = address(registry);
        for (uint256 i = 0; i < n; ++i) {
            state[i] = vm.load(target, _stateSlots[i]);
        }
    }

    /// @notice What {readState} must return: the model's word of every tracked key (bits 0..127
    /// purposes, 128..167 expiry, 168..199 epoch, 200..255 version, as documented in
    /// ConsentSlot), then every owner's epoch.
    function expectedState() external view returns (bytes32[] memory state) {
        state = new bytes32[](_stateSlots.length);
        uint256 i;
        for (uint256 o = 0; o < _owners.length; ++o) {
            for (uint256 g = 0; g < _grantees.length; ++g) {
                for (uint256 d = 0; d < _dataIds.length; ++d) {
                    ModelConsent storage c = _consents[key(_owners[o], _grantees[g], _dataIds[d])];
                    state[i] = bytes32(
                        uint256(c.purposes) |
                            (uint256(c.expiresAt) << 128) |
                            (uint256(c.epoch) << 168) |
                            (uint256(c.version) << 200)
                    );
                    ++i;
                }
            }
        }
        for (uint256 o = 0; o < _owners.length; ++o) {
            state[i] = bytes32(uint256(_epochs[_owners[o]]));
            ++i;
        }
    }

    /// @notice Starts an action: records the registry's storage writes from now on, and
    /// remembers the model's epochs (a manager's authority is judged as it was when the manager
    /// sent the call: a lockdown the manager sends removes the manager itself).
    function beginAction() external {
        for (uint256 o = 0; o < _owners.length; ++o) _snapEpochs[_owners[o]] = _epochs[_owners[o]];
        vm.record();
    }

    /// @notice Ends an action: every tracked slot the registry wrote since {beginAction} and
    /// whose value changed is recorded with who changed it, and checked against the version rule.
    /// @param actor the account that sent the call (msg.sender seen by the registry)
    function recordChanges(address actor, ActionKind kind) external {
        (, bytes32[] memory writes) = vm.accesses(address(registry));
        uint256 nG = _grantees.length;
        uint256 nD = _dataIds.length;
        uint256 nKeys = _owners.length * nG * nD;
        for (uint256 w = 0; w < writes.length; ++w) {
            uint256 indexPlusOne = _slotIndex[writes[w]];
            if (indexPlusOne == 0) continue; // not tracked (managers, catalogue, other accounts)
            uint256 i = indexPlusOne - 1;
            bytes32 before = _seen[i];
            bytes32 afterWord = vm.load(address(registry), writes[w]);
            if (afterWord == before) continue; // unchanged, or already seen (a slot written twice)
            _seen[i] = afterWord;
            ChangeRecord memory c;
            if (i < nKeys) {
                c.owner = _owners[i / (nG * nD)];
                c.grantee = _grantees[(i / nD) % nG];
                c.dataId = _dataIds[i % nD];
                _changedAtCall[key(c.owner, c.grantee, c.dataId)] = callCount;
                _checkVersionStep(uint256(before) >> 200, uint256(afterWord) >> 200, kind);
            } else {
                c.owner = _owners[i - nKeys];
                _epochChangedAtCall[c.owner] = callCount;
                if (uint256(afterWord) != uint256(before) + 1) _versionViolation("an epoch moved by other than one");
            }
            c.actor = actor;
            c.kind = kind;
            c.time = clock;
            if (kind == ActionKind.Owner) {
                if (actor == c.owner) c.path = Path.Owner;
                else if (_managers[c.owner][actor] == uint256(_snapEpochs[c.owner]) + 1) c.path = Path.Manager;
            } else if (kind == ActionKind.Signature) {
                (c.path, c.messageId, c.signer) = _signedPath(c.owner, c.grantee, c.dataId);
            }
            c.authorized = c.path != Path.None;
            if (!c.authorized) {
                ++unauthorizedChanges;
                lastUnauthorizedChange =
                    kind == ActionKind.Signature
                        ? "changed by a signed message that is not the owner's instruction applied once, in order"
                        : "changed by an account that is neither the owner nor a current manager";
            }
            if (kind == ActionKind.Governance) ++governanceConsentChanges;
            _changes.push(c);
        }
        delete _appliedInAction;
    }

    /// @dev The version rule on one changed consent word: it grew; by transaction to the next
    /// generation, sequence 0; by signature within its generation, sequence non-zero.
    function _checkVersionStep(uint256 vBefore, uint256 vAfter, ActionKind kind) private {
        if (vAfter <= vBefore) return _versionViolation("a consent word changed without its version growing");
        if (kind == ActionKind.Owner && vAfter != (vBefore | SEQUENCE_MASK) + 1) {
            return _versionViolation("a transaction change did not start the next generation");
        }
        if (kind == ActionKind.Signature && (vAfter >> 16 != vBefore >> 16 || vAfter & SEQUENCE_MASK == 0)) {
            _versionViolation("a signed change left its generation");
        }
    }

    function _versionViolation(string memory what) private {
        ++versionViolations;
        lastVersionViolation = what;
    }

    /// @dev The message applied in this action that authorises a change of `(owner, grantee,
    /// dataId)` (grantee 0: the owner's epoch, by a RevokeAll): the latest one for exactly that
    /// target; it counts if it is the owner's instruction, signed by the owner's key, applied
    /// exactly once and in order.
    function _signedPath(address owner, address grantee, bytes32 dataId) private view returns (Path, uint64, address) {
        for (uint256 j = _appliedInAction.length; j > 0; --j) {
            uint256 id = _appliedInAction[j - 1];
            Message storage m = _messages[id - 1];
            bool forEpoch = m.kind == MessageKind.RevokeAll;
            if (m.owner != owner || forEpoch != (grantee == address(0))) continue;
            if (!forEpoch && (m.grantee != grantee || m.dataId != dataId)) continue;
            bool valid = m.instruction && m.signer == owner && m.applied == 1 && m.inOrder;
            return (valid ? Path.Signature : Path.None, uint64(id), m.signer);
        }
        return (Path.None, 0, address(0));
    }

    function changeCount() external view returns (uint256) {
        return _changes.length;
    }

    function changeAt(uint256 i) external view returns (ChangeRecord memory) {
        return _changes[i];
    }
}
