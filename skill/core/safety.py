"""Red flags: what a person says that means "get help now", "see a doctor today" or "mention it".

Pure Python, no ask-sdk. The words and the spoken advice live in content/<lang>/safety.toml (its
header documents the format); this module only knows how to read them. The method is ConText
(Harkema, Chapman et al. 2009, the extension of NegEx): the text is cut into sentences, a
lexicon of phrases is matched longest first, and every symptom term found is checked against
the triggers around it -- negation ("no numbness"), hypothetical ("what would numbness mean"),
resolved ("... but it came back to life") and experiencer ("my husband has a fever") -- whose
reach ends at terminators ("but", "however") and is broken by pseudo-triggers ("no matter").
Before that, a sense lexicon of multiword expressions blanks the words that only look like
symptoms ("hay fever", "fell asleep", "chest of drawers"). A red flag is a combination of terms
(numbness + a place around the saddle area, bladder + trouble) about the person speaking, now.

Everything is read and indexed on the first call, never at import: a Lambda cold start that
hears no free text pays nothing. Phrases are indexed by the first three letters of their first
word, so each word of the utterance is compared with a handful of phrases, not the whole file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from functools import cache
from typing import Any, NamedTuple

from skill.core import content

EMERGENCY, URGENT, MENTION, ABSENT = "emergency", "urgent", "mention", "absent"
#: Most serious first: when several red flags are raised, the first of these wins.
LEVELS = (EMERGENCY, URGENT, MENTION)
#: Levels that stop the session and send the person to care.
ALARMS = frozenset({EMERGENCY, URGENT})
#: What `red_flag` returns when red-flag symptoms were mentioned only to deny them.
MENTIONED_ABSENT = "mentioned_absent"
#: The ConText categories a trigger can belong to.
CATEGORIES = ("negation", "hypothetical", "resolved", "experiencer")

_MAX_CHARS = 1000
_TOKEN = re.compile(r"[a-z0-9]+|[.!?;]|,")
_SENTENCE_END = frozenset(".!?;")
_COMMA = ","

_UNITS = {w: n for n, w in enumerate(
    "zero one two three four five six seven eight nine".split())}
_TEENS = {w: n for n, w in enumerate(
    "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split(),
    start=10)}
_TENS = {w: 10 * n for n, w in enumerate(
    "twenty thirty forty fifty sixty seventy eighty ninety".split(), start=2)}


class Finding(NamedTuple):
    """What the screen found: `level` (emergency, urgent, mention, absent), the red flag's id,
    and the advice to speak (plain text: escape it for SSML)."""

    level: str
    sign: str
    advice: str


# -- words ----------------------------------------------------------------------------------


def _small_number(tokens: Sequence[str], i: int) -> tuple[int, int] | None:
    """A number below a hundred spelled out at tokens[i]: (value, index after it)."""
    word = tokens[i]
    if word in _TENS:
        value = _TENS[word]
        if i + 1 < len(tokens) and _UNITS.get(tokens[i + 1], 0) > 0:
            return value + _UNITS[tokens[i + 1]], i + 2
        return value, i + 1
    if word in _TEENS:
        return _TEENS[word], i + 1
    if word in _UNITS:
        return _UNITS[word], i + 1
    return None


def _number(tokens: Sequence[str], i: int) -> tuple[int, int] | None:
    """A number at tokens[i], in digits or words ("a hundred and thirty"): (value, next)."""
    if tokens[i].isdigit():
        return int(tokens[i]), i + 1
    n = len(tokens)
    if tokens[i] == "a" and i + 1 < n and tokens[i + 1] in ("hundred", "thousand"):
        found: tuple[int, int] | None = (1, i + 1)
    else:
        found = _small_number(tokens, i)
    if found is None:
        return None
    value, j = found
    for scale, size in (("hundred", 100), ("thousand", 1000)):
        if j < n and tokens[j] == scale:
            value, j = value * size, j + 1
            k = j + 1 if j < n and tokens[j] == "and" else j
            rest = _small_number(tokens, k) if k < n else None
            if rest is not None:
                value, j = value + rest[0], rest[1]
    return value, j


def words(text: str) -> list[str]:
    """Lower-case words, apostrophes dropped ("can't" -> "cant"), spoken numbers as digits
    ("twenty eight" -> "28"); full stops and the like stay as separate tokens, so do commas."""
    text = text[:_MAX_CHARS].lower().replace("\u2019", "").replace("\u2018", "").replace("'", "")
    raw = _TOKEN.findall(text)
    out: list[str] = []
    i = 0
    while i < len(raw):
        found = _number(raw, i)
        if found is None:
            out.append(raw[i])
            i += 1
        else:
            out.append(str(found[0]))
            i = found[1]
    return out


def _sentences(tokens: Sequence[str]) -> Iterator[list[str]]:
    sentence: list[str] = []
    for token in tokens:
        if token in _SENTENCE_END:
            if sentence:
                yield sentence
            sentence = []
        else:
            sentence.append(token)
    if sentence:
        yield sentence


# -- phrases --------------------------------------------------------------------------------

# An element of a phrase: (kind, value). Kinds: a word, a prefix ("numb*"), any one word ("*"),
# or a number compared with a bound ("#<45", "#>=30", "#" for any number).
_WORD, _PREFIX, _ANY, _NUMBER = range(4)
Element = tuple[int, Any]
_COMPARE = {"<": int.__lt__, "<=": int.__le__, ">": int.__gt__, ">=": int.__ge__,
            "=": int.__eq__}
_NUMBER_SPEC = re.compile(r"#(<=|>=|<|>|=)?(\d+)?$")


def expand(text: str) -> list[str]:
    """Every phrase a pattern stands for: "(a|b) c" -> ["a c", "b c"]; "(a|)" is optional."""
    start = text.find("(")
    if start < 0:
        return [" ".join(text.split())]
    depth = 0
    for end in range(start, len(text)):
        if text[end] == "(":
            depth += 1
        elif text[end] == ")":
            depth -= 1
            if depth == 0:
                break
    else:
        raise ValueError(f"unbalanced brackets in {text!r}")
    options, depth, last = [], 0, start + 1
    for k in range(start + 1, end):
        if text[k] == "(":
            depth += 1
        elif text[k] == ")":
            depth -= 1
        elif text[k] == "|" and depth == 0:
            options.append(text[last:k])
            last = k + 1
    options.append(text[last:end])
    head, tail = text[:start], text[end + 1 :]
    return [phrase for option in options for phrase in expand(head + option + tail)]


def _split(text: str) -> list[str]:
    """A pattern cut at its top-level brackets: "a (b|c) d" -> ["a ", "(b|c)", " d"]."""
    parts, depth, last = [], 0, 0
    for k, char in enumerate(text):
        if char == "(":
            if depth == 0:
                parts.append(text[last:k])
                last = k
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise ValueError(f"unbalanced brackets in {text!r}")
            if depth == 0:
                parts.append(text[last : k + 1])
                last = k + 1
    if depth:
        raise ValueError(f"unbalanced brackets in {text!r}")
    parts.append(text[last:])
    return [p for p in parts if p]


def _options(group: str) -> list[str]:
    """The alternatives of "(a|b (c|d)|)", split at its own bars only."""
    options, depth, last = [], 0, 1
    for k in range(1, len(group) - 1):
        if group[k] == "(":
            depth += 1
        elif group[k] == ")":
            depth -= 1
        elif group[k] == "|" and depth == 0:
            options.append(group[last:k])
            last = k + 1
    options.append(group[last:-1])
    return options


@cache
def _run(text: str) -> tuple[Element, ...]:
    """The elements of a stretch of pattern without brackets (many patterns share them)."""
    found: list[Element] = []
    plain: list[str] = []

    def flush() -> None:
        found.extend((_WORD, w) for w in words(" ".join(plain))
                     if w not in _SENTENCE_END and w != _COMMA)
        plain.clear()

    for part in text.split():
        if part == "*":
            flush()
            found.append((_ANY, None))
        elif part.startswith("#"):
            flush()
            spec = _NUMBER_SPEC.match(part)
            if spec is None:
                raise ValueError(f"bad number {part!r} in {text!r}")
            op, bound = spec.groups()
            found.append((_NUMBER, None if bound is None else (_COMPARE[op or "="], int(bound))))
        elif part.endswith("*"):
            flush()
            stem = "".join(words(part[:-1]))
            if len(stem) < 3:
                raise ValueError(f"a prefix needs three letters: {part!r} in {text!r}")
            found.append((_PREFIX, stem))
        else:
            plain.append(part)
    flush()
    return tuple(found)


@cache
def _sequences(pattern: str) -> tuple[tuple[Element, ...], ...]:
    """Every element sequence a pattern stands for; each bracket-free stretch and each group
    of alternatives is read once (many patterns share them)."""
    found: list[tuple[Element, ...]] = [()]
    for part in _split(pattern):
        if part.startswith("("):
            options = [seq for option in _options(part) for seq in _sequences(option)]
            found = [head + tail for head in found for tail in options]
        else:
            run = _run(part)
            found = [head + run for head in found]
    return tuple(found)


def _elements(phrase: str) -> tuple[Element, ...]:
    """The one element sequence of a phrase without alternatives."""
    (found,) = _sequences(phrase)
    return found


def _fits(element: Element, token: str) -> bool:
    kind, value = element
    if token == _COMMA:
        return False
    if kind == _WORD:
        word: str = value
        return token == word
    if kind == _PREFIX:
        return token.startswith(value)
    if kind == _ANY:
        return True
    if not token.isdigit():
        return False
    return value is None or value[0](int(token), value[1])


class _Entry(NamedTuple):
    elements: tuple[Element, ...]
    kind: str  # "term", "capacity", "trigger", "pseudo", "stop", "sense"
    value: Any  # term: frozenset of classes; trigger: (category, direction)
    text: str  # the pattern it came from, for error messages
    anchored: bool = False  # only at the start of a sentence ("^")
    final: bool = False  # only at the end of a sentence ("$")
    also: frozenset[str] = frozenset()  # classes of terms on the same words as a trigger


#: When phrases of different kinds cover the same words, the first kind here is the reading
#: (a trigger keeps the classes of a term on the same words as `also`).
_KINDS = ("sense", "trigger", "pseudo", "stop", "term", "capacity")


class _Node:
    """One step of the trie. The tables are made only when a child needs them: most nodes are
    leaves, and the rules build a few thousand."""

    __slots__ = ("exact", "prefixes", "any", "numbers", "entries")

    def __init__(self) -> None:
        self.exact: dict[str, _Node] | None = None
        self.prefixes: dict[str, list[tuple[str, _Node]]] | None = None  # by first 3 letters
        self.any: _Node | None = None
        self.numbers: list[tuple[Any, _Node]] | None = None
        self.entries: list[_Entry] | None = None

    def child(self, element: Element) -> _Node:
        kind, value = element
        if kind == _WORD:
            if self.exact is None:
                self.exact = {}
            found = self.exact.get(value)
            if found is None:
                found = self.exact[value] = _Node()
            return found
        if kind == _ANY:
            if self.any is None:
                self.any = _Node()
            return self.any
        if kind == _PREFIX:
            if self.prefixes is None:
                self.prefixes = {}
            pairs: list[tuple[Any, _Node]] = self.prefixes.setdefault(value[:3], [])
        else:
            if self.numbers is None:
                self.numbers = []
            pairs = self.numbers
        for known, node in pairs:
            if known == value:
                return node
        pairs.append((value, _Node()))
        return pairs[-1][1]

    def next(self, token: str, free: bool) -> Iterator[_Node]:
        """The children that accept this token (a blanked one only as a wildcard)."""
        if self.any is not None and token != _COMMA:
            yield self.any
        if not free or token == _COMMA:
            return
        if self.exact is not None:
            found = self.exact.get(token)
            if found is not None:
                yield found
        if self.prefixes is not None:
            for stem, node in self.prefixes.get(token[:3], ()):
                if token.startswith(stem):
                    yield node
        if self.numbers is not None and token.isdigit():
            for bound, node in self.numbers:
                if bound is None or bound[0](int(token), bound[1]):
                    yield node


class _Trie:
    """Phrases as a trie of words: each word of an utterance is looked up, not compared with
    every phrase. `longest` walks it from one position."""

    def __init__(self, entries: Iterable[_Entry]) -> None:
        self.root = _Node()
        self.start = _Node()  # phrases anchored at the start of a sentence, tried there only
        for entry in entries:
            node = self.start if entry.anchored else self.root
            for element in entry.elements:
                node = node.child(element)
            if node.entries is None:
                node.entries = []
            node.entries.append(entry)

    def longest(self, tokens: Sequence[str], i: int, free: Sequence[bool]) -> _Entry | None:
        """The longest phrase starting at tokens[i]; terms of the same length pool their classes
        ("hurts" is both a pain word and a "worse" word)."""
        if not free[i]:
            return None
        best: list[_Entry] = []
        best_length = 0
        frontier = [self.root, self.start] if i == 0 else [self.root]
        for j in range(i, len(tokens)):
            frontier = [child for node in frontier for child in node.next(tokens[j], free[j])]
            if not frontier:
                break
            last = j == len(tokens) - 1
            ending = [e for node in frontier if node.entries for e in node.entries
                      if last or not e.final]
            if ending:
                best, best_length = ending, j - i + 1
        if not best_length:
            return None
        # An anchored phrase of another kind ("^# year old": someone's child) is more particular
        # than the same words anywhere ("# year old": an age); terms still pool their classes.
        pinned = {e.kind for e in best if e.anchored or e.final}
        if pinned and pinned != {"term"}:
            best = [e for e in best if e.anchored or e.final]
        kind = min((e.kind for e in best), key=_KINDS.index)
        chosen = [e for e in best if e.kind == kind]
        classes = frozenset().union(*(e.value for e in best if e.kind == "term"))
        if kind == "term":
            return chosen[0]._replace(value=classes) if len(chosen) > 1 else chosen[0]
        # A trigger on the same words as a term is both: "^is" asks a question ("is numbness
        # serious") and, with "the pain" kept by the carrier, says where it is ("is between
        # my shoulders").
        return chosen[0]._replace(also=classes) if classes else chosen[0]


# -- the rules, read from safety.toml on first use ------------------------------------------


class _Rule(NamedTuple):
    needs: frozenset[str]  # the `all` classes as a set: a rule is tried only when all are there
    all: tuple[str, ...]
    any: tuple[str, ...]
    min: int
    also: tuple[str, ...]
    none: frozenset[str]
    within: int | None
    ignore: frozenset[str]


class _Flag(NamedTuple):
    id: str
    level: str
    advice: str
    rules: tuple[_Rule, ...]


class _CueRule(NamedTuple):
    words: tuple[Element, ...]
    cues: _Trie
    within: int


class _Reach(NamedTuple):
    """How far a group of triggers reaches: `window` words, stopping at `ends`; looking back,
    `nearest` stops at the first term; a `near` trigger reaches `near_window` words."""

    window: int
    ends: frozenset[str]
    nearest: str  # "", "term" or "symptom"
    near_window: int
    across: frozenset[str] = frozenset()  # words that may stand between a "but" and the trigger


class _Lexicon(NamedTuple):
    senses: _Trie
    main: _Trie
    cue_rules: tuple[_CueRule, ...]
    negators: frozenset[str]
    symptoms: frozenset[str]
    flags: tuple[_Flag, ...]
    absent_advice: str
    places: dict[str, dict[str, str]]
    classes: frozenset[str]
    #: Pronouns that are someone else's unless they point back at one of the `antecedents`
    #: classes ("my legs feel like they're giving out").
    pronouns: frozenset[str] = frozenset()
    antecedents: frozenset[str] = frozenset()


def _entries(phrases: Iterable[str], kind: str, value: Any) -> Iterator[_Entry]:
    for pattern in phrases:
        anchored, final = pattern.startswith("^"), pattern.endswith("$")
        for elements in _sequences(pattern.strip("^$ ")):
            if not elements or (elements[0][0] == _ANY and not anchored):
                raise ValueError(f"a phrase must start with a word (or ^): {pattern!r}")
            yield _Entry(elements, kind, value, pattern, anchored, final)


def compile_lexicon(data: dict[str, Any]) -> _Lexicon:
    """The parsed rules of one language's safety.toml (as loaded from the bundle)."""
    context = data["context"]
    main: dict[tuple[Any, ...], _Entry] = {}

    def add(entry: _Entry) -> None:
        # A term may share its words with a trigger (it is then both); a symptom read two ways,
        # or two different triggers on the same words, is a mistake in the file.
        role = "term" if entry.kind in ("term", "capacity") else "context"
        key = (entry.elements, entry.anchored, entry.final, role)
        known = main.get(key)
        if known is None:
            main[key] = entry
        elif known.kind == entry.kind == "term" or known.kind == entry.kind == "capacity":
            main[key] = known._replace(value=known.value | entry.value)
        elif known[1:3] + known[4:] != entry[1:3] + entry[4:]:  # all but the pattern text
            raise ValueError(f"{entry.text!r} is both a {known.kind} and a {entry.kind}")

    for name, phrases in data["terms"].items():
        for entry in _entries(phrases, "term", frozenset({name})):
            add(entry)
    for name, phrases in data.get("capacities", {}).items():
        if name == "negators":
            continue
        for entry in _entries(phrases, "capacity", frozenset({name})):
            add(entry)
    for category in CATEGORIES:
        table = context[category]
        for group in [table, *table.get("group", [])]:
            ends = group.get("ends", table.get("ends", []))
            reach = _Reach(
                window=int(group.get("window", table.get("window", 6))),
                ends=frozenset(" ".join(words(e)) for e in ends),
                nearest=str(group.get("nearest", table.get("nearest", ""))),
                near_window=int(group.get("near_window", table.get("near_window", 2))),
                across=frozenset(group.get("across", table.get("across", []))),
            )
            for direction in ("forward", "backward", "both", "near"):
                for entry in _entries(group.get(direction, []), "trigger",
                                      (category, direction, reach)):
                    add(entry)
    for entry in _entries(context.get("pseudo", []), "pseudo", None):
        add(entry)
    for entry in _entries(context.get("terminators", []), "stop", None):
        add(entry)
    for entry in _entries(context.get("self", []), "term", frozenset({"i"})):
        add(entry)

    senses = _Trie(_entries(data["senses"]["phrases"], "sense", None))
    cue_rules = tuple(
        _CueRule(tuple(_elements(w)[0] for w in rule["words"]),
                 _Trie(_entries(rule["cues"], "sense", None)), int(rule.get("within", 6)))
        for rule in data["senses"].get("cue", [])
    )
    flags = tuple(
        _Flag(
            id=raw["id"],
            level=raw["level"],
            advice=" ".join(raw["advice"].split()),
            rules=tuple(
                _Rule(frozenset(w["all"]), tuple(w["all"]), tuple(w.get("any", ())),
                      int(w.get("min", 1 if w.get("any") else 0)), tuple(w.get("also", ())),
                      frozenset(w.get("none", ())),
                      w.get("within"), frozenset(w.get("ignore", ())))
                for w in raw["when"]
            ),
        )
        for raw in data["flag"]
    )
    classes = frozenset(data["terms"]) | frozenset(data.get("capacities", {})) | {"i"}
    return _Lexicon(
        senses=senses,
        main=_Trie(main.values()),
        cue_rules=cue_rules,
        negators=frozenset(" ".join(words(p)) for p in
                           data.get("capacities", {}).get("negators", [])),
        symptoms=frozenset(data["settings"]["symptoms"]),
        flags=flags,
        absent_advice=" ".join(data[MENTIONED_ABSENT]["advice"].split()),
        places=data["places"],
        classes=classes - {"negators"},
        pronouns=frozenset(context["experiencer"].get("pronouns", [])),
        antecedents=frozenset(context["experiencer"].get("antecedents", [])),
    )


