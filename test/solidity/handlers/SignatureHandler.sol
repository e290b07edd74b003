// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {NO_EXPIRY} from "../../../contracts/Common.sol";
import {IConsentRegistry} from "../../../contracts/interfaces/IConsentRegistry.sol";
import {ConsentHashes} from "../../../contracts/libraries/ConsentHashes.sol";
import {ConsentRegistryHarness} from "../../../contracts/mocks/ConsentRegistryHarness.sol";
import {vm} from "../utils/Vm.sol";
import {ConsentModel} from "./ConsentModel.sol";
import {HandlerBase} from "./HandlerBase.sol";

/**
 * @title SignatureHandler
 * @notice The EIP-712 path: owners (derived from private keys with `vm.addr`) sign grant /
 * revoke / revokeAll requests with `vm.sign`, and a random account relays them. Besides fresh
 * valid requests (65-byte and EIP-2098 64-byte signatures, deadlines up to the `now` boundary),
 * it replays accepted requests, relays signatures by the wrong key, for another owner, over a
 * tampered request, in high-s form or for another chain, with an expired deadline, with a nonce
 * the owner just invalidated, and grant batches with one bad item. Every outcome is compared with
 * the model's exact prediction; every accepted request consumes its nonce in the model
 * ({ConsentModel-consumeNonce}) and every change is attributed by {ConsentModel-recordChanges}.
 */
