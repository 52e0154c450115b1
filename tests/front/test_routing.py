"""The route table: file names to paths, typed params, precedence, page declarations."""

from __future__ import annotations

from pathlib import Path

import pytest

from vango_actors.routing import (
    BaseMiddleware,
    MiddlewareChain,
    RouteError,
    RouteTable,
    page,
    scan,
    split_path,
)

from .routes_fixture import live, make_package, static


def table(tmp_path: Path, files: dict[str, str]) -> RouteTable:
    return scan(make_package(tmp_path, files))


def patterns(t: RouteTable) -> list[str]:
    return [r.pattern for r in t.routes]


def test_file_names_become_paths(tmp_path: Path) -> None:
    t = table(
        tmp_path,
        {
            "index.py": static("home"),
            "counter.py": live("c"),
            "users/[id].py": live("u"),
            "docs/index.py": static("docs"),
            "_helpers.py": "X = 1\n",
            "_private/page.py": static("never"),
        },
    )
    assert sorted(patterns(t)) == ["/", "/counter", "/docs", "/users/<id>"]
    route, params = t.match("/users/ada")  # type: ignore[misc]
    assert (route.pattern, params, route.is_live) == ("/users/<id>", {"id": "ada"}, True)
    assert t.match("/")[0].pattern == "/"  # type: ignore[index]
    assert t.match("/docs/")[0].pattern == "/docs"  # type: ignore[index]


def test_unknown_and_malformed_paths_do_not_match(tmp_path: Path) -> None:
    t = table(tmp_path, {"counter.py": live("c"), "users/[id].py": live("u")})
    for path in ["/nope", "/counter/extra", "/users", "/users/1/2", "//counter", "counter", ""]:
        assert t.match(path) is None, path


def test_typed_params_convert_or_404(tmp_path: Path) -> None:
    t = table(
        tmp_path,
        {
            "users/[id].py": "params = {'id': int}\n" + live("u"),
            "items/[n:float].py": live("f"),
        },
    )
    assert t.match("/users/42")[1] == {"id": 42}  # type: ignore[index]
    assert t.match("/users/abc") is None
    assert t.match("/items/1.5")[1] == {"n": 1.5}  # type: ignore[index]
    assert t.match("/items/x") is None


def test_numbers_convert_only_in_their_plain_spelling(tmp_path: Path) -> None:
    # int() and float() take much more than a URL should (one page, one URL): these 404
    t = table(
        tmp_path,
        {
            "users/[id].py": "params = {'id': int}\n" + live("u"),
            "n/[k:int].py": live("k"),
            "items/[n:float].py": live("f"),
        },
    )
    assert t.match("/users/0")[1] == {"id": 0}  # type: ignore[index]
    assert t.match("/n/-3")[1] == {"k": -3}  # type: ignore[index]
    for bad in ["007", "+7", "1_000", " 7", "7 ", "\u0663", "-0", "0x1f", "1e3", "9" * 5000]:
        assert t.match(f"/users/{bad}") is None, bad
        assert t.match(f"/n/{bad}") is None, bad
    assert t.match("/items/-0.25")[1] == {"n": -0.25}  # type: ignore[index]
    for bad in ["nan", "inf", "1e3", "1_0.5", " 1.5", ".5", "1.", "01.5"]:
        assert t.match(f"/items/{bad}") is None, bad


def test_static_segments_win_then_typed_then_string(tmp_path: Path) -> None:
    t = table(
        tmp_path,
        {
            "users/[name].py": static("by name"),
            "users/[id:int].py": static("by id"),
            "users/new.py": static("new"),
        },
    )
    assert t.match("/users/new")[0].pattern == "/users/new"  # type: ignore[index]
    assert t.match("/users/7")[0].pattern == "/users/<id>"  # type: ignore[index]
    by_name = t.match("/users/ada")
    assert by_name is not None and by_name[1] == {"name": "ada"}
    assert by_name[0].source.endswith("users/[name].py")


