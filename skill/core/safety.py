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

Nothing is read at import: a Lambda cold start that hears no free text pays nothing. `make
model` checks the phrases and indexes every pattern by the words it can start with
(`precompile`, written into the bundle); on first use the screen loads that index and expands
only the patterns the utterance's own words can start, into a trie of words, so the first
question does not pay for the whole file and each word is compared with a handful of phrases.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Iterator, Sequence
from functools import cache
from typing import Any, NamedTuple

from skill.core import content, redflag_model

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
            found.append((_NUMBER, None if bound is None else (op or "=", int(bound))))
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
    return value is None or _COMPARE[value[0]](int(token), value[1])


class _Entry(NamedTuple):
    elements: tuple[Element, ...]
    kind: str  # "term", "capacity", "trigger", "pseudo", "stop", "sense"
    value: Any  # term: frozenset of classes; trigger: (category, direction)
    text: str  # the pattern it came from, for error messages
    anchored: bool = False  # only at the start of a sentence ("^")
    final: bool = False  # only at the end of a sentence ("$")
    also: frozenset[str] = frozenset()  # classes of terms on the same words as a trigger
    size: int = 0  # how many words it covers (`elements` is dropped once it is in a trie)


#: When phrases of different kinds cover the same words, the first kind here is the reading
#: (a trigger keeps the classes of a term on the same words as `also`).
_KINDS = ("sense", "trigger", "pseudo", "stop", "term", "capacity")


# A trie node is a plain dict. Keys, each only when needed: "w" word -> node; "p" first three
# letters -> [[prefix, node], ...]; "a" the node for any one word; "n" [[bound or None, node],
# ...] for numbers; "e" the entries of the phrases that end here.
Node = dict[str, Any]
#: What a phrase's first element is, as the index of first elements names it.
Key = tuple[Any, ...]


def _child(node: Node, element: Element) -> Node:
    kind, value = element
    if kind == _WORD:
        found: Node = node.setdefault("w", {}).setdefault(value, {})
        return found
    if kind == _ANY:
        found = node.setdefault("a", {})
        return found
    if kind == _PREFIX:
        pairs: list[list[Any]] = node.setdefault("p", {}).setdefault(value[:3], [])
    else:
        pairs = node.setdefault("n", [])
    for known, child in pairs:
        if known == value:
            return child  # type: ignore[no-any-return]
    pairs.append([value, {}])
    return pairs[-1][1]  # type: ignore[no-any-return]


def _next(node: Node, token: str, free: bool) -> Iterator[Node]:
    """The children that accept this token (a blanked one only as a wildcard)."""
    wild = node.get("a")
    if wild is not None and token != _COMMA:
        yield wild
    if not free or token == _COMMA:
        return
    exact = node.get("w")
    if exact is not None:
        found = exact.get(token)
        if found is not None:
            yield found
    prefixes = node.get("p")
    if prefixes is not None:
        for stem, child in prefixes.get(token[:3], ()):
            if token.startswith(stem):
                yield child
    numbers = node.get("n")
    if numbers is not None and token.isdigit():
        for bound, child in numbers:
            if bound is None or _COMPARE[bound[0]](int(token), bound[1]):
                yield child


def _key(element: Element) -> Key:
    kind, value = element
    return ("a",) if kind == _ANY else ({_WORD: "w", _PREFIX: "p", _NUMBER: "n"}[kind], value)


def _bound(spec: str) -> Any:
    """A number bound as the index writes it ("", "<45", ">=30") -> None or (operator, value)."""
    if not spec:
        return None
    found = _NUMBER_SPEC.match("#" + spec)
    if found is None or found.group(2) is None:
        raise ValueError(f"bad number bound {spec!r}")
    return (found.group(1) or "=", int(found.group(2)))


@cache
def _by_first(pattern: str) -> dict[Key, list[tuple[Element, ...]]]:
    """A pattern's phrases grouped by their first element: a pattern of many alternatives is
    expanded once, however many first words it has."""
    found: dict[Key, list[tuple[Element, ...]]] = {}
    for seq in _sequences(pattern):
        found.setdefault(_key(seq[0]), []).append(seq)
    return found


