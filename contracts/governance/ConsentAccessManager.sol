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
 * 2. Nothing is opened to PUBLIC_ROLE, which would let every account act at once: no function
 *    can be routed to it, and it can be no role's admin (anyone could grant or revoke that role
 *    instantly) nor any role's guardian.
 * 3. A scheduled operation can be cancelled only by the account that scheduled it, or by a
 *    member of {GUARDIAN_ROLE}. A stock AccessManager also lets any admin cancel any operation
 *    instantly; here that veto is the guardian's alone (see SECURITY.md). The veto does not
 *    cover operations that change the guardian role itself (see {isGuardianRoleChange}), so a
 *    guardian can always be revoked or replaced after the delay: it cannot keep its seat by
 *    cancelling its own removal.
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

    /// @notice PUBLIC_ROLE cannot be a role's admin: every account could grant and revoke `roleId`.
    error ConsentAccessManagerPublicRoleAdmin(uint64 roleId);

    /// @notice PUBLIC_ROLE cannot be a role's guardian: every account could cancel its operations.
    error ConsentAccessManagerPublicRoleGuardian(uint64 roleId);

    /**
     * @notice A guardian may not cancel an operation that changes the guardian role (see
     * {isGuardianRoleChange}): its veto cannot keep it, or stop it being replaced. `caller` is the
     * operation's proposer, who may still cancel it.
     */
    error ConsentAccessManagerGuardianRoleChange(address guardian, address caller, bytes4 selector);

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

    /**
     * @notice Whether an operation calling `target` with `data` changes the guardian role, so
     * that no guardian may cancel it (rule 3): a call of this manager to `grantRole`,
     * `revokeRole`, `setRoleAdmin`, `setRoleGuardian` or `setGrantDelay` whose role argument is
     * {GUARDIAN_ROLE}. These are every path by which who holds, or who may grant and revoke,
     * GUARDIAN_ROLE can change: membership only changes by grant, revoke and the member's own
     * (instant, unschedulable for others) `renounceRole`; the role's admin decides who grants and
     * revokes it, its grant delay when a new guardian takes its seat. `setRoleGuardian` of the
     * role has no effect on cancelling here (rule 3 ignores role guardians) but is covered so
     * that the role's whole configuration is the admin's. `labelRole` changes nothing but an
     * event, and every other operation (including `updateAuthority`, and role changes of other
     * roles) stays under the guardian's veto.
     * @dev The role is compared as the raw first argument word, so trailing bytes do not hide a
     * change (the ABI decoder ignores them when executing); an argument that is not a clean
     * uint64 can never execute, so it needs no protection.
     */
    function isGuardianRoleChange(address target, bytes calldata data) public view returns (bool) {
        if (target != address(this) || data.length < 0x24) return false;
        bytes4 selector = bytes4(data[0:4]);
        if (
            selector != this.grantRole.selector &&
            selector != this.revokeRole.selector &&
            selector != this.setRoleAdmin.selector &&
            selector != this.setRoleGuardian.selector &&
            selector != this.setGrantDelay.selector
        ) return false;
        return uint256(bytes32(data[4:0x24])) == GUARDIAN_ROLE;
    }

    /// @dev Rule 2: no function routed to PUBLIC_ROLE.
    function _setTargetFunctionRole(address target, bytes4 selector, uint64 roleId) internal override {
        if (roleId == PUBLIC_ROLE) revert ConsentAccessManagerPublicFunction(target, selector);
        super._setTargetFunctionRole(target, selector, roleId);
    }

    /// @dev Rule 2: PUBLIC_ROLE is no role's admin.
    function _setRoleAdmin(uint64 roleId, uint64 admin) internal override {
        if (admin == PUBLIC_ROLE) revert ConsentAccessManagerPublicRoleAdmin(roleId);
        super._setRoleAdmin(roleId, admin);
    }

    /// @dev Rule 2: PUBLIC_ROLE is no role's guardian.
    function _setRoleGuardian(uint64 roleId, uint64 guardian) internal override {
        if (guardian == PUBLIC_ROLE) revert ConsentAccessManagerPublicRoleGuardian(roleId);
        super._setRoleGuardian(roleId, guardian);
    }

    /**
     * @dev Rule 3. A guardian's attempt to cancel a guardian-role change reverts with its own
     * error (not `AccessManagerUnauthorizedCancel`), so the refusal says why.
     */
    function _canCancel(address caller, address target, bytes calldata data) internal view override returns (bool) {
        address sender = _msgSender();
        if (caller == sender) return true;
        (bool isGuardian, ) = hasRole(GUARDIAN_ROLE, sender);
        if (isGuardian && isGuardianRoleChange(target, data)) {
            revert ConsentAccessManagerGuardianRoleChange(sender, caller, bytes4(data[0:4]));
        }
        return isGuardian;
    }
}
