"""`python -m tools validate`: what Amazon checks at build and certification time, offline.

Checks the skill package (``interaction_model/``: the manifest and every locale's interaction
model) and the content (every prompt, movement, answer, red-flag advice and paced hold rendered to
SSML) against Alexa's published rules, collected in docs and /work/shared/platform-notes. The
coach's own replies are the platform sweep's (tests/test_platform_rules.py): it drives the real
skill through every routine. Every finding names the file, the position inside it, the
offending text, the rule and why the rule exists. Errors make the exit status 1; warnings and
infos do not.

The SSML rules are tools/rules.py (the one definition the tests use too), in Python so that this
runs from the project venv alone; tests/test_validate.py cross-checks them against
ssml-check-core on the rendered content.
"""

from __future__ import annotations

import argparse
import json
import re
import string
import struct
import sys
import tomllib
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skill.core import content, redflag_model, speech
from tools import model, redflag, resolver, rules

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PACKAGE_DIR = model.PACKAGE_DIR
DEFAULT_CONTENT_DIR = model.CONTENT_DIR

# --- platform limits and word lists ---------------------------------------------------------

MAX_SLOT_VALUE_CHARS = 140
MAX_INTENTS = 250
MAX_MODEL_BYTES = 1_500_000
MIN_CUSTOM_SAMPLES = 15
MAX_NAME_CHARS = 50
MAX_SUMMARY_CHARS = 160
MAX_DESCRIPTION_CHARS = 4000
MAX_KEYWORDS = 30
EXAMPLE_PHRASES = 3
ICON_SIZES = {"smallIconUri": 108, "largeIconUri": 512}
DISCLAIMER = "not a substitute for professional medical advice"
APL_INTERFACE = "ALEXA_PRESENTATION_APL"
CAN_FULFILL_INTERFACE = model.CAN_FULFILL_INTERFACE
#: Interface types a custom skill's manifest may declare (apis.custom.interfaces[].type).
KNOWN_INTERFACES = frozenset({
    "ALEXA_PRESENTATION_APL", "ALEXA_PRESENTATION_HTML", "AUDIO_PLAYER",
    "CAN_FULFILL_INTENT_REQUEST", "GADGET_CONTROLLER", "GAME_ENGINE", "RENDER_TEMPLATE",
    "VIDEO_APP", "ALEXA_EXTENSION", "APP_LINKS", "ALEXA_SEARCH",
})  # fmt: skip
#: Name-free interaction (interactionModel._nameFreeInteraction): phrases per ingress point.
MAX_NAME_FREE_PHRASES = 5

#: Words that start a skill or wake a device: never part of an invocation name.
LAUNCH_WORDS = frozenset({
    "ask", "tell", "open", "launch", "begin", "enable", "start", "resume", "run", "load", "play",
    "use", "talk", "say", "stop", "cancel", "reload", "restart", "exit",
})  # fmt: skip
WAKE_WORDS = frozenset({"alexa", "amazon", "echo", "computer", "ziggy", "skill", "app"})
# "skill" and "app" are not wake words, but Amazon rejects invocation names containing them.
CONNECTING_WORDS = frozenset({"to", "from", "by", "if", "and", "whether", "for", "about", "that"})

#: Built-ins every custom skill must declare (the device handles NavigateHome, but it must exist).
REQUIRED_BUILTINS = ("AMAZON.CancelIntent", "AMAZON.HelpIntent", "AMAZON.StopIntent",
                     "AMAZON.NavigateHomeIntent")
RECOMMENDED_BUILTINS = ("AMAZON.FallbackIntent",)
#: Alexa's standard built-in intents (the coach's ``on_<Name>`` handlers map onto these).
KNOWN_BUILTINS = frozenset({
    "CancelIntent", "FallbackIntent", "HelpIntent", "LoopOffIntent", "LoopOnIntent",
    "MoreIntent", "NavigateHomeIntent", "NavigateSettingsIntent", "NextIntent", "NoIntent",
    "PageDownIntent", "PageUpIntent", "PauseIntent", "PreviousIntent", "RepeatIntent",
    "ResumeIntent", "ScrollDownIntent", "ScrollLeftIntent", "ScrollRightIntent",
    "ScrollUpIntent", "SelectIntent", "ShuffleOffIntent", "ShuffleOnIntent", "StartOverIntent",
    "StopIntent", "YesIntent", "SendToPhoneIntent",
})  # fmt: skip

#: What built-in slot types can hear, for deciding whether a slot sample swallows a literal one.
#: AMAZON.TIME hears tools.resolver.TIME_PATTERN (one definition, shared with the resolver and
#: the virtual-alexa driver). A type not known here is treated as matching any words (reported
#: as a warning, not an error).
BUILTIN_SLOT_WORDS = {
    "AMAZON.NUMBER": (
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy "
        "eighty ninety hundred thousand and"
    ).split(),
}

#: Words a free-text carrier must not hold: the carrier is dropped, so the meaning would flip.
NEGATIONS = frozenset({"no", "not", "never", "nothing", "none", "without", "nor", "neither",
                       "cannot"})

SEARCH_QUERY_TYPE = "AMAZON.SearchQuery"

_SLOT = re.compile(r"\{([^{}]*)\}")
_SLOT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_ABBREVIATION = re.compile(r"^(?:[a-z]\.)+[a-z]?$", re.IGNORECASE)
_EXAMPLE_PREFIX = re.compile(
    r"^alexa,\s+(?:ask|tell|open|launch|start|begin|use|talk to|load|play|run)\s+", re.IGNORECASE
)


# --- findings -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Finding:
    level: str  # "error" | "warning" | "info"
    file: str
    where: str  # position inside the file, e.g. intents[3].samples[5]
    rule: str
    why: str
    text: str | None = None

    def __str__(self) -> str:
        place = " ".join(p for p in (self.where, _quote(self.text) if self.text else "") if p)
        return f"{self.level}: {self.file}: {place + ': ' if place else ''}{self.rule}: {self.why}"


def _quote(text: str, width: int = 90) -> str:
    one_line = " ".join(text.split())
    if len(one_line) > width:
        one_line = one_line[: width - 1] + "…"
    return json.dumps(one_line, ensure_ascii=False)


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    checked: Counter[str] = field(default_factory=Counter)
    #: every SSML string checked, as (where, ssml): the tests cross-check them with
    #: ssml-check-core
    ssml: list[tuple[str, str]] = field(default_factory=list)

    def add(self, level: str, file: str, where: str, rule: str, why: str,
            text: str | None = None) -> None:
        self.findings.append(Finding(level, file, where, rule, why, text))

    def error(self, *args: Any, **kwargs: Any) -> None:
        self.add("error", *args, **kwargs)

    def warning(self, *args: Any, **kwargs: Any) -> None:
        self.add("warning", *args, **kwargs)

    def info(self, *args: Any, **kwargs: Any) -> None:
        self.add("info", *args, **kwargs)

    def of(self, level: str) -> list[Finding]:
        return [f for f in self.findings if f.level == level]

    @property
    def errors(self) -> list[Finding]:
        return self.of("error")

    def rules(self, level: str = "error") -> set[str]:
        return {f.rule for f in self.of(level)}


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        try:
            return str(path.resolve().relative_to(REPO_ROOT))
        except ValueError:
            return str(path)


