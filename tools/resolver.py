"""What Alexa would send for words said to the skill: one resolver for `make chat`, the tests and
the bench.

Utterance matching mirrors virtual-alexa 0.7.8 (node_modules/virtual-core/lib/src/Utterance.js
and SampleUtterances.js), the stand-in for the Alexa service that the end-to-end tests drive, so
that a conversation typed into the console, a conversation test and a virtual-alexa run all hear
the same intent for the same words:

- The words are cleaned of punctuation (apostrophes stay) and compared case-insensitively.
- Every sample becomes a regular expression: each ``{slot}`` turns into ``(.*)`` and the words
  on either side are trimmed up to it ("i'm {query}" is ``i'm(.*)``). A slot's words must be
  separated from the carrier by a space ("why {query}" does not hear "whyever").
- A slot of a custom type must be exactly one of its values or synonyms; AMAZON.SearchQuery
  hears anything, even nothing ("why" alone gives an empty query); AMAZON.TIME hears the times
  in :data:`TIME_PATTERN` (virtual-alexa itself lets every built-in type but AMAZON.NUMBER hear
  anything; the test driver registers the same pattern, see tests/support/virtual_alexa.py).
- Of all matching samples, the one with the most literal characters wins (the matched text
  minus the slot values: an exact sample always beats a slot sample of the same words), then
  the one with more typed slots, then the first in the model's order. Which is why the
  free-text intent is declared last: "what" alone is both HesitationIntent's sample and
  "what {query}" with an empty query, with equal scores.
- Built-in intents also hear virtual-alexa's own phrases for them (:data:`BUILT_IN_UTTERANCES`,
  after the model's samples); declaring AMAZON.PauseIntent and AMAZON.ResumeIntent brings in the
  audio player's intents too, as it does in virtual-alexa.

Words that match nothing resolve to AMAZON.FallbackIntent, as on a device (virtual-alexa raises
instead). Slot values come back two ways: as heard (virtual-alexa sends these) and as Alexa
sends them (an AMAZON.TIME value as "HH:MM": "half past ten" is "10:30").
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
MODELS = REPO_ROOT / "interaction_model" / "interactionModels" / "custom"

FALLBACK = "AMAZON.FallbackIntent"
SEARCH_QUERY = "AMAZON.SearchQuery"

#: virtual-alexa 0.7.8's phrases for Alexa's built-in intents
#: (node_modules/virtual-alexa/lib/src/model/BuiltinUtterances.js, checked by a test). The
#: phrasings Alexa hears beyond these ("yeah", "nope") are samples in content/en/model.toml, so
#: that virtual-alexa and a device hear them too.
BUILT_IN_UTTERANCES: dict[str, tuple[str, ...]] = {
    "AMAZON.CancelIntent": ("cancel", "never mind"),
    "AMAZON.HelpIntent": ("help", "help me"),
    "AMAZON.LoopOffIntent": ("loop off",),
    "AMAZON.LoopOnIntent": ("loop", "loop on", "keep repeating this song"),
    "AMAZON.MoreIntent": ("more",),
    "AMAZON.NavigateHomeIntent": ("home", "go home"),
    "AMAZON.NavigateSettingsIntent": ("settings",),
    "AMAZON.NextIntent": ("next", "skip", "skip forward"),
    "AMAZON.NoIntent": ("no", "no thanks"),
    "AMAZON.PageDownIntent": ("page down",),
    "AMAZON.PageUpIntent": ("page up",),
    "AMAZON.PauseIntent": ("pause", "pause that"),
    "AMAZON.PreviousIntent": ("go back", "previous", "skip back", "back up"),
    "AMAZON.RepeatIntent": ("repeat", "say that again", "repeat that"),
    "AMAZON.ResumeIntent": ("resume", "continue", "keep going"),
    "AMAZON.ScrollDownIntent": ("scroll down",),
    "AMAZON.ScrollLeftIntent": ("scroll left",),
    "AMAZON.ScrollRightIntent": ("scroll right",),
    "AMAZON.ScrollUpIntent": ("scroll up",),
    "AMAZON.ShuffleOffIntent": ("shuffle off", "stop shuffling", "turn off shuffle"),
    "AMAZON.ShuffleOnIntent": ("shuffle", "shuffle on", "shuffle the music", "shuffle mode"),
    "AMAZON.StartOverIntent": ("start over", "restart", "start again"),
    "AMAZON.StopIntent": ("stop", "off", "shut up"),
    "AMAZON.YesIntent": ("yes", "yes please", "sure"),
}
#: Declared together, Pause and Resume make virtual-alexa add these too (audio player support).
AUDIO_PLAYER_INTENTS = (
    "AMAZON.PauseIntent", "AMAZON.ResumeIntent", "AMAZON.CancelIntent", "AMAZON.LoopOffIntent",
    "AMAZON.LoopOnIntent", "AMAZON.NextIntent", "AMAZON.PreviousIntent", "AMAZON.RepeatIntent",
    "AMAZON.ShuffleOffIntent", "AMAZON.ShuffleOnIntent", "AMAZON.StartOverIntent",
)  # fmt: skip

# --- AMAZON.TIME ------------------------------------------------------------------------------
# What the type hears, as one regular expression that JavaScript reads the same way (the
# virtual-alexa driver gets this very string). Parts of the day on their own ("morning", "in
# the evening") are left out but for "tonight": Alexa resolves them ("MO", "EV"), but here they
# would make the bare "{time}" sample, there to answer "what time?", hear the name of a routine
# or the start of a sentence ("in the evening my back ...").

_UNITS = "one|two|three|four|five|six|seven|eight|nine"
_HOUR = f"(?:{_UNITS}|ten|eleven|twelve|1[0-2]|0?[1-9])"
_HOUR24 = f"(?:{_HOUR[3:-1]}|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen" \
          f"|twenty(?: one| two| three)?|zero|1[3-9]|2[0-3]|00?)"
_MINUTE = f"(?:oh (?:{_UNITS})|o (?:{_UNITS})|ten|eleven|twelve|thirteen|fourteen|fifteen" \
          f"|sixteen|seventeen|eighteen|nineteen|(?:twenty|thirty|forty|fifty)(?: (?:{_UNITS}))?" \
          f"|hundred|[0-5][0-9])"
_DAYPART = "(?:a m|p m|am|pm|in the morning|in the afternoon|in the evening|at night|tonight" \
           "|this morning|this afternoon|this evening)"
_PAST = "(?:half|quarter|(?:twenty five|twenty|ten|five)(?: minutes)?)"
_TO = "(?:quarter|(?:twenty five|twenty|ten|five)(?: minutes)?)"
TIME_PATTERN = (
    f"(?:{_HOUR24}(?: {_MINUTE}| o'clock)?(?: {_DAYPART})?"
    f"|{_PAST} (?:past|after) {_HOUR}(?: {_DAYPART})?"
    f"|{_TO} (?:to|before|till) {_HOUR}(?: {_DAYPART})?"
    f"|half {_HOUR}(?: {_DAYPART})?"
    f"|(?:twelve )?(?:noon|midnight)|midday|tonight)"
)
#: Slot types virtual-alexa does not know that the driver registers, name -> pattern.
TYPED_BUILT_INS = {"AMAZON.TIME": TIME_PATTERN}

_NUMBERS = {w: n for n, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen"
    " fifteen sixteen seventeen eighteen nineteen twenty".split())}
_NUMBERS.update({"thirty": 30, "forty": 40, "fifty": 50, "oh": 0, "o": 0})
#: virtual-alexa's AMAZON.NUMBER words
_NUMBER_WORDS = frozenset(list(_NUMBERS)[1:21])
_VAGUE = {"tonight": "NI"}


def _number(words: Sequence[str]) -> int | None:
    """ "twenty five" -> 25, "oh five" -> 5, "22" -> 22."""
    total, seen = 0, False
    for word in words:
        value = int(word) if word.isdigit() else _NUMBERS.get(word)
        if value is None:
            return None
        total, seen = total + value, True
    return total if seen else None


def spoken_time(words: str) -> str | None:
    """An AMAZON.TIME value as Alexa sends it ("HH:MM", or "MO"/"AF"/"EV"/"NI" for a part of
    the day), for words the type hears; None for words it does not."""
    said = spoken(words)
    if not re.fullmatch(TIME_PATTERN, said):
        return None
    if said in _VAGUE:
        return _VAGUE[said]
    named = {"noon": (12, 0), "twelve noon": (12, 0), "midday": (12, 0), "midnight": (0, 0),
             "twelve midnight": (0, 0)}
    if said in named:
        hour, minute = named[said]
        return f"{hour:02d}:{minute:02d}"
    part = re.search(r" (a m|p m|am|pm|in the morning|in the afternoon|in the evening|at night"
                     r"|tonight|this morning|this afternoon|this evening)$", said)
    clock = said[:part.start()] if part else said
    later = part is not None and part.group(1) not in ("a m", "am", "in the morning",
                                                       "this morning")
    relative = re.fullmatch(r"(.+) (past|after|to|before|till) (.+)", clock)
    if relative:
        offset = {"half": 30, "quarter": 15}.get(relative.group(1)) or \
            _number(relative.group(1).removesuffix(" minutes").split()) or 0
        hour = _number(relative.group(3).split()) or 0
        minute = offset
        if relative.group(2) in ("to", "before", "till"):
            hour, minute = (hour - 1) % 24, 60 - offset
    elif clock.startswith("half "):
        hour, minute = _number(clock.split()[1:]) or 0, 30  # British "half ten" is 10:30
    else:
        words_ = clock.removesuffix(" o'clock").split()
        hour_words = words_[:2] if words_[:2] in (["twenty", "one"], ["twenty", "two"],
                                                 ["twenty", "three"]) else words_[:1]
        hour = _number(hour_words) or 0
        rest = words_[len(hour_words):]
        minute = 0 if rest in ([], ["hundred"]) else (_number(rest) or 0)
    if later and hour < 12:
        hour += 12
    if part and part.group(1) in ("a m", "am") and hour == 12:
        hour = 0
    return f"{hour % 24:02d}:{minute:02d}"


# --- words as Alexa hears them ----------------------------------------------------------------

#: virtual-alexa's cleaning: these characters are removed (not replaced by spaces).
_VIRTUAL_ALEXA_PUNCTUATION = re.compile(r"[!\"¿?|#$%/()=+\-_<>*{}·¡\[\].,;:]")


def spoken(text: str) -> str:
    """Text as a speech recogniser would hand it over: lower case, straight apostrophes, no
    punctuation, abbreviations joined ("p.m." is "pm"), one space between words."""
    text = text.lower().replace("’", "'").replace("‘", "'").replace("&", " and ")
    text = re.sub(r"(?<=\w)\.(?=\w)", "", text)  # p.m. -> pm., e.g. -> eg.
    text = re.sub(r"(\d)(am|pm)\b", r"\1 \2", text)
    text = re.sub(r"[^\w' ]+|_", " ", text)
    text = re.sub(r"(?<!\w)'|'(?!\w)", " ", text)  # quotes, not apostrophes
    return " ".join(text.split())


# --- the matcher ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Resolution:
    """What Alexa would send: the intent, and slot values as it sends them and as heard."""

    intent: str
    slots: dict[str, str] = field(default_factory=dict)
    heard: dict[str, str] = field(default_factory=dict)
    sample: str | None = None


@dataclass(frozen=True)
class _Sample:
    intent: str
    text: str
    regex: re.Pattern[str]
    slots: tuple[str, ...]
    #: the literal words before the first slot and after the last (lower case), or None when
    #: they hold a "." (a wildcard in virtual-alexa): a cheap test before the regex
    prefix: str | None
    suffix: str | None


def _regex(sample: str) -> tuple[str, tuple[str, ...], list[str]]:
    """virtual-alexa's SamplePhrase.phraseToRegex, one slot at a time, left to right; also the
    literal parts between the slots."""
    names: list[str] = []
    pattern = sample
    while (start := pattern.find("{")) != -1:
        end = pattern.find("}", start)
        inner = pattern[start + 1:end]
        names.append(inner.split("|", 1)[1].lstrip("|") if "|" in inner else inner)
        pattern = pattern[:start].strip() + "\0" + pattern[end + 1:].strip()
    # The sample's own words are a regular expression in virtual-alexa too; ours hold only
    # letters, apostrophes, hyphens and abbreviation periods, so only "." is special.
    literal = pattern.split("\0")
    parts = [re.escape(p).replace(r"\.", ".") for p in literal]
    return "(.*)".join(parts), tuple(names), literal


class Resolver:
    """Utterances -> intents and slots for one interaction model (its ``languageModel``)."""

    def __init__(self, language_model: Mapping[str, Any]) -> None:
        self.language_model = language_model
        self.invocation: str = str(language_model.get("invocationName", ""))
        intents = list(language_model.get("intents") or [])
        declared = {i["name"] for i in intents}
        audio = {"AMAZON.PauseIntent", "AMAZON.ResumeIntent"} <= declared
        self.slot_types: dict[str, dict[str, str]] = {
            i["name"]: {s["name"]: s["type"] for s in i.get("slots") or []} for i in intents}
        samples: dict[str, list[str]] = {i["name"]: list(i.get("samples") or []) for i in intents}
        order = [i["name"] for i in intents]
        for name, phrases in BUILT_IN_UTTERANCES.items():
            if name in declared or (audio and name in AUDIO_PLAYER_INTENTS):
                if name not in samples:
                    order.append(name)
                    samples[name] = []
                    self.slot_types[name] = {}
                samples[name].extend(phrases)
        self._samples: list[_Sample] = []
        for name in order:
            for text in samples[name]:
                regex, slots, literal = _regex(text)
                ends = [None if "." in p else p.lower() for p in (literal[0], literal[-1])]
                self._samples.append(_Sample(name, text, re.compile(regex, re.I), slots,
                                             ends[0], ends[1]))
        # Samples by the literal words they start with: a sample can only match an utterance
        # that starts with them, so each utterance looks up its own beginnings.
        self._by_prefix: dict[str, list[int]] = {}
        self._anywhere: list[int] = []
        for index, sample in enumerate(self._samples):
            if sample.prefix is None:
                self._anywhere.append(index)
            else:
                self._by_prefix.setdefault(sample.prefix, []).append(index)
        self._values: dict[str, dict[str, str]] = {}  # custom type -> lower-case word -> id
        for slot_type in language_model.get("types") or []:
            words = self._values.setdefault(slot_type["name"].lower(), {})
            for value in slot_type.get("values") or []:
                entry = value.get("name") or {}
                for word in [entry.get("value", ""), *(entry.get("synonyms") or [])]:
                    words.setdefault(word.lower(), value.get("id") or entry.get("value", ""))
        self._typed = {k.lower(): re.compile(f"(?:{v})", re.I) for k, v in
                       TYPED_BUILT_INS.items()}

    @classmethod
    def for_locale(cls, locale: str = "en-US") -> Resolver:
        return _for_locale(locale)

    @property
    def intents(self) -> list[str]:
        return list(dict.fromkeys(s.intent for s in self._samples))

    def _slot(self, intent: str, name: str, value: str) -> tuple[bool, str] | None:
        """(typed, the value as counted for the score) if the slot's type hears ``value``,
        None if it does not. Typed values count trimmed, untyped ones as captured, spaces
        included, as in virtual-alexa."""
        slot_type = self.slot_types.get(intent, {}).get(name)
        if slot_type is None:
            # virtual-alexa throws "Invalid schema - not slot": a model error, not a miss
            raise ValueError(f"{intent}: sample uses undeclared slot {name!r}")
        kind = slot_type.lower()
        trimmed = value.strip()
        if kind in self._values:
            return (True, trimmed) if trimmed.lower() in self._values[kind] else None
        if kind in self._typed:
            return (True, trimmed) if self._typed[kind].fullmatch(trimmed) else None
        if kind == "amazon.number":  # digits (even none), or the words one to twenty
            heard = re.fullmatch(r"[0-9]*", trimmed) or trimmed.lower() in _NUMBER_WORDS
            return (True, trimmed) if heard else None
        return (False, value)  # untyped: hears anything

    def matches(self, text: str) -> list[tuple[int, int, _Sample, dict[str, str]]]:
        """Every sample that hears ``text``: (score, typed slots, sample, slot values)."""
        said = _VIRTUAL_ALEXA_PUNCTUATION.sub("", text)
        lower = said.lower()
        candidates = list(self._anywhere)
        for end in range(len(lower) + 1):
            candidates += self._by_prefix.get(lower[:end], ())
        found = []
        for index in sorted(candidates):  # the model's order, for ties
            sample = self._samples[index]
            if sample.suffix is not None and not lower.endswith(sample.suffix):
                continue
            match = sample.regex.fullmatch(said)
            if not match:
                continue
            whole = match.group(0)
            values: dict[str, str] = {}
            counted, typed, ok = 0, 0, True
            for name, value in zip(sample.slots, match.groups(), strict=True):
                if value != whole and value.strip() and not value.startswith(" ") \
                        and not value.endswith(" "):
                    ok = False
                    break
                heard = self._slot(sample.intent, name, value)
                if heard is None:
                    ok = False
                    break
                is_typed, scored = heard
                counted += len(scored)
                typed += is_typed
                values[name] = value.strip()
            if ok:
                found.append((len(whole) - counted, typed, sample, values))
        return found

    def resolve(self, utterance: str) -> Resolution:
        """The intent and slots Alexa would send for ``utterance`` said in an open session."""
        return self._resolve(spoken(utterance))

    @lru_cache(maxsize=4096)  # noqa: B019 - one resolver per model, kept for the process
    def _resolve(self, said: str) -> Resolution:
        best: tuple[int, int, _Sample, dict[str, str]] | None = None
        for candidate in self.matches(said):
            if best is None or candidate[0] > best[0] or \
                    (candidate[0] == best[0] and candidate[1] > best[1]):
                best = candidate
        if best is None:
            return Resolution(FALLBACK)
        _, _, sample, heard = best
        return Resolution(sample.intent, self.sent_values(sample.intent, heard), heard,
                          sample.text)

    def sent_values(self, intent: str, heard: Mapping[str, str]) -> dict[str, str]:
        """Slot values as Alexa sends them: times as "HH:MM", everything else as said."""
        values = {}
        for name, value in heard.items():
            if self.slot_types.get(intent, {}).get(name) == "AMAZON.TIME":
                value = spoken_time(value) or value
            values[name] = value
        return values

    def value_id(self, slot_type: str, value: str) -> str | None:
        """The id of a custom slot value (for entity resolution), or None."""
        return self._values.get(slot_type.lower(), {}).get(spoken(value))


def language_model(locale: str = "en-US", models: Path = MODELS) -> dict[str, Any]:
    """The generated interaction model of a locale, as it ships (and as virtual-alexa reads it)."""
    path = models / f"{locale}.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    return dict(data["interactionModel"]["languageModel"])


@cache
def _for_locale(locale: str) -> Resolver:
    return Resolver(language_model(locale))


# --- how a line starts a session --------------------------------------------------------------

LAUNCH_WORDS = ("open", "launch", "start", "begin", "talk to", "load", "run", "use", "play")
ONE_SHOT_WORDS = ("ask", "tell")
CONNECTORS = ("to", "for", "about", "if", "whether", "that")
END_WORDS = ("exit", "goodbye alexa")


@dataclass(frozen=True)
class Heard:
    """A line said to the device: a launch, a one-shot ("ask <name> to ..."), words inside the
    open session, or leaving ("exit"). ``words`` is what goes to the resolver."""

    kind: str  # "launch" | "one_shot" | "session" | "end"
    words: str = ""


def heard(line: str, invocation: str) -> Heard:
    """How Alexa takes a line: "open <name>" launches; "ask <name> (to) ..." starts a session
    with a request; "exit" leaves; anything else is said in the open session."""
    said = spoken(line)
    said = re.sub(r"^alexa ", "", said)
    name = re.escape(spoken(invocation))
    if said in END_WORDS:
        return Heard("end")
    launch = "|".join(re.escape(w) for w in LAUNCH_WORDS)
    if re.fullmatch(rf"(?:{launch}) (?:the )?{name}(?: skill)?", said):
        return Heard("launch")
    ask = "|".join(ONE_SHOT_WORDS)
    connect = "|".join(CONNECTORS)
    one_shot = re.fullmatch(rf"(?:{ask}) {name} (?:(?:{connect}) )?(.+)", said)
    if one_shot:
        return Heard("one_shot", one_shot.group(1))
    return Heard("session", said)


# --- every sample, said ----------------------------------------------------------------------

#: What a free-text or time slot is filled with when a sample is said aloud for checking.
SAMPLE_FILLERS = {
    SEARCH_QUERY: ("my back feels stiff",),
    "AMAZON.TIME": ("ten pm", "half past ten", "seven am", "nine thirty", "tonight"),
    "AMAZON.NUMBER": ("seven", "3"),
}


def said_samples(language_model: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(intent, words, sample) for every sample of every intent, each slot filled with each of
    its type's values and synonyms (or :data:`SAMPLE_FILLERS`): every way the model says a
    command is meant to be heard, to check that each reaches its own intent."""
    types = {t["name"]: t for t in language_model.get("types") or []}
    found = []
    for intent in language_model.get("intents") or []:
        slot_types = {s["name"]: s["type"] for s in intent.get("slots") or []}
        for sample in intent.get("samples") or []:
            options: list[list[tuple[str, str]]] = []
            for name in re.findall(r"\{(\w+)\}", sample):
                kind = slot_types.get(name, SEARCH_QUERY)
                if kind in types:
                    words = [w for v in types[kind]["values"]
                             for w in [v["name"]["value"], *v["name"].get("synonyms", [])]]
                else:
                    words = list(SAMPLE_FILLERS.get(kind, SAMPLE_FILLERS[SEARCH_QUERY]))
                options.append([(name, w) for w in words])
            for picks in itertools.product(*options):
                words = sample
                for name, value in picks:
                    words = words.replace("{" + name + "}", value, 1)
                found.append((intent["name"], spoken(words), sample))
    return found
