"""VNode tree -> HTML string: escaping, hydration ids, URL and attribute-name safety (sans-IO).

Rendering is XSS-safe by construction:

- text is escaped (``& < >``), attribute values are escaped (``& < > "``) and always
  double-quoted;
- attribute names must match :data:`ATTR_NAME_PATTERN`; ``on*`` names (any case), ``srcdoc``
  (its value is parsed as HTML) and the reserved ``data-hid`` are refused with ``ValueError``:
  handlers are bound with ``on_click=`` in :mod:`vango_actors.vdom` and never rendered;
- URL attributes (:data:`URL_ATTRS`, in any case: ``HREF`` too) whose scheme is
  ``javascript:`` or ``vbscript:``, or ``data:`` (except ``data:image/...`` in ``src``), are
  replaced by :data:`REFUSED_URL`. The
  scheme is read after decoding HTML entities and deleting ASCII whitespace and control
  characters, the way a browser would see it if the value reached it unescaped. We replace
  rather than raise so one hostile value from user data cannot break a whole page;
- ``<script>``/``<style>`` text is emitted verbatim (the browser does not decode entities
  there), so a ``Text`` containing ``</`` or ``<!--`` inside them is refused with
  ``ValueError``: it could close the element early. So is ``<`` before a letter: inside
  ``<svg>`` or ``<math>`` these elements are not raw text and ``<img onerror=...>`` would be
  parsed as a tag (the renderer does not know an element's namespace). Trusted code goes
  through ``Raw``;
- ``Raw`` is the only node rendered verbatim;
- ``\\r`` is written as ``&#13;`` (a raw one would be read as ``\\n``, while patches keep it)
  and NUL as U+FFFD (no markup keeps a NUL; a patch does, so a NUL sent later by SET_TEXT /
  SET_ATTR stays a NUL in the browser, as in the reference Document).
"""

from __future__ import annotations

import html as _stdlib_html
import re
from collections.abc import Mapping

import attrs

from .vdom import (
    AttrValue,
    ComponentNode,
    Element,
    Lazy,
    Node,
    Raw,
    Slot,
    Text,
    check_foreign,
    render_lazy,
    with_chosen,
)

VOID_ELEMENTS = frozenset(
    {"br", "hr", "img", "input", "meta", "link", "area", "base", "col", "embed", "source"}
    | {"track", "wbr"}
)
#: Attributes whose value is a URL the browser may navigate to or load, and the values of an
#: SVG animation (``<set attributeName="href" to=...>``, ``<animate values=...>``), which can
#: put one into an ``href`` (only schemes are refused: ``to="red"`` is untouched).
URL_ATTRS = frozenset(
    {"href", "src", "action", "formaction", "xlink:href", "poster", "cite", "background", "data"}
    | {"to", "from", "by", "values"}
)
#: SVG names an HTML parser restores to their camel case (it lower-cases every name first):
#: the HTML spec's "adjust SVG attributes" and SVG tag-name tables.
SVG_ATTR_CASE = {
    name.lower(): name
    for name in (
        "attributeName attributeType baseFrequency baseProfile calcMode clipPathUnits "
        "diffuseConstant edgeMode filterUnits glyphRef gradientTransform gradientUnits "
        "kernelMatrix kernelUnitLength keyPoints keySplines keyTimes lengthAdjust "
        "limitingConeAngle markerHeight markerUnits markerWidth maskContentUnits maskUnits "
        "numOctaves pathLength patternContentUnits patternTransform patternUnits pointsAtX "
        "pointsAtY pointsAtZ preserveAlpha preserveAspectRatio primitiveUnits refX refY "
        "repeatCount repeatDur requiredExtensions requiredFeatures specularConstant "
        "specularExponent spreadMethod startOffset stdDeviation stitchTiles surfaceScale "
        "systemLanguage tableValues targetX targetY textLength viewBox viewTarget "
        "xChannelSelector yChannelSelector zoomAndPan"
    ).split()
}
SVG_TAG_CASE = {
    name.lower(): name
    for name in (
        "altGlyph altGlyphDef altGlyphItem animateColor animateMotion animateTransform "
        "clipPath feBlend feColorMatrix feComponentTransfer feComposite feConvolveMatrix "
        "feDiffuseLighting feDisplacementMap feDistantLight feDropShadow feFlood feFuncA "
        "feFuncB feFuncG feFuncR feGaussianBlur feImage feMerge feMergeNode feMorphology "
        "feOffset fePointLight feSpecularLighting feSpotLight feTile feTurbulence "
        "foreignObject glyphRef linearGradient radialGradient textPath"
    ).split()
}
#: What a refused URL becomes: a URL that is valid, inert and says why in the markup.
REFUSED_URL = "about:invalid#refused"
ATTR_NAME_PATTERN = r"^[a-zA-Z_:][-a-zA-Z0-9_:.]*$"
HID_ATTR = "data-hid"
#: :data:`URL_ATTRS` in every spelling met so far (``HREF``, ``Src``...): HTML attribute names
#: are case-insensitive. Filled by the name check, which runs before any value is rendered;
#: bounded by the case variants of those names.
_URL_NAMES: set[str] = set(URL_ATTRS)
_RAW_TEXT_ELEMENTS = frozenset({"script", "style"})
#: Tags after whose start tag an HTML parser drops one newline: a text starting with "\n" gets
#: an extra "\n" so it survives (as browsers and React serialise them).
NEWLINE_DROPPING_TAGS = frozenset({"pre", "textarea", "listing"})
#: Tags whose content is not rendered as ordinary children.
_SPECIAL_TAGS = VOID_ELEMENTS | _RAW_TEXT_ELEMENTS | NEWLINE_DROPPING_TAGS | {"svg", "math"}