class _Pattern(NamedTuple):
    text: str  # the pattern without its ^ or $
    entry: _Entry  # what each of its phrases is (elements and size filled in per phrase)


def _index(patterns: Sequence[_Pattern]) -> dict[str, Any]:
    """Which patterns may start with which first element, as JSON data: "root" for phrases
    anywhere, "start" for those anchored at the start of a sentence; under each, "w" word ->
    pattern numbers, "p" first three letters -> prefix -> numbers, "n" bound -> numbers, "a"
    the numbers of patterns starting with any word."""
    found: dict[str, Any] = {"root": {}, "start": {}}
    for number, pattern in enumerate(patterns):
        side = found["start" if pattern.entry.anchored else "root"]
        for key in _by_first(pattern.text):
            if key[0] == "w":
                ids = side.setdefault("w", {}).setdefault(key[1], [])
            elif key[0] == "p":
                ids = side.setdefault("p", {}).setdefault(key[1][:3], {}).setdefault(key[1], [])
            elif key[0] == "n":
                spec = "" if key[1] is None else f"{key[1][0]}{key[1][1]}"
                ids = side.setdefault("n", {}).setdefault(spec, [])
            else:
                ids = side.setdefault("a", [])
            ids.append(number)
    return found


class _Trie:
    """Phrases as a trie of words: each word of an utterance is looked up, not compared with
    every phrase. `longest` walks it from one position. Its first level is built on demand: the
    index says which patterns can start with a word, and only those are expanded, the first
    time an utterance holds that word (a process's first words do not pay for the whole file)."""

    def __init__(self, patterns: Sequence[_Pattern], index: dict[str, Any]) -> None:
        self.patterns = patterns
        self.index = index
        self.built: dict[tuple[str, Key], Node] = {}

    def _first(self, side: str, key: Key, numbers: Iterable[int]) -> Node:
        node = self.built.get((side, key))
        if node is None:
            node = {}
            for number in numbers:
                pattern = self.patterns[number]
                for seq in _by_first(pattern.text).get(key, ()):
                    leaf = node
                    for element in seq[1:]:
                        leaf = _child(leaf, element)
                    leaf.setdefault("e", []).append(pattern.entry._replace(size=len(seq)))
            self.built[(side, key)] = node
        return node

    def _starts(self, side: str, token: str) -> list[Node]:
        """The first-level nodes that accept a (free) token."""
        index = self.index[side]
        found: list[Node] = []
        if token == _COMMA:
            return found
        if "a" in index:
            found.append(self._first(side, ("a",), index["a"]))
        exact = index.get("w", {}).get(token)
        if exact:
            found.append(self._first(side, ("w", token), exact))
        for stem, numbers in index.get("p", {}).get(token[:3], {}).items():
            if token.startswith(stem):
                found.append(self._first(side, ("p", stem), numbers))
        if token.isdigit():
            for spec, numbers in index.get("n", {}).items():
                bound = _bound(spec)
                if bound is None or _COMPARE[bound[0]](int(token), bound[1]):
                    found.append(self._first(side, ("n", bound), numbers))
        return found

    def longest(self, tokens: Sequence[str], i: int, free: Sequence[bool]) -> _Entry | None:
        """The longest phrase starting at tokens[i]; terms of the same length pool their classes
        ("hurts" is both a pain word and a "worse" word)."""
        if not free[i]:
            return None
        best: list[_Entry] = []
        best_length = 0
        frontier = self._starts("root", tokens[i])
        if i == 0:
            frontier += self._starts("start", tokens[i])
        j = i
        while frontier:
            last = j == len(tokens) - 1
            ending = [e for node in frontier for e in node.get("e", ()) if last or not e.final]
            if ending:
                best, best_length = ending, j - i + 1
            if last:
                break
            j += 1
            frontier = [child for node in frontier for child in _next(node, tokens[j], free[j])]
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
        if kind in ("term", "capacity"):
            if len(chosen) == 1:
                return chosen[0]
            return chosen[0]._replace(value=frozenset().union(*(e.value for e in chosen)))
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
    #: the term classes the triggers may reach (none: any): an x ray that showed nothing broken
    #: is over for the fall, not for the numb legs said beside it
    only: frozenset[str] = frozenset()


