"""`python -m tools validate`: clean on the project's own files, and each rule catches a seeded
mistake in a broken copy (the package and the content copied to a tmp dir, one thing changed)."""

from __future__ import annotations

import importlib.util
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support import REPO_ROOT
from tools import validate

PACKAGE = REPO_ROOT / "interaction_model"
CONTENT = REPO_ROOT / "content"
MODEL = Path("interactionModels/custom")
LOCALES = ("en-US", "en-GB", "en-CA", "en-AU", "en-IN")


@pytest.fixture(scope="module")
def own_report() -> validate.Report:
    return validate.validate()


@pytest.mark.slow
def test_the_projects_own_files_pass(own_report: validate.Report) -> None:
    assert [str(f) for f in own_report.errors] == []
    # Every part was actually looked at.
    for what in ("sample utterances", "example phrases", "icons", "prompt variants", "answers",
                 "movement fields", "paced holds", "generated files compared"):
        assert own_report.checked[what] > 0, what


@pytest.mark.slow
def test_main_prints_a_summary_and_exits_zero_when_clean(
        own_report: validate.Report, capsys: pytest.CaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(validate, "validate", lambda *args, **kwargs: own_report)
    assert validate.main([]) == 0
    out = capsys.readouterr().out
    assert "validate: ok: 0 errors" in out
    assert "checked:" in out and "sample utterances" in out


@pytest.mark.slow
def test_searchquery_overlaps_are_reported_as_info_not_errors(own_report) -> None:
    infos = [f for f in own_report.of("info") if f.rule == "searchquery-overlap"]
    assert any(f.text == "tell me {query}" and "tell me more" in f.why for f in infos)
    assert "slot-sample-clash" not in own_report.rules("error")


def test_the_coach_handles_the_intents_it_is_listed_for() -> None:
    handled = validate.handled_intents()
    assert {"AMAZON.YesIntent", "AMAZON.PauseIntent", "AMAZON.FallbackIntent",
            "QuestionIntent", "StartRoutineIntent"} <= handled
    assert "Launch" not in handled and "EffectResult" not in handled


# --- seeded mistakes ------------------------------------------------------------------------

@pytest.fixture
def copy(tmp_path: Path) -> tuple[Path, Path]:
    package, content = tmp_path / "interaction_model", tmp_path / "content"
    shutil.copytree(PACKAGE, package)
    shutil.copytree(CONTENT, content, ignore=shutil.ignore_patterns("compiled.json"))
    return package, content


def edit_json(path: Path, change: Callable[[Any], Any]) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")


def edit_models(package: Path, change: Callable[[dict], Any],
                locales: tuple[str, ...] = LOCALES) -> None:
    for locale in locales:
        edit_json(package / MODEL / f"{locale}.json",
                  lambda d: change(d["interactionModel"]["languageModel"]))


def edit_manifest(package: Path, change: Callable[[dict], Any]) -> None:
    edit_json(package / "skill.json", lambda d: change(d["manifest"]))


def intent(lm: dict, name: str) -> dict:
    return next(i for i in lm["intents"] if i["name"] == name)


def run(package: Path, content: Path) -> validate.Report:
    return validate.validate(package, content)


def set_invocation(name: str) -> Callable[[dict], None]:
    return lambda lm: lm.update(invocationName=name)


def add_sample(intent_name: str, sample: str) -> Callable[[dict], None]:
    return lambda lm: intent(lm, intent_name)["samples"].append(sample)


def drop_intent(name: str) -> Callable[[dict], None]:
    return lambda lm: lm["intents"].remove(intent(lm, name))


def add_custom_intent(lm: dict) -> None:
    lm["intents"].append({"name": "DanceIntent",
                          "samples": [f"dance number {w}" for w in "abcdefghijklmnop"]})


def keep_samples(name: str, count: int) -> Callable[[dict], None]:
    return lambda lm: intent(lm, name).update(samples=intent(lm, name)["samples"][:count])


def long_synonym(lm: dict) -> None:
    lm["types"][0]["values"][0]["name"]["synonyms"].append("very " * 30 + "slow")


def unused_slot(lm: dict) -> None:
    intent(lm, "SkipIntent")["slots"] = [{"name": "routine", "type": "ROUTINE_NAME"}]


MODEL_MISTAKES = {
    "invocation-launch-word": set_invocation("ask back coach"),
    "invocation-one-word": set_invocation("backcoach"),
    "invocation-wake-word": set_invocation("alexa back coach"),
    "invocation-numbers": set_invocation("back coach 2"),
    "invocation-characters": set_invocation("Back Coach"),
    "builtin-required": drop_intent("AMAZON.StopIntent"),
    "intent-not-in-model": drop_intent("AMAZON.PauseIntent"),
    "intent-not-handled": add_custom_intent,
    "sample-numbers": add_sample("SkipIntent", "skip 2 of them"),
    "sample-characters": add_sample("SkipIntent", "skip it!"),
    "sample-duplicate": add_sample("SkipIntent", "skip this one"),
    "sample-in-two-intents": add_sample("SkipIntent", "keep going"),
    "slot-sample-clash": add_sample("SkipIntent", "quick stretch"),
    "slot-undeclared": add_sample("SkipIntent", "skip the {routine} one"),
    "slot-unused": unused_slot,
    "searchquery-carrier": add_sample("QuestionIntent", "{query}"),
    "samples-too-few": keep_samples("SkipIntent", 10),
    "slot-value-length": long_synonym,
    # A typed slot sample of an earlier intent hears a later intent's command first:
    # "i want short mornings" would start the quick routine instead of setting the length.
    "sample-stolen": add_sample("StartRoutineIntent", "i want {routine} mornings"),
    # The carrier is not sent: "no numbness" would reach the skill as "numbness".
    "searchquery-carrier-negation": add_sample("QuestionIntent", "no {query}"),
}


@pytest.mark.parametrize("rule", sorted(MODEL_MISTAKES))
@pytest.mark.slow
def test_each_model_rule_catches_its_mistake(rule: str, copy: tuple[Path, Path]) -> None:
    package, content = copy
    edit_models(package, MODEL_MISTAKES[rule])
    report = run(package, content)
    assert rule in report.rules(), [str(f) for f in report.errors]
    # The message names the file and the position in it.
    finding = next(f for f in report.errors if f.rule == rule)
    assert finding.file.endswith(".json") and "en-US" in str(report.errors)


def edit_name_free(package: Path, change: Callable[[list], Any]) -> None:
    for locale in LOCALES:
        edit_json(package / MODEL / f"{locale}.json",
                  lambda d: change(d["interactionModel"]["_nameFreeInteraction"]["ingressPoints"]))


def launch_phrases(points: list) -> list:
    return next(p for p in points if p["type"] == "LAUNCH")["sampleUtterances"]


def phrase(value: str) -> dict:
    return {"format": "RAW_TEXT", "value": value}


NAME_FREE_MISTAKES = {
    "name-free-slot": lambda points: launch_phrases(points).append(phrase("start my {routine}")),
    "name-free-phrases-count": lambda points: launch_phrases(points).extend(
        [phrase("my back aches"), phrase("my back is stiff again")]),
    "name-free-duplicate": lambda points: launch_phrases(points).append(
        phrase("My back is stiff this morning")),
    "name-free-intent": lambda points: points.append(
        {"type": "INTENT", "name": "AMAZON.StopIntent", "sampleUtterances": [phrase("stop")]}),
    "name-free-shape": lambda points: points.append({"type": "SKILL"}),
}


@pytest.mark.parametrize("rule", sorted(NAME_FREE_MISTAKES))
@pytest.mark.slow
def test_each_name_free_rule_catches_its_mistake(rule: str, copy: tuple[Path, Path]) -> None:
    package, content = copy
    edit_name_free(package, NAME_FREE_MISTAKES[rule])
    report = run(package, content)
    assert rule in report.rules(), [str(f) for f in report.errors]
    finding = next(f for f in report.errors if f.rule == rule)
    assert finding.where.startswith("interactionModel._nameFreeInteraction")


@pytest.mark.slow
def test_intents_awaiting_the_coach_warn_until_it_handles_them(
        own_report: validate.Report, copy: tuple[Path, Path]) -> None:
    from tools import model

    # Every intent the model declares is wired into the coach today.
    assert model.awaiting_coach() == set()
    assert not [f for f in own_report.of("warning") if f.rule == "intent-awaiting-coach"]
    package, content = copy
    source = content / "en" / "model.toml"
    text = source.read_text()
    # The marker on an intent the coach handles is stale ...
    source.write_text(text.replace('name = "SkipIntent"\n', 'name = "SkipIntent"\n'
                                   'awaiting_coach = true\n'))
    assert "intent-awaiting-handled" in run(package, content).rules("warning")
    # ... and an intent in the model that the coach does not handle is an error.
    source.write_text(text)
    samples = [f"hum a tune number {n}" for n in "one two three four five six seven eight nine"
               " ten eleven twelve thirteen fourteen fifteen sixteen".split()]
    edit_models(package, lambda lm: lm["intents"].insert(0, {"name": "HumIntent",
                                                            "samples": samples}))
    assert "intent-not-handled" in run(package, content).rules()


def test_every_sample_is_said_with_its_slot_values(own_report: validate.Report) -> None:
    assert own_report.checked["samples said with their slot values and resolved"] > 5000
    assert own_report.checked["name-free phrases"] > 0
    assert "sample-stolen" not in own_report.rules()


@pytest.mark.slow
def test_a_seeded_mistake_is_printed_with_file_position_and_rule(
        copy: tuple[Path, Path], capsys: pytest.CaptureFixture) -> None:
    package, content = copy
    edit_models(package, add_sample("SkipIntent", "skip 2 of them"))
    code = validate.main(["--package-dir", str(package), "--content-dir", str(content)])
    err = capsys.readouterr()
    assert code == 1
    line = next(li for li in err.out.splitlines() if "sample-numbers" in li and "en-US" in li)
    assert "interactionModels/custom/en-US.json: intents[" in line
    assert '"skip 2 of them": sample-numbers: numbers must be spelled out' in line
    assert "FAILED" in err.err


@pytest.mark.slow
def test_locales_out_of_sync_and_drift_from_the_source(copy: tuple[Path, Path]) -> None:
    package, content = copy
    edit_models(package, add_sample("SkipIntent", "pass this one"), locales=("en-GB",))
    report = run(package, content)
    out_of_sync = [f for f in report.errors if f.rule == "locales-out-of-sync"]
    assert out_of_sync and out_of_sync[0].file.endswith("en-GB.json")
    assert "samples" in out_of_sync[0].where
    drift = [f for f in report.errors if f.rule == "model-drift"]
    assert drift and "make model" in drift[0].why
    assert not any(f.rule == "model-drift" for f in run(*_fresh_copy(copy)).errors)


def _fresh_copy(copy: tuple[Path, Path]) -> tuple[Path, Path]:
    package, content = copy
    shutil.rmtree(package)
    shutil.copytree(PACKAGE, package)
    return package, content


def first_example(text: str) -> Callable[[dict], None]:
    def change(manifest: dict) -> None:
        for info in manifest["publishingInformation"]["locales"].values():
            info["examplePhrases"][0] = text
    return change


def set_example(index: int, text: str) -> Callable[[dict], None]:
    def change(manifest: dict) -> None:
        for info in manifest["publishingInformation"]["locales"].values():
            info["examplePhrases"][index] = text
    return change


def in_locales(**values: Any) -> Callable[[dict], None]:
    def change(manifest: dict) -> None:
        for info in manifest["publishingInformation"]["locales"].values():
            for key, value in values.items():
                if value is None:
                    info.pop(key)
                else:
                    info[key] = value
    return change


def privacy(**values: Any) -> Callable[[dict], None]:
    def change(manifest: dict) -> None:
        for key, value in values.items():
            if value is None:
                manifest["privacyAndCompliance"].pop(key)
            else:
                manifest["privacyAndCompliance"][key] = value
    return change


MANIFEST_MISTAKES = {
    "manifest-field-missing": in_locales(name=None),
    "manifest-disclaimer": in_locales(description="Gentle stretches in bed. Good for you."),
    "example-phrase-first": first_example("Alexa, launch bedside back coach"),
    "example-phrase-not-a-sample": set_example(1, "Alexa, ask bedside back coach to dance"),
    "example-phrase-form": set_example(2, "Bedside back coach, why is my back stiff"),
    "example-phrases-count": in_locales(examplePhrases=["Alexa, open bedside back coach"]),
    "privacy-health-info": privacy(usesHealthInfo=True),
    "privacy-field": privacy(containsAds=None),
    "manifest-category": lambda m: m["publishingInformation"].pop("category"),
    "manifest-apl-interface": lambda m: m["apis"]["custom"].update(interfaces=[]),
    "manifest-permission": lambda m: m.update(permissions=[]),
    "manifest-interface-unknown": lambda m: m["apis"]["custom"]["interfaces"].append(
        {"type": "HOLOGRAM"}),
    "manifest-interface-duplicate": lambda m: m["apis"]["custom"]["interfaces"].append(
        {"type": "ALEXA_PRESENTATION_APL"}),
    # model.toml asks for name-free requests, so the interface must be declared.
    "manifest-can-fulfill": lambda m: m["apis"]["custom"].update(
        interfaces=[{"type": "ALEXA_PRESENTATION_APL"}]),
}


@pytest.mark.parametrize("rule", sorted(MANIFEST_MISTAKES))
@pytest.mark.slow
def test_each_manifest_rule_catches_its_mistake(rule: str, copy: tuple[Path, Path]) -> None:
    package, content = copy
    edit_manifest(package, MANIFEST_MISTAKES[rule])
    report = run(package, content)
    assert rule in report.rules(), [str(f) for f in report.errors]
    assert next(f for f in report.errors if f.rule == rule).file.endswith("skill.json")


def test_example_phrases_may_use_slot_values_and_searchquery(own_report) -> None:
    _, data = None, json.loads((PACKAGE / "skill.json").read_text())
    phrases = data["manifest"]["publishingInformation"]["locales"]["en-US"]["examplePhrases"]
    assert phrases[0] == "Alexa, open bedside back coach"
    assert own_report.checked["example phrases"] == 3 * len(LOCALES)


def load_icon_script() -> Any:
    spec = importlib.util.spec_from_file_location("make_icons",
                                                  REPO_ROOT / "scripts" / "make_icons.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_icons_must_exist_as_pngs_of_the_right_size(copy: tuple[Path, Path]) -> None:
    package, content = copy
    images = package / "assets" / "images"
    assert validate.png_size(images / "small-icon.png") == (108, 108)
    assert validate.png_size(images / "large-icon.png") == (512, 512)
    (images / "small-icon.png").write_bytes(load_icon_script().png(100))
    (images / "large-icon.png").unlink()
    report = run(package, content)
    assert {"icon-size", "icon-missing"} <= report.rules()
    (images / "small-icon.png").write_bytes(b"GIF89a not a png")
    assert "icon-format" in run(package, content).rules()


@pytest.mark.slow
def test_the_icon_script_reproduces_the_committed_icons() -> None:
    # The small one only: drawing 512x512 in pure Python takes seconds.
    script = load_icon_script()
    assert (PACKAGE / "assets" / "images" / "small-icon.png").read_bytes() == script.png(108)


# --- content --------------------------------------------------------------------------------

def edit_toml(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.slow
def test_markup_in_plain_text_content_is_an_error(copy: tuple[Path, Path]) -> None:
    package, content = copy
    edit_toml(content / "en" / "prompts.toml", 'rep_again = ["And again.",',
              'rep_again = ["And again. <break time=\\"20s\\"/>",')
    finding = next(f for f in run(package, content).errors if f.rule == "content-markup")
    assert finding.file.endswith("prompts.toml") and finding.where == "routine.rep_again[0]"


@pytest.mark.slow
def test_a_broken_placeholder_is_an_error(copy: tuple[Path, Path]) -> None:
    package, content = copy
    edit_toml(content / "en" / "prompts.toml", 'step_intro = ["Step {n} of {total}',
              'step_intro = ["Step {n of {total}')
    assert "prompt-placeholder" in run(package, content).rules()


@pytest.mark.slow
def test_an_answer_too_long_for_alexa_is_an_error(copy: tuple[Path, Path]) -> None:
    package, content = copy
    path = content / "en" / "knowledge.toml"
    text = path.read_text(encoding="utf-8")
    at = text.index("short = ")
    path.write_text(text[:at] + 'short = "' + "Stretch gently. " * 600 + '"\nxshort = '
                    + text[at + len("short = "):], encoding="utf-8")
    finding = next(f for f in run(package, content).errors if f.rule == "ssml-length")
    assert finding.file.endswith("knowledge.toml") and ".short" in finding.where


@pytest.mark.slow
def test_a_hold_longer_than_the_count_words_is_an_error(copy: tuple[Path, Path]) -> None:
    package, content = copy
    edit_toml(content / "routines.toml", "min_hold = 10\nmax_hold = 40",
              "min_hold = 10\nmax_hold = 60")
    finding = next(f for f in run(package, content).errors if f.rule == "hold-pacing")
    assert "60 s" in finding.where and "counted up to 40" in finding.why


# --- SSML rules, and agreement with ssml-check-core ----------------------------------------

BROKEN_SSML = {
    '<speak>Hold<break time="11s"/>on.</speak>': "ssml-break",
    '<speak>Hold<break time="3"/>on.</speak>': "ssml-break",
    '<speak>Hold <mark name="x"/> on.</speak>': "ssml-tag",
    "<speak>Hold <blink>on</blink>.</speak>": "ssml-tag",
    "<speak>Back & legs.</speak>": "ssml-bare-character",
    "<speak>Back <s>and legs.</speak>": "ssml-xml",
    "Back and legs.": "ssml-root",
    "<speak>" + "Stretch gently. " * 600 + "</speak>": "ssml-length",
}


@pytest.mark.parametrize("ssml", list(BROKEN_SSML))
def test_each_ssml_rule(ssml: str) -> None:
    assert BROKEN_SSML[ssml] in {rule for rule, _ in validate.ssml_errors(ssml)}


def test_valid_ssml_passes() -> None:
    ssml = ('<speak><prosody rate="90%" volume="soft">Breathe in.<break time="10000ms"/>'
            '<break time="2s"/>Rest &amp; relax.</prosody></speak>')
    assert validate.ssml_errors(ssml) == []


def test_python_rules_agree_with_ssml_check_core(own_report: validate.Report) -> None:
    """Everything validate rendered is valid for both; the seeded breakages that
    ssml-check-core knows about fail both."""
    from tests.support.ssml import platform_errors_many

    rendered = list(dict.fromkeys(ssml for _, ssml in own_report.ssml))
    assert len(rendered) > 300
    theirs = platform_errors_many(rendered)
    disagreements = [(ssml[:80], errors) for ssml, errors in zip(rendered, theirs, strict=True)
                     if errors or validate.ssml_errors(ssml)]
    assert disagreements == []
    # Every seeded breakage fails both. (tests/support/ssml.py folds ssml-check-core's own
    # "Invalid & character"/"Can't parse" into its XML messages, so they are not told apart here.)
    broken = list(BROKEN_SSML)
    for ssml, errors in zip(broken, platform_errors_many(broken), strict=True):
        assert errors and validate.ssml_errors(ssml), ssml
    # And ssml-check-core alone flags the ones it knows: over-long breaks and unknown tags.
    known = [s for s in broken if "11s" in s or "blink" in s]
    for ssml, errors in zip(known, platform_errors_many(known), strict=True):
        assert any("ssml-check-core" in e for e in errors), ssml
