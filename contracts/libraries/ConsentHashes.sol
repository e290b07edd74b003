// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IConsentRegistry} from "../interfaces/IConsentRegistry.sol";

/**
 * @title ConsentHashes
 * @notice EIP-712 struct hashes of the signed consent messages. The TypeScript definition in
 * `src/sdk/eip712.ts` is tested against these (test/libraries/ConsentHashes.ts).
 * The domain (name, version "2", chainId, verifyingContract) is added by the registry's EIP712.
 * Every message names the owner's `epoch` and, for one consent, its `version`: what makes the
 * owner's latest instruction win whatever the relay order (see {IConsentRegistry}).
 */
library ConsentHashes {
    bytes32 internal constant GRANT_TYPEHASH = keccak256(
        "Grant(address owner,address grantee,bytes32 dataId,uint128 purposes,uint40 expiresAt,"
        "bytes32 noticeHash,uint32 epoch,uint64 version,uint256 deadline)"
    );
    bytes32 internal constant REVOKE_TYPEHASH = keccak256(
        "Revoke(address owner,address grantee,bytes32 dataId,uint32 epoch,uint64 version,uint256 deadline)"
    );
    bytes32 internal constant REVOKE_ALL_TYPEHASH = keccak256("RevokeAll(address owner,uint32 epoch,uint256 deadline)");

    function hash(IConsentRegistry.SignedGrant calldata r) internal pure returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    GRANT_TYPEHASH,
                    r.owner,
                    r.grantee,
                    r.dataId,
                    r.purposes,
                    r.expiresAt,
                    r.noticeHash,
                    r.epoch,
                    r.version,
                    r.deadline
                )
            );
    }

    function hash(IConsentRegistry.SignedRevoke calldata r) internal pure returns (bytes32) {
        return keccak256(abi.encode(REVOKE_TYPEHASH, r.owner, r.grantee, r.dataId, r.epoch, r.version, r.deadline));
    }

    function hash(IConsentRegistry.SignedRevokeAll calldata r) internal pure returns (bytes32) {
        return keccak256(abi.encode(REVOKE_ALL_TYPEHASH, r.owner, r.epoch, r.deadline));
    }
}
