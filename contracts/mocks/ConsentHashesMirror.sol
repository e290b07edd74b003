// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IConsentRegistry} from "../interfaces/IConsentRegistry.sol";
import {ConsentHashes} from "../libraries/ConsentHashes.sol";

/// @dev TEST ONLY. Exposes the EIP-712 typehashes and struct hashes of {ConsentHashes} so that
/// the TypeScript typed-data definition (`src/sdk/eip712.ts`) can be compared with them.
/// The `signature` field of each request is ignored by the hashes (it is not part of the type).
contract ConsentHashesMirror {
    function grantTypehash() external pure returns (bytes32) {
        return ConsentHashes.GRANT_TYPEHASH;
    }

    function revokeTypehash() external pure returns (bytes32) {
        return ConsentHashes.REVOKE_TYPEHASH;
    }

    function revokeAllTypehash() external pure returns (bytes32) {
        return ConsentHashes.REVOKE_ALL_TYPEHASH;
    }

    function hashGrant(IConsentRegistry.SignedGrant calldata request) external pure returns (bytes32) {
        return ConsentHashes.hash(request);
    }

    function hashRevoke(IConsentRegistry.SignedRevoke calldata request) external pure returns (bytes32) {
        return ConsentHashes.hash(request);
    }

    function hashRevokeAll(IConsentRegistry.SignedRevokeAll calldata request) external pure returns (bytes32) {
        return ConsentHashes.hash(request);
    }
}