@cache
def _lexicon(language: str) -> _Lexicon:
    return compile_lexicon(content.load(f"{language}/safety.toml"))


def forget() -> None:
    """Drop the compiled rules, after the bundle was rewritten (``make model``, tests, bench)."""
    for cached in (_lexicon, _sequences, _run):
        cached.cache_clear()


# -- ConText over one sentence --------------------------------------------------------------


class _Unit(NamedTuple):
    kind: str  # "term", "capacity", "trigger", "pseudo", "stop", "word", "sense", "comma"
    start: int
    end: int
    text: str
    value: Any
    pos: int  # position counted in units, commas not counted
    also: frozenset[str] = frozenset()  # a trigger's term classes


class _Term(NamedTuple):
    classes: frozenset[str]
    pos: int
    modifiers: frozenset[str]


def _units(tokens: Sequence[str], lex: _Lexicon) -> list[_Unit]:
    """The sentence as lexicon units, sense expressions first, then longest match."""
    n = len(tokens)
    free = [True] * n
    i = 0
    while i < n:
        sense = lex.senses.longest(tokens, i, free)
        if sense is None:
            i += 1
            continue
        for k in range(i, i + len(sense.elements)):
            free[k] = False
        i += len(sense.elements)
    units: list[_Unit] = []
    pos, i = 0, 0
    while i < n:
        if tokens[i] == _COMMA:
            units.append(_Unit("comma", i, i + 1, _COMMA, None, pos))
            i += 1
            continue
        if not free[i]:
            j = i
            while j < n and not free[j]:
                j += 1
            units.append(_Unit("sense", i, j, " ".join(tokens[i:j]), None, pos))
        else:
            entry = lex.main.longest(tokens, i, free)
            j = i + (len(entry.elements) if entry else 1)
            text = " ".join(tokens[i:j])
            units.append(_Unit(entry.kind, i, j, text, entry.value, pos, entry.also) if entry
                         else _Unit("word", i, j, text, None, pos))
        pos += 1
        i = j
    return units