# --- SSML -----------------------------------------------------------------------------------

def ssml_errors(ssml: str) -> list[tuple[str, str]]:
    """(rule, why) for everything in ``ssml`` that would make Alexa reject the response: the
    rules of tools/rules.py, by their group (``ssml-break`` for every break rule)."""
    return [(problem.group, problem.why) for problem in rules.ssml_problems(ssml)]


def check_ssml(report: Report, file: str, where: str, ssml: str) -> None:
    report.checked["SSML strings"] += 1
    report.ssml.append((f"{file}: {where}", ssml))
    for rule, why in ssml_errors(ssml):
        report.error(file, where, rule, why, ssml)


# --- the interaction model ------------------------------------------------------------------

def check_invocation(report: Report, file: str, name: Any) -> None:
    where = "interactionModel.languageModel.invocationName"
    if not isinstance(name, str) or not name.strip():
        report.error(file, where, "invocation-missing", "every model needs an invocation name")
        return
    words = name.split()
    if re.search(r"\d", name):
        report.error(file, where, "invocation-numbers",
                     "numbers must be spelled out (\"twenty one\", not \"21\")", name)
    bad = sorted(set(re.sub(r"[a-z .']", "", name)))
    if bad:
        report.error(file, where, "invocation-characters",
                     f"only lower-case letters, spaces, possessive apostrophes and periods in"
                     f" spelled abbreviations are allowed; found {''.join(bad)!r}", name)
    for word in words:
        if "." in word and not _ABBREVIATION.match(word):
            report.error(file, where, "invocation-characters",
                         f"a period is allowed only in a spelled abbreviation (\"a. b. c.\"), not"
                         f" in {word!r}", name)
        if "'" in word and not re.fullmatch(r"[a-z]+'s?|[a-z]+s'", word):
            report.error(file, where, "invocation-characters",
                         f"an apostrophe is allowed only as a possessive, not in {word!r}", name)
    if len(words) < 2:
        report.error(file, where, "invocation-one-word",
                     "an invocation name needs at least two words (one-word names are reserved"
                     " for brands)", name)
    plain = [w.strip(".'").removesuffix("'s") for w in words]
    launch = [w for w in plain if w in LAUNCH_WORDS]
    if launch:
        report.error(file, where, "invocation-launch-word",
                     f"{', '.join(launch)!s}: launch words make \"Alexa, ask <name>\" ambiguous",
                     name)
    wake = [w for w in plain if w in WAKE_WORDS]
    if wake:
        report.error(file, where, "invocation-wake-word",
                     f"{', '.join(wake)}: wake words and \"skill\"/\"app\" are not allowed", name)
    if plain and plain[-1] in CONNECTING_WORDS:
        report.error(file, where, "invocation-connecting-word",
                     f"ends with {plain[-1]!r}, which Alexa reads as the start of a request",
                     name)


def slot_names(sample: str) -> list[str]:
    return _SLOT.findall(sample)


def typed_sample(sample: str, slots: dict[str, str]) -> str:
    """``sample`` with each slot name replaced by its type: "{routine}" -> "{RoutineType}"."""
    return _SLOT.sub(lambda m: "{" + str(slots.get(m.group(1))) + "}", sample)


def normalise(sample: str) -> str:
    return " ".join(sample.lower().split())


def check_sample_text(report: Report, file: str, where: str, sample: Any) -> bool:
    """Characters and slot syntax of one sample; False if it is unusable for later checks."""
    if not isinstance(sample, str) or not sample.strip():
        report.error(file, where, "sample-empty", "a sample must be a non-empty string",
                     str(sample))
        return False
    if sample.count("{") != sample.count("}") or re.search(r"\{[^}]*\{|\}[^{]*\}", sample):
        report.error(file, where, "sample-braces", "unbalanced { } around a slot name", sample)
        return False
    for name in slot_names(sample):
        if not _SLOT_NAME.match(name):
            report.error(file, where, "sample-slot-name",
                         f"{{{name}}} is not a valid slot name (letters, digits, underscore)",
                         sample)
    words = _SLOT.sub(" ", sample)
    if re.search(r"\d", words):
        report.error(file, where, "sample-numbers",
                     "numbers must be spelled out: Alexa hears words, and \"2\" fails the build",
                     sample)
    bad = sorted({c for c in words if not (c.isalpha() or c in " '.-" or c.isdigit())})
    if bad:
        report.error(file, where, "sample-characters",
                     f"only letters, spaces, apostrophes, hyphens and periods in abbreviations"
                     f" are allowed; found {''.join(bad)!r}", sample)
    for word in words.split():
        if "." in word and not _ABBREVIATION.match(word.strip("'")):
            report.error(file, where, "sample-characters",
                         f"a period is allowed only in a spelled abbreviation (\"p.m.\"), not in"
                         f" {word!r}", sample)
    return True


@dataclass
class Intent:
    index: int
    name: str
    samples: list[tuple[int, str]]
    slots: dict[str, str]  # name -> type


def _slot_alternatives(slot_type: str, types: dict[str, set[str]]) -> str | None:
    """A regex for what a slot of this type can hear; None means "anything" (free-form)."""
    if slot_type in types:
        words = sorted(types[slot_type], key=len, reverse=True)
        return "(?:" + "|".join(re.escape(w) for w in words) + ")" if words else None
    if slot_type in resolver.TYPED_BUILT_INS:
        return f"(?:{resolver.TYPED_BUILT_INS[slot_type]})"
    if slot_type in BUILTIN_SLOT_WORDS:
        vocabulary = "|".join(re.escape(w) for w in BUILTIN_SLOT_WORDS[slot_type])
        return rf"(?:(?:{vocabulary})(?: (?:{vocabulary}))*)"
    return None


_PATTERNS: dict[tuple[Any, ...], tuple[re.Pattern[str], set[str]]] = {}


