// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IConsentRegistry} from "../../../contracts/interfaces/IConsentRegistry.sol";
import {ConsentHashes} from "../../../contracts/libraries/ConsentHashes.sol";
import {vm} from "./Vm.sol";

/**
 * @title Signing
 * @notice EIP-712 signing of the registry's messages in tests, written out independently of the
 * registry (the typehashes are the only shared piece; `test/libraries/ConsentHashes.ts` checks
 * them against the TypeScript SDK). The `signature` field of a request is ignored by the hashes.
 */
library Signing {
    bytes32 internal constant DOMAIN_TYPEHASH = keccak256(
        "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    );

    /// @dev The registry's EIP-712 domain separator at `registry` on chain `chainId`.
    function domain(address registry, uint256 chainId) internal pure returns (bytes32) {
        return
            keccak256(
                abi.encode(DOMAIN_TYPEHASH, keccak256("OmniTensor Consent Registry"), keccak256("2"), chainId, registry)
            );
    }

    function grantHash(IConsentRegistry.SignedGrant memory g) internal pure returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    ConsentHashes.GRANT_TYPEHASH,
                    g.owner,
                    g.grantee,
                    g.dataId,
                    g.purposes,
                    g.expiresAt,
                    g.noticeHash,
                    g.epoch,
                    g.version,
                    g.deadline
                )
            );
    }

    function revokeHash(IConsentRegistry.SignedRevoke memory r) internal pure returns (bytes32) {
        return
            keccak256(
                abi.encode(ConsentHashes.REVOKE_TYPEHASH, r.owner, r.grantee, r.dataId, r.epoch, r.version, r.deadline)
            );
    }

    function revokeAllHash(IConsentRegistry.SignedRevokeAll memory r) internal pure returns (bytes32) {
        return keccak256(abi.encode(ConsentHashes.REVOKE_ALL_TYPEHASH, r.owner, r.epoch, r.deadline));
    }

    function digest(bytes32 domainSeparator, bytes32 structHash) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked("\x19\x01", domainSeparator, structHash));
    }

    /// @dev `key`'s 65-byte `(r, s, v)` signature of `hash`.
    function sign(uint256 key, bytes32 hash) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, hash);
        return abi.encodePacked(r, s, v);
    }

    /// @dev `key`'s 64-byte EIP-2098 `(r, vs)` signature of `hash`.
    function signCompact(uint256 key, bytes32 hash) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, hash);
        return abi.encodePacked(r, bytes32(uint256(s) | (uint256(v - 27) << 255)));
    }
}
