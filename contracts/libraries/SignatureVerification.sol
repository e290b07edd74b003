// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

/**
 * @title SignatureVerification
 * @notice Checks that `signature` is `signer`'s over `digest`:
 * - 65-byte `(r, s, v)` or 64-byte EIP-2098 `(r, vs)` ECDSA signatures; OpenZeppelin's ECDSA
 *   rejects malleable (high-`s`) signatures and invalid `v`.
 * - otherwise, when `signer` has code, an ERC-1271 `isValidSignature` answer (called with
 *   STATICCALL by OpenZeppelin's SignatureChecker, so the wallet cannot re-enter and change state).
 * @dev ECDSA is tried first, and the ERC-1271 path only when it fails, so an EOA does not pay
 * a cold EXTCODESIZE (2,600 gas). That order is safe: a key that recovers to `signer` is
 * `signer`'s key (for an EIP-7702 account, its own key is authoritative too).
 */
library SignatureVerification {
    function isValid(address signer, bytes32 digest, bytes calldata signature) internal view returns (bool) {
        address recovered;
        ECDSA.RecoverError err = ECDSA.RecoverError.InvalidSignatureLength;
        if (signature.length == 65) {
            (recovered, err, ) = ECDSA.tryRecoverCalldata(digest, signature);
        } else if (signature.length == 64) {
            (recovered, err, ) = ECDSA.tryRecover(digest, bytes32(signature[0:32]), bytes32(signature[32:64]));
        }
        if (err == ECDSA.RecoverError.NoError && recovered == signer) return true;
        return
            signer.code.length != 0 && SignatureChecker.isValidERC1271SignatureNowCalldata(signer, digest, signature);
    }
}