def sample_pattern(sample: str, slots: dict[str, str], types: dict[str, set[str]]
                   ) -> tuple[re.Pattern[str], set[str]]:
    """A regex matching what Alexa could hear for this sample, and the free-form slot types.
    Kept per sample and the words of its slots' types: the overlap and example-phrase checks
    ask for the same thousands of samples in every locale."""
    used = [(n, slots.get(n, SEARCH_QUERY_TYPE)) for n in slot_names(normalise(sample))]
    key = (sample, tuple((n, t, tuple(sorted(types.get(t, ())))) for n, t in used))
    if key not in _PATTERNS:
        _PATTERNS[key] = _sample_pattern(sample, slots, types)
    return _PATTERNS[key]


def _sample_pattern(sample: str, slots: dict[str, str], types: dict[str, set[str]]
                    ) -> tuple[re.Pattern[str], set[str]]:
    parts, free = [], set()
    last = 0
    text = normalise(sample)
    for match in _SLOT.finditer(text):
        parts.append(re.escape(text[last:match.start()]))
        slot_type = slots.get(match.group(1), SEARCH_QUERY_TYPE)
        alternatives = _slot_alternatives(slot_type, types)
        if alternatives is None:
            free.add(slot_type)
            alternatives = r"(?:\S+(?: \S+)*)"
        parts.append(alternatives)
        last = match.end()
    parts.append(re.escape(text[last:]))
    return re.compile("".join(parts)), free


def check_language_model(report: Report, file: str, data: Any, handled: set[str],
                         awaiting: frozenset[str] = frozenset()) -> list[Intent]:
    """Every rule on one locale's interaction model. Returns its intents for later checks.
    ``awaiting`` are intents model.toml declares for the coach to wire later."""
    lm = (((data or {}).get("interactionModel") or {}).get("languageModel")) \
        if isinstance(data, dict) else None
    if not isinstance(lm, dict):
        report.error(file, "interactionModel.languageModel", "model-shape",
                     "the file needs interactionModel.languageModel")
        return []
    check_invocation(report, file, lm.get("invocationName"))
    size = len(json.dumps(data).encode("utf-8"))
    if size > MAX_MODEL_BYTES:
        report.error(file, "", "model-size", f"{size} bytes; Alexa allows 1.5 MB")

    types: dict[str, set[str]] = {}
    for t_index, slot_type in enumerate(lm.get("types") or []):
        type_where = f"types[{t_index}]"
        words: set[str] = set()
        seen_ids: set[str] = set()
        owner: dict[str, str] = {}
        for v_index, value in enumerate(slot_type.get("values") or []):
            value_id = value.get("id")
            if value_id in seen_ids:
                report.error(file, f"{type_where}.values[{v_index}].id", "slot-value-duplicate-id",
                             "two values of one slot type share an id", str(value_id))
            seen_ids.add(value_id)
            name = value.get("name") or {}
            spoken_forms = [name.get("value")] + list(name.get("synonyms") or [])
            for s_index, word in enumerate(spoken_forms):
                where = (f"{type_where}.values[{v_index}].name.value" if s_index == 0 else
                         f"{type_where}.values[{v_index}].name.synonyms[{s_index - 1}]")
                if not isinstance(word, str) or not word.strip():
                    report.error(file, where, "slot-value-empty", "a slot value needs words")
                    continue
                report.checked["slot values"] += 1
                if len(word) > MAX_SLOT_VALUE_CHARS:
                    report.error(file, where, "slot-value-length",
                                 f"{len(word)} characters; Alexa allows {MAX_SLOT_VALUE_CHARS}",
                                 word)
                key = normalise(word)
                if key in owner and owner[key] != value_id:
                    report.warning(file, where, "slot-value-ambiguous",
                                   f"also a synonym of value {owner[key]!r}: Alexa can resolve it"
                                   " to either", word)
                owner.setdefault(key, value_id)
                words.add(key)
        types[slot_type.get("name", "")] = words

    intents: list[Intent] = []
    raw_intents = lm.get("intents") or []
    if len(raw_intents) > MAX_INTENTS:
        report.error(file, "intents", "model-intents", f"{len(raw_intents)} intents; the limit is"
                     f" {MAX_INTENTS}")
    for i_index, raw in enumerate(raw_intents):
        slots = {s.get("name"): s.get("type") for s in raw.get("slots") or []}
        samples = [(n, s) for n, s in enumerate(raw.get("samples") or [])
                   if check_sample_text(report, file, f"intents[{i_index}].samples[{n}]", s)]
        intents.append(Intent(i_index, raw.get("name", ""), samples, slots))
        report.checked["sample utterances"] += len(samples)
    names = [intent.name for intent in intents]
    report.checked["intents"] += len(names)

    for name in REQUIRED_BUILTINS:
        if name not in names:
            report.error(file, "intents", "builtin-required",
                         f"{name} is required in every custom skill", name)
    for name in RECOMMENDED_BUILTINS:
        if name not in names:
            report.warning(file, "intents", "builtin-recommended",
                           f"{name} is strongly recommended: without it Alexa forces an"
                           " unrelated intent on words it does not understand", name)
    for name in sorted(handled - set(names)):
        report.error(file, "intents", "intent-not-in-model",
                     f"the coach handles {name}, but Alexa only sends it if the model declares"
                     " it", name)
    for intent in intents:
        if intent.name in awaiting:
            if intent.name in handled:
                report.warning(file, f"intents[{intent.index}]", "intent-awaiting-handled",
                               "marked awaiting_coach in model.toml, but the coach handles it"
                               " now: remove the marker, so a lost handler is an error again",
                               intent.name)
            else:
                report.warning(file, f"intents[{intent.index}]", "intent-awaiting-coach",
                               "declared for the conversation work (awaiting_coach in"
                               " model.toml); until the coach handles it, Alexa's requests for"
                               " it get the fallback answer", intent.name)
        elif intent.name not in handled and intent.name != "AMAZON.NavigateHomeIntent" and \
                content.opening(intent.name) is None:  # the coach reads those as free text
            report.error(file, f"intents[{intent.index}]", "intent-not-handled",
                         "declared in the model but the coach has no handler for it: Alexa"
                         " would send it and get the fallback answer", intent.name)
        if names.count(intent.name) > 1:
            report.error(file, f"intents[{intent.index}]", "intent-duplicate",
                         "declared more than once", intent.name)

    _check_slots(report, file, intents, types)
    _check_overlaps(report, file, intents, types)
    if not any(f.rule.startswith("sample-") or f.rule.startswith("slot-")
               for f in report.of("error") if f.file == file):
        _check_said_samples(report, file, lm)
    _check_name_free(report, file, data.get("interactionModel") or {}, intents)
    return intents


#: the last model checked (locales sharing a language have the same one): (said, stolen)
_SAID_CHECKED: dict[str, tuple[int, list[tuple[str, str, str, str, str]]]] = {}


