"""Build: the interaction models, the skill manifest and the runtime bundle, from ``content/``.

``content/<language>/model.toml`` is the single source of the interaction model: ``make model``
(``python -m tools model``) writes ``interaction_model/interactionModels/custom/<locale>.json`` for
every locale of that language and ``interaction_model/skill.json``, and compiles what the runtime
reads from the content into ``skill/bundle/`` (see :mod:`skill.core.content`). A test regenerates
them and fails on any drift.
"""

from __future__ import annotations

import itertools
import json
import re
import sys
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

from skill.core import content
from skill.core.conversation import REMINDER_PERMISSION

REPO_ROOT = Path(__file__).resolve().parent.parent
CONTENT_DIR = REPO_ROOT / "content"
PACKAGE_DIR = REPO_ROOT / "interaction_model"
#: The manifest interface that makes Alexa send CanFulfillIntentRequest (name-free requests).
CAN_FULFILL_INTERFACE = "CAN_FULFILL_INTENT_REQUEST"
#: A sample's "(a|b|)" shorthand may not multiply into more samples than this.
MAX_EXPANSIONS = 400
_CHOICES = re.compile(r"\(([^()]*)\)")


def read_sources(content_dir: Path = CONTENT_DIR) -> dict[str, Any]:
    """Every content file, parsed, keyed by its path under the content folder."""
    found: dict[str, Any] = {}
    for path in sorted(content_dir.rglob("*")):
        if path.suffix == ".toml":
            with open(path, "rb") as handle:
                found[path.relative_to(content_dir).as_posix()] = tomllib.load(handle)
        elif path.suffix == ".json":
            found[path.relative_to(content_dir).as_posix()] = json.loads(
                path.read_text(encoding="utf-8"))
    return found


@cache
def source(language: str) -> dict[str, Any]:
    with open(CONTENT_DIR / language / "model.toml", "rb") as handle:
        return tomllib.load(handle)


def slot_table(model_source: dict[str, Any]) -> dict[str, Any]:
    """What the runtime needs of a model: its invocation name, and slot name -> spoken word ->
    value id, for slot values that arrive without entity resolution."""
    types = {t["name"]: t for t in model_source["types"]}
    table: dict[str, dict[str, str]] = {}
    for intent in model_source["intents"]:
        for slot in intent.get("slots", []):
            if slot["type"] in types:
                words = table.setdefault(slot["name"], {})
                for value in types[slot["type"]]["values"]:
                    for word in [value["name"], value["id"], *value.get("synonyms", [])]:
                        words[word.lower()] = value["id"]
    return {"invocation": model_source["invocation"], "values": table,
            "openings": {name: words for name, words in opening_intents(model_source)}}


def opening_intents(model_source: dict[str, Any]) -> list[tuple[str, str]]:
    """(intent name, words) for each of the free-text intent's ``kept_openings``: openings that
    are the symptom itself ("pain ...", "can't ..."). A carrier is never sent, so each becomes an
    intent of its own, with the samples "[filler] <words> {slot}" (see `interaction_model`), and
    the coach puts the words back in front of what it hears (skill.core.content.opening)."""
    return [found for intent in model_source["intents"] for found in _openings(intent)]


def _openings(intent: dict[str, Any]) -> list[tuple[str, str]]:
    return [(f"{intent['name']}_{re.sub(r'[^a-z]+', '_', words.lower()).strip('_')}", words)
            for words in intent.get("kept_openings", [])]


def knowledge_index(data: dict[str, Any]) -> dict[str, Any]:
    """What the answer book would otherwise work out on a process's first question: each
    item's centroid and facets in the word-vector space, its normalised terms, and the Snowball
    stem of every word the file uses (Snowball in pure Python is slow, and the first question
    should not spend a few hundred ms stemming and embedding the whole knowledge base)."""
    from skill.core import answers, wordvectors

    table = wordvectors.WordVectors(answers.VECTORS_PATH)
    return {"vectors": answers.item_vectors(data, table),
            "facets": answers.pack_facets(answers.item_facets(data, table)),
            "terms": answers.index_terms(data),
            "stems": answers.stem_table(data)}


