// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IConsentRegistry} from "../../../contracts/interfaces/IConsentRegistry.sol";
import {ConsentRegistryHarness} from "../../../contracts/mocks/ConsentRegistryHarness.sol";
import {vm} from "../utils/Vm.sol";
import {ConsentModel} from "./ConsentModel.sol";
import {HandlerBase} from "./HandlerBase.sol";

/**
 * @title ProcessorHandler
 * @notice Processors and integrations recording uses and shares, with or without consent
 * (senders include strangers; recipients include unregistered and suspended integrations).
 * Every outcome is compared with the model's exact prediction; every accepted record is logged
 * with the model's view at that moment, which the invariants check.
 */
contract ProcessorHandler is HandlerBase {
    constructor(ConsentRegistryHarness registry_, ConsentModel model_) HandlerBase(registry_, model_) {}

    /// @notice `sender` records a use of an owner's data.
    function recordUse(uint256 senderSeed, uint256 ownerSeed, uint256 dataSeed, uint256 purposeSeed) external {
        address sender = _sender(senderSeed);
        address owner = _owner(ownerSeed);
        bytes32 dataId = _dataId(dataSeed);
        uint8 purpose = _purpose(purposeSeed);
        bytes memory expected =
            model.allows(owner, sender, dataId, purpose)
                ? bytes("")
                : abi.encodeWithSelector(
                    IConsentRegistry.ConsentRegistryConsentRequired.selector,
                    owner,
                    sender,
                    dataId,
                    purpose
                );
        bytes32[] memory before = model.readState();
        vm.prank(sender);
        try registry.recordUse(owner, dataId, purpose, keccak256("job")) {
            model.checkOutcome("recordUse", expected, true, "");
            model.logUse(owner, sender, address(0), dataId, purpose);
        } catch (bytes memory err) {
            model.checkOutcome("recordUse", expected, false, err);
        }
        model.recordChanges(before, sender, address(0), ConsentModel.ActionKind.Processor);
    }

    /// @notice `sender` records a share of an owner's data with `to`.
    function recordShare(
        uint256 senderSeed,
        uint256 ownerSeed,
        uint256 toSeed,
        uint256 dataSeed,
        uint256 purposeSeed
    ) external {
        address sender = _sender(senderSeed);
        address owner = _owner(ownerSeed);
        address to = _sender(toSeed);
        bytes32 dataId = _dataId(dataSeed);
        uint8 purpose = _purpose(purposeSeed);
        bytes memory expected = _shareError(owner, sender, to, dataId, purpose);
        bytes32[] memory before = model.readState();
        vm.prank(sender);
        try registry.recordShare(owner, to, dataId, purpose, keccak256("receipt")) {
            model.checkOutcome("recordShare", expected, true, "");
            model.logUse(owner, sender, to, dataId, purpose);
        } catch (bytes memory err) {
            model.checkOutcome("recordShare", expected, false, err);
        }
        model.recordChanges(before, sender, address(0), ConsentModel.ActionKind.Processor);
    }

    /// @dev The registry's order: sender's consent, recipient's consent, recipient's status.
    function _shareError(
        address owner,
        address sender,
        address to,
        bytes32 dataId,
        uint8 purpose
    ) private view returns (bytes memory) {
        if (!model.allows(owner, sender, dataId, purpose)) {
            return
                abi.encodeWithSelector(
                    IConsentRegistry.ConsentRegistryConsentRequired.selector,
                    owner,
                    sender,
                    dataId,
                    purpose
                );
        }
        if (!model.allows(owner, to, dataId, purpose)) {
            return
                abi.encodeWithSelector(
                    IConsentRegistry.ConsentRegistryConsentRequired.selector,
                    owner,
                    to,
                    dataId,
                    purpose
                );
        }
        if (!model.integrationActive(to, purpose)) {
            return abi.encodeWithSelector(IConsentRegistry.ConsentRegistryIntegrationNotActive.selector, to, purpose);
        }
        return "";
    }

    /// @dev A grantee most of the time; 1 in 8 a stranger holding no consent.
    function _sender(uint256 seed) private view returns (address) {
        if (seed % 8 == 7) {
            address[] memory s = model.strangers();
            return s[(seed >> 8) % s.length];
        }
        return _grantee(seed >> 3);
    }
}
