"""Which wording to say: several per line, so the coach does not sound canned.

A line's variant is chosen by the local date, so the choice survives across sessions without
storing anything, and the first time a line is said on one day it differs from the first time on
the day before. A line said again within a session moves on to the next variant; lines that are
said many times in one session are kept short (a test checks across seven mornings that no
sentence longer than six words comes back on two days running).
"""

from __future__ import annotations

from skill.core import content
from skill.core.speech import escape


class Words:
    """The prompts of one locale, as spoken on one day in one session."""

    __slots__ = ("prompts", "day", "said")

    def __init__(self, locale: str, day: int, said: dict[str, int]) -> None:
        self.prompts = content.prompts(locale)
        self.day = day
        #: how often each key was said in this session (updated: it is the session's record)
        self.said = said

    def say(self, key: str, **fields: object) -> str:
        """The line ``key`` with its placeholders filled, escaped for SSML."""
        variants = self.prompts.raw(key)
        if isinstance(variants, str):
            variants = [variants]
        times = self.said.get(key, 0)
        if len(variants) > 1:
            self.said[key] = times + 1
        return escape(variants[(self.day + times) % len(variants)].format(
            **{k: str(v) for k, v in fields.items()}))

    def pick(self, key: str, choices: list[str] | str, **fields: object) -> str:
        """One of ``choices`` (content that is not a prompt, such as a movement's cue),
        varied the same way as prompts under the name ``key``."""
        if isinstance(choices, str):
            return escape(choices.format(**{k: str(v) for k, v in fields.items()}))
        times = self.said.get(key, 0)
        if len(choices) > 1:
            self.said[key] = times + 1
        return escape(choices[(self.day + times) % len(choices)])