def _check_said_samples(report: Report, file: str, lm: dict[str, Any]) -> None:
    """Every sample, said with each of its slot values, must reach its own intent under the
    project's resolver (virtual-alexa's matching): a carrier or a typed slot sample of another
    intent that hears it first steals the command."""
    # What decides where words go: the intents and the slot types (not the invocation name).
    key = json.dumps([lm.get("intents"), lm.get("types")], sort_keys=True)
    if key not in _SAID_CHECKED:  # locales sharing a language have the same model
        heard = resolver.Resolver(lm)
        said = resolver.said_samples(lm)
        stolen = []
        for intent, words, sample in said:
            resolved = heard.resolve(words)
            if resolved.intent != intent:
                stolen.append((intent, sample, words, resolved.intent, resolved.sample or ""))
        _SAID_CHECKED.clear()
        _SAID_CHECKED[key] = (len(said), stolen)
    count, stolen = _SAID_CHECKED[key]
    report.checked["samples said with their slot values and resolved"] += count
    index = {i.get("name"): n for n, i in enumerate(lm.get("intents") or [])}
    seen: set[tuple[str, str]] = set()
    for intent, sample, words, got, via in stolen:
        if (intent, sample) in seen:
            continue
        seen.add((intent, sample))
        samples = (lm["intents"][index[intent]].get("samples") or [])
        where = f"intents[{index[intent]}].samples[{samples.index(sample)}]"
        report.error(file, where, "sample-stolen",
                     f"said as {words!r} it reaches {got} (sample {via!r}), not {intent}: that"
                     " sample hears it first (more literal words, a typed slot, or declared"
                     " earlier)", sample)


def _check_name_free(report: Report, file: str, model_data: dict[str, Any],
                     intents: list[Intent]) -> None:
    """The name-free interaction container: skill launch phrases (LAUNCH) and intent launch
    phrases (INTENT, a custom intent of this model), at most five each, slot-free sample
    utterances in RAW_TEXT format."""
    container = model_data.get("_nameFreeInteraction")
    base = "interactionModel._nameFreeInteraction"
    if container is None:
        return
    points = container.get("ingressPoints") if isinstance(container, dict) else None
    if not isinstance(points, list) or not points:
        report.error(file, base, "name-free-shape", "needs a non-empty ingressPoints list")
        return
    names = {i.name for i in intents}
    seen_intents: set[str] = set()
    launches = 0
    for p_index, point in enumerate(points):
        where = f"{base}.ingressPoints[{p_index}]"
        kind = point.get("type") if isinstance(point, dict) else None
        if kind == "LAUNCH":
            launches += 1
            if "name" in point:
                report.error(file, where, "name-free-shape", "a LAUNCH ingress point has no name")
        elif kind == "INTENT":
            name = point.get("name")
            if name not in names or str(name).startswith("AMAZON."):
                report.error(file, f"{where}.name", "name-free-intent",
                             "an intent launch phrase must go to a custom intent of this model",
                             str(name))
            if name in seen_intents:
                report.error(file, f"{where}.name", "name-free-shape",
                             "one ingress point per intent", str(name))
            seen_intents.add(str(name))
        else:
            report.error(file, f"{where}.type", "name-free-shape",
                         "type must be LAUNCH or INTENT", str(kind))
            continue
        phrases = point.get("sampleUtterances")
        if not isinstance(phrases, list) or not phrases:
            report.error(file, where, "name-free-shape", "needs sampleUtterances")
            continue
        if len(phrases) > MAX_NAME_FREE_PHRASES:
            report.error(file, f"{where}.sampleUtterances", "name-free-phrases-count",
                         f"{len(phrases)} phrases; Alexa takes at most {MAX_NAME_FREE_PHRASES}")
        values = []
        for u_index, phrase in enumerate(phrases):
            at = f"{where}.sampleUtterances[{u_index}]"
            value = phrase.get("value") if isinstance(phrase, dict) else None
            if not isinstance(phrase, dict) or phrase.get("format") != "RAW_TEXT":
                report.error(file, at, "name-free-shape", "format must be RAW_TEXT")
            if not isinstance(value, str) or not value.strip():
                report.error(file, at, "name-free-shape", "a phrase needs words")
                continue
            report.checked["name-free phrases"] += 1
            if _SLOT.search(value):
                report.error(file, at, "name-free-slot",
                             "name-free phrases cannot hold slots: write a whole phrase", value)
            elif not check_sample_text(report, file, at, value):
                continue
            if normalise(value) in values:
                report.error(file, at, "name-free-duplicate", "said twice", value)
            values.append(normalise(value))
    if launches > 1:
        report.error(file, base, "name-free-shape", "one LAUNCH ingress point holds them all")


def _check_slots(report: Report, file: str, intents: list[Intent],
                 types: dict[str, set[str]]) -> None:
    for intent in intents:
        base = f"intents[{intent.index}]"
        used: set[str] = set()
        for s_index, sample in intent.samples:
            where = f"{base}.samples[{s_index}]"
            names = slot_names(sample)
            used.update(names)
            for name in names:
                if name not in intent.slots:
                    report.error(file, where, "slot-undeclared",
                                 f"{{{name}}} is not declared in the intent's slots", sample)
            search = [n for n in names if intent.slots.get(n) == "AMAZON.SearchQuery"]
            if search and not _SLOT.sub("", sample).strip():
                report.error(file, where, "searchquery-carrier",
                             "an AMAZON.SearchQuery sample needs a carrier phrase: a slot-only"
                             " sample fails the build", sample)
            # An opening intent's own words are put back by the coach; only the rest is lost.
            kept = (content.opening(intent.name) or "").split()
            carrier = _SLOT.sub(" ", sample).split()
            if kept and carrier[-len(kept):] == kept:
                carrier = carrier[:-len(kept)]
            lost = [w for w in carrier if w in NEGATIONS or w.endswith("n't")] if search else []
            if lost:
                report.error(file, where, "searchquery-carrier-negation",
                             f"{' '.join(lost)!r} is in the carrier, and a carrier is not sent:"
                             f" \"{' '.join(lost)} numbness\" would reach the skill as"
                             " \"numbness\", a red flag said to deny it heard as raised",
                             sample)
            if search and len(names) > 1:
                report.error(file, where, "searchquery-alone",
                             "a sample with an AMAZON.SearchQuery slot cannot hold other slots",
                             sample)
        for name, slot_type in intent.slots.items():
            if name not in used:
                report.error(file, base, "slot-unused",
                             f"slot {name!r} is declared but no sample uses it", intent.name)
            if not (isinstance(slot_type, str) and
                    (slot_type.startswith("AMAZON.") or slot_type in types)):
                report.error(file, base, "slot-type-unknown",
                             f"slot {name!r} has type {slot_type!r}, which is neither built in"
                             " nor declared in types", intent.name)
        if not intent.name.startswith("AMAZON."):
            distinct = {normalise(s) for _, s in intent.samples}
            if len(distinct) < MIN_CUSTOM_SAMPLES:
                report.error(file, base, "samples-too-few",
                             f"{len(distinct)} distinct samples; a custom intent needs at least"
                             f" {MIN_CUSTOM_SAMPLES} to be recognised reliably", intent.name)


