// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @dev TEST ONLY. A smart-contract wallet whose `isValidSignature` first burns `burn` gas (all
/// the gas it is given when `burn` is `type(uint256).max`, i.e. it never returns), then checks
/// the signature against `signer`: a costly but honest wallet, or a griefing one.
contract GasBurningERC1271WalletMock is IERC1271 {
    address public immutable signer;
    uint256 public immutable burn;

    constructor(address signer_, uint256 burn_) {
        signer = signer_;
        burn = burn_;
    }

    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        uint256 start = gasleft();
        if (burn == type(uint256).max) {
            // solhint-disable-next-line no-empty-blocks
            while (true) {}
        }
        // solhint-disable-next-line no-empty-blocks
        while (start - gasleft() < burn) {}
        (address recovered, ECDSA.RecoverError err, ) = ECDSA.tryRecoverCalldata(hash, signature);
        return err == ECDSA.RecoverError.NoError && recovered == signer ? this.isValidSignature.selector : bytes4(0);
    }
}
