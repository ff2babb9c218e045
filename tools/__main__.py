"""`python -m tools <command>`: the project's tools, one entry point."""

from __future__ import annotations

import importlib
import sys

COMMANDS = {
    "chat": ("tools.chat", "talk to the skill in a console"),
    "serve": ("webservice.app", "serve the skill over HTTP (SKILL_DEV=1 for local testing)"),
    "preview": ("tools.preview", "print a routine as the skill would speak it"),
    "model": ("tools.model", "write interaction_model/ from the content"),
    "redflag": ("tools.redflag", "train the red-flag screen's learned model (make model runs it)"),
    "wordvectors": ("tools.wordvectors", "distil the answer book's word vectors (make vectors)"),
    "validate": ("tools.validate", "check the model, manifest and content against Alexa's rules"),
    "eval": ("tools.eval.__main__", "score question answering against the kept question set"),
    "coverage": ("tools.coverage", "share of utterances the model routes to the free text"),
}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in COMMANDS:
        print("usage: python -m tools <command> [options]\n", file=sys.stderr)
        for name, (_, text) in COMMANDS.items():
            print(f"  {name:<9} {text}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[args[0]][0])
    return int(module.main(args[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main())
