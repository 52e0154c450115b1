"""Signed live tokens: genuine ones verify; forged, expired and foreign ones fail with a reason."""

from __future__ import annotations

import pytest

from vango_actors.tokens import BadToken, TokenClaims, TokenSigner

CLAIMS = TokenClaims("s" * 22, "/users/<id>", {"id": "7"}, {"user": 42})


class Clock:
    """A settable wall clock, so token ages are exact."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_signed_token_verifies_into_the_same_claims_with_its_issue_time() -> None:
    clock = Clock()
    signer = TokenSigner(["k1"], clock=clock)
    claims = signer.verify(signer.sign(CLAIMS), CLAIMS.session_id)
    assert claims == TokenClaims(
        CLAIMS.session_id, "/users/<id>", {"id": "7"}, {"user": 42}, clock.now
    )


def test_a_token_for_another_session_is_refused() -> None:
    signer = TokenSigner(["k1"])
    with pytest.raises(BadToken) as info:
        signer.verify(signer.sign(CLAIMS), "t" * 22)
    assert info.value.reason == "token was issued for another session"


def test_a_token_signed_with_an_unknown_key_is_refused_as_invalid() -> None:
    token = TokenSigner(["attacker"]).sign(CLAIMS)
    with pytest.raises(BadToken) as info:
        TokenSigner(["k1"]).verify(token, CLAIMS.session_id)
    assert info.value.reason == "token signature is invalid (forged, damaged or unknown key)"


def test_a_tampered_payload_is_refused_as_invalid() -> None:
    signer = TokenSigner(["k1"])
    token = signer.sign(CLAIMS)
    tampered = ("A" if token[0] != "A" else "B") + token[1:]
    with pytest.raises(BadToken, match="signature is invalid"):
        signer.verify(tampered, CLAIMS.session_id)


def test_a_token_older_than_max_age_is_expired_and_says_how_old() -> None:
    clock = Clock()
    signer = TokenSigner(["k1"], max_age=60, clock=clock)
    token = signer.sign(CLAIMS)
    clock.now += 60
    assert signer.verify(token, CLAIMS.session_id).session_id == CLAIMS.session_id
    clock.now += 1
    with pytest.raises(BadToken) as info:
        signer.verify(token, CLAIMS.session_id)
    assert info.value.reason == "token expired: signed 61 s ago, max age is 60 s"


def test_key_rotation_old_tokens_verify_and_new_tokens_use_the_first_key() -> None:
    old = TokenSigner(["k-old"])
    rotated = TokenSigner(["k-new", "k-old"])
    assert rotated.verify(old.sign(CLAIMS), CLAIMS.session_id).route == "/users/<id>"
    new_token = rotated.sign(CLAIMS)
    assert TokenSigner(["k-new"]).verify(new_token, CLAIMS.session_id).route == "/users/<id>"
    with pytest.raises(BadToken, match="signature is invalid"):
        old.verify(new_token, CLAIMS.session_id)


def test_a_signer_needs_a_key() -> None:
    with pytest.raises(ValueError, match="at least one non-empty secret key"):
        TokenSigner([])
    with pytest.raises(ValueError, match="at least one non-empty secret key"):
        TokenSigner([""])
