"""What is left of something a person said once whatever could identify them is taken out.

People tell a back-pain coach more than it asks: "my name is Jane Doe of 12 Elm Street, how do I
get pregnant". The skill logs nothing a person says unless an operator turns it on
(`SKILL_LOG_UNANSWERED=1`, for improving the knowledge base from questions it could not answer),
and even then only `minimise(text)`: emails, Alexa IDs, phone numbers, street addresses and
postcodes, every other number (digits, or three or more number words in a row), and the words
after "my name is", "I'm called", "call me", "named", "I live in", "I'm from" and the like are
replaced by a placeholder such as "[name]". What the question is about stays, because that is the
point of keeping it; which is why it is off by default and kept briefly (README, "Privacy").

Pure: no I/O, no ask-sdk. Works on the lower-case, unpunctuated text Alexa's speech recognition
produces as well as on typed text.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

LOG_ENV = "SKILL_LOG_UNANSWERED"
MAX_CHARS = 300  # Alexa's slot values stop at 140 characters; anything longer is not speech

_NUMBER_WORDS = (
    "zero|oh|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
    "fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|"
    "eighty|ninety|hundred|thousand|double|triple"
)
_NUMBER_WORD = rf"(?:{_NUMBER_WORDS})"
_STREET_TYPES = (
    "street|st|road|rd|avenue|ave|lane|ln|drive|dr|court|ct|boulevard|blvd|way|place|pl|"
    "terrace|close|crescent|square|sq|parkway|pkwy|highway|hwy|row|mews|gardens|grove|hill|"
    "circle|cir|walk|alley|trail|park"
)
# Words that end a name or a place: what people say next ("my name is ann AND my back hurts").
_STOP_WORDS = frozenset(
    """a about after also am an and are as at be because been before but by can could did do
    does doing for from had has have having he her here his how i i'm if im in into is it it's
    its just me my myself now of on or our please really she should so some than that the their
    them then there they this to too up very was we were what when where which while who why
    will with would you your yes no not okay ok thanks thank sorry hi hello hey alexa street
    road avenue lane drive near next said says say thinks think told tells wants want needs
    need keeps gets got helps help asked asks suggested recommended does doesn't don't didn't
    can't won't isn't""".split()
)
_RELATIONS = (
    "husband|wife|partner|boyfriend|girlfriend|fiance|fiancee|son|daughter|child|kid|mother|"
    "mom|mum|father|dad|brother|sister|grandson|granddaughter|grandmother|grandma|"
    "grandfather|grandpa|friend|neighbour|neighbor|doctor|physio|physiotherapist|nurse|"
    "therapist|chiropractor|boss|colleague"
)
# (trigger phrases, how many words after one may be a name or a place)
_TRIGGERS = {
    "name": (r"my name is|my name's|my names|name is|i'm called|i am called|im called|"
             r"they call me|call me|named|called", 3),
    "relation": (rf"my (?:{_RELATIONS})", 1),
    "place": (r"i live in|i live at|i'm living in|i am living in|i'm from|i am from|im from|"
              r"i come from|born in|moved to|living in|live in|from the town of|"
              r"from the city of", 3),
}
_PLACEHOLDER = {"name": "[name]", "relation": "[name]", "place": "[place]"}

_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_SPOKEN_EMAIL = re.compile(r"\b[\w.+-]+\s+at\s+[\w-]+\s+dot\s+(?:com|net|org|co|uk|io|de)\b")
_ALEXA_ID = re.compile(r"\bamzn1\.[\w.-]+", re.IGNORECASE)
_PHONE = re.compile(r"(?<![\w+])\+?\(?\d(?:[\s().-]{0,2}\d){6,}")
_SPOKEN_DIGITS = re.compile(rf"\b{_NUMBER_WORD}(?:[\s-]+{_NUMBER_WORD}){{2,}}\b", re.IGNORECASE)
# A house number, up to three words, a street type: "12 elm street", "221b baker st". Spelled-out
# house numbers take only unmistakable street types ("one short walk" is not an address).
_ADDRESS = re.compile(
    rf"\b\d+[a-z]?\s+(?:[a-z']+\s+){{0,3}}?(?:{_STREET_TYPES})\b\.?", re.IGNORECASE
)
_SPOKEN_ADDRESS = re.compile(
    rf"\b{_NUMBER_WORD}(?:[\s-]+{_NUMBER_WORD})*\s+(?:[a-z']+\s+){{0,3}}?"
    r"(?:street|road|avenue|lane|boulevard|terrace|crescent|parkway|highway)\b",
    re.IGNORECASE,
)
_UNIT = re.compile(r"\b(?:apartment|apt|flat|unit|suite|room|po box|p o box)\s+#?\w+\b",
                   re.IGNORECASE)
_POSTCODE = re.compile(r"\b[a-z]{1,2}\d[a-z\d]?\s*\d[a-z]{2}\b", re.IGNORECASE)  # the UK's
_NUMBER = re.compile(r"\d+(?:[.,:/-]\d+)*(?:st|nd|rd|th)?")


def logging_enabled(env: Mapping[str, str] = os.environ) -> bool:
    """Whether an operator asked for unanswered questions to be logged (minimised)."""
    return env.get(LOG_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def _after_triggers(text: str, kind: str) -> str:
    """Replace up to three words after each trigger phrase, up to the first stop word."""

    def replace(found: re.Match[str]) -> str:
        words = found.group("words").split()
        taken = 0
        while taken < len(words) and words[taken].lower() not in _STOP_WORDS \
                and not words[taken].startswith("["):
            taken += 1
        if not taken:
            return found.group()
        return " ".join([found.group("trigger"), _PLACEHOLDER[kind], *words[taken:]])

    phrases, most = _TRIGGERS[kind]
    pattern = re.compile(
        rf"\b(?P<trigger>{phrases})(?P<words>(?:\s+[\w'\[\]-]+){{1,{most}}})", re.IGNORECASE
    )
    return pattern.sub(replace, text)


def minimise(text: str) -> str:
    """`text` on one line, at most MAX_CHARS long, with everything that could say who or where
    the speaker is replaced by "[email]", "[id]", "[phone]", "[address]", "[number]", "[name]"
    or "[place]"."""
    text = " ".join(text.split())[:MAX_CHARS]
    text = _EMAIL.sub("[email]", text)
    text = _SPOKEN_EMAIL.sub("[email]", text)
    text = _ALEXA_ID.sub("[id]", text)
    text = _PHONE.sub("[phone]", text)
    text = _ADDRESS.sub("[address]", text)
    text = _SPOKEN_ADDRESS.sub("[address]", text)
    text = _UNIT.sub("[address]", text)
    text = _POSTCODE.sub("[address]", text)
    text = _SPOKEN_DIGITS.sub("[number]", text)
    text = _NUMBER.sub("[number]", text)
    for kind in _TRIGGERS:
        text = _after_triggers(text, kind)
    return text
