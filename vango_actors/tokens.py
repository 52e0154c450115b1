"""Signed session tokens: what a page hands its live connection so the server can trust HELLO.

A token binds a session id to the route that rendered it (pattern, path params) and to signed
session data (e.g. a user id), so a reconnect can be verified, and a lost session remounted,
without server-side lookups. Tokens are itsdangerous ``URLSafeTimedSerializer`` values: the
first secret key signs, every key verifies (rotate by prepending a new key).
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import attrs
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from itsdangerous.timed import TimestampSigner

from .errors import VangoError

SALT = "vango-actors.live-token"
DAY = 24 * 60 * 60.0


class BadToken(VangoError):
    """A token is forged, expired, malformed or for another session; ``reason`` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@attrs.frozen
class TokenClaims:
    """What a token vouches for: the session, the route that rendered it and signed session data."""

    session_id: str
    route: str  # path pattern, e.g. "/users/<id>"
    params: dict[str, str] = attrs.field(factory=dict)
    data: dict[str, Any] = attrs.field(factory=dict)
    issued_at: float = 0.0  # unix time; set from the signature by verify()


def _signer_class(clock: Callable[[], float]) -> type[TimestampSigner]:
    """A TimestampSigner reading ``clock`` instead of ``time.time`` (tests age tokens)."""

    class ClockSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(clock())

    return ClockSigner


class TokenSigner:
    """Signs and verifies :class:`TokenClaims`; ``secret_keys[0]`` signs, all keys verify."""

    def __init__(
        self,
        secret_keys: Sequence[str],
        max_age: float = DAY,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not secret_keys or not all(secret_keys):
            raise ValueError("TokenSigner needs at least one non-empty secret key")
        self.max_age = max_age
        self._clock = clock
        # itsdangerous signs with the *last* key of the list and verifies with all of them.
        self._serializer = URLSafeTimedSerializer(
            list(reversed(secret_keys)), salt=SALT, signer=_signer_class(clock)
        )

    def sign(self, claims: TokenClaims) -> str:
        """Return a URL-safe token for ``claims`` (``issued_at`` is taken from the clock)."""
        payload = [claims.session_id, claims.route, claims.params, claims.data]
        return self._serializer.dumps(payload)

    def verify(self, token: str, session_id: str) -> TokenClaims:
        """Return the claims of ``token`` if it is genuine, fresh and for ``session_id``."""
        payload, signed_at = self._unsign(token)
        claims = _claims_from(payload, signed_at.timestamp())
        if not hmac.compare_digest(claims.session_id.encode(), session_id.encode()):
            raise BadToken("token was issued for another session")
        return claims

    def _unsign(self, token: str) -> tuple[Any, datetime]:
        try:
            signed: tuple[Any, datetime] = self._serializer.loads(
                token, max_age=int(self.max_age), return_timestamp=True
            )
            return signed
        except SignatureExpired as exc:
            age = self._age(exc)
            raise BadToken(
                f"token expired: signed {age} ago, max age is {self.max_age:g} s"
            ) from None
        except BadSignature:
            raise BadToken("token signature is invalid (forged, damaged or unknown key)") from None

    def _age(self, exc: SignatureExpired) -> str:
        if exc.date_signed is None:
            return "an unknown time"
        return f"{self._clock() - exc.date_signed.timestamp():.0f} s"


def _claims_from(payload: Any, issued_at: float) -> TokenClaims:
    """Rebuild claims from a verified payload; a wrong shape means a foreign signed value."""
    if not (isinstance(payload, list) and len(payload) == 4):
        raise BadToken("token payload is malformed: expected [session, route, params, data]")
    session_id, route, params, data = payload
    if not (isinstance(session_id, str) and isinstance(route, str)):
        raise BadToken("token payload is malformed: session id and route must be strings")
    if not (isinstance(params, dict) and isinstance(data, dict)):
        raise BadToken("token payload is malformed: params and data must be objects")
    return TokenClaims(session_id, route, params, data, issued_at)