def _scopes(units: Sequence[_Unit], lex: _Lexicon) -> list[set[str]]:
    """For each unit, the ConText categories whose trigger reaches it."""
    reached: list[set[str]] = [set() for _ in units]
    for k, unit in enumerate(units):
        if unit.kind != "trigger":
            continue
        category, direction, reach = unit.value
        if unit.text in lex.pronouns and any(
            u.kind == "term" and u.value & lex.antecedents for u in units[:k]
        ):
            continue  # "my legs ... they": the legs, not another person
        if direction == "near":
            _near(units, k, category, reach, lex, reached)
            continue
        steps = {"forward": (1,), "backward": (-1,), "both": (1, -1)}[direction]
        for step in steps:
            _reach(units, k, step, category, reach, lex.symptoms, reached)
    return reached


def _near(units: Sequence[_Unit], k: int, category: str, reach: _Reach, lex: _Lexicon,
          reached: list[set[str]]) -> None:
    """A near trigger reaches only symptoms right after it: "are chest pains serious" (from
    "what {query}") is a question, "is worse when I cough" (from "it {query}") is not."""
    count = 0
    for j in range(k + 1, len(units)):
        other = units[j]
        if other.kind == "comma":
            continue
        count += 1
        if count > reach.near_window or other.kind == "stop" or other.text in reach.ends:
            return  # "is my leg numb": the speaker's own leg, asked about
        if other.kind in ("term", "capacity") and other.value & lex.symptoms:
            reached[j].add(category)


