// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ALL_DATA, NO_EXPIRY} from "../../contracts/Common.sol";
import {IConsentRegistry} from "../../contracts/interfaces/IConsentRegistry.sol";
import {Signing} from "./utils/Signing.sol";
import {SystemBase} from "./utils/SystemBase.sol";
import {vm} from "./utils/Vm.sol";

/**
 * @title ConsentRegistryGasTest
 * @notice One test per registry operation, for the committed gas snapshot (`.gas-snapshot`):
 * `npm run gas:snapshot` rewrites it, `npm run gas:check` fails CI when any number changes.
 * All preparation is in setUp (not metered); each test body is the operation plus one check
 * that it did what it should (so a snapshot can never record a silently failing path). The
 * numbers include the test's own overhead; per-call figures are in BENCHMARKS.md.
 */
contract ConsentRegistryGasTest is SystemBase {
    uint256 private constant OWNER_KEY = 0xA11CE;
    address private constant PROCESSOR = address(0x3001);
    address private constant PROCESSOR_ALL_DATA = address(0x3002);
    address private constant INTEGRATION = address(0x4001);
    address private constant RELAYER = address(0x7001);
    address private constant OTHER_OWNER = address(0x1002);
    uint256 private constant BATCH = 20;
    uint40 private constant NEVER = NO_EXPIRY;

    address private _owner;
    bytes32 private constant D1 = keccak256("asset-1");
    bytes32 private constant D2 = keccak256("asset-2");

    function setUp() public {
        _deploySystem(address(this));
        _owner = vm.addr(OWNER_KEY);
        integrations.registerIntegration(INTEGRATION, keccak256("I1"), INITIAL_PURPOSES);
        vm.startPrank(_owner);
        registry.grant(PROCESSOR, D1, INITIAL_PURPOSES, NEVER, bytes32(0));
        registry.grant(PROCESSOR_ALL_DATA, ALL_DATA, INITIAL_PURPOSES, NEVER, bytes32(0));
        registry.grant(INTEGRATION, ALL_DATA, INITIAL_PURPOSES, NEVER, bytes32(0));
        for (uint256 i = 0; i < BATCH; ++i) registry.grant(PROCESSOR, _batchId(i), 0x0f, NEVER, bytes32(0));
        vm.stopPrank();
        vm.prank(OTHER_OWNER);
        registry.revokeAll(); // so testGasRevokeAllLater bumps an epoch that is already non-zero
    }

    function testGasGrant() public {
        vm.prank(_owner);
        registry.grant(PROCESSOR, D2, 0x7f, uint40(START + 365 days), keccak256("notice v1"));
        vm.assertTrue(registry.isAllowed(_owner, PROCESSOR, D2, 6), "granted");
    }

    function testGasRevoke() public {
        vm.prank(_owner);
        registry.revoke(PROCESSOR, D1);
        vm.assertFalse(registry.isAllowed(_owner, PROCESSOR, D1, 0), "revoked");
    }

    function testGasRevokeAllFirst() public {
        vm.prank(_owner);
        registry.revokeAll();
        vm.assertEq(registry.epochOf(_owner), 1, "first epoch");
    }

    function testGasRevokeAllLater() public {
        vm.prank(OTHER_OWNER);
        registry.revokeAll();
        vm.assertEq(registry.epochOf(OTHER_OWNER), 2, "second epoch");
    }

    function testGasIsAllowedHit() public view {
        vm.assertTrue(registry.isAllowed(_owner, PROCESSOR, D1, 3), "exact consent allows");
    }

    function testGasIsAllowedFallback() public view {
        vm.assertTrue(registry.isAllowed(_owner, PROCESSOR_ALL_DATA, D1, 3), "ALL_DATA fallback allows");
    }

    function testGasRecordUse() public {
        vm.expectEmit(true, true, true, true, address(registry));
        emit IConsentRegistry.DataUsed(_owner, PROCESSOR, D1, 0, keccak256("job"));
        vm.prank(PROCESSOR);
        registry.recordUse(_owner, D1, 0, keccak256("job"));
    }

    function testGasRecordShare() public {
        vm.expectEmit(true, true, true, true, address(registry));
        emit IConsentRegistry.DataShared(_owner, PROCESSOR, INTEGRATION, D1, 6, keccak256("receipt"));
        vm.prank(PROCESSOR);
        registry.recordShare(_owner, INTEGRATION, D1, 6, keccak256("receipt"));
    }

    /// @dev A signed grant of a key never changed before (version 0 -> 1), 65-byte signature.
    function testGasGrantBySig() public {
        IConsentRegistry.SignedGrant memory g = IConsentRegistry.SignedGrant({
            owner: _owner,
            grantee: PROCESSOR,
            dataId: D2,
            purposes: 0x7f,
            expiresAt: NEVER,
            noticeHash: keccak256("notice v1"),
            epoch: 0,
            version: 1,
            deadline: START + 1 hours,
            signature: ""
        });
        g.signature = Signing.sign(OWNER_KEY, Signing.digest(registry.DOMAIN_SEPARATOR(), Signing.grantHash(g)));
        vm.prank(RELAYER);
        registry.grantBySig(g);
        vm.assertTrue(registry.isAllowed(_owner, PROCESSOR, D2, 0), "granted by signature");
    }

    /// @dev A signed revocation of a live consent granted by transaction (version 0x10000 -> 0x10001).
    function testGasRevokeBySig() public {
        IConsentRegistry.SignedRevoke memory r = _signedRevoke(D1);
        vm.prank(RELAYER);
        registry.revokeBySig(r);
        vm.assertFalse(registry.isAllowed(_owner, PROCESSOR, D1, 0), "revoked by signature");
    }

    /// @dev 20 signed revocations of live consents, all applied (the best-effort batch's success path).
    function testGasRevokeBySigBatch20() public {
        IConsentRegistry.SignedRevoke[] memory reqs = new IConsentRegistry.SignedRevoke[](BATCH);
        for (uint256 i = 0; i < BATCH; ++i) reqs[i] = _signedRevoke(_batchId(i));
        vm.prank(RELAYER);
        bytes[] memory failures = registry.revokeBySigBatch(reqs);
        vm.assertEq(failures[BATCH - 1].length, 0, "last applied");
        vm.assertFalse(registry.isAllowed(_owner, PROCESSOR, _batchId(BATCH - 1), 3), "last revoked");
    }

    function testGasGrantBatch20() public {
        IConsentRegistry.GrantInput[] memory grants = new IConsentRegistry.GrantInput[](BATCH);
        for (uint256 i = 0; i < BATCH; ++i) {
            grants[i] = IConsentRegistry.GrantInput({
                grantee: PROCESSOR_ALL_DATA,
                dataId: _batchId(i),
                purposes: 0x0f,
                expiresAt: uint40(START + 30 days),
                noticeHash: keccak256("notice v1")
            });
        }
        vm.prank(_owner);
        registry.grantBatch(grants);
        vm.assertEq(registry.activePurposes(_owner, PROCESSOR_ALL_DATA, _batchId(BATCH - 1)), 0x0f, "last");
    }

    function testGasRecordUseBatch20() public {
        IConsentRegistry.UseRecord[] memory records = new IConsentRegistry.UseRecord[](BATCH);
        for (uint256 i = 0; i < BATCH; ++i) {
            records[i] = IConsentRegistry.UseRecord({
                owner: _owner,
                dataId: D1,
                purpose: uint8(i % 8),
                evidence: keccak256(abi.encode("job", i))
            });
        }
        vm.expectEmit(true, true, true, true, address(registry));
        emit IConsentRegistry.DataUsed(_owner, PROCESSOR, D1, 0, keccak256(abi.encode("job", uint256(0))));
        vm.prank(PROCESSOR);
        registry.recordUseBatch(records);
    }

    function _batchId(uint256 i) private pure returns (bytes32) {
        return keccak256(abi.encode("batch", i));
    }

    /// @dev The owner's signed revocation of PROCESSOR's consent for `dataId` (granted once by
    /// transaction in setUp, so its version is 0x10000 and the message's 0x10001).
    function _signedRevoke(bytes32 dataId) private view returns (IConsentRegistry.SignedRevoke memory r) {
        r = IConsentRegistry.SignedRevoke({
            owner: _owner,
            grantee: PROCESSOR,
            dataId: dataId,
            epoch: 0,
            version: FIRST_TX_VERSION + 1,
            deadline: START + 1 hours,
            signature: ""
        });
        r.signature = Signing.sign(OWNER_KEY, Signing.digest(registry.DOMAIN_SEPARATOR(), Signing.revokeHash(r)));
    }
}