class Learned(NamedTuple):
    """How the screen takes the learned model's word ([learned] in safety.toml)."""

    add: float  # raise a level when the model gives that level at least this probability
    veto: float  # stand down a mention when this sure it is nothing
    flags: dict[str, str]  # level -> the flag whose advice the model's finding speaks


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
    learned: Learned | None = None


def _entries(phrases: Iterable[str], kind: str, value: Any) -> Iterator[_Entry]:
    for pattern in phrases:
        anchored, final = pattern.startswith("^"), pattern.endswith("$")
        for elements in _sequences(pattern.strip("^$ ")):
            if not elements or (elements[0][0] == _ANY and not anchored):
                raise ValueError(f"a phrase must start with a word (or ^): {pattern!r}")
            yield _Entry(elements, kind, value, pattern, anchored, final)


#: The shape of `precompile`'s output; the bundle's copy is used only when it matches.
FORMAT = 3


def _main_patterns(data: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """(pattern, kind, value) for every phrase of the main trie, classes in name order (the
    bundle's JSON sorts its keys, and the index numbers the patterns in this order)."""
    context = data["context"]
    found: list[tuple[str, str, Any]] = []
    for name, phrases in sorted(data["terms"].items()):
        found += [(p, "term", frozenset({name})) for p in phrases]
    for name, phrases in sorted(data.get("capacities", {}).items()):
        if name != "negators":
            found += [(p, "capacity", frozenset({name})) for p in phrases]
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
                only=frozenset(group.get("only", [])),
            )
            for direction in ("forward", "backward", "both", "near"):
                found += [(p, "trigger", (category, direction, reach))
                          for p in group.get(direction, [])]
    found += [(p, "pseudo", None) for p in context.get("pseudo", [])]
    found += [(p, "stop", None) for p in context.get("terminators", [])]
    found += [(p, "term", frozenset({"i"})) for p in context.get("self", [])]
    return found


def _check(patterns: Iterable[tuple[str, str, Any]]) -> None:
    """A term may share its words with a trigger (it is then both); a symptom read two ways, or
    two different triggers on the same words, is a mistake in the file."""
    seen: dict[tuple[Any, ...], _Entry] = {}
    for pattern, kind, value in patterns:
        for entry in _entries([pattern], kind, value):
            role = "term" if entry.kind in ("term", "capacity") else "context"
            key = (entry.elements, entry.anchored, entry.final, role)
            known = seen.setdefault(key, entry)
            if known.kind != entry.kind and role == "term" or (
                role == "context" and known[1:3] + known[4:] != entry[1:3] + entry[4:]
            ):
                raise ValueError(f"{entry.text!r} is both a {known.kind} and a {entry.kind}")


def _pattern_lists(data: dict[str, Any]) -> dict[str, Any]:
    """The patterns of each trie, numbered as the index numbers them: "main", "senses", "cues"
    (one list per cue rule). Cheap: nothing is expanded here."""

    def patterns(rows: Iterable[tuple[str, str, Any]]) -> list[_Pattern]:
        return [_Pattern(text.strip("^$ "), _Entry((), kind, value, text, text.startswith("^"),
                                                    text.endswith("$")))
                for text, kind, value in rows]

    return {
        "main": patterns(_main_patterns(data)),
        "senses": patterns((p, "sense", None) for p in data["senses"]["phrases"]),
        "cues": [patterns((p, "sense", None) for p in rule["cues"])
                 for rule in data["senses"].get("cue", [])],
    }


def _fingerprint(lists: dict[str, Any]) -> int:
    """A checksum of the patterns in index order, so an index is never read against others."""
    texts = [p.entry.text for part in (lists["main"], lists["senses"], *lists["cues"])
             for p in part]
    return zlib.crc32("\n".join(texts).encode())


