"""File-based routes, page declarations and the middleware chain (sans-IO: no trio, no quart).

Rules, in one place:

- A routes package maps files to paths: ``counter.py`` -> ``/counter``, ``index.py`` -> ``/``
  (``docs/index.py`` -> ``/docs``), ``users/[id].py`` -> ``/users/<id>``. Files and folders
  whose name starts with ``_`` or ``.`` are helpers, never routes.
- A parameter is a string unless typed: ``[id:int].py`` or a module-level
  ``params = {"id": int}``. A value that does not convert means "no match" (a 404). ``int``
  and ``float`` take only a URL's plain spelling of a number (see :func:`url_int`), so one
  page has one URL: ``/users/7``, never ``/users/007``, ``/users/+7`` or ``/users/1_0``.
- Static segments win over parameters, typed parameters over string ones, so
  ``users/new.py`` beats ``users/[id:int].py`` beats ``users/[name].py``.
- Each route module declares exactly one page: a :class:`Component` subclass decorated with
  :func:`live_page` (server-driven) or a function returning a VNode decorated with :func:`page`.
- Middleware objects have ``before(request) -> response | None`` (a response short-circuits)
  and ``after(request, response) -> response | None`` (None keeps the response). ``after`` runs
  in reverse order, for every middleware whose ``before`` let the request through.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, Generic, Literal, Protocol, TypeVar

import attrs

from .errors import VangoError

PAGE_ATTR = "__vango_page__"

_FLOAT = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?")


def url_int(text: str) -> int:
    """An int path segment in its one spelling: ASCII digits, no leading zero, sign, space or
    underscore (all of which ``int()`` takes, as it takes other scripts' digits)."""
    value = int(text) if text.isascii() else None
    if value is None or str(value) != text:
        raise ValueError(f"not a plain integer: {text!r}")
    return value


def url_float(text: str) -> float:
    """A float path segment: ``-?digits[.digits]`` (no exponent, ``nan``, ``inf`` or spaces)."""
    if not _FLOAT.fullmatch(text):
        raise ValueError(f"not a plain decimal number: {text!r}")
    return float(text)


#: Converters usable in file names (``[id:int].py``); ``params = {...}`` takes any callable
#: (the builtins ``int`` and ``float`` mean the strict ones).
CONVERTERS: dict[str, Callable[[str], Any]] = {"str": str, "int": url_int, "float": url_float}
_STRICT: dict[Any, Callable[[str], Any]] = {int: url_int, float: url_float}

T = TypeVar("T")


class RouteError(VangoError):
    """A routes package cannot be turned into a route table (the message names the file)."""


# ------------------------------------------------------------------------ page declarations


@attrs.frozen
class PageSpec:
    """What a route module declares: a live (server-driven) or static page and its title."""

    kind: Literal["live", "static"]
    title: str = ""

    def title_for(self, params: Mapping[str, Any]) -> str:
        """The title with ``{param}`` placeholders filled in (left as written if unknown)."""
        try:
            return self.title.format_map(params)
        except (KeyError, IndexError, ValueError):
            return self.title


def _check_title(decorator: str, title: object) -> None:
    """``@page`` / ``@live_page`` without parentheses would get the page itself as title and
    replace it with the inner decorator: the module would then declare no page at all."""
    if not isinstance(title, str):
        raise TypeError(
            f"@{decorator} takes a title, not {title!r}: write @{decorator}() or "
            f'@{decorator}(title="...") (with parentheses)'
        )


def live_page(title: str = "") -> Callable[[type[T]], type[T]]:
    """Mark a Component subclass as a server-driven page; path params arrive as props."""
    _check_title("live_page", title)

    def mark(cls: type[T]) -> type[T]:
        if not isinstance(cls, type):
            raise TypeError(f"@live_page decorates a Component subclass, got {cls!r}")
        setattr(cls, PAGE_ATTR, PageSpec("live", title))
        return cls

    return mark


def page(title: str = "") -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Mark a function ``(**params) -> VNode`` as a static page (no client, no session)."""
    _check_title("page", title)

    def mark(fn: Callable[..., T]) -> Callable[..., T]:
        if isinstance(fn, type) or not callable(fn):
            raise TypeError(f"@page decorates a function returning a VNode, got {fn!r}")
        setattr(fn, PAGE_ATTR, PageSpec("static", title))
        return fn

    return mark


# ----------------------------------------------------------------------------------- routes


@attrs.frozen
class Segment:
    """One path segment: static text, or a named parameter with its converter."""

    text: str  # static text, or the parameter name
    convert: Callable[[str], Any] | None = None  # None: static segment
    typed: bool = False  # converter other than str (ranks before untyped params)

    @property
    def rank(self) -> int:
        """Matching precedence: static (0) before typed params (1) before string params (2)."""
        if self.convert is None:
            return 0
        return 1 if self.typed else 2


@attrs.frozen
class Route:
    """A page at a path pattern such as ``/users/<id>``."""

    pattern: str
    segments: tuple[Segment, ...]
    target: Any  # the live Component subclass or the static page function
    spec: PageSpec
    source: str  # file the route came from, for error messages

    @property
    def is_live(self) -> bool:
        return self.spec.kind == "live"

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(s.text for s in self.segments if s.convert is not None)

    def match_parts(self, parts: Sequence[str]) -> dict[str, Any] | None:
        """Converted params if ``parts`` fit this route, else None."""
        if len(parts) != len(self.segments):
            return None
        params: dict[str, Any] = {}
        for part, segment in zip(parts, self.segments, strict=True):
            if segment.convert is None:
                if part != segment.text:
                    return None
                continue
            try:
                params[segment.text] = segment.convert(part)
            except (ValueError, TypeError):
                return None
        return params

    def convert(self, raw: Mapping[str, str]) -> dict[str, Any]:
        """Convert raw string params (e.g. from a signed token); ValueError when one fails."""
        missing = set(self.param_names) - set(raw)
        if missing:
            raise ValueError(f"route {self.pattern} needs params {sorted(missing)}")
        parts = [raw[s.text] if s.convert is not None else s.text for s in self.segments]
        params = self.match_parts(parts)
        if params is None:
            raise ValueError(f"params {dict(raw)!r} do not convert for route {self.pattern}")
        return params


def split_path(path: str) -> list[str] | None:
    """Path segments of ``path`` (a trailing slash is ignored); None if it is malformed."""
    if not path.startswith("/"):
        return None
    trimmed = path[1:].removesuffix("/")
    if not trimmed:
        return []
    parts = trimmed.split("/")
    return None if "" in parts else parts


def _sort_key(route: Route) -> tuple[int, ...]:
    return tuple(s.rank for s in route.segments)


@attrs.frozen
class RouteTable:
    """All routes, most specific first; :meth:`match` is a pure function of the path."""

    routes: tuple[Route, ...]
    middleware: tuple[Any, ...] = ()  # from the package's ``middleware`` list, if any

    @classmethod
    def of(cls, routes: Iterable[Route], middleware: Iterable[Any] = ()) -> RouteTable:
        """Build a table, refusing duplicate or ambiguous patterns."""
        ordered = sorted(routes, key=lambda r: (len(r.segments), _sort_key(r), r.pattern))
        seen: dict[tuple[Any, ...], Route] = {}
        for route in ordered:
            shape = tuple(s.text if s.convert is None else (s.rank,) for s in route.segments)
            other = seen.setdefault(shape, route)
            if other is not route:
                raise RouteError(
                    f"routes {other.pattern} ({other.source}) and {route.pattern} "
                    f"({route.source}) match the same paths: expected one file per path"
                )
        return cls(tuple(ordered), tuple(middleware))

    def match(self, path: str) -> tuple[Route, dict[str, Any]] | None:
        """The route for ``path`` and its converted params, or None (a 404)."""
        parts = split_path(path)
        if parts is None:
            return None
        for route in self.routes:
            params = route.match_parts(parts)
            if params is not None:
                return route, params
        return None

    def get(self, pattern: str) -> Route | None:
        """The route registered under ``pattern`` (as signed into live tokens)."""
        for route in self.routes:
            if route.pattern == pattern:
                return route
        return None


# ------------------------------------------------------------------------ package scanning


def _parse_segment(name: str, declared: Mapping[str, Any], source: str) -> Segment:
    if not (name.startswith("[") and name.endswith("]")):
        return Segment(name)
    inner = name[1:-1]
    param, _, conv_name = inner.partition(":")
    if not param.isidentifier():
        raise RouteError(f"{source}: parameter {name!r} must be [name] or [name:type]")
    if conv_name and conv_name not in CONVERTERS:
        raise RouteError(
            f"{source}: unknown converter {conv_name!r} in {name!r}: "
            f"expected one of {sorted(CONVERTERS)}"
        )
    convert = declared.get(param) or CONVERTERS[conv_name or "str"]
    convert = _STRICT.get(convert, convert)
    if not callable(convert):
        raise RouteError(f"{source}: params[{param!r}] must be callable, got {convert!r}")
    return Segment(param, convert, typed=convert is not str)


def _declared_page(module: ModuleType, source: str) -> tuple[Any, PageSpec]:
    found = [
        (value, getattr(value, PAGE_ATTR))
        for name, value in vars(module).items()
        if isinstance(getattr(value, PAGE_ATTR, None), PageSpec)
        and getattr(value, "__module__", None) == module.__name__
        and not name.startswith("_")
    ]
    if len(found) != 1:
        names = ", ".join(getattr(v, "__name__", "?") for v, _ in found) or "none"
        raise RouteError(
            f"{source}: expected exactly one page (a function with @page or a Component "
            f"with @live_page), found {len(found)} ({names}); prefix helper modules with '_'"
        )
    return found[0]


def _load_module(name: str, path: Path) -> ModuleType:
    """Import a route file by path (its name may contain ``[``, so not via import_module)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise RouteError(f"{path}: cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _route_files(root: Path) -> list[Path]:
    files = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).parts
        if any(p.startswith(("_", ".")) for p in rel):
            continue
        files.append(path)
    return files


def route_for_file(package: str, root: Path, path: Path) -> Route:
    """Load one route file of ``package`` (rooted at ``root``) and build its route."""
    rel = path.relative_to(root).with_suffix("")
    source = f"{package.replace('.', '/')}/{path.relative_to(root)}"
    module = _load_module(".".join([package, *rel.parts]), path)
    target, spec = _declared_page(module, source)
    declared = getattr(module, "params", {})
    if not isinstance(declared, Mapping):
        raise RouteError(f"{source}: params must be a dict of name -> converter")
    names = list(rel.parts)
    if names[-1] == "index":
        names.pop()
    segments = tuple(_parse_segment(n, declared, source) for n in names)
    unknown = set(declared) - {s.text for s in segments if s.convert is not None}
    if unknown:
        raise RouteError(f"{source}: params {sorted(unknown)} are not in the path")
    pattern = "/" + "/".join(s.text if s.convert is None else f"<{s.text}>" for s in segments)
    return Route(pattern, segments, target, spec, source)


def scan(package: str) -> RouteTable:
    """Import every route file of ``package`` and build the route table."""
    try:
        pkg = importlib.import_module(package)
    except ImportError as exc:
        raise RouteError(f"routes package {package!r} cannot be imported: {exc}") from exc
    roots = [Path(p) for p in getattr(pkg, "__path__", [])]
    if not roots:
        raise RouteError(f"routes package {package!r} is a module, expected a package")
    routes = [route_for_file(package, root, f) for root in roots for f in _route_files(root)]
    middleware = getattr(pkg, "middleware", ())
    return RouteTable.of(routes, middleware)


# ------------------------------------------------------------------------------ middleware

Req = TypeVar("Req")
Resp = TypeVar("Resp")
Req_contra = TypeVar("Req_contra", contravariant=True)


class Middleware(Protocol[Req_contra, Resp]):
    """Wraps page requests; subclass :class:`BaseMiddleware` to implement only one hook."""

    def before(self, request: Req_contra) -> Resp | None: ...

    def after(self, request: Req_contra, response: Resp) -> Resp | None: ...


class BaseMiddleware(Generic[Req, Resp]):
    """Middleware whose hooks do nothing; override ``before`` and/or ``after``."""

    def before(self, request: Req) -> Resp | None:
        return None

    def after(self, request: Req, response: Resp) -> Resp | None:
        return None


@attrs.frozen
class MiddlewareChain(Generic[Req, Resp]):
    """The middleware stack, built once. Drive it with :meth:`before`, then :meth:`after`."""

    middleware: tuple[Middleware[Req, Resp], ...] = ()

    def before(self, request: Req) -> tuple[Resp | None, int]:
        """Run ``before`` hooks in order; returns (short-circuit response or None, how many
        middlewares let the request through: pass it to :meth:`after`)."""
        for index, item in enumerate(self.middleware):
            response = item.before(request)
            if response is not None:
                return response, index
        return None, len(self.middleware)

    def after(self, request: Req, response: Resp, passed: int) -> Resp:
        """Run ``after`` hooks of the first ``passed`` middlewares, innermost first."""
        for item in reversed(self.middleware[:passed]):
            replaced = item.after(request, response)
            if replaced is not None:
                response = replaced
        return response
