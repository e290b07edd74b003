// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessManager} from "@openzeppelin/contracts/access/manager/AccessManager.sol";

/**
 * @title ConsentAccessManager
 * @notice OpenZeppelin's AccessManager with three rules that leave no account an instant power
 * over governance, so that every change to purposes, integrations, roles, function routing,
 * authority and delays is scheduled on-chain and visible at least {minExecutionDelay} before it
 * takes effect:
 *
 * 1. Every role member, of every role (ADMIN_ROLE included), has an execution delay of at least
 *    {minExecutionDelay}: a grant with less reverts. A stock AccessManager lets an admin grant
 *    itself (after one delay) a role with no execution delay and then act without notice.
 * 2. No function can be routed to PUBLIC_ROLE: that would let every account call it at once.
 * 3. A scheduled operation can be cancelled only by the account that scheduled it, or by a
 *    member of {GUARDIAN_ROLE}. A stock AccessManager also lets any admin cancel any operation
 *    instantly; here that veto is the guardian's alone (see SECURITY.md).
 *
 * The only exemption is the grant made by the constructor: ADMIN_ROLE for `initialAdmin`, with
 * no delay, for the deploying contract (`ConsentSystemDeployer`), which wires governance and
 * renounces that role in the same transaction. Nothing here can reach a consent: the consent
 * registry's grants, revocations and records are not `restricted` functions.
 */
contract ConsentAccessManager is AccessManager {
    /// @notice May schedule (and after the delay execute) the governed functions.
    uint64 public constant GOVERNOR_ROLE = 1;
    /// @notice May cancel any scheduled operation, at once; can schedule or execute nothing.
    uint64 public constant GUARDIAN_ROLE = 2;

    uint32 private immutable _minExecutionDelay;

    /// @notice `executionDelay` is below the minimum every member must have.
    error ConsentAccessManagerDelayTooShort(
        uint64 roleId,
        address account,
        uint32 executionDelay,
        uint32 minExecutionDelay
    );

    /// @notice A function cannot be opened to every account (PUBLIC_ROLE).
    error ConsentAccessManagerPublicFunction(address target, bytes4 selector);

    /// @param initialAdmin        receives ADMIN_ROLE with no delay (the deploying contract only)
    /// @param minExecutionDelay_  the least execution delay of every later role member (seconds)
    constructor(address initialAdmin, uint32 minExecutionDelay_) AccessManager(initialAdmin) {
        _minExecutionDelay = minExecutionDelay_;
    }

    /// @notice The least execution delay any role member may have: the notice users get.
    function minExecutionDelay() public view returns (uint32) {
        return _minExecutionDelay;
    }

    /**
     * @dev Rule 1. `address(this).code.length == 0` holds only while the constructor runs, i.e.
     * for the base constructor's one grant to `initialAdmin` (the idiom OpenZeppelin's
     * Initializable uses to detect construction); every later grant needs the minimum delay.
     * That grant also runs before `_minExecutionDelay` is assigned (it reads 0 then), so the
     * construction check changes no outcome today (docs/MUTATION.md lists it as equivalent); it
     * is kept so the exemption is stated, not a side effect of reading an unassigned immutable.
     */
    function _grantRole(
        uint64 roleId,
        address account,
        uint32 grantDelay,
        uint32 executionDelay
    ) internal override returns (bool) {
        if (address(this).code.length != 0 && executionDelay < _minExecutionDelay) {
            revert ConsentAccessManagerDelayTooShort(roleId, account, executionDelay, _minExecutionDelay);
        }
        return super._grantRole(roleId, account, grantDelay, executionDelay);
    }

    /// @dev Rule 2.
    function _setTargetFunctionRole(address target, bytes4 selector, uint64 roleId) internal override {
        if (roleId == PUBLIC_ROLE) revert ConsentAccessManagerPublicFunction(target, selector);
        super._setTargetFunctionRole(target, selector, roleId);
    }

    /// @dev Rule 3.
    function _canCancel(address caller, address, bytes calldata) internal view override returns (bool) {
        address sender = _msgSender();
        if (caller == sender) return true;
        (bool isGuardian, ) = hasRole(GUARDIAN_ROLE, sender);
        return isGuardian;
    }
}
