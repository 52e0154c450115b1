"""docs/CONFIGURATION.md names every setting the code reads, with the code's default, and
nothing else: each row's variable sets its ``Settings`` field, and each field a variable sets
has a row."""

from __future__ import annotations

import re

import attrs

from tests.servers import ROOT
from vango_actors.config import _NUMBERS, Settings

_ROW = re.compile(r"^\| `(VANGO_\w+)` \| (.*?) \| (.*?) \| ", re.M)
_NOT_READ_BY_SETTINGS = {"VANGO_PRESENCE_TTL"}  # the demo's Presence service reads it
_NO_VARIABLE = {"secret_key_generated", "workers", "live_port_last"}


def _rows() -> dict[str, tuple[str, str]]:
    text = (ROOT / "docs" / "CONFIGURATION.md").read_text()
    return {name: (field, default) for name, field, default in _ROW.findall(text)}


def _variables_in_code() -> set[str]:
    found = {"VANGO_" + field.upper() for field in _NUMBERS}  # from_env builds these names
    for package in ("vango_actors", "services"):
        for path in (ROOT / package).rglob("*.py"):
            found |= set(re.findall(r"VANGO_[A-Z][A-Z0-9_]+", path.read_text()))
    return found


def test_every_documented_variable_sets_its_field_with_the_documented_default() -> None:
    fields = attrs.fields_dict(Settings)
    for name, (field, default) in _rows().items():
        if name in _NOT_READ_BY_SETTINGS:
            continue
        field = field.strip("`")
        assert field in fields, f"{name}: no Settings field {field!r}"
        value = fields[field].default
        shown = default.strip("`")
        if field == "production":
            assert (value, shown) == (False, "development"), name
        elif isinstance(value, bool):
            assert shown == str(int(value)), f"{name}: documented {shown!r}, code {value!r}"
        elif isinstance(value, int | float):
            assert float(shown) == value, f"{name}: documented {shown!r}, code {value!r}"
        elif isinstance(value, str):
            assert shown == value, f"{name}: documented {shown!r}, code {value!r}"
        else:  # (), None: a word saying there is none
            assert not value, name


def test_every_variable_the_code_reads_is_documented_and_every_documented_one_is_read() -> None:
    documented = set(_rows())
    in_code = _variables_in_code()
    assert in_code - documented == set(), "read by the code but not in docs/CONFIGURATION.md"
    assert documented - in_code == set(), "documented but never read"


def test_every_settings_field_has_a_variable() -> None:
    documented = {field.strip("`") for field, _default in _rows().values()}
    fields = set(attrs.fields_dict(Settings)) - _NO_VARIABLE
    assert fields - documented == set()


def test_every_documented_variable_is_parsed_from_the_environment() -> None:
    fields = attrs.fields_dict(Settings)
    samples = {"VANGO_LIVE_PORT": "9123", "VANGO_LIVE_URL": "same-origin"}
    samples |= {"VANGO_PUBSUB": "redis://127.0.0.1:1", "VANGO_ENV": "production"}
    samples |= {"VANGO_SECRET_KEY": "k", "VANGO_ALLOWED_ORIGINS": "http://x", "VANGO_DEV": "1"}
    for name, (field, _default) in _rows().items():
        field = field.strip("`")
        if field not in fields:
            continue
        raw = samples.get(name, "7" if name != "VANGO_ROUTES" else "some_routes")
        settings = Settings.from_env({name: raw, "VANGO_SECRET_KEY": "k"})
        assert getattr(settings, field) != fields[field].default, f"{name} is not read"