def _check_overlaps(report: Report, file: str, intents: list[Intent],
                    types: dict[str, set[str]]) -> None:
    literal_owner: dict[str, tuple[Intent, int]] = {}
    pattern_owner: dict[str, tuple[Intent, int]] = {}
    for intent in intents:
        seen: dict[str, int] = {}
        for s_index, sample in intent.samples:
            key = normalise(sample)
            where = f"intents[{intent.index}].samples[{s_index}]"
            if key in seen:
                report.error(file, where, "sample-duplicate",
                             f"repeats intents[{intent.index}].samples[{seen[key]}] in the same"
                             " intent", sample)
                continue
            seen[key] = s_index
            # Two intents with the same sample (slot names replaced by their types) clash.
            typed = typed_sample(key, intent.slots)
            owners = literal_owner if not slot_names(key) else pattern_owner
            if typed in owners and owners[typed][0].name != intent.name:
                other, other_index = owners[typed]
                report.error(file, where, "sample-in-two-intents",
                             f"also a sample of {other.name} (intents[{other.index}].samples"
                             f"[{other_index}]): Alexa cannot tell which intent is meant", sample)
            owners.setdefault(typed, (intent, s_index))

    for intent in intents:
        for s_index, sample in intent.samples:
            if not slot_names(sample):
                continue
            pattern, free = sample_pattern(sample, intent.slots, types)
            where = f"intents[{intent.index}].samples[{s_index}]"
            for literal, (other, other_index) in literal_owner.items():
                if other.name == intent.name or not pattern.fullmatch(literal):
                    continue
                report.checked["slot samples compared with literal samples"] += 1
                where_other = f"{other.name} (intents[{other.index}].samples[{other_index}])"
                if free == {"AMAZON.SearchQuery"}:
                    report.info(file, where, "searchquery-overlap",
                                f"could also hear {literal!r}, a sample of {where_other}; Alexa"
                                " prefers the exact sample, so this is usually fine", sample)
                elif free:
                    report.warning(file, where, "slot-sample-clash",
                                   f"a free-form {', '.join(sorted(free))} slot could hear"
                                   f" {literal!r}, a sample of {where_other}", sample)
                else:
                    report.error(file, where, "slot-sample-clash",
                                 f"with a slot value this is {literal!r}, a sample of"
                                 f" {where_other}: Alexa cannot tell which intent is meant",
                                 sample)


# --- locales in sync ------------------------------------------------------------------------

def _first_difference(a: Any, b: Any, path: str = "") -> str | None:
    if type(a) is not type(b):
        return path or "(top)"
    if isinstance(a, dict):
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                return f"{path}.{key}".lstrip(".")
            found = _first_difference(a[key], b[key], f"{path}.{key}")
            if found:
                return found.lstrip(".")
        return None
    if isinstance(a, list):
        for index, (x, y) in enumerate(zip(a, b, strict=False)):
            found = _first_difference(x, y, f"{path}[{index}]")
            if found:
                return found
        return f"{path}[{min(len(a), len(b))}]" if len(a) != len(b) else None
    return None if a == b else (path.lstrip(".") or "(top)")


def check_locales_in_sync(report: Report, package_dir: Path,
                          models: dict[str, tuple[str, Any]]) -> None:
    """Locales that share a content language must have the same model, and the files must be
    exactly what ``tools.model`` generates from content/<language>/model.toml."""
    by_language: dict[str, tuple[str, Any]] = {}
    for locale, (file, data) in sorted(models.items(), key=lambda kv: kv[0] != "en-US"):
        language = content.LANGUAGES.get(locale)
        if language is None:
            report.warning(file, "", "locale-unknown",
                           f"{locale} is not one of the locales the skill ships"
                           f" ({', '.join(content.LANGUAGES)})")
            continue
        if language in by_language:
            first_file, first = by_language[language]
            difference = _first_difference(first, data)
            if difference:
                report.error(file, difference, "locales-out-of-sync",
                             f"differs from {first_file}: locales sharing the {language!r}"
                             " content must have identical models (edit model.toml and run"
                             " `make model`)")
        else:
            by_language[language] = (file, data)
    for locale in content.LANGUAGES:
        if locale not in models:
            report.error(_display(package_dir / "interactionModels" / "custom"), "",
                         "locale-missing", f"no interaction model for {locale}, a locale the"
                         " skill ships", f"{locale}.json")
    for path, text in model.rendered(package_dir).items():
        report.checked["generated files compared"] += 1
        file = _display(path)
        if not path.exists():
            report.error(file, "", "model-drift", "missing: run `make model` to generate it")
        elif path.read_text(encoding="utf-8") != text:
            source = ("the content files" if path.parent == content.BUNDLE_DIR
                      else "content/<language>/model.toml")
            report.error(file, "", "model-drift",
                         f"differs from what tools/model.py generates from {source}: edit the"
                         " TOML, not the JSON, and run `make model`")
    for language in redflag.languages():
        report.checked["generated files compared"] += 1
        file = _display(redflag_model.path(language))
        if redflag.stale(language):
            report.error(file, "", "model-drift",
                         "not the red-flag model its data gives (the rules, the tunable sets or"
                         " the safety tests changed): run `make model`")


# --- the manifest ---------------------------------------------------------------------------

def png_size(path: Path) -> tuple[int, int] | None:
    """Width and height of a PNG file, or None if it is not a valid PNG."""
    data = path.read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    if zlib.crc32(data[12:29]) != struct.unpack(">I", data[29:33])[0]:
        return None
    return width, height


def example_utterance(phrase: str, invocation: str) -> str | None:
    """The sample a manifest example phrase must match; "" for a plain launch; None if the
    phrase is not of the form "Alexa, <launch word> <invocation> ..."."""
    text = " ".join(phrase.strip().rstrip(".?!").split())
    match = _EXAMPLE_PREFIX.match(text)
    if not match:
        return None
    rest = text[match.end():]
    if not rest.lower().startswith(invocation.lower()):
        return None
    rest = rest[len(invocation):].strip().lstrip(",").strip()
    for connector in ("to ", "and ", "for ", "about ", "that ", "if ", "whether "):
        if rest.lower().startswith(connector):
            candidate = rest[len(connector):]
            return candidate
    return rest


