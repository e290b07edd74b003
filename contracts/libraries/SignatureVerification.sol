// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

/**
 * @title SignatureVerification
 * @notice Checks that `signature` is `signer`'s over `digest`:
 * - 65-byte `(r, s, v)` or 64-byte EIP-2098 `(r, vs)` ECDSA signatures; OpenZeppelin's ECDSA
 *   rejects malleable (high-`s`) signatures and invalid `v`.
 * - otherwise, when `signer` has code, an ERC-1271 `isValidSignature` answer (called with
 *   STATICCALL, so the wallet cannot re-enter and change state).
 * @dev ECDSA is tried first, and the ERC-1271 path only when it fails, so an EOA does not pay
 * a cold EXTCODESIZE (2,600 gas). That order is safe: a key that recovers to `signer` is
 * `signer`'s key (for an EIP-7702 account, its own key is authoritative too).
 */
library SignatureVerification {
    /**
     * @dev `walletGas` caps the ERC-1271 call. 0 = no cap: the wallet gets all the gas the EVM
     * forwards (63/64 of what is left), for a single signed call, whose sender chooses the gas
     * and risks only that call. A cap is for one item of a batch: a wallet that burns its gas
     * then costs the batch at most `walletGas` and the other items still run, and a wallet that
     * needs more is answered "invalid". If the sender left too little gas for the wallet to get
     * its whole `walletGas` (detected as in OpenZeppelin's ERC2771Forwarder: after a failed call
     * less than `walletGas / 63` is left), the whole transaction fails as out of gas (INVALID),
     * so a relayer cannot make a valid wallet signature fail by under-funding the batch.
     */
    function isValid(
        address signer,
        bytes32 digest,
        bytes calldata signature,
        uint256 walletGas
    ) internal view returns (bool) {
        address recovered;
        ECDSA.RecoverError err = ECDSA.RecoverError.InvalidSignatureLength;
        if (signature.length == 65) {
            (recovered, err, ) = ECDSA.tryRecoverCalldata(digest, signature);
        } else if (signature.length == 64) {
            (recovered, err, ) = ECDSA.tryRecover(digest, bytes32(signature[0:32]), bytes32(signature[32:64]));
        }
        if (err == ECDSA.RecoverError.NoError && recovered == signer) return true;
        if (walletGas != 0) {
            return signer.code.length != 0 && _isValidERC1271Capped(signer, digest, signature, walletGas);
        }
        return
            signer.code.length != 0 && SignatureChecker.isValidERC1271SignatureNowCalldata(signer, digest, signature);
    }

    /// @dev OpenZeppelin's `SignatureChecker.isValidERC1271SignatureNowCalldata` (5.7) with the
    /// STATICCALL's gas capped at `walletGas` instead of `gas()`, then the under-funding check.
    function _isValidERC1271Capped(
        address signer,
        bytes32 digest,
        bytes calldata signature,
        uint256 walletGas
    ) private view returns (bool result) {
        bytes4 selector = IERC1271.isValidSignature.selector;
        uint256 length = signature.length;

        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, selector)
            mstore(add(ptr, 0x04), digest)
            mstore(add(ptr, 0x24), 0x40)
            mstore(add(ptr, 0x44), length)
            calldatacopy(add(ptr, 0x64), signature.offset, length)
            mstore(add(add(ptr, 0x64), length), 0)

            length := shl(5, shr(5, add(length, 0x1F)))

            let success := staticcall(walletGas, signer, ptr, add(length, 0x64), 0x00, 0x20)
            result := and(success, and(gt(returndatasize(), 0x1f), eq(mload(0x00), selector)))
        }
        if (!result && gasleft() < walletGas / 63) {
            assembly ("memory-safe") {
                invalid()
            }
        }
    }
}