def _reach(units: Sequence[_Unit], k: int, step: int, category: str, reach: _Reach,
           symptoms: frozenset[str], reached: list[set[str]]) -> None:
    window, ends = reach.window, reach.ends
    j, count = k + step, 0
    if step == 1 and j < len(units) and units[j].kind == "comma":
        return  # "no, my legs are numb": the "no" answers something else
    if step == -1:
        # "numb for a minute but it went away", "a fever but my temperature is normal again":
        # the "but" joins the two when only the trigger's subject stands between them.
        gap = j
        while gap >= 0 and k - gap <= 4 and units[gap].text in reach.across:
            gap -= 1
        if gap >= 0 and units[gap].kind == "stop":
            j = gap - 1
    while 0 <= j < len(units) and count < window:
        other = units[j]
        if other.kind == "stop" or other.text in ends or other.text.split()[0] in ends:
            return
        if other.kind != "comma":
            count += 1
            reached[j].add(category)
            if category == "negation" and other.kind == "capacity":
                return  # "I don't know when my bladder is full": the denial is the symptom
            if step == -1 and reach.nearest and other.kind in ("term", "capacity") and (
                reach.nearest == "term" or other.value & symptoms
            ):
                return  # "my legs are numb and my fever is gone": only the fever went
        j += step