def precompile(data: dict[str, Any]) -> dict[str, Any]:
    """One language's phrases (safety.toml) checked, and each trie's index of first words as
    JSON data. `make model` writes this into the bundle, so a process's first free-text words
    only load it and expand the few patterns their words can start; without it,
    `compile_lexicon` works it out on first use."""
    _check(_main_patterns(data))
    lists = _pattern_lists(data)
    for patterns in [lists["main"], lists["senses"], *lists["cues"]]:
        for pattern in patterns:  # a phrase that cannot be read fails here, at build time
            entry = pattern.entry
            list(_entries([entry.text], entry.kind, entry.value))
    return {"format": FORMAT, "main": _index(lists["main"]), "senses": _index(lists["senses"]),
            "cues": [_index(cues) for cues in lists["cues"]],
            "patterns": _fingerprint(lists)}


def compile_lexicon(data: dict[str, Any]) -> _Lexicon:
    """The rules of one language's safety.toml, ready to screen with: the index of first words
    comes from the bundle (`precompile`, run by `make model`) when it holds a current one."""
    context = data["context"]
    compiled = data.get("compiled")
    lists = _pattern_lists(data)
    if (not isinstance(compiled, dict) or compiled.get("format") != FORMAT
            or compiled.get("patterns") != _fingerprint(lists)):
        compiled = precompile(data)  # the index numbers patterns: it must be of these ones
    senses = _Trie(lists["senses"], compiled["senses"])
    cue_rules = tuple(
        _CueRule(tuple(_elements(w)[0] for w in rule["words"]), _Trie(cues, index),
                 int(rule.get("within", 6)))
        for rule, cues, index in zip(data["senses"].get("cue", []), lists["cues"],
                                     compiled["cues"], strict=True)
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
                for w in raw.get("when", [])  # none: only the learned model raises it
            ),
        )
        for raw in data["flag"]
    )
    classes = frozenset(data["terms"]) | frozenset(data.get("capacities", {})) | {"i"}
    return _Lexicon(
        senses=senses,
        main=_Trie(lists["main"], compiled["main"]),
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
        learned=_learned(data.get("learned"), {flag.id: flag.level for flag in flags}),
    )


def _learned(table: dict[str, Any] | None, levels: dict[str, str]) -> Learned | None:
    """[learned], checked: one flag per level, each of that level; `levels`: flag id -> level."""
    if not table:
        return None
    flags = dict(table["flags"])
    if set(flags) != set(LEVELS) or any(levels.get(f) != lv for lv, f in flags.items()):
        raise ValueError(f"[learned] flags: one defined flag of each level: {flags}")
    found = Learned(float(table["add"]), float(table["veto"]), flags)
    if not 0.5 <= found.add <= 1.0 or not 0.5 <= found.veto <= 1.0:
        raise ValueError(f"[learned] add and veto are probabilities of at least 0.5: {found}")
    return found


def learned(language: str) -> Learned | None:
    """The screen's settings for its learned second opinion, or None if it takes none."""
    return _lexicon(language).learned


@cache
def _lexicon(language: str) -> _Lexicon:
    return compile_lexicon(content.load(f"{language}/safety.toml"))


def forget() -> None:
    """Drop the compiled rules, after the bundle was rewritten (``make model``, tests, bench)."""
    for cached in (_lexicon, _sequences, _run, _by_first):
        cached.cache_clear()
    redflag_model.forget()


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
        for k in range(i, i + sense.size):
            free[k] = False
        i += sense.size
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
            j = i + (entry.size if entry else 1)
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
            if not reach.only or (other.kind == "term" and other.value & reach.only):
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


class _Read(NamedTuple):
    """One sentence as the lexicon reads it: its tokens, units and the scopes reaching each."""

    tokens: Sequence[str]
    units: list[_Unit]
    reached: list[set[str]]


