"""Supervision: restart budgets for component instances and crash containment rules.

A component that raises (in mount, render, update, a handler, a timer callback or background
work) is restarted: best-effort unmount, fresh instance, mount with the same props, fresh
render that REPLACEs its old root. Siblings and parents keep their state. More than
``max_restarts`` crashes within ``within`` seconds escalates: the session ends and the client
is told to reload. ``trio.Cancelled`` and ``KeyboardInterrupt`` are never swallowed; any other
BaseException escaping user code (``SystemExit`` from ``sys.exit()``, ``GeneratorExit``, a
custom subclass) is contained like an error, so no component can end the process.
"""

from __future__ import annotations

import logging
import traceback
from collections import deque

import attrs
import trio

from .errors import VangoError

logger = logging.getLogger("vango_actors")


@attrs.frozen(slots=True)
class RestartPolicy:
    """At most ``max_restarts`` restarts of one component within ``within`` seconds."""

    max_restarts: int = attrs.field(default=3, validator=attrs.validators.ge(0))
    within: float = attrs.field(default=5.0, validator=attrs.validators.gt(0))


class Escalation(VangoError):
    """A component spent its restart budget; the session must end."""

    def __init__(self, path: str, policy: RestartPolicy, cause: BaseException) -> None:
        super().__init__(
            f"{path} crashed {policy.max_restarts + 1} times within {policy.within} s "
            f"(restart budget {policy.max_restarts}); last error: {describe(cause)}"
        )
        self.path = path
        self.policy = policy
        #: Spent by ``connected`` hooks as the page connected: a reload would fail the same way.
        self.at_connect = False


class MountError(VangoError):
    """The root component of a new session failed to mount or render."""

    def __init__(self, path: str, cause: BaseException) -> None:
        super().__init__(f"cannot create session: {path} failed to mount: {describe(cause)}")
        self.path = path


class RestartTracker:
    """Crash times of one component position inside the policy window."""

    __slots__ = ("policy", "times")

    def __init__(self, policy: RestartPolicy) -> None:
        self.policy = policy
        self.times: deque[float] = deque()

    def allow_restart(self, now: float) -> bool:
        """Record a crash at ``now``; False when this crash exceeds the budget."""
        horizon = now - self.policy.within
        while self.times and self.times[0] <= horizon:
            self.times.popleft()
        if len(self.times) >= self.policy.max_restarts:
            return False
        self.times.append(now)
        return True


class EscapedBaseException(Exception):
    """A BaseException other than cancellation escaped user code; ``original`` is it."""

    def __init__(self, original: BaseException) -> None:
        super().__init__(describe(original))
        self.original = original


def _propagates(exc: BaseException) -> bool:
    return isinstance(exc, (trio.Cancelled, KeyboardInterrupt))


def handleable(exc: BaseException) -> Exception:
    """Return the part of ``exc`` a supervisor may handle; re-raise everything else.

    Exceptions are handled, and so is any other BaseException (wrapped in
    :class:`EscapedBaseException`): only ``trio.Cancelled`` and ``KeyboardInterrupt`` are
    re-raised. From a mixed group the other leaves are logged, so cancellation always wins.
    """
    if isinstance(exc, Exception):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        rest, errors = exc.split(_propagates)
        if rest is None:
            assert errors is not None
            return EscapedBaseException(errors)
        if errors is not None:
            logger.error("error during cancellation: %s", describe(errors), exc_info=errors)
        raise rest
    if _propagates(exc):
        raise exc
    return EscapedBaseException(exc).with_traceback(exc.__traceback__)


def describe(exc: BaseException, *, text: bool = True) -> str:
    """``ValueError: boom`` — the type and the text (``text=False``: the type only), for
    logs and ERROR frames.

    An exception group is described by its leaves (a nursery wraps even a single error).
    """
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(describe(leaf, text=text) for leaf in exc.exceptions)
    if isinstance(exc, EscapedBaseException):
        return describe(exc.original, text=text)
    said = str(exc) if text else ""
    return f"{type(exc).__name__}: {said}" if said else type(exc).__name__


def crash_message(path: str, where: str, exc: BaseException, *, dev: bool) -> str:
    """The ERROR frame text. Outside dev mode it names the exception's type only: its text
    may hold what the page must not show (a query's values, a path, a secret); the log has
    it. Dev mode gives the text and the traceback."""
    message = f"{path} crashed in {where} and was restarted: {describe(exc, text=dev)}"
    if dev:
        message += "\n" + "".join(traceback.format_exception(exc))
    return message
