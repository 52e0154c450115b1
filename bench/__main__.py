"""`python -m bench NAME [args]` runs `bench/NAME.py`'s `main(argv)`; no NAME lists them."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import bench


def main() -> None:
    names = sorted(
        m.name for m in pkgutil.iter_modules(bench.__path__) if not m.name.startswith("_")
    )
    if len(sys.argv) < 2 or sys.argv[1] not in names:
        print("usage: python -m bench NAME [args]; NAME is one of: " + ", ".join(names))
        raise SystemExit(2)
    module = importlib.import_module(f"bench.{sys.argv[1]}")
    module.main(sys.argv[2:])


if __name__ == "__main__":
    main()
