// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IIntegrationRegistry} from "../../../contracts/interfaces/IIntegrationRegistry.sol";
import {IPurposeCatalog} from "../../../contracts/interfaces/IPurposeCatalog.sol";
import {ConsentRegistryHarness} from "../../../contracts/mocks/ConsentRegistryHarness.sol";
import {ConsentModel} from "./ConsentModel.sol";
import {HandlerBase} from "./HandlerBase.sol";

/**
 * @title GovernanceHandler
 * @notice Governance: defines and deprecates purposes in the registry's catalogue and
 * registers / updates / suspends / reinstates integrations. It holds ADMIN_ROLE of the
 * AccessManager (no delay), so every call goes through the real `restricted` check. Around
 * every call the model records which registry slots were written; any change to a consent word or epoch is
 * counted in `governanceConsentChanges` (invariant 2). Outcomes are predicted exactly.
 */
contract GovernanceHandler is HandlerBase {
    IIntegrationRegistry private _integrations; // not immutable: see HandlerBase

    constructor(
        ConsentRegistryHarness registry_,
        ConsentModel model_,
        IIntegrationRegistry integrations_
    ) HandlerBase(registry_, model_) {
        _integrations = integrations_;
    }

    /// @notice Defines a purpose: mostly ids 8, 9 and 127 (new), sometimes an existing or >127 id.
    function definePurpose(uint256 seed) external fuzzCall {
        uint8 id = _purpose(seed);
        bytes memory expected;
        if (id > 127) expected = abi.encodeWithSelector(IPurposeCatalog.PurposeCatalogIdOutOfRange.selector, id);
        else if ((model.defined() >> id) & 1 == 1) {
            expected = abi.encodeWithSelector(IPurposeCatalog.PurposeCatalogAlreadyDefined.selector, id);
        }
        model.beginAction();
        try registry.definePurpose(id, keccak256(abi.encode("purpose", id))) {
            if (model.checkOutcome("definePurpose", expected, true, "")) model.applyDefine(id);
        } catch (bytes memory err) {
            model.checkOutcome("definePurpose", expected, false, err);
        }
        _record();
    }

    /// @notice Deprecates a purpose (existing consents must keep allowing it).
    function deprecatePurpose(uint256 seed) external fuzzCall {
        uint8 id = _purpose(seed);
        bytes memory expected;
        if (id > 127) expected = abi.encodeWithSelector(IPurposeCatalog.PurposeCatalogIdOutOfRange.selector, id);
        else if ((model.grantable() >> id) & 1 == 0) {
            expected = abi.encodeWithSelector(IPurposeCatalog.PurposeCatalogNotActive.selector, id);
        }
        model.beginAction();
        try registry.deprecatePurpose(id) {
            if (model.checkOutcome("deprecatePurpose", expected, true, "")) model.applyDeprecate(id);
        } catch (bytes memory err) {
            model.checkOutcome("deprecatePurpose", expected, false, err);
        }
        _record();
    }

    /// @notice Registers a grantee as an integration (fails if already registered).
    function registerIntegration(uint256 whoSeed, uint128 purposes) external fuzzCall {
        address who = _grantee(whoSeed);
        purposes = _purposes(purposes);
        IIntegrationRegistry.Integration memory cur = model.integrationOf(who);
        bytes memory expected;
        if (purposes == 0)
            expected = abi.encodeWithSelector(IIntegrationRegistry.IntegrationRegistryEmptyPurposes.selector);
        else if (cur.status != IIntegrationRegistry.Status.None) {
            expected = abi.encodeWithSelector(IIntegrationRegistry.IntegrationRegistryAlreadyRegistered.selector, who);
        }
        model.beginAction();
        try _integrations.registerIntegration(who, keccak256("integration"), purposes) {
            if (model.checkOutcome("registerIntegration", expected, true, "")) {
                model.applyIntegration(who, IIntegrationRegistry.Status.Active, purposes);
            }
        } catch (bytes memory err) {
            model.checkOutcome("registerIntegration", expected, false, err);
        }
        _record();
    }

    /// @notice Changes the purposes an integration may receive.
    function updateIntegration(uint256 whoSeed, uint128 purposes) external fuzzCall {
        address who = _grantee(whoSeed);
        purposes = _purposes(purposes);
        IIntegrationRegistry.Integration memory cur = model.integrationOf(who);
        bytes memory expected;
        if (purposes == 0)
            expected = abi.encodeWithSelector(IIntegrationRegistry.IntegrationRegistryEmptyPurposes.selector);
        else if (cur.status == IIntegrationRegistry.Status.None) {
            expected = abi.encodeWithSelector(IIntegrationRegistry.IntegrationRegistryNotRegistered.selector, who);
        }
        model.beginAction();
        try _integrations.updateIntegration(who, keccak256("integration v2"), purposes) {
            if (model.checkOutcome("updateIntegration", expected, true, "")) {
                model.applyIntegration(who, cur.status, purposes);
            }
        } catch (bytes memory err) {
            model.checkOutcome("updateIntegration", expected, false, err);
        }
        _record();
    }

    /// @notice Suspends (`suspend`) or reinstates an integration.
    function setIntegrationStatus(uint256 whoSeed, bool suspend) external fuzzCall {
        address who = _grantee(whoSeed);
        IIntegrationRegistry.Integration memory cur = model.integrationOf(who);
        IIntegrationRegistry.Status from =
            suspend ? IIntegrationRegistry.Status.Active : IIntegrationRegistry.Status.Suspended;
        IIntegrationRegistry.Status to =
            suspend ? IIntegrationRegistry.Status.Suspended : IIntegrationRegistry.Status.Active;
        bytes memory expected =
            cur.status == from
                ? bytes("")
                : abi.encodeWithSelector(IIntegrationRegistry.IntegrationRegistryWrongStatus.selector, who, cur.status);
        string memory action = suspend ? "suspendIntegration" : "reinstateIntegration";
        model.beginAction();
        bool ok;
        bytes memory err;
        if (suspend) {
            try _integrations.suspendIntegration(who) {
                ok = true;
            } catch (bytes memory e) {
                err = e;
            }
        } else {
            try _integrations.reinstateIntegration(who) {
                ok = true;
            } catch (bytes memory e) {
                err = e;
            }
        }
        if (model.checkOutcome(action, expected, ok, err)) model.applyIntegration(who, to, cur.purposes);
        _record();
    }

    function _record() private {
        model.recordChanges(address(this), ConsentModel.ActionKind.Governance);
    }
}