def safety_tries(data: dict[str, Any]) -> dict[str, Any]:
    """The red-flag screen's phrases expanded and indexed as tries, so that a process's first
    free-text words load them rather than build them (tens of ms of the first question)."""
    from skill.core import safety

    return safety.precompile(data)


def compile_bundle(content_dir: Path = CONTENT_DIR) -> dict[str, dict[str, Any]]:
    """The runtime bundle, part name -> {source path -> data}: everything the skill reads, and
    nothing it does not (the interaction model itself stays behind; its slot table goes in)."""
    parts: dict[str, dict[str, Any]] = {}
    for relative, data in read_sources(content_dir).items():
        if relative.endswith("/never_say.toml"):
            continue  # what tests check the speech against; the skill never reads it
        if relative.endswith("/model.toml"):
            relative, data = relative.replace("model.toml", "slots"), slot_table(data)
        elif relative.endswith("/knowledge.toml"):
            data = {**data, **knowledge_index(data)}
        elif relative.endswith("/safety.toml"):
            data = {**data, "compiled": safety_tries(data)}
        parts.setdefault(content.part_of(relative), {})[relative] = data
    return parts


def expand(sample: str) -> list[str]:
    """A source sample's shorthand spelled out: "(start|begin) my {routine} stretch" is two
    samples; an empty choice leaves the words out ("stretch (please|)")."""
    groups = [g.split("|") for g in _CHOICES.findall(sample)]
    if not groups:
        return [sample]
    count = 1
    for group in groups:
        count *= len(group)
    if count > MAX_EXPANSIONS:
        raise ValueError(f"{sample!r} expands to {count} samples; the limit is {MAX_EXPANSIONS}")
    frame = _CHOICES.sub("\0", sample).split("\0")
    found = []
    for picks in itertools.product(*groups):
        words = frame[0] + "".join(p + rest for p, rest in zip(picks, frame[1:], strict=True))
        found.append(" ".join(words.split()))
    return found


def samples_of(intent: dict[str, Any]) -> list[str]:
    """An intent's samples as Alexa gets them: shorthand expanded, carriers added, each once."""
    found = [s for sample in intent.get("samples", []) for s in expand(sample)]
    if intent.get("carriers"):
        slot = next(s["name"] for s in intent["slots"] if s["type"] == "AMAZON.SearchQuery")
        found += [f"{carrier} {{{slot}}}" for carrier in intent["carriers"]]
    return list(dict.fromkeys(found))


def awaiting_coach(language: str = "en") -> set[str]:
    """Intents declared for conversation work the coach has not wired yet (until it does,
    they get the coach's fallback answer): ``awaiting_coach = true`` in model.toml."""
    return {i["name"] for i in source(language)["intents"] if i.get("awaiting_coach")}


def name_free(language: str = "en") -> dict[str, Any]:
    """The ``[name_free]`` table of model.toml (empty when the skill does not take part)."""
    return dict(source(language).get("name_free") or {})


def name_free_interaction(language: str) -> dict[str, Any] | None:
    """The interaction model's ``_nameFreeInteraction`` container: skill launch phrases (type
    LAUNCH) and intent launch phrases (type INTENT), each as RAW_TEXT sample utterances."""
    table = name_free(language)
    points: list[dict[str, Any]] = []
    if table.get("launch_phrases"):
        points.append({"type": "LAUNCH", "sampleUtterances": [
            {"format": "RAW_TEXT", "value": p} for p in table["launch_phrases"]]})
    for intent in table.get("intents") or []:
        points.append({"type": "INTENT", "name": intent["name"], "sampleUtterances": [
            {"format": "RAW_TEXT", "value": p} for p in intent["phrases"]]})
    return {"ingressPoints": points} if points else None


