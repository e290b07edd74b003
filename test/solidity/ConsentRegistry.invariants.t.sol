// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ALL_DATA} from "../../contracts/Common.sol";
import {IIntegrationRegistry} from "../../contracts/interfaces/IIntegrationRegistry.sol";
import {GovernanceHandler} from "./handlers/GovernanceHandler.sol";
import {ConsentModel} from "./handlers/ConsentModel.sol";
import {OwnerHandler} from "./handlers/OwnerHandler.sol";
import {ProcessorHandler} from "./handlers/ProcessorHandler.sol";
import {SignatureHandler} from "./handlers/SignatureHandler.sol";
import {TimeHandler} from "./handlers/TimeHandler.sol";
import {Signing} from "./utils/Signing.sol";
import {SystemBase} from "./utils/SystemBase.sol";
import {vm} from "./utils/Vm.sol";

/**
 * @title ConsentRegistryInvariantTest
 * @notice Stateful fuzzing of the whole consent system by five actors (owners and managers by
 * transaction, signature relayers holding messages back, processors, governance, time) against
 * the ghost {ConsentModel}. After every call of every sequence, the invariants below must hold.
 * Run long with `npm run test:invariants` (1,000 runs x depth 50).
 *
 * The `test...` functions below run fixed scenarios through the same handlers (so the
 * invariants are not vacuous) and seed faults into the registry's storage or into the ghost
 * to show that each checker can fail.
 */
