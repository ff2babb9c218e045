"""The interaction models and the skill manifest, generated from one source per language.

``content/<language>/model.toml`` is the single source; ``python -m skill model`` writes
``interaction_model/interactionModels/custom/<locale>.json`` for every locale of that language
and ``interaction_model/skill.json``, and compiles all content TOML into the JSON the skill reads
at run time. A test regenerates them and fails on any drift.
"""

from __future__ import annotations

import json
import sys
from functools import cache
from pathlib import Path
from typing import Any

from skill import content

PACKAGE_DIR = Path(__file__).resolve().parent.parent / "interaction_model"
REMINDER_PERMISSION = "alexa::alerts:reminders:skill:readwrite"


@cache
def source(language: str) -> dict[str, Any]:
    return content.load(f"{language}/model.toml")


def invocation_name(locale: str | None) -> str:
    return source(content.language(locale))["invocation"]


@cache
def _synonyms(language: str) -> dict[str, dict[str, str]]:
    """Slot name -> spoken word -> value id, for resolving slot values that came unresolved."""
    types = {t["name"]: t for t in source(language)["types"]}
    table: dict[str, dict[str, str]] = {}
    for intent in source(language)["intents"]:
        for slot in intent.get("slots", []):
            if slot["type"] in types:
                words = table.setdefault(slot["name"], {})
                for value in types[slot["type"]]["values"]:
                    for word in [value["name"], value["id"], *value.get("synonyms", [])]:
                        words[word.lower()] = value["id"]
    return table


def resolve(slot_name: str, spoken: str, locale: str | None = None) -> str:
    """The value id for a custom slot's words, or the words themselves (free-form slots)."""
    words = _synonyms(content.language(locale)).get(slot_name)
    if words is None:
        return spoken
    return words.get(spoken.strip().lower(), spoken)


def interaction_model(locale: str) -> dict[str, Any]:
    src = source(content.language(locale))
    intents = []
    for intent in src["intents"]:
        entry: dict[str, Any] = {"name": intent["name"], "samples": list(intent["samples"])}
        if intent.get("slots"):
            entry["slots"] = [{"name": s["name"], "type": s["type"]} for s in intent["slots"]]
        intents.append(entry)
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
    return {
        "interactionModel": {
            "languageModel": {
                "invocationName": src["invocation"],
                "intents": intents,
                "types": types,
            }
        }
    }


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
                "usesPersonalInfo": False,
                "isChildDirected": False,
                "isExportCompliant": True,
                "containsAds": False,
                "usesHealthInfo": False,
                "locales": privacy,
            },
            "apis": {
                "custom": {
                    "interfaces": [{"type": "ALEXA_PRESENTATION_APL"}],
                }
            },
            "permissions": [{"name": REMINDER_PERMISSION}],
        }
    }


def rendered(package_dir: Path = PACKAGE_DIR) -> dict[Path, str]:
    """Every generated file and its exact text."""
    files = {package_dir / "skill.json": _dump(manifest())}
    files[content.COMPILED] = json.dumps(content.compile_sources(), ensure_ascii=False,
                                         sort_keys=True) + "\n"
    for locale in content.LANGUAGES:
        path = package_dir / "interactionModels" / "custom" / f"{locale}.json"
        files[path] = _dump(interaction_model(locale))
    return files


def _dump(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    content.write_compiled()
    for cached in (source, _synonyms):
        cached.cache_clear()
    for path, text in rendered().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(PACKAGE_DIR.parent)}", file=sys.stderr)
    return 0