def _cue_sense(unit: _Unit, tokens: Sequence[str], lex: _Lexicon) -> bool:
    """Whether a term is taken in another sense because of a cue nearby ("an accident with my
    tea")."""
    for rule in lex.cue_rules:
        if not any(_fits(w, t) for w in rule.words for t in tokens[unit.start : unit.end]):
            continue
        low, high = max(0, unit.start - rule.within), min(len(tokens), unit.end + rule.within)
        free = [True] * len(tokens)
        if any(rule.cues.longest(tokens, i, free) for i in range(low, high)):
            return True
    return False


def _terms(tokens: Sequence[str], lex: _Lexicon) -> list[_Term]:
    units = _units(tokens, lex)
    reached = _scopes(units, lex)
    found: list[_Term] = []
    for unit, categories in zip(units, reached, strict=True):
        if unit.kind not in ("term", "capacity"):
            if unit.also:
                found.append(_Term(unit.also, unit.pos, frozenset(categories)))
            continue
        if lex.cue_rules and _cue_sense(unit, tokens, lex):
            continue
        modifiers = set(categories)
        if unit.kind == "capacity":
            # "I don't know when my bladder is full": a capacity denied is the symptom.
            before = tokens[max(0, unit.start - 3) : unit.start]
            inability = any(" ".join(before[k:]) in lex.negators for k in range(len(before)))
            if "negation" not in modifiers and not inability:
                continue
            modifiers.discard("negation")
        found.append(_Term(unit.value, unit.pos, frozenset(modifiers)))
    return found


