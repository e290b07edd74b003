// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @title Purposes
 * @notice The initial purpose catalogue: ids of the purposes an AI network needs. A consent's
 * `purposes` bitmap has bit `1 << id` set for each purpose granted. Governance can add more ids
 * (see `PurposeCatalog`); these never change meaning. Each comment names the closest concept of
 * the W3C Data Privacy Vocabulary (DPV, https://w3id.org/dpv). The TypeScript mirror lives in
 * `src/sdk/purposes.ts` and `test/Purposes.ts` checks that the two agree.
 */
library Purposes {
    /// @dev Training AI models on the data. Closest DPV: dpv:ResearchAndDevelopment.
    uint8 internal constant MODEL_TRAINING = 0;
    /// @dev Adapting an existing model to the data. Closest DPV: dpv:ServiceOptimisation.
    uint8 internal constant FINE_TUNING = 1;
    /// @dev Running a model on the data to produce outputs. Closest DPV: dpv:ServiceProvision.
    uint8 internal constant INFERENCE = 2;
    /// @dev Evaluating / validating models on the data. Closest DPV: dpv:ServiceOptimisation
    /// (quality assessment of the service).
    uint8 internal constant EVALUATION = 3;
    /// @dev Statistical analysis of usage and performance. Closest DPV: dpv:ServiceUsageAnalytics.
    uint8 internal constant ANALYTICS = 4;
    /// @dev Improving the network's products and services. Closest DPV: dpv:ImproveExistingProductsAndServices.
    uint8 internal constant PRODUCT_IMPROVEMENT = 5;
    /// @dev Passing the data to a third-party integration. DPV has no purpose for this; closest are
    /// the processing dpv:Share with a dpv:ThirdParty recipient.
    uint8 internal constant THIRD_PARTY_SHARING = 6;
    /// @dev Scientific or academic research. Closest DPV: dpv:AcademicResearch.
    uint8 internal constant RESEARCH = 7;

    /// @dev Number of purposes in the initial catalogue (ids 0..INITIAL_COUNT-1).
    uint8 internal constant INITIAL_COUNT = 8;
}
