"""SSML for Alexa: the one place text becomes speech markup.

Everything user-facing passes through :func:`escape` here, so no caller has to remember it.
Durations are estimated for Alexa's voice at a stated speaking rate; the pacing of holds is built
on that estimate and checked against a real synthesiser (espeak-ng) in the tests.
"""

from __future__ import annotations

import re
from functools import lru_cache

#: Alexa's longest single break; longer silences are chained breaks.
MAX_BREAK_MS = 10_000
#: Alexa's limit on outputSpeech, tags included.
MAX_SPEECH_CHARS = 8_000

# Alexa's standard voice speaks conversational English at roughly 150-160 words a minute. For the
# short words that pace a hold we estimate per word and per syllable, which fits better than a flat
# words-per-minute figure: 0.135 s for each word plus 0.19 s for each syllable at rate 100%
# (about 155 words a minute for ordinary prose). espeak-ng's default voice is about 12% faster.
WORD_SECONDS = 0.135
SYLLABLE_SECONDS = 0.19

_VOWEL_GROUPS = re.compile(r"[aeiouy]+")
_WORD = re.compile(r"[A-Za-z']+")
_TAG = re.compile(r"<[^>]+>")
_BREAK = re.compile(r'<break\s+time="(\d+)(ms|s)"\s*/>')
_RATE = re.compile(r'<prosody[^>]*\brate="(\d+)%"')


def escape(text: str) -> str:
    """Make plain text safe inside SSML: one bare & or < makes Alexa reject the whole response."""
    # Not xml.sax.saxutils.escape: importing it pulls in urllib.request, costing the cold start.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def pause(ms: float) -> str:
    """A silence of ``ms`` milliseconds as breaks of at most 10 s each."""
    ms = max(0, int(round(ms)))
    parts = []
    while ms > 0:
        chunk = min(ms, MAX_BREAK_MS)
        parts.append(f'<break time="{chunk}ms"/>')
        ms -= chunk
    return "".join(parts)


def soft(body: str, rate: int = 90) -> str:
    """Softer and slower speech, for the bedtime routine."""
    return f'<prosody rate="{rate}%" volume="soft">{body}</prosody>'


def speak(body: str) -> str:
    return f"<speak>{body}</speak>"


@lru_cache(maxsize=4096)
def syllables(word: str) -> int:
    word = word.lower().strip("'")
    if not word:
        return 0
    count = len(_VOWEL_GROUPS.findall(word))
    if word.endswith("e") and not word.endswith(("le", "ee")) and count > 1:
        count -= 1
    return max(1, count)


@lru_cache(maxsize=4096)
def words_seconds(text: str, rate: int = 100) -> float:
    """Estimated time Alexa takes to say plain ``text`` at prosody ``rate`` percent."""
    words = _WORD.findall(text.replace("-", " "))
    raw = sum(WORD_SECONDS + SYLLABLE_SECONDS * syllables(w) for w in words)
    return raw * 100.0 / rate


@lru_cache(maxsize=1024)
def estimate_seconds(ssml: str, rate: int | None = None) -> float:
    """Estimated speaking time of an SSML fragment: words at the stated rate plus every break.

    One prosody rate applies to the whole fragment (the skill never nests rates): ``rate``, or
    the fragment's own prosody rate, or 100%.
    """
    if rate is None:
        rate_match = _RATE.search(ssml)
        rate = int(rate_match.group(1)) if rate_match else 100
    breaks = sum(int(v) / (1000 if unit == "ms" else 1) for v, unit in _BREAK.findall(ssml))
    text = _TAG.sub(" ", ssml)
    return breaks + words_seconds(text, rate)


def plain_text(ssml: str) -> str:
    """What a person would read on a screen or card: tags dropped, entities undone."""
    text = _TAG.sub(" ", ssml)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return re.sub(r"\s+", " ", text).strip()
