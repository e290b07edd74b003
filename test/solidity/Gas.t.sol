// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ALL_DATA, NO_EXPIRY} from "../../contracts/Common.sol";
import {IConsentRegistry} from "../../contracts/interfaces/IConsentRegistry.sol";
import {ConsentHashes} from "../../contracts/libraries/ConsentHashes.sol";
import {SystemBase} from "./utils/SystemBase.sol";
import {vm} from "./utils/Vm.sol";

/**
 * @title ConsentRegistryGasTest
 * @notice One test per registry operation, for the committed gas snapshot (`.gas-snapshot`):
 * `npm run gas:snapshot` rewrites it, `npm run gas:check` fails CI when any number changes.
 * All preparation is in setUp (not metered); each test body is the operation plus one check
 * that it did what it should (so a snapshot can never record a silently failing path).
 */
contract ConsentRegistryGasTest is SystemBase {
    uint256 private constant OWNER_KEY = 0xA11CE;
    address private constant PROCESSOR = address(0x3001);
    address private constant PROCESSOR_ALL_DATA = address(0x3002);
    address private constant INTEGRATION = address(0x4001);
    address private constant RELAYER = address(0x7001);
    address private constant OTHER_OWNER = address(0x1002);
    uint256 private constant BATCH = 20;

    address private _owner;
    bytes32 private constant D1 = keccak256("asset-1");
    bytes32 private constant D2 = keccak256("asset-2");

    function setUp() public {
        _deploySystem(address(this));
        _owner = vm.addr(OWNER_KEY);
        integrations.registerIntegration(INTEGRATION, keccak256("I1"), INITIAL_PURPOSES);
        vm.startPrank(_owner);
        registry.grant(PROCESSOR, D1, INITIAL_PURPOSES, NO_EXPIRY, bytes32(0));
        registry.grant(PROCESSOR_ALL_DATA, ALL_DATA, INITIAL_PURPOSES, NO_EXPIRY, bytes32(0));
        registry.grant(INTEGRATION, ALL_DATA, INITIAL_PURPOSES, NO_EXPIRY, bytes32(0));
        vm.stopPrank();
        vm.prank(OTHER_OWNER);
        registry.revokeAll(); // so testGasRevokeAllLater bumps an epoch that is already non-zero
    }

    function testGasGrant() public {
        vm.prank(_owner);
        registry.grant(PROCESSOR, D2, 0x7f, START + 365 days, keccak256("notice v1"));
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

    function testGasGrantBySig() public {
        IConsentRegistry.SignedGrant memory g = IConsentRegistry.SignedGrant({
            owner: _owner,
            grantee: PROCESSOR,
            dataId: D2,
            purposes: 0x7f,
            expiresAt: NO_EXPIRY,
            noticeHash: keccak256("notice v1"),
            nonce: 42,
            deadline: START + 1 hours,
            signature: ""
        });
        bytes32 structHash = keccak256(
            abi.encode(
                ConsentHashes.GRANT_TYPEHASH,
                g.owner,
                g.grantee,
                g.dataId,
                g.purposes,
                g.expiresAt,
                g.noticeHash,
                g.nonce,
                g.deadline
            )
        );
        g.signature = _sign(structHash);
        vm.prank(RELAYER);
        registry.grantBySig(g);
        vm.assertTrue(registry.isAllowed(_owner, PROCESSOR, D2, 0), "granted by signature");
    }

    function testGasRevokeBySig() public {
        IConsentRegistry.SignedRevoke memory r = IConsentRegistry.SignedRevoke({
            owner: _owner,
            grantee: PROCESSOR,
            dataId: D1,
            nonce: 43,
            deadline: START + 1 hours,
            signature: ""
        });
        bytes32 structHash = keccak256(
            abi.encode(ConsentHashes.REVOKE_TYPEHASH, r.owner, r.grantee, r.dataId, r.nonce, r.deadline)
        );
        r.signature = _sign(structHash);
        vm.prank(RELAYER);
        registry.revokeBySig(r);
        vm.assertFalse(registry.isAllowed(_owner, PROCESSOR, D1, 0), "revoked by signature");
    }

    function testGasGrantBatch20() public {
        IConsentRegistry.GrantInput[] memory grants = new IConsentRegistry.GrantInput[](BATCH);
        for (uint256 i = 0; i < BATCH; ++i) {
            grants[i] = IConsentRegistry.GrantInput({
                grantee: PROCESSOR,
                dataId: keccak256(abi.encode("batch", i)),
                purposes: 0x0f,
                expiresAt: START + 30 days,
                noticeHash: keccak256("notice v1")
            });
        }
        vm.prank(_owner);
        registry.grantBatch(grants);
        vm.assertTrue(registry.isAllowed(_owner, PROCESSOR, keccak256(abi.encode("batch", BATCH - 1)), 3), "last");
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

    /// @dev The owner's 65-byte EIP-712 signature over `structHash` in this registry's domain.
    function _sign(bytes32 structHash) private view returns (bytes memory) {
        bytes32 digest = keccak256(abi.encodePacked("\x19\x01", registry.DOMAIN_SEPARATOR(), structHash));
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(OWNER_KEY, digest);
        return abi.encodePacked(r, s, v);
    }
}