def test_route_params_from_a_token_convert_back(tmp_path: Path) -> None:
    t = table(tmp_path, {"users/[id:int].py": live("u")})
    route = t.get("/users/<id>")
    assert route is not None
    assert route.convert({"id": "42"}) == {"id": 42}
    with pytest.raises(ValueError, match="do not convert"):
        route.convert({"id": "x"})
    with pytest.raises(ValueError, match=r"needs params \['id'\]"):
        route.convert({})


def test_title_takes_params(tmp_path: Path) -> None:
    t = table(tmp_path, {"users/[id].py": live("u", title="User {id}")})
    route, params = t.match("/users/9")  # type: ignore[misc]
    assert route.spec.title_for(params) == "User 9"


def test_a_module_without_a_page_is_refused(tmp_path: Path) -> None:
    name = make_package(tmp_path, {"helper.py": "X = 1\n"})
    with pytest.raises(RouteError) as info:
        scan(name)
    assert str(info.value) == (
        f"{name}/helper.py: expected exactly one page (a function with @page or a Component "
        "with @live_page), found 0 (none); prefix helper modules with '_'"
    )


def test_a_decorator_without_parentheses_is_named_at_import(tmp_path: Path) -> None:
    bare = (
        "from vango_actors import Component, h, live_page\n\n\n"
        "@live_page\nclass P(Component):\n    def render(self):\n        return h.p('x')\n"
    )
    name = make_package(tmp_path, {"bare.py": bare})
    with pytest.raises(
        TypeError,
        match=r"@live_page takes a title, not <class '.*\.P'>: "
        r"write @live_page\(\) or @live_page\(title=\"...\"\)",
    ):
        scan(name)
    with pytest.raises(TypeError, match=r"write @page\(\) or @page\(title="):
        page(lambda: None)  # type: ignore[arg-type]


def test_ambiguous_routes_are_refused(tmp_path: Path) -> None:
    name = make_package(tmp_path, {"a/[x].py": static("x"), "a/[y].py": static("y")})
    with pytest.raises(RouteError, match=r"routes /a/<x> .* and /a/<y> .* match the same paths"):
        scan(name)


def test_unknown_converter_is_refused(tmp_path: Path) -> None:
    name = make_package(tmp_path, {"a/[x:uuid].py": static("x")})
    with pytest.raises(RouteError, match=r"unknown converter 'uuid' in '\[x:uuid\]': expected"):
        scan(name)


def test_split_path() -> None:
    assert split_path("/") == []
    assert split_path("/a/b/") == ["a", "b"]
    assert split_path("a") is None
    assert split_path("/a//b") is None


class Recorder(BaseMiddleware[str, str]):
    def __init__(self, name: str, log: list[str], stop: bool = False) -> None:
        self.name, self.log, self.stop = name, log, stop

    def before(self, request: str) -> str | None:
        self.log.append(f"before {self.name}")
        return f"stopped by {self.name}" if self.stop else None

    def after(self, request: str, response: str) -> str | None:
        self.log.append(f"after {self.name}")
        return f"{response}+{self.name}"


def test_middleware_runs_before_in_order_and_after_in_reverse() -> None:
    log: list[str] = []
    chain = MiddlewareChain((Recorder("a", log), Recorder("b", log)))
    response, passed = chain.before("req")
    assert (response, passed) == (None, 2)
    assert chain.after("req", "page", passed) == "page+b+a"
    assert log == ["before a", "before b", "after b", "after a"]


def test_middleware_short_circuit_skips_the_rest() -> None:
    log: list[str] = []
    chain = MiddlewareChain((Recorder("a", log), Recorder("b", log, stop=True), Recorder("c", log)))
    response, passed = chain.before("req")
    assert (response, passed) == ("stopped by b", 1)
    assert chain.after("req", response, passed) == "stopped by b+a"
    assert log == ["before a", "before b", "after a"]