contract SignatureHandler is HandlerBase {
    enum Kind {
        Grant,
        Revoke,
        RevokeAll
    }

    /// @dev One signed request, whatever its kind (unused fields are 0).
    struct Req {
        Kind kind;
        address owner;
        address grantee;
        bytes32 dataId;
        uint128 purposes;
        uint64 expiresAt;
        uint256 nonce;
        uint256 deadline;
    }

    /// @dev One relay attempt: the request, its signature, who relays it, and whose valid
    /// signature over exactly this request it is (address(0) when it is nobody's).
    struct Relay {
        Req req;
        bytes sig;
        address relayer;
        address signedBy;
    }

    /// @dev Raised if the model's owners are not the addresses of the given keys.
    error SignatureHandlerKeyMismatch(uint256 index, address expected, address actual);
    /// @dev Raised if every tracked nonce of `owner` is used (a run far longer than configured).
    error SignatureHandlerNoFreshNonce(address owner);

    /// @dev secp256k1 group order: `N - s` is the high-s twin of a signature.
    uint256 private constant SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
    bytes32 private constant DOMAIN_TYPEHASH = keccak256(
        "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    );
    bytes32 private constant NOTICE = keccak256("signed notice");

    /// @notice Nonce words in play: 0, 1 and the very last one (both ends of the bitmap maths).
    uint256 public constant NONCE_WORDS = 3;

    // Storage, not immutables (see HandlerBase).
    uint256[] private _ownerKeys; // same order as model.owners()
    uint256 private _rogueKey; // a key that is no owner's

    /// @dev Every request the registry accepted, with its signature: material for replays.
    Req[] private _accepted;
    bytes[] private _acceptedSigs;

    constructor(
        ConsentRegistryHarness registry_,
        ConsentModel model_,
        uint256[] memory ownerKeys,
        uint256 rogueKey
    ) HandlerBase(registry_, model_) {
        address[] memory owners = model_.owners();
        for (uint256 i = 0; i < owners.length; ++i) {
            address derived = vm.addr(ownerKeys[i]);
            if (derived != owners[i]) revert SignatureHandlerKeyMismatch(i, owners[i], derived);
        }
        _ownerKeys = ownerKeys;
        _rogueKey = rogueKey;
    }

    // ---------------------------------------------------------------------------------------
    // Actions
    // ---------------------------------------------------------------------------------------

    /// @notice A fresh grant signed by the owner, relayed by anyone.
    function relayGrant(uint256 ownerSeed, uint256 relayerSeed, uint256 keySeed, uint256 timeSeed) external {
        _relayOwnerSigned(_fresh(Kind.Grant, ownerSeed, keySeed, timeSeed), relayerSeed, timeSeed, "grantBySig");
    }

    /// @notice A fresh revoke signed by the owner (mostly of a consent it holds now).
    function relayRevoke(uint256 ownerSeed, uint256 relayerSeed, uint256 keySeed, uint256 timeSeed) external {
        _relayOwnerSigned(_fresh(Kind.Revoke, ownerSeed, keySeed, timeSeed), relayerSeed, timeSeed, "revokeBySig");
    }

    /// @notice A fresh revokeAll signed by the owner.
    function relayRevokeAll(uint256 ownerSeed, uint256 relayerSeed, uint256 timeSeed) external {
        _relayOwnerSigned(_fresh(Kind.RevokeAll, ownerSeed, 0, timeSeed), relayerSeed, timeSeed, "revokeAllBySig");
    }

    /// @notice Relays again, by anyone, a request the registry already accepted: NonceUsed (or
    /// SignatureExpired once its deadline has passed, which the registry checks first).
    function replay(uint256 pickSeed, uint256 relayerSeed) external {
        uint256 n = _accepted.length;
        if (n == 0) return; // nothing accepted yet in this run
        uint256 i = pickSeed % n;
        Relay memory r = Relay(_accepted[i], _acceptedSigs[i], _anyone(relayerSeed), _accepted[i].owner);
        _relay(r, true, "replay");
    }

    /**
     * @notice A signature that is not the owner's over exactly this request: by a key that is no
     * owner's, by another owner's key (a request "for another owner"), over a request changed
     * after signing, the high-s twin of the owner's signature, or for another chain's domain.
     * All must fail with InvalidSignature(owner).
     */
    function wrongSigner(
        uint256 ownerSeed,
        uint256 relayerSeed,
        uint256 keySeed,
        uint256 timeSeed,
        uint256 modeSeed
    ) external {
        Req memory req = _fresh(Kind((modeSeed & 0xff) % 3), ownerSeed, keySeed, timeSeed);
        uint256 mode = ((modeSeed >> 8) & 0xff) % 5;
        uint256 ownerKey = _keyOf(req.owner);
        Relay memory r = Relay(req, "", _anyone(relayerSeed), address(0));
        if (mode == 0) {
            r.sig = _sign(_rogueKey, _digest(req, registry.DOMAIN_SEPARATOR()), timeSeed);
            r.signedBy = vm.addr(_rogueKey);
        } else if (mode == 1) {
            uint256 n = _ownerKeys.length;
            uint256 otherKey = n < 2 ? _rogueKey : _ownerKeys[((ownerSeed % n) + 1 + ((modeSeed >> 16) % (n - 1))) % n];
            r.sig = _sign(otherKey, _digest(req, registry.DOMAIN_SEPARATOR()), timeSeed);
            r.signedBy = vm.addr(otherKey);
        } else if (mode == 2) {
            r.sig = _sign(ownerKey, _digest(req, registry.DOMAIN_SEPARATOR()), timeSeed);
            // Still a valid deadline, but no longer the signed message.
            r.req.deadline = req.deadline == type(uint256).max ? req.deadline - 1 : req.deadline + 1;
        } else if (mode == 3) {
            r.sig = _highS(ownerKey, _digest(req, registry.DOMAIN_SEPARATOR()));
        } else {
            r.sig = _sign(ownerKey, _digest(req, domainFor(block.chainid + 1)), timeSeed);
        }
        _relay(r, false, "wrongSigner");
    }

    /// @notice The owner's valid signature, relayed after its deadline: SignatureExpired.
    function expired(
        uint256 ownerSeed,
        uint256 relayerSeed,
        uint256 keySeed,
        uint256 timeSeed,
        uint256 kindSeed
    ) external {
        Req memory req = _fresh(Kind((kindSeed & 0xff) % 3), ownerSeed, keySeed, timeSeed);
        req.deadline = model.clock() - 1 - ((kindSeed >> 8) % 7 days);
        _relayOwnerSigned(req, relayerSeed, timeSeed, "expiredSig");
    }

    /**
     * @notice Someone (half the time the owner itself) calls invalidateNonces on a word with the
     * bit of the owner's next nonce (plus random bits), then the owner's request with that nonce is
     * relayed: NonceUsed if the owner invalidated it, accepted if someone else did (their own
     * nonces only).
     */
    function invalidateThenUse(
        uint256 ownerSeed,
        uint256 callerSeed,
        uint256 keySeed,
        uint256 timeSeed,
        uint256 maskSeed
    ) external {
        Req memory req = _fresh(Kind((maskSeed & 0xff) % 3), ownerSeed, keySeed, timeSeed);
        address caller = callerSeed % 2 == 0 ? req.owner : _anyone(callerSeed >> 1);
        uint256 wordPos = req.nonce >> 8;
        uint256 mask = uint256(1) << (req.nonce & 0xff);
        if ((maskSeed >> 8) % 2 == 1) mask |= uint256(uint64(maskSeed >> 16));

        bytes32[] memory before = model.readState();
        vm.prank(caller);
        try registry.invalidateNonces(wordPos, mask) {
            model.checkOutcome("invalidateNonces", "", true, "");
            model.applyInvalidateNonces(caller, wordPos, mask);
        } catch (bytes memory err) {
            model.checkOutcome("invalidateNonces", "", false, err);
        }
        // Invalidating nonces must not touch anyone's consents.
        model.recordChanges(before, caller, address(0), ConsentModel.ActionKind.Owner);

        _relayOwnerSigned(req, callerSeed >> 128, timeSeed, "useInvalidatedNonce");
    }

    /**
     * @notice A grantBySigBatch of 2..4 owner-signed grants with one bad item (by the rogue key,
     * expired, repeating an earlier item's nonce, or a zero grantee), or none: the registry must
     * revert with BatchItemFailed(first bad index, its error), or accept every item.
     */
    function batchWithBadItem(
        uint256 ownerSeed,
        uint256 relayerSeed,
        uint256 keySeed,
        uint256 timeSeed,
        uint256 shapeSeed
    ) external {
        uint256 n = 2 + ((shapeSeed & 0xff) % 3);
        Relay[] memory items = _batchItems(ownerSeed, keySeed, timeSeed, n);
        _spoil(items, ((shapeSeed >> 8) & 0xff) % n, ((shapeSeed >> 16) & 0xff) % 5, timeSeed);

        bytes memory expected = _batchError(items);
        IConsentRegistry.SignedGrant[] memory grants = new IConsentRegistry.SignedGrant[](n);
        for (uint256 i = 0; i < n; ++i) grants[i] = _signedGrant(items[i].req, items[i].sig);

        address relayer = _anyone(relayerSeed);
        bytes32[] memory before = model.readState();
        bool ok;
        bytes memory err;
        vm.prank(relayer);
        try registry.grantBySigBatch(grants) {
            ok = true;
        } catch (bytes memory e) {
            err = e;
        }
        if (model.checkOutcome("grantBySigBatch", expected, ok, err)) {
            for (uint256 i = 0; i < n; ++i) _accept(items[i]);
        }
        model.recordChanges(before, relayer, items[0].signedBy, ConsentModel.ActionKind.Signature);
    }

    // ---------------------------------------------------------------------------------------
    // Views (for the invariant test)
    // ---------------------------------------------------------------------------------------

    /// @notice The `i`-th nonce word in play.
    function nonceWord(uint256 i) public pure returns (uint256) {
        if (i == 0) return 0;
        if (i == 1) return 1;
        return type(uint248).max; // the last word: nonces up to 2^256 - 1
    }

    /// @notice The registry's EIP-712 domain separator as it would be on chain `chainId`.
    function domainFor(uint256 chainId) public view returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    DOMAIN_TYPEHASH,
                    keccak256("OmniTensor Consent Registry"),
                    keccak256("1"),
                    chainId,
                    address(registry)
                )
            );
    }

    /// @notice How many requests the registry accepted through this handler.
    function acceptedCount() external view returns (uint256) {
        return _accepted.length;
    }

    /// @notice The address of the key that is no owner's.
    function rogue() external view returns (address) {
        return vm.addr(_rogueKey);
    }

    // ---------------------------------------------------------------------------------------
    // Building requests
    // ---------------------------------------------------------------------------------------

    /// @dev A request of `kind` for an owner, with a fresh nonce and a deadline not yet passed.
    function _fresh(
        Kind kind,
        uint256 ownerSeed,
        uint256 keySeed,
        uint256 timeSeed
    ) private view returns (Req memory r) {
        r.kind = kind;
        r.owner = _owner(ownerSeed);
        r.nonce = _freshNonce(r.owner, keySeed >> 128, new uint256[](0), 0);
        r.deadline = _deadline(timeSeed >> 64);
        if (kind == Kind.Grant) {
            r.grantee = _grantee(keySeed & 0xff);
            r.dataId = _dataId((keySeed >> 8) & 0xff);
            uint128 purposes = uint128((keySeed >> 16) & 0xffff) & uint128((1 << model.TRACKED_PURPOSES()) - 1);
            // Mostly grantable purposes; 1 in 4 anything tracked (PurposeNotGrantable / Empty).
            if ((keySeed >> 32) % 4 != 0) purposes &= model.grantable();
            r.purposes = purposes;
            r.expiresAt = _expiry(timeSeed);
        } else if (kind == Kind.Revoke) {
            (r.grantee, r.dataId) = _revokeTarget(r.owner, keySeed);
        }
    }

    /// @dev 3 in 4: a key the owner holds a live-epoch consent for (if any); else any key.
    function _revokeTarget(address owner, uint256 seed) private view returns (address, bytes32) {
        address[] memory g = model.grantees();
        bytes32[] memory d = model.dataIds();
        uint256 total = g.length * d.length;
        if (seed % 4 != 0) {
            uint64 epoch = model.epochOf(owner);
            for (uint256 k = 0; k < total; ++k) {
                uint256 j = ((seed % total) + k) % total;
                ConsentModel.ModelConsent memory c = model.consentOf(owner, g[j / d.length], d[j % d.length]);
                if (c.stored && c.epoch == epoch) return (g[j / d.length], d[j % d.length]);
            }
        }
        return (_grantee(seed >> 8), _dataId(seed >> 16));
    }

    /// @dev An unused nonce of `owner` (model view) in the words in play, not in `taken[:nTaken]`.
    function _freshNonce(
        address owner,
        uint256 seed,
        uint256[] memory taken,
        uint256 nTaken
    ) private view returns (uint256) {
        for (uint256 w = 0; w < NONCE_WORDS; ++w) {
            uint256 wordPos = nonceWord(((seed % NONCE_WORDS) + w) % NONCE_WORDS);
            uint256 used = model.consumedBitmap(owner, wordPos) | model.invalidatedBitmap(owner, wordPos);
            for (uint256 b = 0; b < 256; ++b) {
                uint256 bit = ((seed >> 8) + b) & 0xff;
                uint256 nonce = (wordPos << 8) | bit;
                if ((used >> bit) & 1 == 0 && !_contains(taken, nTaken, nonce)) return nonce;
            }
        }
        revert SignatureHandlerNoFreshNonce(owner);
    }

    /// @dev Deadlines not yet passed: exactly now (still valid), just after, within 30 days, never.
    function _deadline(uint256 seed) private view returns (uint256) {
        uint64 nowTs = model.clock();
        uint256 kind = seed % 4;
        if (kind == 0) return nowTs;
        if (kind == 1) return nowTs + 1;
        if (kind == 2) return nowTs + 1 + ((seed >> 8) % 30 days);
        return type(uint256).max;
    }

    /// @dev Consent expiries: none, soon, later; 1 in 8 already past (ExpiryInPast, nonce kept).
    function _expiry(uint256 seed) private view returns (uint64) {
        uint64 nowTs = model.clock();
        uint256 kind = seed % 8;
        if (kind < 3) return NO_EXPIRY;
        if (kind == 3) return nowTs;
        if (kind == 4) return nowTs + 1;
        return nowTs + 1 + uint64((seed >> 8) % 30 days);
    }

    function _batchItems(
        uint256 ownerSeed,
        uint256 keySeed,
        uint256 timeSeed,
        uint256 n
    ) private view returns (Relay[] memory items) {
        items = new Relay[](n);
        uint256[] memory nonces = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) {
            uint256 itemSeed = uint256(keccak256(abi.encode(keySeed, i)));
            Req memory r = _fresh(Kind.Grant, ownerSeed, itemSeed, timeSeed);
            r.nonce = _freshNonce(r.owner, keySeed >> 128, nonces, i);
            nonces[i] = r.nonce;
            items[i] = Relay(
                r,
                _sign(_keyOf(r.owner), _digest(r, registry.DOMAIN_SEPARATOR()), itemSeed),
                address(0),
                r.owner
            );
        }
    }

    /// @dev Makes item `bad` bad in way `how` (4: leaves the batch valid) and re-signs it.
    function _spoil(Relay[] memory items, uint256 bad, uint256 how, uint256 seed) private view {
        Req memory r = items[bad].req;
        uint256 key = _keyOf(r.owner);
        if (how == 2 && bad == 0) how = 0; // no earlier item to repeat the nonce of
        if (how == 0) {
            key = _rogueKey;
            items[bad].signedBy = vm.addr(_rogueKey);
        } else if (how == 1) {
            r.deadline = model.clock() - 1 - (seed % 1 days);
        } else if (how == 2) {
            r.nonce = items[bad - 1].req.nonce;
        } else if (how == 3) {
            r.grantee = address(0);
        } else {
            return;
        }
        items[bad].sig = _sign(key, _digest(r, registry.DOMAIN_SEPARATOR()), seed);
    }

    // ---------------------------------------------------------------------------------------
    // Signing
    // ---------------------------------------------------------------------------------------

    function _keyOf(address owner) private view returns (uint256) {
        address[] memory all = model.owners();
        for (uint256 i = 0; i < all.length; ++i) if (all[i] == owner) return _ownerKeys[i];
        return _rogueKey; // not reached: requests are only built for model owners
    }

    function _structHash(Req memory r) private pure returns (bytes32) {
        if (r.kind == Kind.Grant) {
            return
                keccak256(
                    abi.encode(
                        ConsentHashes.GRANT_TYPEHASH,
                        r.owner,
                        r.grantee,
                        r.dataId,
                        r.purposes,
                        r.expiresAt,
                        NOTICE,
                        r.nonce,
                        r.deadline
                    )
                );
        }
        if (r.kind == Kind.Revoke) {
            return
                keccak256(abi.encode(ConsentHashes.REVOKE_TYPEHASH, r.owner, r.grantee, r.dataId, r.nonce, r.deadline));
        }
        return keccak256(abi.encode(ConsentHashes.REVOKE_ALL_TYPEHASH, r.owner, r.nonce, r.deadline));
    }

    function _digest(Req memory r, bytes32 domain) private pure returns (bytes32) {
        return keccak256(abi.encodePacked("\x19\x01", domain, _structHash(r)));
    }

    /// @dev `key`'s signature of `digest`: 65-byte (r, s, v), or 1 in 2 the 64-byte EIP-2098 form.
    function _sign(uint256 key, bytes32 digest, uint256 seed) private pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        if ((seed >> 200) % 2 == 0) return abi.encodePacked(r, s, v);
        return abi.encodePacked(r, bytes32(uint256(s) | (uint256(v - 27) << 255)));
    }

    /// @dev The malleable twin (r, N - s, flipped v) of `key`'s signature: mathematically valid,
    /// but a registry that accepted it would accept two signatures for one authorisation.
    function _highS(uint256 key, bytes32 digest) private pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, bytes32(SECP256K1_N - uint256(s)), v == 27 ? uint8(28) : uint8(27));
    }

    // ---------------------------------------------------------------------------------------
    // Relaying, predicting, accepting
    // ---------------------------------------------------------------------------------------

    /// @dev Signs `req` with its owner's key and relays it from `_anyone(relayerSeed)`.
    function _relayOwnerSigned(Req memory req, uint256 relayerSeed, uint256 sigSeed, string memory action) private {
        bytes memory sig = _sign(_keyOf(req.owner), _digest(req, registry.DOMAIN_SEPARATOR()), sigSeed);
        _relay(Relay(req, sig, _anyone(relayerSeed), req.owner), true, action);
    }

    /// @dev Predicts, relays, compares, and on acceptance updates the model; then attributes changes.
    function _relay(Relay memory r, bool validSig, string memory action) private {
        bytes memory expected = _sigError(r.req, validSig, new uint256[](0), 0);
        if (expected.length == 0) expected = _effectError(r.req);
        bytes32[] memory before = model.readState();
        (bool ok, bytes memory err) = _send(r);
        if (model.checkOutcome(action, expected, ok, err)) _accept(r);
        model.recordChanges(before, r.relayer, r.signedBy, ConsentModel.ActionKind.Signature);
    }

    function _send(Relay memory r) private returns (bool ok, bytes memory err) {
        Req memory q = r.req;
        vm.prank(r.relayer);
        if (q.kind == Kind.Grant) {
            try registry.grantBySig(_signedGrant(q, r.sig)) {
                ok = true;
            } catch (bytes memory e) {
                err = e;
            }
        } else if (q.kind == Kind.Revoke) {
            try
                registry.revokeBySig(
                    IConsentRegistry.SignedRevoke(q.owner, q.grantee, q.dataId, q.nonce, q.deadline, r.sig)
                )
            {
                ok = true;
            } catch (bytes memory e) {
                err = e;
            }
        } else {
            try registry.revokeAllBySig(IConsentRegistry.SignedRevokeAll(q.owner, q.nonce, q.deadline, r.sig)) {
                ok = true;
            } catch (bytes memory e) {
                err = e;
            }
        }
    }

    function _signedGrant(Req memory q, bytes memory sig) private pure returns (IConsentRegistry.SignedGrant memory) {
        return
            IConsentRegistry.SignedGrant(
                q.owner,
                q.grantee,
                q.dataId,
                q.purposes,
                q.expiresAt,
                NOTICE,
                q.nonce,
                q.deadline,
                sig
            );
    }

    /// @dev The registry's signature checks in its order: deadline, nonce (the model's used
    /// nonces plus `batchUsed[:nUsed]`, consumed earlier in the same batch), signer.
    function _sigError(
        Req memory r,
        bool validSig,
        uint256[] memory batchUsed,
        uint256 nUsed
    ) private view returns (bytes memory) {
        uint64 nowTs = model.clock();
        if (nowTs > r.deadline) {
            return abi.encodeWithSelector(IConsentRegistry.ConsentRegistrySignatureExpired.selector, r.deadline, nowTs);
        }
        if (model.nonceUsed(r.owner, r.nonce) || _contains(batchUsed, nUsed, r.nonce)) {
            return abi.encodeWithSelector(IConsentRegistry.ConsentRegistryNonceUsed.selector, r.owner, r.nonce);
        }
        if (!validSig)
            return abi.encodeWithSelector(IConsentRegistry.ConsentRegistryInvalidSignature.selector, r.owner);
        return "";
    }

    /// @dev What the request itself must fail with once its signature passed, or "".
    function _effectError(Req memory r) private view returns (bytes memory) {
        if (r.kind == Kind.Grant) return _predictGrantError(r.grantee, r.dataId, r.purposes, r.expiresAt);
        if (r.kind == Kind.Revoke) {
            ConsentModel.ModelConsent memory c = model.consentOf(r.owner, r.grantee, r.dataId);
            if (!c.stored || c.epoch != model.epochOf(r.owner)) {
                return
                    abi.encodeWithSelector(
                        IConsentRegistry.ConsentRegistryNotGranted.selector,
                        r.owner,
                        r.grantee,
                        r.dataId
                    );
            }
        }
        return "";
    }

    /// @dev BatchItemFailed(first bad index, its error), simulating the nonces consumed by the
    /// items before it; "" if every item must pass.
    function _batchError(Relay[] memory items) private view returns (bytes memory) {
        uint256 n = items.length;
        uint256[] memory used = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) {
            Req memory r = items[i].req;
            bytes memory err = _sigError(r, items[i].signedBy == r.owner, used, i);
            if (err.length == 0) err = _effectError(r);
            if (err.length != 0) {
                return abi.encodeWithSelector(IConsentRegistry.ConsentRegistryBatchItemFailed.selector, i, err);
            }
            used[i] = r.nonce;
        }
        return "";
    }

    /// @dev The registry accepted `r`: its nonce is consumed, then its effect applied to the model.
    function _accept(Relay memory r) private {
        Req memory q = r.req;
        if (q.kind == Kind.Grant) {
            model.consumeNonce(q.owner, q.nonce, r.signedBy, q.grantee, q.dataId);
            model.applyGrant(q.owner, q.grantee, q.dataId, q.purposes, q.expiresAt);
        } else if (q.kind == Kind.Revoke) {
            model.consumeNonce(q.owner, q.nonce, r.signedBy, q.grantee, q.dataId);
            model.applyRevoke(q.owner, q.grantee, q.dataId);
        } else {
            model.consumeNonce(q.owner, q.nonce, r.signedBy, address(0), bytes32(0));
            model.applyRevokeAll(q.owner);
        }
        _accepted.push(q);
        _acceptedSigs.push(r.sig);
    }

    function _contains(uint256[] memory a, uint256 n, uint256 x) private pure returns (bool) {
        for (uint256 i = 0; i < n; ++i) if (a[i] == x) return true;
        return false;
    }
}