def _read(tokens: Sequence[str], lex: _Lexicon) -> list[_Read]:
    """Every sentence read once: the rules and the learned model both start from this."""
    found = []
    for sentence in _sentences(tokens):
        units = _units(sentence, lex)
        found.append(_Read(sentence, units, _scopes(units, lex)))
    return found


def _terms(read: _Read, lex: _Lexicon) -> list[_Term]:
    tokens, units, reached = read
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
    """The most serious red flag the speaker describes in `text`, a denial, or None: the rules'
    finding, then the learned model's second opinion on it."""
    tokens = words(text)
    if not tokens:
        return None
    language = _language(locale)
    lex = _lexicon(language)
    read = _read(tokens, lex)
    return _second_opinion(_rules(read, lex, locale), read, language, locale)


def screen_rules(text: str, locale: str = "en-US") -> Finding | None:
    """What the rules alone find (the labels the learned model is trained on, for the project's
    own phrasings, and the figure it is measured against)."""
    tokens = words(text)
    if not tokens:
        return None
    lex = _lexicon(_language(locale))
    return _rules(_read(tokens, lex), lex, locale)


def _second_opinion(found: Finding | None, read: Sequence[_Read], language: str,
                    locale: str) -> Finding | None:
    if found is not None and found.level in ALARMS:
        return found  # an alarm never waits on the model, nor on its file
    lex = _lexicon(language)
    model = redflag_model.model(language) if lex.learned is not None else None
    if model is None:
        return found
    return second_opinion(found, model.probabilities(_model_words(read)), language, locale)


def second_opinion(found: Finding | None, odds: dict[str, float], language: str,
                   locale: str) -> Finding | None:
    """The rules' finding after the model's word (`odds`: its probability of each level).

    An alarm the rules raise always stands, at its level: a missed red flag costs far more than
    a needless trip to the doctor, and the rules know one leg from both. A mention the model is
    very sure is nothing is stood down. When the rules found nothing, or only a mention, the
    model raises the level it gives at least `add` probability, with its flag's advice, which
    names no sign."""
    lex = _lexicon(language)
    if lex.learned is None or (found is not None and found.level in ALARMS):
        return found
    ruled = found.level if found is not None and found.level in LEVELS else None
    if ruled == MENTION and odds["none"] >= lex.learned.veto:
        found, ruled = None, None
    top = min(LEVELS, key=lambda level: (-odds[level], LEVELS.index(level)))
    if odds[top] >= lex.learned.add and top != ruled:
        flag = _flag_in(lex, lex.learned.flags[top])
        return Finding(flag.level, flag.id, _advice(flag.advice, lex, locale))
    return found


_SCOPE_MARKS = {"negation": "neg", "hypothetical": "hyp", "resolved": "res",
                "experiencer": "exp"}


def model_words(text: str, locale: str = "en-US") -> list[tuple[str, str]]:
    """The words as the learned model reads them: (scopes, word) pairs, where scopes names the
    ConText triggers that reach the word ("neg", "exphyp", "" for none) and a phrase in another
    sense ("hay fever") is the one word `redflag_model.SENSE`."""
    lex = _lexicon(_language(locale))
    return _model_words(_read(words(text), lex))


def _model_words(read: Sequence[_Read]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for sentence, units, scopes in read:
        for unit, reached in zip(units, scopes, strict=True):
            if unit.kind == "comma":
                continue
            if unit.kind == "sense":
                found.append(("", redflag_model.SENSE))
                continue
            marks = "".join(sorted(_SCOPE_MARKS[c] for c in reached if c in _SCOPE_MARKS))
            found += [(marks, t) for t in sentence[unit.start : unit.end] if t.isalnum()]
    return found


def _rules(read: Sequence[_Read], lex: _Lexicon, locale: str) -> Finding | None:
    raised: dict[str, int] = {}
    denied: str | None = None
    denied_symptom = False
    for sentence in read:
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
    return _flag_in(_lexicon(_language(locale)), flag_id)


def _flag_in(lex: _Lexicon, flag_id: str) -> _Flag:
    for flag in lex.flags:
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
