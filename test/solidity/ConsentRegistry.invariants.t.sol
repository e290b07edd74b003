// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ALL_DATA} from "../../contracts/Common.sol";
import {IConsentRegistry} from "../../contracts/interfaces/IConsentRegistry.sol";
import {IIntegrationRegistry} from "../../contracts/interfaces/IIntegrationRegistry.sol";
import {GovernanceHandler} from "./handlers/GovernanceHandler.sol";
import {ConsentModel} from "./handlers/ConsentModel.sol";
import {OwnerHandler} from "./handlers/OwnerHandler.sol";
import {ProcessorHandler} from "./handlers/ProcessorHandler.sol";
import {SignatureHandler} from "./handlers/SignatureHandler.sol";
import {TimeHandler} from "./handlers/TimeHandler.sol";
import {SystemBase} from "./utils/SystemBase.sol";
import {vm} from "./utils/Vm.sol";

/**
 * @title ConsentRegistryInvariantTest
 * @notice Stateful fuzzing of the whole consent system by five actors (owners/managers,
 * signature relayers, processors, governance, time) against the ghost {ConsentModel}. After every call of every
 * sequence, the invariants below must hold. Run long with `npm run test:invariants`.
 */
contract ConsentRegistryInvariantTest is SystemBase {
    /// @dev Forge-style targeting: which contract and which of its functions the fuzzer calls.
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    /// @dev The owners' private keys (owners are `vm.addr` of these, so they can sign EIP-712
    /// requests), and a key that is no owner's.
    uint256 private constant OWNER_KEY_0 = 0xA11CE;
    uint256 private constant OWNER_KEY_1 = 0xB0B;
    uint256 private constant OWNER_KEY_2 = 0xCA201;
    uint256 private constant ROGUE_KEY = 0xBAD;

    /// @dev Purpose ids checked against the model: the tracked ones plus ids above 127.
    uint8[] private _checkedPurposes;

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
        // ("[targetSelectors] address does not have an associated contract").
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

        for (uint8 p = 0; p < model.TRACKED_PURPOSES(); ++p) _checkedPurposes.push(p);
        _checkedPurposes.push(128);
        _checkedPurposes.push(200);
        _checkedPurposes.push(255);

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
    /// may register), 2 data ids + ALL_DATA, 2 strangers (typical manager candidates and unauthorised senders).
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

        uint256 consentsSlot = _findConsentsSlot();
        uint256 epochsSlot = _findEpochsSlot();
        return
            new ConsentModel(
                registry,
                ownerList,
                granteeList,
                ids,
                strangerList,
                START,
                INITIAL_PURPOSES,
                consentsSlot,
                epochsSlot
            );
    }

    // ---------------------------------------------------------------------------------------
    // Invariants
    // ---------------------------------------------------------------------------------------

    /// @notice (1) Every use/share the registry accepted had active consent in the MODEL at
    /// that time for the sender and the recipient, and the recipient was an active integration.
    function invariantAcceptedRecordsHadConsent() public view {
        uint256 n = model.useCount();
        for (uint256 i = 0; i < n; ++i) {
            ConsentModel.UseRecord memory u = model.useAt(i);
            vm.assertTrue(u.fromAllowed, "accepted record: sender had no consent in the model");
            vm.assertTrue(u.toAllowed, "accepted share: recipient had no consent in the model");
            vm.assertTrue(u.toActiveIntegration, "accepted share: recipient was not an active integration");
        }
    }

    /// @notice (2) Governance actions never changed any consent word or epoch.
    function invariantGovernanceNeverChangesConsents() public view {
        vm.assertEq(model.governanceConsentChanges(), 0, "governance changed consent state");
    }

    /// @notice (3) After revoke / revokeAll, no use or share relied on that consent until it was
    /// granted again (checked with revocation flags, independently of epochs).
    function invariantNoRecordAfterRevokeUntilRegranted() public view {
        uint256 n = model.useCount();
        for (uint256 i = 0; i < n; ++i) {
            ConsentModel.UseRecord memory u = model.useAt(i);
            vm.assertTrue(u.fromUnrevoked, "accepted record relied on a revoked consent (sender)");
            vm.assertTrue(u.toUnrevoked, "accepted share relied on a revoked consent (recipient)");
        }
    }

    /// @notice (4) An expired consent never allows: for every tracked key whose STORED expiry is
    /// reached, the registry reports it inactive and with no active purposes, and an ALL_DATA
    /// check (which has no fallback) refuses every purpose.
    function invariantExpiredConsentNeverAllows() public view {
        address[] memory o = model.owners();
        address[] memory g = model.grantees();
        bytes32[] memory d = model.dataIds();
        uint64 nowTs = model.clock();
        for (uint256 a = 0; a < o.length; ++a) {
            for (uint256 b = 0; b < g.length; ++b) {
                for (uint256 c = 0; c < d.length; ++c) {
                    IConsentRegistry.Consent memory k = registry.getConsent(o[a], g[b], d[c]);
                    if (k.expiresAt == 0 || nowTs < k.expiresAt) continue;
                    vm.assertFalse(k.active, "expired consent reported active");
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

    /// @notice (5) Only the owner, a manager the owner had appointed at that moment, or the
    /// owner's valid, unused EIP-712 signature changed the owner's consents. Every change is
    /// found in the registry's own storage and attributed to one of those three paths.
    function invariantOnlyOwnerManagerOrSignatureChangedConsents() public view {
        string memory violation = changeViolation();
        vm.assertTrue(bytes(violation).length == 0, violation);
    }

    /// @notice (6) No nonce was consumed twice, and every consumed nonce corresponds to exactly one
    /// accepted signed action: each accepted signed request was signed by its owner with a nonce
    /// unused before and consumed once, and the registry's nonce bitmap of every account that
    /// signs or invalidates is exactly (nonces consumed by accepted signed requests) | (nonces
    /// the account invalidated), so no failed, unsigned or foreign action consumed one.
    function invariantNoncesConsumedOnceBySignedActions() public view {
        string memory violation = nonceViolation();
        vm.assertTrue(bytes(violation).length == 0, violation);
    }

    /// @notice The first breach of invariant 5, or "" (a view, so tests can show it can fail).
    function changeViolation() public view returns (string memory) {
        if (model.unauthorizedChanges() != 0) return "consent changed by an unauthorised actor";
        uint256 n = model.changeCount();
        for (uint256 i = 0; i < n; ++i) {
            ConsentModel.ChangeRecord memory c = model.changeAt(i);
            if (!c.authorized) return "unauthorised change recorded";
            bool ownerAction = c.kind == ConsentModel.ActionKind.Owner;
            if (c.path == ConsentModel.Path.Owner) {
                if (!ownerAction || c.actor != c.owner) return "owner path: not sent by the owner";
            } else if (c.path == ConsentModel.Path.Manager) {
                if (!ownerAction || c.actor == c.owner) return "manager path: not sent by a manager";
            } else if (c.path == ConsentModel.Path.Signature) {
                if (c.kind != ConsentModel.ActionKind.Signature) return "signature path outside a signed action";
                if (c.signer != c.owner) return "signature path: not signed by the owner";
                if (model.sigUsesOf(c.owner, c.nonce) != 1) return "signature path: nonce not consumed exactly once";
                if (!registry.isNonceUsed(c.owner, c.nonce)) return "signature path: nonce still usable";
            } else {
                return "change with no authorising path";
            }
        }
        return "";
    }

    /// @notice The first breach of invariant 6, or "".
    function nonceViolation() public view returns (string memory) {
        uint256 n = model.signedUseCount();
        for (uint256 i = 0; i < n; ++i) {
            ConsentModel.SignedUse memory u = model.signedUseAt(i);
            if (model.sigUsesOf(u.owner, u.nonce) != 1) return "nonce consumed by more than one signed action";
            if (!u.wasUnused) return "signed action accepted with an already used nonce";
            if (u.signer != u.owner) return "signed action accepted without the owner's signature";
            if (!registry.isNonceUsed(u.owner, u.nonce)) return "accepted signed action left its nonce usable";
        }
        address[] memory rogue = new address[](1);
        rogue[0] = signatures.rogue();
        bool same =
            _bitmapsMatch(model.owners()) &&
                _bitmapsMatch(model.grantees()) &&
                _bitmapsMatch(model.strangers()) &&
                _bitmapsMatch(rogue);
        return same ? "" : "nonce bitmap differs from the accepted signed actions and invalidations";
    }

    function _bitmapsMatch(address[] memory accounts) private view returns (bool) {
        uint256 words = signatures.NONCE_WORDS();
        for (uint256 a = 0; a < accounts.length; ++a) {
            for (uint256 w = 0; w < words; ++w) {
                uint256 wordPos = signatures.nonceWord(w);
                uint256 expected =
                    model.consumedBitmap(accounts[a], wordPos) | model.invalidatedBitmap(accounts[a], wordPos);
                if (registry.nonceBitmap(accounts[a], wordPos) != expected) return false;
            }
        }
        return true;
    }

    /// @notice registry.isAllowed agrees with the model for every tracked (owner, grantee,
    /// dataId, purpose), at the current time, purposes > 127 included.
    function invariantIsAllowedMatchesModel() public view {
        address[] memory o = model.owners();
        address[] memory g = model.grantees();
        bytes32[] memory d = model.dataIds();
        for (uint256 a = 0; a < o.length; ++a) {
            vm.assertEq(registry.epochOf(o[a]), model.epochOf(o[a]), "epoch differs from model");
            for (uint256 b = 0; b < g.length; ++b) {
                for (uint256 c = 0; c < d.length; ++c) {
                    for (uint256 p = 0; p < _checkedPurposes.length; ++p) {
                        uint8 purpose = _checkedPurposes[p];
                        vm.assertEq(
                            registry.isAllowed(o[a], g[b], d[c], purpose),
                            model.allows(o[a], g[b], d[c], purpose),
                            "isAllowed differs from model"
                        );
                    }
                }
            }
        }
    }

    /// @notice Every action's outcome (success, or the exact custom error with its arguments)
    /// was the one the model predicted.
    function invariantEveryOutcomeMatchesModel() public view {
        vm.assertEq(model.outcomeMismatches(), 0, string.concat("unexpected outcome of ", model.lastMismatchAction()));
    }

    // ---------------------------------------------------------------------------------------
    // The detectors themselves can fail (a check that cannot fail proves nothing)
    // ---------------------------------------------------------------------------------------

    /// @notice A change made by one account but attributed to a non-manager is flagged.
    function testChangeDetectorFlagsUnauthorizedActor() public {
        address owner = model.owners()[0];
        address stranger = model.strangers()[0];
        address grantee = model.grantees()[0];
        bytes32 dataId = model.dataIds()[0];
        bytes32[] memory before = model.readState();
        vm.prank(owner);
        registry.grant(grantee, dataId, 1, 0, bytes32(0));
        model.recordChanges(before, stranger, address(0), ConsentModel.ActionKind.Owner);
        vm.assertEq(model.unauthorizedChanges(), 1, "stranger's change flagged");
        ConsentModel.ChangeRecord memory c = model.changeAt(0);
        vm.assertEq(c.owner, owner, "change owner");
        vm.assertEq(c.actor, stranger, "change actor");
        vm.assertFalse(c.authorized, "change not authorised");

        // The same kind of change by an appointed manager is authorised.
        vm.prank(owner);
        registry.setManager(stranger, true);
        model.applySetManager(owner, stranger, true);
        before = model.readState();
        vm.prank(stranger);
        registry.revokeAllFor(owner);
        model.recordChanges(before, stranger, address(0), ConsentModel.ActionKind.Owner);
        vm.assertEq(model.unauthorizedChanges(), 1, "manager's change not flagged");
        vm.assertEq(model.changeCount(), 2, "epoch change recorded");
    }

    /// @notice Any consent change during a governance action is counted.
    function testChangeDetectorCountsGovernanceChanges() public {
        bytes32[] memory before = model.readState();
        vm.prank(model.owners()[1]);
        registry.revokeAll();
        model.recordChanges(before, address(governance), address(0), ConsentModel.ActionKind.Governance);
        vm.assertEq(model.governanceConsentChanges(), 1, "governance change counted");
    }

    /// @notice A wrong prediction is counted as a mismatch, with what was expected and seen.
    function testOutcomeCheckerCountsMismatch() public {
        model.checkOutcome("probe", "", false, hex"deadbeef");
        vm.assertEq(model.outcomeMismatches(), 1, "mismatch counted");
        vm.assertEq(model.lastMismatchActual(), hex"deadbeef", "actual kept");
    }

    /// @notice A short fixed scenario through the handlers reaches the success paths the
    /// invariants reason about (so they are not vacuously true).
    function testHandlersReachSuccessPaths() public {
        // owner 0 grants P1 (grantee 0) ALL_DATA, purposes 0..7, no expiry: keySeed picks grantee
        // 0 and data id 2 (ALL_DATA) via keySeed >> 8.
        owners.grant(0, 2 << 8, INITIAL_PURPOSES, 0);
        // owner 0 also grants I1 (grantee 2) ALL_DATA.
        owners.grant(0, (2 << 8) | 2, INITIAL_PURPOSES, 0);
        // P1 uses asset-1 of owner 0 for purpose 3 (sender seed 0 -> grantee 0).
        processors.recordUse(0, 0, 0, 3 << 8);
        // P1 shares with I1 (to seed 2 << 3 -> grantee 2) for purpose 6.
        processors.recordShare(0, 0, 2 << 3, 0, 6 << 8);
        vm.assertEq(model.useCount(), 2, "use and share accepted");
        owners.revokeAll(0);
        processors.recordUse(0, 0, 0, 3 << 8); // refused now
        vm.assertEq(model.useCount(), 2, "nothing accepted after revokeAll");
        governance.deprecatePurpose(3 << 8);
        time.warp(1);
        vm.assertEq(model.outcomeMismatches(), 0, "all outcomes predicted");
        vm.assertEq(model.successes(keccak256("grant")), 2, "grants accepted");
        vm.assertEq(model.failures(keccak256("recordUse")), 1, "use refused");
        invariantAcceptedRecordsHadConsent();
        invariantNoRecordAfterRevokeUntilRegranted();
        invariantIsAllowedMatchesModel();
        invariantOnlyOwnerManagerOrSignatureChangedConsents();
    }

    /// @dev Seeds for {SignatureHandler}: grantee 0, ALL_DATA, purposes 0..7 masked to grantable,
    /// first free nonce from word 0; no expiry, deadline never, 65-byte signature.
    uint256 private constant SIG_KEY = (2 << 8) | (0xFF << 16) | (1 << 32);
    uint256 private constant SIG_TIME = 3 << 64;

    /// @notice A fixed scenario through the signature actor reaches every path it exists for,
    /// each with the exact predicted outcome, and attributes the changes to the signed nonces.
    function testSignatureHandlerReachesEveryPath() public {
        address owner = model.owners()[0];
        vm.assertEq(signatures.domainFor(block.chainid), registry.DOMAIN_SEPARATOR(), "domain rebuilt");

        signatures.relayGrant(0, 5, SIG_KEY, SIG_TIME); // nonce 0, relayed by grantee 2
        vm.assertTrue(registry.isAllowed(owner, model.grantees()[0], keccak256("asset-1"), 3), "signed grant live");
        vm.assertTrue(registry.isNonceUsed(owner, 0), "nonce 0 consumed");
        // Grantee 1, nonce 256 (word 1), EIP-2098 compact signature.
        signatures.relayGrant(0, 8, SIG_KEY | 1 | (1 << 128), SIG_TIME | (1 << 200));
        vm.assertTrue(registry.isNonceUsed(owner, 256), "nonce 256 consumed");
        vm.assertEq(model.successes(keccak256("grantBySig")), 2, "signed grants accepted");

        signatures.replay(0, 7);
        vm.assertEq(model.failures(keccak256("replay")), 1, "replay refused");
        for (uint256 mode = 0; mode < 5; ++mode) signatures.wrongSigner(0, 1, SIG_KEY, SIG_TIME, mode << 8);
        vm.assertEq(model.failures(keccak256("wrongSigner")), 5, "every wrong signature refused");
        signatures.expired(0, 1, SIG_KEY, SIG_TIME, 0);
        vm.assertEq(model.failures(keccak256("expiredSig")), 1, "expired signature refused");
        signatures.invalidateThenUse(0, 0, SIG_KEY, SIG_TIME, 0);
        vm.assertEq(model.successes(keccak256("invalidateNonces")), 1, "nonce invalidated");
        vm.assertEq(model.failures(keccak256("useInvalidatedNonce")), 1, "invalidated nonce refused");

        // 3 grants, item 1 repeats item 0's nonce: BatchItemFailed(1, NonceUsed); then a valid batch.
        signatures.batchWithBadItem(0, 3, SIG_KEY, SIG_TIME, 1 | (1 << 8) | (2 << 16));
        vm.assertEq(model.failures(keccak256("grantBySigBatch")), 1, "batch with a bad item refused");
        vm.assertEq(model.signedUseCount(), 2, "refused batch consumed no nonce");
        signatures.batchWithBadItem(0, 3, SIG_KEY, SIG_TIME, 1 | (4 << 16));
        vm.assertEq(model.successes(keccak256("grantBySigBatch")), 1, "valid batch accepted");

        signatures.relayRevoke(0, 2, 1, SIG_TIME); // 1 % 4 != 0: a consent the owner holds
        vm.assertEq(model.successes(keccak256("revokeBySig")), 1, "signed revoke accepted");
        signatures.relayRevokeAll(0, 4, SIG_TIME);
        vm.assertEq(model.successes(keccak256("revokeAllBySig")), 1, "signed revokeAll accepted");
        vm.assertEq(registry.epochOf(owner), 1, "epoch bumped by signature");

        vm.assertEq(model.outcomeMismatches(), 0, string.concat("unexpected outcome of ", model.lastMismatchAction()));
        vm.assertEq(signatures.acceptedCount(), 7, "2 grants + 3 batch items + revoke + revokeAll");
        vm.assertEq(model.signedUseCount(), 7, "one consumed nonce per accepted request");
        ConsentModel.ChangeRecord memory first = model.changeAt(0);
        vm.assertEq(first.owner, owner, "first change: owner");
        vm.assertEq(first.actor, model.grantees()[2], "first change: relayer");
        vm.assertTrue(first.path == ConsentModel.Path.Signature, "first change: signature path");
        vm.assertEq(first.nonce, 0, "first change: nonce");
        invariantOnlyOwnerManagerOrSignatureChangedConsents();
        invariantNoncesConsumedOnceBySignedActions();
        invariantIsAllowedMatchesModel();
    }

    /// @notice If the registry forgot a consumed nonce (its bit cleared in storage), the replay it
    /// then accepts fails both the nonce invariant and the "who changed it" invariant.
    function testNonceInvariantsCatchAReplay() public {
        address owner = model.owners()[0];
        signatures.relayGrant(0, 5, SIG_KEY, SIG_TIME); // nonce 0
        owners.revoke(0, 2 << 8); // the owner withdraws it, so the replay changes storage again
        bytes32 word0 = keccak256(abi.encode(uint256(0), keccak256(abi.encode(owner, _findNoncesSlot()))));
        vm.store(address(registry), word0, bytes32(0));

        signatures.replay(0, 7);
        vm.assertEq(model.outcomeMismatches(), 1, "accepted replay is a mismatch");
        vm.assertEq(model.sigUsesOf(owner, 0), 2, "nonce consumed twice");
        vm.assertEq(model.unauthorizedChanges(), 1, "replayed change unauthorised");
        vm.assertEq(bytes(nonceViolation()), bytes("nonce consumed by more than one signed action"), "nonce inv");
        vm.assertEq(bytes(changeViolation()), bytes("consent changed by an unauthorised actor"), "change inv");
    }

    /// @notice A signed change is authorised only by a request of that action, signed by the
    /// owner's key, for exactly the entry that changed.
    function testSignatureAttributionFlagsForeignSignerAndOtherTarget() public {
        address owner = model.owners()[1];
        address grantee = model.grantees()[0];
        bytes32 dataId = model.dataIds()[0];
        address relayer = model.strangers()[0];

        // Consumed with a signature by the rogue key: unauthorised.
        bytes32[] memory before = model.readState();
        vm.prank(owner);
        registry.grant(grantee, dataId, 1, 0, bytes32(0));
        model.consumeNonce(owner, 9, signatures.rogue(), grantee, dataId);
        model.recordChanges(before, relayer, signatures.rogue(), ConsentModel.ActionKind.Signature);
        vm.assertEq(model.unauthorizedChanges(), 1, "foreign signer flagged");
        vm.assertTrue(model.changeAt(0).path == ConsentModel.Path.None, "no path");

        // Signed by the owner, but for another entry than the one that changed: unauthorised.
        before = model.readState();
        vm.prank(owner);
        registry.grant(grantee, dataId, 3, 0, bytes32(0));
        model.consumeNonce(owner, 10, owner, model.grantees()[1], dataId);
        model.recordChanges(before, relayer, owner, ConsentModel.ActionKind.Signature);
        vm.assertEq(model.unauthorizedChanges(), 2, "other target flagged");

        // Signed by the owner for exactly that entry with a fresh nonce: authorised.
        before = model.readState();
        vm.prank(owner);
        registry.grant(grantee, dataId, 7, 0, bytes32(0));
        model.consumeNonce(owner, 11, owner, grantee, dataId);
        model.recordChanges(before, relayer, owner, ConsentModel.ActionKind.Signature);
        vm.assertEq(model.unauthorizedChanges(), 2, "owner-signed change authorised");
        ConsentModel.ChangeRecord memory c = model.changeAt(2);
        vm.assertTrue(c.path == ConsentModel.Path.Signature, "signature path");
        vm.assertEq(c.nonce, 11, "attributed nonce");
        vm.assertEq(c.signer, owner, "attributed signer");
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
        s = new bytes4[](7);
        s[0] = owners.grant.selector;
        s[1] = owners.grantFor.selector;
        s[2] = owners.revoke.selector;
        s[3] = owners.revokeFor.selector;
        s[4] = owners.revokeAll.selector;
        s[5] = owners.revokeAllFor.selector;
        s[6] = owners.setManager.selector;
    }

    function _signatureSelectors() private view returns (bytes4[] memory s) {
        s = new bytes4[](8);
        s[0] = signatures.relayGrant.selector;
        s[1] = signatures.relayRevoke.selector;
        s[2] = signatures.relayRevokeAll.selector;
        s[3] = signatures.replay.selector;
        s[4] = signatures.wrongSigner.selector;
        s[5] = signatures.expired.selector;
        s[6] = signatures.invalidateThenUse.selector;
        s[7] = signatures.batchWithBadItem.selector;
    }

    function _processorSelectors() private view returns (bytes4[] memory s) {
        s = new bytes4[](2);
        s[0] = processors.recordUse.selector;
        s[1] = processors.recordShare.selector;
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