def _matches_sample(utterance: str, intents: list[Intent], types: dict[str, set[str]],
                    connector_free: str | None = None) -> bool:
    wanted = {normalise(utterance)} | ({normalise(connector_free)} if connector_free else set())
    for intent in intents:
        for _, sample in intent.samples:
            pattern, _ = sample_pattern(sample, intent.slots, types)
            if any(pattern.fullmatch(w) for w in wanted):
                return True
    return False


def check_manifest(report: Report, package_dir: Path, models: dict[str, tuple[str, Any]],
                   intents_by_locale: dict[str, list[Intent]],
                   types_by_locale: dict[str, dict[str, set[str]]]) -> None:
    path = package_dir / "skill.json"
    file = _display(path)
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))["manifest"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        report.error(file, "", "manifest-unreadable", f"cannot read manifest: {error}")
        return
    report.checked["manifests"] += 1
    publishing = manifest.get("publishingInformation") or {}
    locales = publishing.get("locales") or {}
    for locale in sorted(set(models) | set(content.LANGUAGES)):
        base = f"manifest.publishingInformation.locales.{locale}"
        info = locales.get(locale)
        if not isinstance(info, dict):
            report.error(file, base, "manifest-locale-missing",
                         f"no store listing for {locale}, which has an interaction model")
            continue
        invocation = (((models.get(locale, ("", {}))[1] or {}).get("interactionModel") or {})
                      .get("languageModel") or {}).get("invocationName", "")
        _check_listing(report, file, base, info, invocation, intents_by_locale.get(locale, []),
                       types_by_locale.get(locale, {}), package_dir)
    if not publishing.get("category"):
        report.error(file, "manifest.publishingInformation.category", "manifest-category",
                     "a category is required for certification")
    if not publishing.get("testingInstructions"):
        report.error(file, "manifest.publishingInformation.testingInstructions",
                     "manifest-testing-instructions", "certification testers need instructions")
    if publishing.get("isAvailableWorldwide") is False and not publishing.get(
            "distributionCountries"):
        report.error(file, "manifest.publishingInformation.distributionCountries",
                     "manifest-distribution", "not available worldwide, so countries are needed")
    _check_privacy(report, file, manifest.get("privacyAndCompliance"), set(models))
    interfaces = (((manifest.get("apis") or {}).get("custom") or {}).get("interfaces") or [])
    declared = [i.get("type") for i in interfaces if isinstance(i, dict)]
    for i_index, kind in enumerate(declared):
        where = f"manifest.apis.custom.interfaces[{i_index}]"
        if kind not in KNOWN_INTERFACES:
            report.error(file, where, "manifest-interface-unknown",
                         "not an interface type a custom skill can declare", str(kind))
        elif declared.count(kind) > 1 and declared.index(kind) != i_index:
            report.error(file, where, "manifest-interface-duplicate", "declared twice", kind)
    _check_can_fulfill(report, file, CAN_FULFILL_INTERFACE in declared)
    if APL_INTERFACE not in declared:
        report.error(file, "manifest.apis.custom.interfaces", "manifest-apl-interface",
                     f"{APL_INTERFACE} must be declared, or Echo Show devices never report APL"
                     " support and the screens are never sent")
    from skill.core.conversation import REMINDER_PERMISSION

    permissions = {p.get("name") for p in manifest.get("permissions") or []}
    if REMINDER_PERMISSION not in permissions:
        report.error(file, "manifest.permissions", "manifest-permission",
                     f"the coach asks for {REMINDER_PERMISSION}; the manifest must"
                     " declare it")


def _check_can_fulfill(report: Report, file: str, declared: bool) -> None:
    """Declaring CAN_FULFILL_INTENT_REQUEST tells Alexa to ask the skill about name-free
    requests: the skill must answer them, and model.toml must say it takes part."""
    wanted = bool(model.name_free().get("can_fulfill"))
    where = "manifest.apis.custom.interfaces"
    if wanted and not declared:
        report.error(file, where, "manifest-can-fulfill",
                     f"model.toml's [name_free] can_fulfill is on, but {CAN_FULFILL_INTERFACE} is"
                     " not declared: Alexa would never ask the skill (run `make model`)")
    if declared and not _answers_can_fulfill():
        report.error(file, where, "manifest-can-fulfill",
                     f"{CAN_FULFILL_INTERFACE} is declared, but the skill does not answer a"
                     " CanFulfillIntentRequest with canFulfillIntent: Alexa would take that as"
                     " a no to every name-free request")


def _answers_can_fulfill() -> bool:
    """Whether the skill, as built, answers a CanFulfillIntentRequest (one real envelope
    through the handler, with no store: it must not need one)."""
    from skill.alexa import app
    from tools import envelopes

    request = envelopes.can_fulfill_request(resolver.language_model(), "StartRoutineIntent",
                                            {"routine": "morning"})
    skill_id = "amzn1.ask.skill.validate"  # a skill built for its own ID, as deployed
    caller = envelopes.Caller(session_id="validate", new=True, skill_id=skill_id)
    event = envelopes.envelope(request, caller, request_id="validate",
                               timestamp="2026-03-02T07:00:00Z")
    answer = app.invoke(app.build_skill(use_default_store=False, skill_id=skill_id), event)
    return bool((answer.get("response") or {}).get("canFulfillIntent"))


def _check_listing(report: Report, file: str, base: str, info: dict[str, Any], invocation: str,
                   intents: list[Intent], types: dict[str, set[str]], package_dir: Path) -> None:
    for key, limit in (("name", MAX_NAME_CHARS), ("summary", MAX_SUMMARY_CHARS),
                       ("description", MAX_DESCRIPTION_CHARS)):
        value = info.get(key)
        if not isinstance(value, str) or not value.strip():
            report.error(file, f"{base}.{key}", "manifest-field-missing",
                         f"{key} is required for the store listing")
        elif len(value) > limit:
            report.error(file, f"{base}.{key}", "manifest-field-length",
                         f"{len(value)} characters; the limit is {limit}", value)
    description = info.get("description") or ""
    if DISCLAIMER not in " ".join(description.lower().split()):
        report.error(file, f"{base}.description", "manifest-disclaimer",
                     f"a health skill's description must say it is {DISCLAIMER!r}")
    keywords = info.get("keywords")
    if not isinstance(keywords, list) or not keywords:
        report.error(file, f"{base}.keywords", "manifest-field-missing",
                     "keywords help people find the skill; at least one is expected")
    elif len(keywords) > MAX_KEYWORDS:
        report.error(file, f"{base}.keywords", "manifest-field-length",
                     f"{len(keywords)} keywords; the limit is {MAX_KEYWORDS}")
    phrases = info.get("examplePhrases")
    if not isinstance(phrases, list) or len(phrases) != EXAMPLE_PHRASES:
        count = len(phrases) if isinstance(phrases, list) else 0
        report.error(file, f"{base}.examplePhrases", "example-phrases-count",
                     f"{count} example phrases; the listing shows exactly {EXAMPLE_PHRASES}")
        phrases = phrases if isinstance(phrases, list) else []
    for p_index, phrase in enumerate(phrases):
        where = f"{base}.examplePhrases[{p_index}]"
        report.checked["example phrases"] += 1
        if p_index == 0:
            if phrase != f"Alexa, open {invocation}":
                report.error(file, where, "example-phrase-first",
                             f"the first example must be exactly \"Alexa, open {invocation}\"",
                             phrase)
            continue
        utterance = example_utterance(phrase, invocation)
        if utterance is None:
            report.error(file, where, "example-phrase-form",
                         f"must read \"Alexa, ask {invocation} to …\" (or open/tell/launch …)"
                         " with the exact invocation name", phrase)
            continue
        without_connector = _EXAMPLE_PREFIX.sub("", " ".join(phrase.rstrip(".?!").split()))
        whole = without_connector[len(invocation):].strip()
        if utterance and not _matches_sample(utterance, intents, types, whole):
            report.error(file, where, "example-phrase-not-a-sample",
                         f"{utterance!r} is not one of the sample utterances: certification"
                         " fails examples the model cannot recognise", phrase)
    for key, size in ICON_SIZES.items():
        uri = info.get(key)
        where = f"{base}.{key}"
        if not isinstance(uri, str) or not uri:
            report.error(file, where, "icon-missing", f"{key} is required for certification")
            continue
        if not uri.startswith("file://"):
            report.info(file, where, "icon-remote", "a remote icon cannot be checked offline",
                        uri)
            continue
        icon = package_dir / uri.removeprefix("file://")
        report.checked["icons"] += 1
        if not icon.is_file():
            report.error(file, where, "icon-missing", f"{_display(icon)} does not exist", uri)
            continue
        found = png_size(icon)
        if found is None:
            report.error(file, where, "icon-format", f"{_display(icon)} is not a valid PNG", uri)
        elif found != (size, size):
            report.error(file, where, "icon-size",
                         f"{_display(icon)} is {found[0]}x{found[1]}; it must be"
                         f" {size}x{size}", uri)


def _check_privacy(report: Report, file: str, privacy: Any, locales: set[str]) -> None:
    base = "manifest.privacyAndCompliance"
    if not isinstance(privacy, dict):
        report.error(file, base, "privacy-missing", "privacyAndCompliance is required")
        return
    for key in ("allowsPurchases", "usesPersonalInfo", "isChildDirected", "isExportCompliant",
                "containsAds", "usesHealthInfo"):
        if not isinstance(privacy.get(key), bool):
            report.error(file, f"{base}.{key}", "privacy-field",
                         f"{key} must be answered true or false for certification")
    if privacy.get("usesHealthInfo") is not False:
        report.error(file, f"{base}.usesHealthInfo", "privacy-health-info",
                     "must be false: it is for HIPAA-covered entities, and this skill collects"
                     " no health information")
    for locale in sorted(locales):
        url = ((privacy.get("locales") or {}).get(locale) or {}).get("privacyPolicyUrl")
        if not (isinstance(url, str) and url.startswith("https://")):
            report.error(file, f"{base}.locales.{locale}.privacyPolicyUrl", "privacy-policy-url",
                         "a health skill needs an https privacy policy link in every locale")


# --- content rendered to SSML ---------------------------------------------------------------

class _Dummy(dict):
    """Placeholder values for prompts: every {field} gets a plausible word or number."""

    def __missing__(self, key: str) -> str:
        return "seven" if key in {"n", "total", "steps", "minutes", "count", "seconds", "step",
                                  "week"} else f"sample {key}"


def _strings(node: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, str):
        yield path, node
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _strings(item, f"{path}[{index}]")
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, f"{path}.{key}".lstrip("."))