def interaction_model(locale: str) -> dict[str, Any]:
    src = source(content.language(locale))
    intents = []
    for intent in src["intents"]:
        entry: dict[str, Any] = {"name": intent["name"], "samples": samples_of(intent)}
        if intent.get("slots"):
            entry["slots"] = [{"name": s["name"], "type": s["type"]} for s in intent["slots"]]
        intents.append(entry)
        if intent.get("kept_openings"):
            slot = next(s for s in intent["slots"] if s["type"] == "AMAZON.SearchQuery")
            lead = intent.get("opening_fillers", [])
            intents += [{"name": name,
                         "samples": [" ".join(f"{filler} {words} {{{slot['name']}}}".split())
                                     for filler in ["", *lead]],
                         "slots": [{"name": slot["name"], "type": slot["type"]}]}
                        for name, words in _openings(intent)]
    types = [
        {
            "name": t["name"],
            "values": [
                {"id": v["id"], "name": {"value": v["name"], "synonyms": v.get("synonyms", [])}}
                for v in t["values"]
            ],
        }
        for t in src["types"]
    ]
    model: dict[str, Any] = {
        "languageModel": {
            "invocationName": src["invocation"],
            "intents": intents,
            "types": types,
        }
    }
    nfi = name_free_interaction(content.language(locale))
    if nfi:
        model["_nameFreeInteraction"] = nfi
    return {"interactionModel": model}


def manifest() -> dict[str, Any]:
    locales: dict[str, Any] = {}
    privacy: dict[str, Any] = {}
    for locale in content.LANGUAGES:
        m = source(content.language(locale))["manifest"]
        locales[locale] = {
            "name": m["name"],
            "summary": m["summary"],
            "description": m["description"],
            "examplePhrases": list(m["example_phrases"]),
            "keywords": list(m["keywords"]),
            "smallIconUri": "file://assets/images/small-icon.png",
            "largeIconUri": "file://assets/images/large-icon.png",
        }
        privacy[locale] = {"privacyPolicyUrl": m["privacy_policy_url"]}
    first = source(content.language(content.DEFAULT_LOCALE))["manifest"]
    interfaces = [{"type": "ALEXA_PRESENTATION_APL"}]
    if name_free(content.language(content.DEFAULT_LOCALE)).get("can_fulfill"):
        interfaces.append({"type": CAN_FULFILL_INTERFACE})
    return {
        "manifest": {
            "manifestVersion": "1.0",
            "publishingInformation": {
                "locales": locales,
                "isAvailableWorldwide": False,
                "distributionCountries": sorted({loc.split("-")[1] for loc in content.LANGUAGES}),
                "category": first["category"],
                "testingInstructions": first["testing_instructions"],
            },
            "privacyAndCompliance": {
                "allowsPurchases": False,
                "usesPersonalInfo": first["uses_personal_info"],
                "isChildDirected": False,
                "isExportCompliant": True,
                "containsAds": False,
                "usesHealthInfo": first["uses_health_info"],
                "locales": privacy,
            },
            "apis": {
                "custom": {
                    "interfaces": interfaces,
                }
            },
            "permissions": [{"name": REMINDER_PERMISSION}],
        }
    }


def rendered(package_dir: Path = PACKAGE_DIR) -> dict[Path, str]:
    """Every generated file and its exact text."""
    files = {package_dir / "skill.json": _dump(manifest())}
    for name, data in compile_bundle().items():
        files[content.BUNDLE_DIR / f"{name}.json"] = json.dumps(
            data, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"
    for locale in content.LANGUAGES:
        path = package_dir / "interactionModels" / "custom" / f"{locale}.json"
        files[path] = _dump(interaction_model(locale))
    return files


def _dump(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    source.cache_clear()
    for path, text in rendered().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(REPO_ROOT)}", file=sys.stderr)
    content.forget()
    from tools import redflag  # trained on the screen just written, when its data changed

    return redflag.main([])