_ATTR_NAME_RE = re.compile(ATTR_NAME_PATTERN)
_TAG_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9-]*$")
_TAG_OPEN_RE = re.compile(r"<[a-zA-Z]")
_URL_IGNORED_RE = re.compile(r"[\x00-\x20\x7f]+")
_SCHEME_RE = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")
_CACHE_LIMIT = 4096

# name -> None when valid, else the error message template ({tag} is filled in).
_attr_name_errors: dict[str, str | None] = {}
_valid_tags: set[str] = set()


def escape_text(text: str) -> str:
    """Escape ``& < >`` for a text node (and ``\\r``/NUL, see :func:`_escape_controls`)."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _escape_controls(text) if "\r" in text or "\0" in text else text


def escape_attr(value: str) -> str:
    """Escape ``& < > "`` for a double-quoted attribute value (and ``\\r``/NUL)."""
    value = (
        value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )
    return _escape_controls(value) if "\r" in value or "\0" in value else value


def _control(text: str) -> bool:
    return "\r" in text or "\0" in text


def _escape_controls(text: str) -> str:
    """``\\r`` as ``&#13;``: a browser's parser turns a raw one into ``\\n``, but SET_TEXT and
    SET_ATTR keep it, so the first render and later patches would differ. NUL as U+FFFD: the
    parser drops it from text and makes it U+FFFD elsewhere (no markup keeps a NUL)."""
    return text.replace("\r", "&#13;").replace("\0", "\ufffd")


def _attr_name_error(name: str) -> str | None:
    if not _ATTR_NAME_RE.match(name):
        return (
            f"invalid attribute name {name!r} on <{{tag}}>: "
            f"expected a name matching {ATTR_NAME_PATTERN}"
        )
    lowered = name.lower()
    if lowered in URL_ATTRS:
        _URL_NAMES.add(name)
    if lowered.startswith("on"):
        return (
            f"refused attribute {name!r} on <{{tag}}>: event handlers are bound with "
            f"on_<event>= and never rendered as on* attributes"
        )
    if lowered == "srcdoc":
        return f"refused attribute {name!r} on <{{tag}}>: its value would be parsed as HTML"
    if lowered == HID_ATTR:
        return f"refused attribute {name!r} on <{{tag}}>: data-hid is reserved for hydration ids"
    return None


def check_attr_name(tag: str, name: str) -> None:
    """Raise ``ValueError`` unless ``name`` may be rendered as an attribute (cached per name)."""
    try:
        error = _attr_name_errors[name]
    except KeyError:
        error = _attr_name_error(name)
        if len(_attr_name_errors) < _CACHE_LIMIT:
            _attr_name_errors[name] = error
    if error is not None:
        raise ValueError(error.format(tag=tag))


def check_tag(tag: str) -> None:
    """Raise ``ValueError`` unless ``tag`` is a safe tag name (cached)."""
    if tag in _valid_tags:
        return
    if not isinstance(tag, str) or not _TAG_RE.match(tag):
        raise ValueError(f"invalid tag name {tag!r}: expected letters, digits and '-'")
    if len(_valid_tags) < _CACHE_LIMIT:
        _valid_tags.add(tag)