def _status(modifiers: Iterable[str], ignore: frozenset[str]) -> str | None:
    """affirmed, negated, or None (someone else's, hypothetical, or over and done with)."""
    mods = set(modifiers) - ignore
    if "experiencer" in mods or "hypothetical" in mods or "resolved" in mods:
        return None
    return "negated" if "negation" in mods else "affirmed"


def _rule_status(rule: _Rule, terms: Sequence[_Term]) -> str | None:
    if rule.none and any(t.classes & rule.none for t in terms):
        return None
    if rule.any or rule.also:
        present = {c for t in terms if _status(t.modifiers, rule.ignore) == "affirmed"
                   for c in t.classes}
        if len(present & set(rule.any)) < rule.min:
            return None
        if rule.also and not present & set(rule.also):
            return None
    pools = [[t for t in terms if name in t.classes] for name in rule.all]
    affirmed = [[t for t in pool if _status(t.modifiers, rule.ignore) == "affirmed"]
                for pool in pools]
    if _close(affirmed, rule.within):
        return "affirmed"
    counted = [[t for t in pool if _status(t.modifiers, rule.ignore) is not None]
               for pool in pools]
    return "negated" if _close(counted, rule.within) else None


def _close(pools: Sequence[Sequence[_Term]], within: int | None,
           span: tuple[int, int] | None = None) -> bool:
    """Whether one term can be picked from each pool, all within `within` words of each other
    (`span`: the positions of those picked so far)."""
    if not pools:
        return True
    for term in pools[0]:
        low, high = (term.pos, term.pos) if span is None else (min(span[0], term.pos),
                                                              max(span[1], term.pos))
        if within is not None and high - low > within:
            continue
        if _close(pools[1:], within, (low, high)):
            return True
    return False


