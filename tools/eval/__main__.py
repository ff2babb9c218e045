"""`python -m tools eval`: both reports; non-zero exit if a target is missed."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from tools.eval import kept, real


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools eval", description=__doc__)
    parser.add_argument("--locale", default="en-US")
    parser.add_argument("--json", action="store_true", help="the real-world figures as JSON")
    parser.add_argument("--quiet", action="store_true", help="figures only, no misses")
    parser.add_argument("--real-only", action="store_true")
    parser.add_argument("--tuning-only", action="store_true",
                        help="score and show the tunable splits only: what to look at while tuning")
    parser.add_argument("--strict", action="store_true",
                        help="fail when a real-world target is missed on the frozen split")
    args = parser.parse_args(argv)
    if args.tuning_only:
        for split in real.TUNABLE:
            print(f"== {split}")
            figures = real.score(real.load(split), args.locale)
            print(real.format_tuning(figures, show_misses=not args.quiet))
        return 0
    results = real.run(args.locale)
    if args.json:
        print(json.dumps(real.summary(results), indent=2))
        return 0 if real.ok(results) or not args.strict else 1
    print(real.format_report(results, show_misses=not args.quiet))
    passed = real.ok(results) or not args.strict
    if not args.real_only:
        print("\n" + "-" * 60 + "\nThe project's own kept question set\n")
        code = kept.main(["--locale", args.locale])
        passed = passed and code == 0
    print("\nPASS" if passed else "\nFAIL: a target was missed")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