contract ConsentRegistryInvariantTest is SystemBase {
    /// @dev Forge-style targeting: which contract and which of its functions the fuzzer calls.
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    /// @dev The owners' private keys (owners are `vm.addr` of these, so they can sign EIP-712
    /// messages), and a key that is no owner's.
    uint256 private constant OWNER_KEY_0 = 0xA11CE;
    uint256 private constant OWNER_KEY_1 = 0xB0B;
    uint256 private constant OWNER_KEY_2 = 0xCA201;
    uint256 private constant ROGUE_KEY = 0xBAD;

    /// @dev Purpose ids checked against the model: the tracked ones (0..9, 127) plus ids above
    /// 127 whose bit is the lowest of a word field that really varies in a run: expiry (128),
    /// epoch (168), version sequence (200) and generation (216).
    uint8[] private _checkedPurposes;
    /// @dev Accounts checked as managers of every owner.
    address[] private _managerCandidates;
    uint256 private _consentsSlot;
    uint256 private _epochsSlot;

    ConsentModel internal model;
    OwnerHandler internal owners;
    ProcessorHandler internal processors;
    GovernanceHandler internal governance;
    TimeHandler internal time;
    SignatureHandler internal signatures;

    address[] private _targets;
    FuzzSelector[] private _selectors;

    function setUp() public {
        _deploySystem(address(this));

        model = _deployModel();
        // OwnerHandler is deployed last on purpose: created right after the model, Hardhat's
        // invariant runner failed to associate its address with its artifact
        // ("[targetSelectors] address does not have an associated contract"). The same error
        // appears when a handler's artifact is stale: `hardhat test solidity <file>` recompiles
        // only that file's own artifact, so after editing a handler run `npx hardhat build` first.
        processors = new ProcessorHandler(registry, model);
        governance = new GovernanceHandler(registry, model, integrations);
        time = new TimeHandler(registry, model);
        signatures = new SignatureHandler(registry, model, _ownerKeys(), ROGUE_KEY);
        owners = new OwnerHandler(registry, model);

        // Governance acts through the AccessManager: give the handler ADMIN_ROLE (0), no delay.
        manager.grantRole(0, address(governance), 0);
        address i1 = model.grantees()[2];
        integrations.registerIntegration(i1, keccak256("I1"), INITIAL_PURPOSES);
        model.applyIntegration(i1, _active(), INITIAL_PURPOSES);

        for (uint8 p = 0; p < model.TRACKED_LOW(); ++p) _checkedPurposes.push(p);
        _checkedPurposes.push(127);
        _checkedPurposes.push(128);
        _checkedPurposes.push(168);
        _checkedPurposes.push(200);
        _checkedPurposes.push(216);
        for (uint256 i = 0; i < 4; ++i) _managerCandidates.push(model.grantees()[i]);
        for (uint256 i = 0; i < 2; ++i) _managerCandidates.push(model.strangers()[i]);

        _target(address(owners), _ownerSelectors());
        _target(address(processors), _processorSelectors());
        _target(address(governance), _governanceSelectors());
        _target(address(time), _timeSelectors());
        _target(address(signatures), _signatureSelectors());
    }

    function _ownerKeys() private pure returns (uint256[] memory keys) {
        keys = new uint256[](3);
        keys[0] = OWNER_KEY_0;
        keys[1] = OWNER_KEY_1;
        keys[2] = OWNER_KEY_2;
    }

    /// @dev The actors and keys of the campaign: 3 owners (addresses of private keys, so they can
    /// sign), 4 grantees (P1, P2 processors; I1 an integration from the start; I2 one governance
    /// may register), 2 data ids + ALL_DATA, 2 strangers (typical manager candidates and
    /// unauthorised senders).
    function _deployModel() private returns (ConsentModel) {
        address[] memory ownerList = new address[](3);
        uint256[] memory keys = _ownerKeys();
        for (uint256 i = 0; i < keys.length; ++i) ownerList[i] = vm.addr(keys[i]);
        address[] memory granteeList = new address[](4);
        granteeList[0] = address(0x3001);
        granteeList[1] = address(0x3002);
        granteeList[2] = address(0x4001);
        granteeList[3] = address(0x4002);
        bytes32[] memory ids = new bytes32[](3);
        ids[0] = keccak256("asset-1");
        ids[1] = keccak256("asset-2");
        ids[2] = ALL_DATA;
        address[] memory strangerList = new address[](2);
        strangerList[0] = address(0x5001); // typical manager candidate
        strangerList[1] = address(0x5002);

        _consentsSlot = _findConsentsSlot();
        _epochsSlot = _findEpochsSlot();
        return
            new ConsentModel(
                registry,
                ownerList,
                granteeList,
                ids,
                strangerList,
                START,
                INITIAL_PURPOSES,
                _consentsSlot,
                _epochsSlot
            );
    }

    // ---------------------------------------------------------------------------------------
    // Invariants
    // ---------------------------------------------------------------------------------------

    /// @notice (1) Every use/share the registry accepted had active consent in the MODEL at
    /// that time for the sender and the recipient, and the recipient was an active integration
    /// for the purpose (judged when the record is logged; records never change afterwards).
    function invariantAcceptedRecordsHadConsent() public view {
        vm.assertEq(model.recordsWithoutConsent(), 0, "accepted record without consent in the model");
    }

    /// @notice (2) Governance actions never changed any consent word or epoch.
    function invariantGovernanceNeverChangesConsents() public view {
        vm.assertEq(model.governanceConsentChanges(), 0, "governance changed consent state");
    }

    /// @notice (3) After revoke / lockdown, no use or share relied on that consent until it was
    /// granted again (checked with revocation flags, independently of epochs).
    function invariantNoRecordAfterRevokeUntilRegranted() public view {
        vm.assertEq(model.recordsAfterRevoke(), 0, "accepted record relied on a revoked consent");
    }

    /// @notice (4) An expired consent never allows: for every tracked key whose STORED expiry is
    /// reached (read from raw storage), the registry reports it inactive and with no active
    /// purposes, and an ALL_DATA check (which has no fallback) refuses every purpose.
    function invariantExpiredConsentNeverAllows() public view {
        address[] memory o = model.owners();
        address[] memory g = model.grantees();
        bytes32[] memory d = model.dataIds();
        bytes32[] memory words = model.readState();
        uint64 nowTs = model.clock();
        uint256 i;
        for (uint256 a = 0; a < o.length; ++a) {
            for (uint256 b = 0; b < g.length; ++b) {
                for (uint256 c = 0; c < d.length; ++c) {
                    uint40 expiresAt = uint40(uint256(words[i]) >> 128);
                    ++i;
                    if (expiresAt == 0 || nowTs < expiresAt) continue;
                    vm.assertFalse(registry.getConsent(o[a], g[b], d[c]).active, "expired consent reported active");
                    vm.assertEq(registry.activePurposes(o[a], g[b], d[c]), 0, "expired consent has purposes");
                    if (d[c] != ALL_DATA) continue;
                    for (uint256 p = 0; p < _checkedPurposes.length; ++p) {
                        vm.assertFalse(
                            registry.isAllowed(o[a], g[b], ALL_DATA, _checkedPurposes[p]),
                            "expired ALL_DATA consent allows"
                        );
                    }
                }
            }
        }
    }

    /// @notice (5) Only the owner, a manager the owner had appointed in its current epoch at
    /// that moment, or the owner's signed instruction (applied once, in order) changed the
    /// owner's consents. Every change is found in the registry's own storage and attributed.
    function invariantOnlyOwnerManagerOrSignatureChangedConsents() public view {
        string memory violation = changeViolation();
        vm.assertTrue(bytes(violation).length == 0, violation);
    }

    /**
     * @notice (6) Versions follow the rule, on raw storage: every change of a consent word
     * raised its version, a transaction change moved it to the next generation (sequence 0), a
     * signed change stayed in its generation with a non-zero sequence, an epoch only moved by one;
     * and every tracked word (purposes, expiry, epoch, version) and epoch is exactly the model's.
     */
    function invariantStorageAndVersionsFollowTheRule() public view {
        string memory violation = storageViolation();
        vm.assertTrue(bytes(violation).length == 0, violation);
    }

    /// @notice (7) The registry's reads agree with the model for every tracked owner, grantee,
    /// data id and purpose (ids above 127 included), at the current time: isAllowed,
    /// getConsent.active, epochOf, isManager (epoch-aware); and data id 0 is refused for every
    /// purpose the owner's ALL_DATA consent allows (where a fallback would show). A key is read
    /// again only when an input of isAllowed for it (its word, the ALL_DATA word, the owner's
    /// epoch, the clock) changed in the latest call: the others were checked after their last
    /// change and cannot have moved (this check runs after every call of its campaign).
    function invariantReadsMatchModel() public view {
        string memory violation = readsViolation();
        vm.assertTrue(bytes(violation).length == 0, violation);
    }

    /// @notice The first breach of invariant 7, or "" (plain comparisons, one assertion: this
    /// check runs after every call of its campaign, and each cheatcode call costs time).
    function readsViolation() public view returns (string memory) {
        address[] memory o = model.owners();
        address[] memory g = model.grantees();
        bytes32[] memory d = model.dataIds();
        uint8[] memory purposes = _checkedPurposes;
        for (uint256 a = 0; a < o.length; ++a) {
            if (registry.epochOf(o[a]) != model.epochOf(o[a])) return "epoch differs from model";
            uint256 managers = model.managerMask(o[a], _managerCandidates);
            for (uint256 i = 0; i < _managerCandidates.length; ++i) {
                if (registry.isManager(o[a], _managerCandidates[i]) != ((managers >> i) & 1 == 1)) {
                    return "isManager differs from model";
                }
            }
            for (uint256 b = 0; b < g.length; ++b) {
                uint256[] memory masks = model.allowedMasks(o[a], g[b], purposes);
                for (uint256 c = 0; c < d.length; ++c) {
                    if ((masks[c] >> 254) & 1 == 0) continue; // no input of it changed in the latest call
                    if (registry.getConsent(o[a], g[b], d[c]).active != ((masks[c] >> 255) & 1 == 1)) {
                        return "getConsent.active differs from model";
                    }
                    for (uint256 p = 0; p < purposes.length; ++p) {
                        if (registry.isAllowed(o[a], g[b], d[c], purposes[p]) != ((masks[c] >> p) & 1 == 1)) {
                            return "isAllowed differs from model";
                        }
                    }
                }
                uint256 allData = masks[d.length - 1]; // d[2] is ALL_DATA
                if ((masks[d.length] >> 254) & 1 == 0) continue;
                for (uint256 p = 0; p < purposes.length; ++p) {
                    if ((allData >> p) & 1 == 1 && registry.isAllowed(o[a], g[b], bytes32(0), purposes[p])) {
                        return "data id 0 allowed through the ALL_DATA consent";
                    }
                }
                if (masks[d.length] & ((uint256(1) << 254) - 1) != 0) return "model: data id 0 allowed";
            }
        }
        return "";
    }

    /// @notice (8) Every action's outcome (success, or the exact custom error with its arguments;
    /// per item for best-effort batches) and every event was the one the model predicted.
    function invariantEveryOutcomeMatchesModel() public view {
        vm.assertEq(model.outcomeMismatches(), 0, string.concat("unexpected outcome of ", model.lastMismatchAction()));
    }

    /**
     * @notice (9) The owner's latest instruction holds for every tracked consent key, whatever
     * order, delay and batching relayers chose. The model logs each owner's instructions per key
     * in the order given (a transaction when sent, a signed message when signed, a lockdown when
     * it takes effect) without looking at versions, and: no signed message signed before a later
     * instruction for its key (or before a later lockdown) that took effect ever applied; none
     * applied twice; no instruction was refused as stale unless such a later one had taken
     * effect; and the registry's consent (active purposes and expiry) is the effect of the
     * instruction in effect.
     */
    function invariantOwnersLatestInstructionHolds() public view {
        string memory violation = latestInstructionViolation();
        vm.assertTrue(bytes(violation).length == 0, violation);
    }

    /// @notice The first breach of invariant 5, or "" (a view, so tests can show it can fail).
    /// Each change is judged when recorded (the authorising path as it was at that moment).
    function changeViolation() public view returns (string memory) {
        if (model.unauthorizedChanges() != 0) return model.lastUnauthorizedChange();
        return "";
    }

    /// @notice The first breach of invariant 6, or "".
    function storageViolation() public view returns (string memory) {
        if (model.versionViolations() != 0) return model.lastVersionViolation();
        bytes32[] memory actual = model.readState();
        bytes32[] memory expected = model.expectedState();
        for (uint256 i = 0; i < actual.length; ++i) {
            if (actual[i] != expected[i]) return "registry storage differs from the model's word";
        }
        return "";
    }

    /// @notice The first breach of invariant 9, or "".
    function latestInstructionViolation() public view returns (string memory) {
        if (model.orderViolations() != 0 || model.unjustifiedRefusals() != 0) return model.lastOrderViolation();
        address[] memory o = model.owners();
        address[] memory g = model.grantees();
        bytes32[] memory d = model.dataIds();
        (uint128[] memory active, uint40[] memory expiries) = model.effects();
        uint256 i;
        for (uint256 a = 0; a < o.length; ++a) {
            for (uint256 b = 0; b < g.length; ++b) {
                for (uint256 c = 0; c < d.length; ++c) {
                    uint128 expected = active[i];
                    uint40 expiry = expiries[i];
                    ++i;
                    if (registry.activePurposes(o[a], g[b], d[c]) != expected) {
                        return "a consent differs from the owner's latest instruction";
                    }
                    if (expected != 0 && registry.getConsent(o[a], g[b], d[c]).expiresAt != expiry) {
                        return "a consent's expiry differs from the owner's latest instruction";
                    }
                }
            }
        }
        return "";
    }

    // ---------------------------------------------------------------------------------------
    // Fixed scenarios through the handlers: the success paths are reached
    // ---------------------------------------------------------------------------------------

    /// @dev Bits of a purposes seed that keep the handlers' 1-in-8 extra ids (8, 9, 127) out.
    uint256 private constant NO_EXTRA_IDS = (1 << 8) | (1 << 11) | (1 << 14);
    /// @dev Purposes seed for the handlers: exactly 0..7.
    uint256 private constant P0_7 = INITIAL_PURPOSES | NO_EXTRA_IDS;

    /// @notice A short fixed scenario through the handlers reaches the success paths the
    /// invariants reason about (so they are not vacuously true).
    function testHandlersReachSuccessPaths() public {
        // owner 0 grants P1 (grantee 0) ALL_DATA (keySeed >> 8 = 2), purposes 0..7, no expiry.
        owners.grant(0, 2 << 8, P0_7, 0);
        // owner 0 also grants I1 (grantee 2) ALL_DATA.
        owners.grant(0, (2 << 8) | 2, P0_7, 0);
        // P1 uses asset-1 of owner 0 for purpose 3 (sender seed 0 -> grantee 0).
        processors.recordUse(0, 0, 0, 3 << 8);
        // P1 shares with I1 (to seed 2 << 3 -> grantee 2) for purpose 6.
        processors.recordShare(0, 0, 2 << 3, 0, 6 << 8);
        // Data id 0 (data seed 15) is refused although the ALL_DATA consent allows purpose 3.
        processors.recordUse(0, 0, 15, 3 << 8);
        vm.assertEq(model.useCount(), 2, "use and share accepted, data id 0 refused");
        // Narrowing after purpose 3 is deprecated: keep {3} of the live ALL_DATA consent.
        governance.deprecatePurpose(3 << 8);
        owners.narrow(0, 0, 1 | (2 << 8), 1 << 3, 0); // caller seed 0: the owner; same expiry
        vm.assertEq(registry.getConsent(model.owners()[0], model.grantees()[0], ALL_DATA).purposes, 8, "narrowed");
        // A manager acts, then the lockdown removes it.
        owners.setManager(0, 5, true); // _anyone(5): after 3 owners, grantee 2 (I1)
        owners.setManager(0, 5, true); // ManagerUnchanged
        owners.revokeAllFor(0, 0); // caller seed 0: a current manager of the owner (grantee 2)
        vm.assertFalse(registry.isManager(model.owners()[0], model.grantees()[2]), "manager removed by lockdown");
        owners.grantFor(11, 0, 0, P0_7, 0); // caller seed 11: _anyone(5), grantee 2: NotAuthorized now
        processors.recordUse(0, 0, 0, 3 << 8); // refused now
        vm.assertEq(model.useCount(), 2, "nothing accepted after the lockdown");
        owners.revoke(0, 0); // revoke always succeeds for a valid key
        time.warp(1);
        vm.assertEq(model.outcomeMismatches(), 0, string.concat("unexpected outcome of ", model.lastMismatchAction()));
        vm.assertEq(model.successes(keccak256("grant")), 3, "grants accepted (one a narrowing)");
        vm.assertEq(model.failures(keccak256("setManager")), 1, "ManagerUnchanged");
        vm.assertEq(model.successes(keccak256("revokeAllFor")), 1, "manager's lockdown");
        vm.assertEq(model.failures(keccak256("grantFor")), 1, "removed manager refused");
        vm.assertEq(model.successes(keccak256("revoke")), 1, "revoke of nothing live succeeds");
        vm.assertEq(model.failures(keccak256("recordUse")), 2, "uses refused");
        _assertAllInvariants();
    }

    /// @dev A `sign` time seed: the first message's deadline kind, purposes (0..9) and expiry kind.
    function _sigTime(uint256 deadlineKind, uint256 purposes, uint256 expiryKind) private pure returns (uint256) {
        return (deadlineKind << 32) | ((purposes | NO_EXTRA_IDS) << 64) | (2 << 96) | (expiryKind << 128);
    }

    /// @dev A `sign` key seed for (owner from ownerSeed), grantee index `g`, data id index `d`.
    function _sigKey(uint256 g, uint256 d) private pure returns (uint256) {
        return 1 | (g << 8) | (d << 16);
    }

    uint256 private constant GRANT = 0; // kind seed: one Grant
    uint256 private constant REVOKE = (4 << 4) | 2; // kind seed: one Revoke (seed % 3 == 0: one message)
    uint256 private constant LOCKDOWN = (7 << 4) | 2; // kind seed: one RevokeAll
    uint256 private constant NEVER = 4; // deadline kind: type(uint256).max
    uint256 private constant NO_EXP = 0; // expiry kind: NO_EXPIRY

    /// @notice Three messages for one key signed and held (a broad grant, a revoke, a narrow
    /// grant), relayed newest first, then the older ones: the older ones are stale, the newest
    /// holds. A transaction revoke then voids everything held; a lockdown signed and relayed
    /// ends the rest.
    function testHeldMessagesRelayedInAnyOrderTheLatestHolds() public {
        address owner = model.owners()[0];
        address p1 = model.grantees()[0];
        bytes32 d1 = model.dataIds()[0];
        signatures.sign(0, _sigKey(0, 0), GRANT, _sigTime(NEVER, 0xff, NO_EXP)); // id 1, version 1
        signatures.sign(0, _sigKey(0, 0), REVOKE, _sigTime(NEVER, 0, NO_EXP)); // id 2, version 2
        signatures.sign(0, _sigKey(0, 0), GRANT, _sigTime(NEVER, 0x0f, NO_EXP)); // id 3, version 3
        vm.assertEq(signatures.poolLength(), 3, "three held");
        vm.assertEq(model.messageAt(3).version, 3, "versions reserved in signing order");
        signatures.relay(2, 1); // id 3
        vm.assertEq(registry.activePurposes(owner, p1, d1), 0x0f, "newest grant applied");
        signatures.relay(0, 2); // id 1: Stale(owner, 0, 1, 0, 3)
        signatures.relay(1, 3); // id 2: Stale(owner, 0, 2, 0, 3)
        signatures.relay(2, 4); // id 3 again: Stale(owner, 0, 3, 0, 3)
        vm.assertEq(registry.activePurposes(owner, p1, d1), 0x0f, "older messages changed nothing");
        vm.assertEq(model.failures(keccak256("relay")), 3, "older and repeated messages refused");

        signatures.sign(0, _sigKey(0, 0), GRANT, _sigTime(NEVER, 0xff, NO_EXP)); // id 4, version 4
        owners.revoke(0, 0); // the owner's later word by transaction: next generation
        signatures.relay(3, 5); // id 4: stale (generation 0 < 1)
        vm.assertEq(registry.getConsent(owner, p1, d1).version, FIRST_TX_VERSION, "generation 1");
        vm.assertEq(registry.activePurposes(owner, p1, d1), 0, "revoked by transaction holds");
        signatures.sign(0, _sigKey(0, 0), GRANT, _sigTime(NEVER, 0x3, NO_EXP)); // id 5, version 0x10001
        vm.assertEq(model.messageAt(5).version, FIRST_TX_VERSION + 1, "first signed version of generation 1");
        signatures.relay(4, 6);
        vm.assertEq(registry.activePurposes(owner, p1, d1), 3, "signed grant in generation 1 applied");
        signatures.sign(0, _sigKey(0, 0), LOCKDOWN, _sigTime(NEVER, 0, NO_EXP)); // id 6
        signatures.relay(5, 7);
        vm.assertEq(registry.epochOf(owner), 1, "signed lockdown applied");
        signatures.relay(5, 8); // the same lockdown again: Stale(owner, 0, 0, 1, 0)
        vm.assertEq(model.failures(keccak256("relay")), 5, "stale generation and repeated lockdown refused");
        vm.assertEq(model.outcomeMismatches(), 0, string.concat("unexpected outcome of ", model.lastMismatchAction()));
        _assertAllInvariants();
    }

    /// @notice The signature actor's relays (single, compact signature, best-effort and
    /// all-or-nothing batches) reach their success and failure paths, each with the exact
    /// predicted outcome and events, and the changes are attributed to the messages.
    function testSignatureHandlerRelaysSinglyAndInBatches() public {
        address owner = model.owners()[0];
        vm.assertEq(
            Signing.domain(address(registry), block.chainid),
            registry.DOMAIN_SEPARATOR(),
            "domain rebuilt independently"
        );
        signatures.sign(0, _sigKey(0, 0), GRANT, _sigTime(NEVER, 0xff, NO_EXP)); // id 1 (P1, asset-1)
        signatures.sign(0, _sigKey(1, 1), GRANT, _sigTime(NEVER, 0xff, NO_EXP) | (1 << 200)); // id 2, compact
        signatures.sign(0, _sigKey(0, 1), REVOKE, _sigTime(NEVER, 0, NO_EXP)); // id 3 (P1, asset-2)
        signatures.sign(1, _sigKey(0, 0), REVOKE, _sigTime(NEVER, 0, NO_EXP)); // id 4 (owner 1)
        signatures.relay(0, 1);
        signatures.relay(1, 1);
        vm.assertTrue(registry.isAllowed(owner, model.grantees()[1], model.dataIds()[1], 7), "compact signature");
        vm.assertEq(model.successes(keccak256("relay")), 2, "signed grants applied");
        ConsentModel.ChangeRecord memory first = model.changeAt(0);
        vm.assertEq(first.owner, owner, "first change: owner");
        vm.assertEq(first.actor, model.owners()[1], "first change: relayer (_anyone(1) = owner 1)");
        vm.assertTrue(first.path == ConsentModel.Path.Signature, "first change: signature path");
        vm.assertEq(first.messageId, 1, "first change: message 1");

        // Best effort: two held revocations (ids 3 and 4 of two owners) and a probe.
        for (uint256 seed = 0; model.successes(keccak256("revokeBySigBatch")) < 3 && seed < 64; ++seed) {
            signatures.relayRevokeBatch(seed, 2, (seed << 5) | 1);
        }
        vm.assertEq(model.successes(keccak256("revokeBySigBatch")), 3, "best-effort batches never revert");
        vm.assertTrue(model.successes(keccak256("revokeBySigBatch item")) >= 1, "an item applied");
        vm.assertTrue(model.failures(keccak256("revokeBySigBatch item")) >= 1, "an item failed, others went on");
        signatures.relayRevokeBatch(0, 2, 0); // 0 items: EmptyBatch
        vm.assertEq(model.failures(keccak256("revokeBySigBatch")), 1, "empty batch refused");

        // All or nothing: a grant batch with a probe fails as a whole; a clean one applies.
        signatures.relayGrantBatch(1, 3, 1 | (0 << 8)); // 2 items, a probe
        vm.assertEq(model.failures(keccak256("grantBySigBatch")), 1, "batch with a bad item refused");
        signatures.sign(2, _sigKey(3, 2), GRANT, _sigTime(NEVER, 0x3, NO_EXP));
        for (uint256 seed = 0; model.successes(keccak256("grantBySigBatch")) == 0 && seed < 64; ++seed) {
            signatures.relayGrantBatch(seed, 3, 1 << 8); // 1 item, no probe
        }
        vm.assertEq(model.successes(keccak256("grantBySigBatch")), 1, "clean batch applied");
        vm.assertEq(model.outcomeMismatches(), 0, string.concat("unexpected outcome of ", model.lastMismatchAction()));
        _assertAllInvariants();
    }

    /// @notice The signature actor's cancellations and probes: a held message cancelled by a
    /// transaction revoke or a lockdown, wrong signers, a passed deadline, stale epochs and
    /// versions are all refused with the exact predicted error.
    function testSignatureHandlerRefusesCancelledAndForgedMessages() public {
        signatures.sign(0, _sigKey(0, 0), GRANT, _sigTime(NEVER, 0xff, NO_EXP)); // id 1
        signatures.sign(0, _sigKey(0, 1), REVOKE, _sigTime(NEVER, 0, NO_EXP)); // id 2
        signatures.cancelThenRelay(0, 1, 0); // revoke by transaction, then relay: stale
        signatures.cancelThenRelay(0, 1, 3); // lockdown, then relay: stale
        vm.assertEq(model.failures(keccak256("relayCancelled")), 2, "cancelled messages refused");
        for (uint256 mode = 0; mode < 5; ++mode) signatures.wrongSigner(0, 1, 0, mode << 8);
        vm.assertEq(model.failures(keccak256("wrongSigner")), 5, "every wrong signature refused");
        signatures.expired(0, 1, 0, 0);
        vm.assertEq(model.failures(keccak256("expiredSig")), 1, "expired signature refused");
        for (uint256 mode = 0; mode < 5; ++mode) signatures.staleMessage(0, 1, 0, mode << 8);
        for (uint256 mode = 0; mode < 5; ++mode) signatures.staleMessage(1, 1, 0, 2 | (mode << 8));
        vm.assertEq(model.failures(keccak256("staleSig")), 10, "stale epochs and versions refused");
        vm.assertEq(model.outcomeMismatches(), 0, string.concat("unexpected outcome of ", model.lastMismatchAction()));
        _assertAllInvariants();
    }

    /// @dev Outcomes the campaign below must reach both ways (accepted and refused).
    function _bothWays() private pure returns (string[12] memory) {
        return
            [
                "grant",
                "grantFor",
                "revokeFor",
                "revokeAllFor",
                "setManager",
                "grantBatch",
                "relay",
                "revokeBySigBatch item",
                "grantBySigBatch",
                "recordUse",
                "recordShare",
                "recordUseBatch"
            ];
    }

    /**
     * @notice A pseudo-random campaign over every targeted handler action, the way the invariant
     * runner drives them (fixed seeds): 12 runs of 50 calls, each from the state after setUp.
     * The invariants hold after every tenth call and at the end of each run, and the paths the
     * invariants reason about are all reached, each with both outcomes where both exist. A
     * handler that silently stopped doing its job fails here.
     */
    function testRandomCampaignReachesEveryPath() public {
        string[12] memory both = _bothWays();
        uint256[12] memory accepted;
        uint256[12] memory refused;
        uint256[5] memory seen; // justified stale, applied ahead, uses, revokes, cancelled relays
        uint256 fresh = vm.snapshotState();
        for (uint256 run = 0; run < 12; ++run) {
            vm.revertToState(fresh); // memory survives: the totals below
            for (uint256 i = 0; i < 50; ++i) {
                _randomCall(uint256(keccak256(abi.encode("campaign", run, i))));
                if (i % 10 == 9) _assertAllInvariants();
            }
            for (uint256 k = 0; k < both.length; ++k) {
                accepted[k] += model.successes(keccak256(bytes(both[k])));
                refused[k] += model.failures(keccak256(bytes(both[k])));
            }
            seen[0] += model.justifiedStaleRefusals();
            seen[1] += model.appliedAheadOfALaterMessage();
            seen[2] += model.useCount();
            seen[3] += model.successes(keccak256("revoke")) + model.successes(keccak256("revokeAll"));
            seen[4] += model.failures(keccak256("relayCancelled"));
        }
        for (uint256 k = 0; k < both.length; ++k) {
            vm.assertTrue(accepted[k] > 0, string.concat(both[k], ": never accepted"));
            vm.assertTrue(refused[k] > 0, string.concat(both[k], ": never refused"));
        }
        vm.assertTrue(seen[0] > 0, "no stale message refused");
        vm.assertTrue(seen[1] > 0, "never relayed out of signing order");
        vm.assertTrue(seen[2] > 0, "no use or share accepted");
        vm.assertTrue(seen[3] > 0, "no revoke or lockdown by transaction");
        vm.assertTrue(seen[4] > 0, "no cancelled message relayed");
    }

    /// @dev One call of a random targeted action with random arguments (as the runner makes).
    function _randomCall(uint256 r) private {
        uint256 pairs;
        for (uint256 t = 0; t < _selectors.length; ++t) pairs += _selectors[t].selectors.length;
        uint256 pick = r % pairs;
        uint256 target;
        while (pick >= _selectors[target].selectors.length) {
            pick -= _selectors[target].selectors.length;
            ++target;
        }
        bytes4 sel = _selectors[target].selectors[pick];
        uint256[5] memory w;
        for (uint256 j = 0; j < 5; ++j) w[j] = uint256(keccak256(abi.encode(r, j)));
        // parameters narrower than a word: setManager's bool, setIntegrationStatus's bool,
        // the uint128 purposes of registerIntegration and updateIntegration
        if (sel == owners.setManager.selector) w[2] &= 1;
        if (sel == governance.setIntegrationStatus.selector) w[1] &= 1;
        if (sel == governance.registerIntegration.selector || sel == governance.updateIntegration.selector) {
            w[1] = uint128(w[1]);
        }
        // A low-level call on purpose: the selector is chosen at random, as the runner chooses it.
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, bytes memory ret) = _selectors[target].addr.call(
            abi.encodePacked(sel, abi.encode(w[0], w[1], w[2], w[3], w[4]))
        );
        if (!ok) {
            assembly {
                revert(add(ret, 0x20), mload(ret))
            }
        }
    }

    /**
     * @notice A signed lockdown names only its epoch: held back, it still applies after later
     * instructions of that epoch and ends them (withdrawal wins). The owner's way to void it is a
     * lockdown of its own. Invariant 9 counts a lockdown when it takes effect, so this holds it.
     */
    function testWithheldSignedLockdownEndsLaterGrantsOfItsEpoch() public {
        address owner = model.owners()[0];
        signatures.sign(0, _sigKey(0, 0), LOCKDOWN, _sigTime(NEVER, 0, NO_EXP)); // id 1, epoch 0
        signatures.sign(0, _sigKey(0, 1), LOCKDOWN, _sigTime(NEVER, 0, NO_EXP)); // id 2, epoch 0
        owners.grant(0, 2 << 8, P0_7, 0); // later, by transaction: P1 ALL_DATA
        vm.assertTrue(registry.isAllowed(owner, model.grantees()[0], ALL_DATA, 1), "granted after signing");
        signatures.relay(0, 1);
        vm.assertFalse(registry.isAllowed(owner, model.grantees()[0], ALL_DATA, 1), "ended by the held lockdown");
        owners.grant(0, 2 << 8, P0_7, 0);
        signatures.relay(1, 1); // the other one named epoch 0: voided by the first lockdown
        vm.assertTrue(registry.isAllowed(owner, model.grantees()[0], ALL_DATA, 1), "later grant holds");
        vm.assertEq(model.outcomeMismatches(), 0, string.concat("unexpected outcome of ", model.lastMismatchAction()));
        _assertAllInvariants();
    }

    // ---------------------------------------------------------------------------------------
    // Seeded faults: each checker can fail (a check that cannot fail proves nothing)
    // ---------------------------------------------------------------------------------------

    /**
     * @notice FAULT: a registry that lets a transaction change leave the version where it was
     * (so the version check no longer sees it). A grant signed before the owner's revoke then
     * applies: invariant 9 fails (a message signed before a later instruction took effect), and
     * so do the outcome (8), storage (6) and attribution (5) checks.
     */
    function testLatestInstructionInvariantCatchesAnIgnoredVersion() public {
        address owner = model.owners()[0];
        signatures.sign(0, _sigKey(0, 0), GRANT, _sigTime(NEVER, 0xff, NO_EXP)); // id 1, version 1
        owners.revoke(0, 0); // the owner's later word: no consent (version 0x10000)
        vm.assertEq(bytes(latestInstructionViolation()), bytes(""), "holds before the fault");
        bytes32 slot = _consentSlot(_consentsSlot, owner, model.grantees()[0], model.dataIds()[0]);
        vm.store(address(registry), slot, bytes32(0)); // the fault: the revoke's version is lost

        signatures.relay(0, 1);
        vm.assertTrue(registry.isAllowed(owner, model.grantees()[0], model.dataIds()[0], 0), "old grant applied");
        vm.assertEq(
            bytes(latestInstructionViolation()),
            bytes("a message signed before a later instruction that took effect applied"),
            "invariant 9 fails"
        );
        vm.assertEq(model.outcomeMismatches(), 1, "invariant 8 fails");
        vm.assertEq(
            bytes(changeViolation()),
            bytes("changed by a signed message that is not the owner's instruction applied once, in order"),
            "invariant 5 fails"
        );
    }

    /// @notice FAULT: a registry whose lockdown does not reach signatures (the epoch check is
    /// lost: the epoch rolled back). A grant signed before the lockdown then applies.
    function testLatestInstructionInvariantCatchesAnIgnoredEpoch() public {
        address owner = model.owners()[1];
        signatures.sign(1, _sigKey(1, 2), GRANT, _sigTime(NEVER, 0xff, NO_EXP)); // id 1, epoch 0
        owners.revokeAll(1);
        vm.store(address(registry), keccak256(abi.encode(owner, _epochsSlot)), bytes32(0));
        signatures.relay(0, 1);
        vm.assertEq(
            bytes(latestInstructionViolation()),
            bytes("a message signed before a later instruction that took effect applied"),
            "invariant 9 fails"
        );
    }

    /// @notice FAULT: a registry that refuses the owner's latest message as stale (its key's
    /// version moved without any instruction): invariant 9's other half fails.
    function testLatestInstructionInvariantCatchesALostLatestWord() public {
        address owner = model.owners()[0];
        signatures.sign(0, _sigKey(0, 0), GRANT, _sigTime(NEVER, 0xff, NO_EXP)); // id 1, version 1
        bytes32 slot = _consentSlot(_consentsSlot, owner, model.grantees()[0], model.dataIds()[0]);
        vm.store(address(registry), slot, bytes32(uint256(5) << VERSION_SHIFT)); // version 5 from nowhere
        signatures.relay(0, 1);
        vm.assertEq(model.unjustifiedRefusals(), 1, "refusal not explained by a later instruction");
        vm.assertEq(
            bytes(latestInstructionViolation()),
            bytes("an instruction was refused as stale although nothing later had taken effect"),
            "invariant 9 fails"
        );
    }

    /// @notice FAULT: a consent word changed in storage outside any instruction: the state half
    /// of invariant 9 and the storage invariant 6 both see it.
    function testLatestInstructionInvariantCatchesAStateChange() public {
        address owner = model.owners()[2];
        bytes32 slot = _consentSlot(_consentsSlot, owner, model.grantees()[1], ALL_DATA);
        vm.store(address(registry), slot, bytes32(uint256(1)));
        vm.assertEq(
            bytes(latestInstructionViolation()),
            bytes("a consent differs from the owner's latest instruction"),
            "invariant 9 fails"
        );
        vm.assertEq(bytes(storageViolation()), bytes("registry storage differs from the model's word"), "inv 6");
    }

    /// @notice The ghost's order checker flags a message applied twice or out of order even when
    /// the registry is not involved (called directly, as a buggy registry's report would).
    function testOrderCheckerFlagsReplayAndOutOfOrder() public {
        signatures.sign(0, _sigKey(0, 0), GRANT, _sigTime(NEVER, 0xff, NO_EXP)); // id 1
        signatures.sign(0, _sigKey(0, 0), GRANT, _sigTime(NEVER, 0x1, NO_EXP)); // id 2
        model.applySigned(2);
        vm.assertEq(model.orderViolations(), 0, "newest first is in order");
        model.applySigned(1);
        vm.assertEq(model.orderViolations(), 1, "older after newer flagged");
        model.applySigned(2);
        vm.assertEq(model.orderViolations(), 2, "replay flagged");
        vm.assertEq(bytes(model.lastOrderViolation()), bytes("a signed message took effect twice"), "reason");
    }

    /// @notice A change made by one account but attributed to a non-manager is flagged; a
    /// manager's lockdown is authorised although it removes the manager itself.
    function testChangeDetectorFlagsUnauthorizedActor() public {
        address owner = model.owners()[0];
        address stranger = model.strangers()[0];
        address grantee = model.grantees()[0];
        bytes32 dataId = model.dataIds()[0];
        model.beginAction();
        vm.prank(owner);
        registry.grant(grantee, dataId, 1, 0, bytes32(0));
        model.recordChanges(stranger, ConsentModel.ActionKind.Owner);
        vm.assertEq(model.unauthorizedChanges(), 1, "stranger's change flagged");
        ConsentModel.ChangeRecord memory c = model.changeAt(0);
        vm.assertEq(c.owner, owner, "change owner");
        vm.assertEq(c.actor, stranger, "change actor");
        vm.assertFalse(c.authorized, "change not authorised");

        vm.prank(owner);
        registry.setManager(stranger, true);
        model.applySetManager(owner, stranger, true);
        model.beginAction();
        vm.prank(stranger);
        registry.revokeAllFor(owner);
        model.applyLockdown(owner);
        model.recordChanges(stranger, ConsentModel.ActionKind.Owner);
        vm.assertEq(model.unauthorizedChanges(), 1, "manager's lockdown not flagged");
        vm.assertEq(model.changeCount(), 2, "epoch change recorded");
        vm.assertFalse(model.isManager(owner, stranger), "manager removed by its own lockdown");

        // The removed manager's next change is flagged.
        model.beginAction();
        vm.prank(owner);
        registry.revoke(grantee, dataId);
        model.recordChanges(stranger, ConsentModel.ActionKind.Owner);
        vm.assertEq(model.unauthorizedChanges(), 2, "removed manager flagged");
    }

    /// @notice Any consent change during a governance action is counted.
    function testChangeDetectorCountsGovernanceChanges() public {
        model.beginAction();
        vm.prank(model.owners()[1]);
        registry.revokeAll();
        model.recordChanges(address(governance), ConsentModel.ActionKind.Governance);
        vm.assertEq(model.governanceConsentChanges(), 1, "governance change counted");
    }

    /// @notice The version checker flags a word whose version did not grow, and a transaction
    /// change that did not start the next generation. FAULT: the key's version in storage is
    /// rolled back (then moved ahead) between actions, so the registry's next transaction change
    /// writes a version that is not the next generation of the one last seen.
    function testVersionCheckerFlagsRegressionAndWrongStep() public {
        address owner = model.owners()[0];
        address p1 = model.grantees()[0];
        bytes32 d1 = model.dataIds()[0];
        bytes32 slot = _consentSlot(_consentsSlot, owner, p1, d1);
        owners.grant(0, 0, P0_7, 0); // version 0x10000, seen by the model
        vm.assertEq(model.versionViolations(), 0, "a transaction grant is the next generation");

        vm.store(address(registry), slot, bytes32(0)); // rollback: the next grant writes 0x10000 again
        model.beginAction();
        vm.prank(owner);
        registry.grant(p1, d1, 3, 0, bytes32(0));
        model.recordChanges(owner, ConsentModel.ActionKind.Owner);
        vm.assertEq(
            bytes(model.lastVersionViolation()),
            bytes("a consent word changed without its version growing"),
            "regression"
        );

        vm.store(address(registry), slot, bytes32(uint256(0x20005) << VERSION_SHIFT)); // ahead
        model.beginAction();
        vm.prank(owner);
        registry.grant(p1, d1, 7, 0, bytes32(0)); // writes 0x30000; last seen 0x10000
        model.recordChanges(owner, ConsentModel.ActionKind.Owner);
        vm.assertEq(
            bytes(model.lastVersionViolation()),
            bytes("a transaction change did not start the next generation"),
            "wrong step"
        );
        vm.assertEq(model.versionViolations(), 2, "both counted");
        vm.assertEq(
            bytes(storageViolation()),
            bytes("a transaction change did not start the next generation"),
            "invariant 6 fails"
        );
    }

    /// @notice The record checkers (invariants 1 and 3) count a use the model did not allow and
    /// one that relied on a revoked consent.
    function testRecordCheckersCountUsesWithoutConsent() public {
        address owner = model.owners()[0];
        owners.grant(0, 0, P0_7, 0); // P1, asset-1
        model.logUse(owner, model.grantees()[0], address(0), model.dataIds()[0], 1);
        vm.assertEq(model.recordsWithoutConsent() + model.recordsAfterRevoke(), 0, "a covered use");
        owners.revoke(0, 0);
        model.logUse(owner, model.grantees()[0], address(0), model.dataIds()[0], 1);
        vm.assertEq(model.recordsWithoutConsent(), 1, "use without consent counted");
        vm.assertEq(model.recordsAfterRevoke(), 1, "use after revoke counted");
    }

    /// @notice A wrong prediction is counted as a mismatch, with what was expected and seen.
    function testOutcomeCheckerCountsMismatch() public {
        model.checkOutcome("probe", "", false, hex"deadbeef");
        vm.assertEq(model.outcomeMismatches(), 1, "mismatch counted");
        vm.assertEq(model.lastMismatchActual(), hex"deadbeef", "actual kept");
        model.checkEqual("events", hex"01", hex"02");
        vm.assertEq(model.outcomeMismatches(), 2, "event mismatch counted");
    }

    /// @notice A signed change is authorised only by a message applied in that action, signed
    /// by the owner's key, for exactly the entry that changed.
    function testSignatureAttributionFlagsForeignSignerAndOtherTarget() public {
        address owner = model.owners()[1];
        address grantee = model.grantees()[0];
        bytes32 dataId = model.dataIds()[0];
        address relayer = model.strangers()[0];
        signatures.wrongSigner(1, 1, 0, 0); // id 1: rogue-signed probe for (grantee 0, asset-1), refused
        vm.assertEq(model.messageAt(1).signer, signatures.rogue(), "rogue-signed probe");
        signatures.sign(1, _sigKey(1, 0), GRANT, _sigTime(NEVER, 0xff, NO_EXP)); // id 2: another key

        // A change of (grantee 0, asset-1) while message 2 (for grantee 1) applied: unauthorised.
        model.beginAction();
        vm.prank(owner);
        registry.grant(grantee, dataId, 3, 0, bytes32(0));
        model.applySigned(2);
        model.recordChanges(relayer, ConsentModel.ActionKind.Signature);
        vm.assertEq(model.unauthorizedChanges(), 1, "other target flagged");
        vm.assertTrue(model.changeAt(0).path == ConsentModel.Path.None, "no path");

        // The rogue-signed probe for exactly that entry: unauthorised.
        model.beginAction();
        vm.prank(owner);
        registry.grant(grantee, dataId, 7, 0, bytes32(0));
        model.applySigned(1);
        model.recordChanges(relayer, ConsentModel.ActionKind.Signature);
        vm.assertEq(model.unauthorizedChanges(), 2, "foreign signer flagged");
        vm.assertEq(model.changeAt(1).signer, signatures.rogue(), "attributed to the rogue key");
    }

    function _assertAllInvariants() private view {
        invariantAcceptedRecordsHadConsent();
        invariantGovernanceNeverChangesConsents();
        invariantNoRecordAfterRevokeUntilRegranted();
        invariantExpiredConsentNeverAllows();
        invariantOnlyOwnerManagerOrSignatureChangedConsents();
        invariantStorageAndVersionsFollowTheRule();
        invariantReadsMatchModel();
        invariantEveryOutcomeMatchesModel();
        invariantOwnersLatestInstructionHolds();
    }

    // ---------------------------------------------------------------------------------------
    // Targeting (read by the invariant runner)
    // ---------------------------------------------------------------------------------------

    function targetContracts() public view returns (address[] memory) {
        return _targets;
    }

    function targetSelectors() public view returns (FuzzSelector[] memory) {
        return _selectors;
    }

    function _target(address handler, bytes4[] memory selectors) private {
        _targets.push(handler);
        _selectors.push(FuzzSelector(handler, selectors));
    }

    function _ownerSelectors() private view returns (bytes4[] memory s) {
        s = new bytes4[](10);
        s[0] = owners.grant.selector;
        s[1] = owners.grantFor.selector;
        s[2] = owners.narrow.selector;
        s[3] = owners.revoke.selector;
        s[4] = owners.revokeFor.selector;
        s[5] = owners.revokeAll.selector;
        s[6] = owners.revokeAllFor.selector;
        s[7] = owners.setManager.selector;
        s[8] = owners.grantBatch.selector;
        s[9] = owners.revokeBatch.selector;
    }

    function _signatureSelectors() private view returns (bytes4[] memory s) {
        s = new bytes4[](8);
        s[0] = signatures.sign.selector;
        s[1] = signatures.relay.selector;
        s[2] = signatures.relayRevokeBatch.selector;
        s[3] = signatures.relayGrantBatch.selector;
        s[4] = signatures.cancelThenRelay.selector;
        s[5] = signatures.wrongSigner.selector;
        s[6] = signatures.expired.selector;
        s[7] = signatures.staleMessage.selector;
    }

    function _processorSelectors() private view returns (bytes4[] memory s) {
        s = new bytes4[](3);
        s[0] = processors.recordUse.selector;
        s[1] = processors.recordShare.selector;
        s[2] = processors.recordUseBatch.selector;
    }

    function _governanceSelectors() private view returns (bytes4[] memory s) {
        s = new bytes4[](5);
        s[0] = governance.definePurpose.selector;
        s[1] = governance.deprecatePurpose.selector;
        s[2] = governance.registerIntegration.selector;
        s[3] = governance.updateIntegration.selector;
        s[4] = governance.setIntegrationStatus.selector;
    }

    function _timeSelectors() private view returns (bytes4[] memory s) {
        s = new bytes4[](1);
        s[0] = time.warp.selector;
    }

    function _active() private pure returns (IIntegrationRegistry.Status) {
        return IIntegrationRegistry.Status.Active;
    }
}