def safe_url(name: str, value: str) -> str:
    """``value``, or :data:`REFUSED_URL` when its scheme could run script or embed a document
    (an animation's ``values``: when one of its ``;``-separated values could)."""
    if ":" not in value and "&" not in value:
        return value  # no scheme possible, not even an entity-encoded colon
    if name.lower() == "values" and ";" in value:
        parts = _stdlib_html.unescape(value).split(";")
        return REFUSED_URL if any(safe_url("to", part) != part for part in parts) else value
    seen = _URL_IGNORED_RE.sub("", _stdlib_html.unescape(value))
    match = _SCHEME_RE.match(seen)
    if match is None:
        return value
    scheme = match.group(1).lower()
    if scheme == "javascript" or scheme == "vbscript":
        return REFUSED_URL
    if scheme == "data":
        if name.lower() == "src" and seen[5:].lower().startswith("image/"):
            return value
        return REFUSED_URL
    return value


def attr_value(tag: str, name: str, value: AttrValue) -> str | None:
    """The string an attribute carries on the page; ``None`` when it is omitted.

    ``True`` -> ``""`` (a bare boolean attribute), ``False``/``None`` -> omitted, numbers ->
    ``str``; URL attributes pass through :func:`safe_url`. Validates the name.
    """
    check_attr_name(tag, name)
    if value is None or value is False:
        return None
    if value is True:
        return ""
    if type(value) is not str:
        value = _stringify(tag, name, value)  # (a JS value is a str subclass)
    elif name[0] in "dD" and _is_js_name(name):
        raise ValueError(_js_from_str(tag, name))
    if name in _URL_NAMES:
        return safe_url(name, value)
    return value


def _is_js_name(name: str) -> bool:
    return name[:8].lower() == "data-js-"


def _js_from_str(tag: str, name: str) -> str:
    """A ``data-js-*`` attribute takes client commands built with ``JS`` only: a plain str
    there may come from data (``h.div(**user_dict)``) and would run any command, such as
    ``set_attr`` of a ``javascript:`` href, in the browser."""
    return (
        f"attribute {name!r} on <{tag}>: expected a JS value (JS.show(...), ...), got a "
        f"plain str: client commands are built with JS, never taken from data"
    )


def _stringify(tag: str, name: str, value: object) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        return str(value)
    raise TypeError(
        f"attribute {name!r} on <{tag}>: expected str, int, float, bool or None, "
        f"got {type(value).__name__}"
    )


def render(node: Node) -> str:
    """HTML for a tree. Elements with a ``hid`` carry ``data-hid="h<hid>"`` first.

    Deterministic: the same tree always gives the same string.
    """
    out: list[str] = []
    _render(node, out)
    return "".join(out)


def _render(node: Node, out: list[str]) -> None:
    kind = type(node)
    if kind is Element:
        _render_element(node, out)  # type: ignore[arg-type]
    elif kind is Text:
        out.append(escape_text(node.text))  # type: ignore[union-attr]
    elif kind is Slot:
        _render_element(node.tree, out)  # type: ignore[union-attr]
    elif kind is Raw:
        out.append(node.html)  # type: ignore[union-attr]
    elif kind is Lazy:
        _render_lazy(node, out)  # type: ignore[arg-type]
    else:
        _render_other(node, out)


def _render_lazy(node: Lazy, out: list[str]) -> None:
    """The subtree the diff rendered for ``node``; an unmounted Lazy is rendered, not kept."""
    tree = node.rendered
    _render_element(tree if tree is not None else render_lazy(node), out)


def _render_other(node: object, out: list[str]) -> None:
    if isinstance(node, ComponentNode):
        raise TypeError(
            f"cannot render component {node.component.__name__} directly: the runtime "
            f"resolves a ComponentNode to a Slot before rendering"
        )
    if isinstance(node, Element):
        _render_element(node, out)
    elif isinstance(node, Text):
        out.append(escape_text(node.text))
    elif isinstance(node, Slot):
        _render_element(node.tree, out)
    elif isinstance(node, Raw):
        out.append(node.html)
    elif isinstance(node, Lazy):
        _render_lazy(node, out)
    else:
        raise TypeError(f"cannot render {type(node).__name__}: expected a vdom node, got {node!r}")


