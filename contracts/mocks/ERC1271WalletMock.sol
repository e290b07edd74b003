// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @dev TEST ONLY. A smart-contract wallet whose ERC-1271 answer the test chooses: check the
/// signature against `signer`, always say invalid, or revert.
contract ERC1271WalletMock is IERC1271 {
    enum Mode {
        CheckSigner,
        AlwaysInvalid,
        Revert
    }

    error ERC1271WalletMockReverted();

    address public immutable signer;
    Mode public mode;

    constructor(address signer_) {
        signer = signer_;
    }

    function setMode(Mode m) external {
        mode = m;
    }

    /// @dev Lets the wallet act directly (e.g. appoint a manager) in tests.
    function execute(address target, bytes calldata data) external returns (bytes memory) {
        require(msg.sender == signer, ERC1271WalletMockReverted());
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, bytes memory ret) = target.call(data);
        if (!ok) {
            assembly {
                revert(add(ret, 0x20), mload(ret))
            }
        }
        return ret;
    }

    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        if (mode == Mode.Revert) revert ERC1271WalletMockReverted();
        if (mode == Mode.AlwaysInvalid) return 0xffffffff;
        (address recovered, ECDSA.RecoverError err, ) = ECDSA.tryRecoverCalldata(hash, signature);
        return err == ECDSA.RecoverError.NoError && recovered == signer ? this.isValidSignature.selector : bytes4(0);
    }
}
