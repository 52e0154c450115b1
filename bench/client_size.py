"""Size of the browser runtime: raw source, minified (rjsmin) and minified + gzip -9 bytes.

`python -m bench client_size` prints one JSON document. The budget is 6144 bytes gzipped
(docs/ARCHITECTURE.md); tests/client/test_build.py enforces it.
"""

from __future__ import annotations

import json

from vango_actors import clientjs

BUDGET_GZIP = 6144


def main(argv: list[str]) -> None:
    if argv:
        raise SystemExit(f"client_size takes no arguments, got {argv}")
    sizes = clientjs.sizes()
    report = {
        "bench": "client_size",
        **sizes,
        "budget_gzip": BUDGET_GZIP,
        "headroom_gzip": BUDGET_GZIP - sizes["gzip"],
        "url": clientjs.client_url(dev=False),
    }
    print(json.dumps(report))