def _render_element(node: Element, out: list[str], checked: bool = False) -> None:
    tag = node.tag
    if tag in _SPECIAL_TAGS and not checked:
        if tag == "svg" or tag == "math":  # child components are known by now
            check_foreign(tag, node.children)
            _render_element(node, out, True)
        else:
            _render_special(node, out)
        return
    if tag == "select" and "value" in node.attrs:
        node = _select_with_value(node)
    if tag not in _valid_tags:
        check_tag(tag)
    hid = node.hid
    attributes = node.attrs
    if attributes:
        out.append(f'<{tag} data-hid="h{hid}"' if hid is not None else f"<{tag}")
        errors = _attr_name_errors
        for name, value in attributes.items():
            if name not in errors or errors[name] is not None:
                check_attr_name(tag, name)
            if type(value) is str:
                if name in _URL_NAMES:
                    value = safe_url(name, value)
                elif name[0] in "dD" and _is_js_name(name):
                    raise ValueError(_js_from_str(tag, name))
                if "&" in value or "<" in value or ">" in value or '"' in value or _control(value):
                    value = escape_attr(value)
                out.append(f' {name}="{value}"')
            elif value is True:
                out.append(f" {name}")
            elif value is not None and value is not False:
                out.append(f' {name}="{escape_attr(attr_value(tag, name, value) or "")}"')
        out.append(">")
    else:
        out.append(f'<{tag} data-hid="h{hid}">' if hid is not None else f"<{tag}>")
    for child in node.children:
        kind = type(child)
        if kind is Text:
            text = child.text  # type: ignore[union-attr]
            if "&" in text or "<" in text or ">" in text or "\r" in text or "\0" in text:
                text = escape_text(text)
            out.append(text)
        elif kind is Element:
            _render_element(child, out)  # type: ignore[arg-type]
        else:
            _render(child, out)
    out.append(f"</{tag}>")


def _select_with_value(node: Element) -> Element:
    """A ``<select value=...>`` built without ``h`` (which applies the value at once)."""
    attributes = dict(node.attrs)
    value = attributes.pop("value")
    return with_chosen(attrs.evolve(node, attrs=attributes), value)


def _render_special(node: Element, out: list[str]) -> None:
    """Void elements, ``script``/``style`` (raw text), ``textarea`` (text or ``value=``) and
    ``pre``/``listing`` (a leading newline doubled, see :data:`NEWLINE_DROPPING_TAGS`)."""
    tag = node.tag
    parts = [f'<{tag} data-hid="h{node.hid}"' if node.hid is not None else f"<{tag}"]
    if _render_attrs(tag, node.attrs, parts):
        _render_textarea(node, parts)
        out.append("".join(parts))
        return
    parts.append(">")
    children = node.children
    if tag in NEWLINE_DROPPING_TAGS and _starts_with_newline(children):
        parts.append("\n")
    out.append("".join(parts))
    if tag == "pre" or tag == "listing":
        for child in children:
            _render(child, out)
        out.append(f"</{tag}>")
        return
    if tag in VOID_ELEMENTS:
        if children:
            raise ValueError(
                f"<{tag}> is a void element and cannot have children (got {len(children)})"
            )
        return
    _render_text_only(tag, children, out)
    out.append(f"</{tag}>")


def _render_attrs(tag: str, attributes: Mapping[str, AttrValue], parts: list[str]) -> bool:
    """Append `` name="value"`` for each rendered attribute; True for a textarea ``value``."""
    textarea_value = False
    for name, value in attributes.items():
        text = attr_value(tag, name, value)
        if text is None:
            continue
        if tag == "textarea" and name == "value":
            textarea_value = True
        elif value is True:
            parts.append(f" {name}")
        else:
            parts.append(f' {name}="{escape_attr(text)}"')
    return textarea_value


def _render_textarea(node: Element, parts: list[str]) -> None:
    """A textarea whose text comes from ``value=`` (children are refused then)."""
    if node.children:
        raise ValueError("<textarea> takes its text from value= or from children, not both")
    text = attr_value("textarea", "value", node.attrs["value"]) or ""
    newline = "\n" if text.startswith("\n") else ""
    parts.append(f">{newline}{escape_text(text)}</textarea>")


def _starts_with_newline(children: tuple[Node, ...]) -> bool:
    """True when the element's content begins with a newline (empty texts skipped)."""
    for child in children:
        if type(child) is not Text:
            return False
        if child.text:
            return child.text.startswith("\n")
    return False


def _render_text_only(tag: str, children: tuple[Node, ...], out: list[str]) -> None:
    raw_text = tag in _RAW_TEXT_ELEMENTS
    for child in children:
        if type(child) is Raw and raw_text:
            out.append(child.html)
        elif isinstance(child, Text):
            out.append(_raw_text(tag, child.text) if raw_text else escape_text(child.text))
        else:
            raise ValueError(f"<{tag}> takes text only, got {type(child).__name__}")


def _raw_text(tag: str, text: str) -> str:
    if "</" in text or "<!--" in text:
        raise ValueError(
            f"text inside <{tag}> must not contain '</' or '<!--' (it could end the element "
            f"early); got {text[:60]!r}; use h.raw(...) for trusted code"
        )
    if "<" in text and _TAG_OPEN_RE.search(text):
        raise ValueError(
            f"text inside <{tag}> must not contain '<' before a letter (inside <svg> or "
            f"<math> the element is not raw text: '<img ...>' would start a tag); got "
            f"{text[:60]!r}; use h.raw(...) for trusted code"
        )
    return text