# -- the screen -----------------------------------------------------------------------------


def _places(lex: _Lexicon, locale: str) -> dict[str, str]:
    return {**lex.places["default"], **lex.places.get(locale, {})}


def _advice(text: str, lex: _Lexicon, locale: str) -> str:
    return text.format(**_places(lex, locale))


@cache
def _language(locale: str) -> str:
    return content.language(locale)


def screen(text: str, locale: str = "en-US") -> Finding | None:
    """The most serious red flag the speaker describes in `text`, a denial, or None."""
    lex = _lexicon(_language(locale))
    tokens = words(text)
    if not tokens:
        return None
    raised: dict[str, int] = {}
    denied: str | None = None
    denied_symptom = False
    for sentence in _sentences(tokens):
        terms = _terms(sentence, lex)
        if not terms:
            continue
        present = frozenset().union(*(t.classes for t in terms))
        for order, flag in enumerate(lex.flags):
            if flag.id in raised:
                continue
            for rule in flag.rules:
                if not rule.needs <= present:
                    continue
                status = _rule_status(rule, terms)
                if status == "affirmed":
                    raised[flag.id] = order
                    break
                if status == "negated" and denied is None:
                    denied = flag.id
        denied_symptom = denied_symptom or any(
            t.classes & lex.symptoms and _status(t.modifiers, frozenset()) == "negated"
            for t in terms
        )
    if raised:
        flag = min((lex.flags[o] for o in raised.values()),
                   key=lambda f: (LEVELS.index(f.level), raised[f.id]))
        return Finding(flag.level, flag.id, _advice(flag.advice, lex, locale))
    if denied is not None or denied_symptom:
        return Finding(ABSENT, denied or MENTIONED_ABSENT,
                       _advice(lex.absent_advice, lex, locale))
    return None