def check_plain_text(report: Report, file: str, where: str, text: str) -> None:
    """Content is plain text: the skill escapes it, so markup in it would be read aloud."""
    if re.search(r"<\s*/?\s*[A-Za-z][^>]*>|&[a-z]+;", text):
        report.error(file, where, "content-markup",
                     "content is plain text and gets escaped: this markup would be spoken as"
                     " symbols, not obeyed", text)


def check_prompts(report: Report, content_dir: Path, language: str) -> dict[str, Any]:
    path = content_dir / language / "prompts.toml"
    file = _display(path)
    table = _load(report, path)
    formatter = string.Formatter()
    for where, line in _strings(table, ""):
        report.checked["prompt variants"] += 1
        check_plain_text(report, file, where, line)
        try:
            fields = [f for _, f, _, _ in formatter.parse(line) if f is not None]
            filled = line.format_map(_Dummy())
        except (ValueError, IndexError, KeyError) as error:
            report.error(file, where, "prompt-placeholder",
                         f"cannot fill the {{placeholders}}: {error}", line)
            continue
        if any(not f or not f.isidentifier() for f in fields):
            report.error(file, where, "prompt-placeholder",
                         "placeholders must be named, like {routine}", line)
        check_ssml(report, file, where, speech.speak(speech.escape(filled)))
    return table


def check_movements(report: Report, content_dir: Path, language: str) -> None:
    path = content_dir / language / "movements.toml"
    file = _display(path)
    for where, text in _strings(_load(report, path), ""):
        report.checked["movement fields"] += 1
        check_plain_text(report, file, where, text)
        check_ssml(report, file, where, speech.speak(speech.escape(text)))


def check_knowledge(report: Report, content_dir: Path, language: str) -> None:
    path = content_dir / language / "knowledge.toml"
    if not path.exists():
        return
    file = _display(path)
    for i_index, item in enumerate(_load(report, path).get("item") or []):
        for key in ("short", "more"):
            text = item.get(key)
            where = f"item[{i_index}].{key} (id {item.get('id')})"
            if not isinstance(text, str) or not text.strip():
                report.error(file, where, "answer-missing", f"every answer needs a {key!r} text")
                continue
            report.checked["answers"] += 1
            check_plain_text(report, file, where, text)
            check_ssml(report, file, where, speech.speak(speech.escape(text)))


