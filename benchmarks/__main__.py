"""`python -m benchmarks [SECTION ...]`: run the benchmark sections (`make bench`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from benchmarks import OUT_DIR, Options, discover, run_sections


def main(argv: Sequence[str] | None = None) -> int:
    sections = discover()
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Measure Proactive Care's speed and memory. Sections: "
        + ", ".join(f"{s.name} ({s.title})" for s in sections.values()),
    )
    parser.add_argument("sections", nargs="*", help="sections to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="small sizes, a smoke run")
    parser.add_argument(
        "--sizes",
        help="comma-separated sizes for sections that measure several, e.g. 1000,10000",
    )
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="where to write the JSON")
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 when a figure misses its target"
    )
    args = parser.parse_args(argv)
    unknown = [n for n in args.sections if n not in sections]
    if unknown:
        parser.error(f"unknown section {', '.join(unknown)}; known: {', '.join(sections)}")
    try:
        sizes = tuple(int(s) for s in args.sizes.split(",")) if args.sizes else None
    except ValueError:
        parser.error(f"--sizes takes whole numbers separated by commas, got {args.sizes!r}")
    if sizes is not None and any(s < 1 for s in sizes):
        parser.error("--sizes must be positive")
    options = Options(quick=args.quick, sizes=sizes, out_dir=args.out)
    passed = run_sections(args.sections, options, Console())
    return 1 if args.strict and not passed else 0


if __name__ == "__main__":
    sys.exit(main())
