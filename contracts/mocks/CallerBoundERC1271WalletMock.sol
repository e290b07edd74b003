// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @dev TEST ONLY. A smart-contract wallet whose ERC-1271 answer depends on who asks: valid only
/// when `verifier` (the registry) calls and the signature is `signer`'s, invalid for any other
/// caller. Wallets that bind their answer to the asking contract exist (so that a signature made
/// for one application is worthless at another); an auditor must ask as the registry did.
contract CallerBoundERC1271WalletMock is IERC1271 {
    address public immutable signer;
    address public immutable verifier;

    constructor(address signer_, address verifier_) {
        signer = signer_;
        verifier = verifier_;
    }

    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        if (msg.sender != verifier) return bytes4(0);
        (address recovered, ECDSA.RecoverError err, ) = ECDSA.tryRecoverCalldata(hash, signature);
        return err == ECDSA.RecoverError.NoError && recovered == signer ? this.isValidSignature.selector : bytes4(0);
    }
}