def check_safety(report: Report, content_dir: Path, language: str) -> None:
    path = content_dir / language / "safety.toml"
    if not path.exists():
        return
    file = _display(path)
    data = _load(report, path)
    advice = [("mentioned_absent.advice", (data.get("mentioned_absent") or {}).get("advice"))]
    advice += [(f"flag[{n}].advice (id {f.get('id')})", f.get("advice"))
               for n, f in enumerate(data.get("flag") or [])]
    for where, text in advice:
        if isinstance(text, str):
            report.checked["red-flag advice"] += 1
            check_plain_text(report, file, where, text)
            check_ssml(report, file, where, speech.speak(speech.escape(text)))


def check_holds(report: Report, content_dir: Path, language: str, prompts: dict[str, Any]
                ) -> None:
    """Every hold a routine can produce, at every length the person can choose, paced in SSML:
    the count words must reach the longest hold and no break may exceed Alexa's limit."""
    from skill.core import pacing

    path = content_dir / "routines.toml"
    file = _display(path)
    structure = _load(report, path)
    try:
        words = pacing.CountWords.from_prompts(prompts)
    except (KeyError, TypeError) as error:
        report.error(_display(content_dir / language / "prompts.toml"), "count",
                     "count-words", f"the [count] table is incomplete: {error}")
        return
    movements = structure.get("movements") or {}
    for movement_id, spec in movements.items():
        low, high = spec.get("min_hold", 1), spec.get("max_hold", 1)
        for seconds in sorted({low, high, (low + high) // 2}):
            for style in pacing.STYLES:
                where = f"movements.{movement_id} ({seconds} s, counting {style})"
                try:
                    body = pacing.hold_ssml(seconds, pacing.style_for(seconds, style), words,
                                            90 if style == "sparse" else 100)
                except ValueError as error:
                    report.error(file, where, "hold-pacing", str(error))
                    break
                report.checked["paced holds"] += 1
                check_ssml(report, file, where, speech.speak(body))
    for routine_id, spec in (structure.get("routines") or {}).items():
        for s_index, step in enumerate(spec.get("steps") or []):
            if step.get("movement") not in movements:
                report.error(file, f"routines.{routine_id}.steps[{s_index}]", "routine-movement",
                             f"movement {step.get('movement')!r} is not defined in [movements]")


def check_variants(report: Report, content_dir: Path, language: str) -> None:
    """Every movement's variants exist and cover what they must, and every routine assembles,
    for every combination of variants and every level, into movements that suit the person."""
    from skill.core import routine

    path = content_dir / "routines.toml"
    words = _load(report, content_dir / language / "movements.toml")
    for where, rule, why in routine.problems(_load(report, path), words):
        report.error(_display(path), where, rule, why)
    report.checked["variant declarations"] += 1


def _load(report: Report, path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as error:
        report.error(_display(path), "", "content-unreadable", str(error))
        return {}


# --- running it all -------------------------------------------------------------------------

def handled_intents() -> set[str]:
    """Intent names the coach answers: its ``on_<Name>Intent`` methods."""
    from skill.core.conversation import Coach

    names = set()
    for attribute in dir(Coach):
        if attribute.startswith("on_") and attribute.endswith("Intent"):
            name = attribute.removeprefix("on_")
            names.add(f"AMAZON.{name}" if name in KNOWN_BUILTINS else name)
    return names


def _awaiting(content_dir: Path, language: str) -> frozenset[str]:
    """Intents model.toml marks ``awaiting_coach``: declared before the coach wires them."""
    try:
        with open(content_dir / language / "model.toml", "rb") as handle:
            source = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError):
        return frozenset()
    return frozenset(i.get("name") for i in source.get("intents") or []
                     if i.get("awaiting_coach"))


def validate(package_dir: Path = DEFAULT_PACKAGE_DIR, content_dir: Path = DEFAULT_CONTENT_DIR
             ) -> Report:
    """Every check of the package and the content. (The coach's replies are checked by
    tests/test_platform_rules.py, which drives the real skill through every routine.)"""
    report = Report()
    handled = handled_intents()
    models: dict[str, tuple[str, Any]] = {}
    intents_by_locale: dict[str, list[Intent]] = {}
    types_by_locale: dict[str, dict[str, set[str]]] = {}
    for path in sorted((package_dir / "interactionModels" / "custom").glob("*.json")):
        file = _display(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            report.error(file, "", "model-unreadable", f"not valid JSON: {error}")
            continue
        models[path.stem] = (file, data)
        awaiting = _awaiting(content_dir, content.LANGUAGES.get(path.stem, "en"))
        intents_by_locale[path.stem] = check_language_model(report, file, data, handled,
                                                            awaiting)
        lm = ((data.get("interactionModel") or {}).get("languageModel") or {}) \
            if isinstance(data, dict) else {}
        types_by_locale[path.stem] = {
            t.get("name", ""): {normalise(w) for v in t.get("values") or []
                                for w in [(v.get("name") or {}).get("value") or "",
                                          *((v.get("name") or {}).get("synonyms") or [])] if w}
            for t in lm.get("types") or []
        }
        report.checked["locales"] += 1
    check_locales_in_sync(report, package_dir, models)
    check_manifest(report, package_dir, models, intents_by_locale, types_by_locale)
    for language in sorted(set(content.LANGUAGES.values())):
        prompts = check_prompts(report, content_dir, language)
        check_movements(report, content_dir, language)
        check_knowledge(report, content_dir, language)
        check_safety(report, content_dir, language)
        check_holds(report, content_dir, language, prompts)
        check_variants(report, content_dir, language)
    return report


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools validate", description=__doc__.split(
        "\n")[0])
    parser.add_argument("--package-dir", type=Path, default=DEFAULT_PACKAGE_DIR,
                        help="the ASK skill package (skill.json, interactionModels/)")
    parser.add_argument("--content-dir", type=Path, default=DEFAULT_CONTENT_DIR,
                        help="the content folder (routines.toml, <language>/*.toml)")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="also list infos (SearchQuery samples that overlap exact samples)")
    args = parser.parse_args(list(argv) if argv is not None else None)
    report = validate(args.package_dir, args.content_dir)
    shown = ("error", "warning", "info") if args.verbose else ("error", "warning")
    for finding in report.findings:
        if finding.level in shown:
            print(finding)
    counts = Counter(f.level for f in report.findings)
    checked = ", ".join(f"{n} {what}" for what, n in report.checked.items())
    summary = (f"{counts['error']} errors, {counts['warning']} warnings, {counts['info']} infos"
               f"{'' if args.verbose or not counts['info'] else ' (-v lists the infos)'}")
    stream = sys.stderr if counts["error"] else sys.stdout
    print(f"validate: {'FAILED' if counts['error'] else 'ok'}: {summary}.", file=stream)
    print(f"checked: {checked}.", file=stream)
    return 1 if counts["error"] else 0