@cache
def _pain_now(language: str) -> tuple[frozenset[tuple[str, ...]], frozenset[str], int]:
    table = content.load(f"{language}/safety.toml")["pain_now"]
    negations = content.load(f"{language}/safety.toml")["context"]["negation"]["forward"]
    phrases = frozenset(tuple(words(p)) for p in table["words"])
    simple = frozenset(n for n in negations if " " not in n and "(" not in n)
    return phrases, simple, int(table["window"])


def pain_now(text: str, locale: str = "en-US") -> bool:
    """Whether `text` says something hurts ("it really hurts"), and does not deny it."""
    phrases, negations, window = _pain_now(_language(locale))
    tokens = words(text)
    longest = max((len(p) for p in phrases), default=1)
    for i in range(len(tokens)):
        for n in range(longest, 0, -1):
            if tuple(tokens[i:i + n]) in phrases:
                if not negations & set(tokens[max(0, i - window):i]):
                    return True
                break
    return False


# -- the older interface, kept for the conversation code that still calls it ----------------


def red_flag(text: str, locale: str = "en-US") -> str | None:
    """The id of the red flag `screen` reports, `MENTIONED_ABSENT` for a denial, or None."""
    found = screen(text, locale)
    if found is None:
        return None
    return MENTIONED_ABSENT if found.level == ABSENT else found.sign


def _flag(flag_id: str, locale: str) -> _Flag:
    for flag in _lexicon(_language(locale)).flags:
        if flag.id == flag_id:
            return flag
    raise KeyError(flag_id)


def level(flag_id: str, locale: str = "en-US") -> str:
    """emergency, urgent or mention for a flag id; absent for `MENTIONED_ABSENT`."""
    return ABSENT if flag_id == MENTIONED_ABSENT else _flag(flag_id, locale).level


def advice(flag_id: str, locale: str = "en-US") -> str:
    """What the skill says for a flag id from `red_flag` (plain text; escape it for SSML)."""
    lex = _lexicon(_language(locale))
    if flag_id == MENTIONED_ABSENT:
        return _advice(lex.absent_advice, lex, locale)
    return _advice(_flag(flag_id, locale).advice, lex, locale)


def is_urgent(flag_id: str, locale: str = "en-US") -> bool:
    """True when the skill should stop and send the person to care rather than stretch."""
    return level(flag_id, locale) in ALARMS


def flag_ids(locale: str = "en-US") -> list[str]:
    return [flag.id for flag in _lexicon(_language(locale)).flags]
