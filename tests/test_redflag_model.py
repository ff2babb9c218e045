"""The red-flag screen's learned second opinion (skill/core/redflag_model.py, tools/redflag.py).

The rules speak first, and an alarm they raise always stands; the model may raise a red flag
they were not written for, or stand down a mention it is very sure is nothing. The phrasings
below are the project's own, written for these tests after the model was trained: none of them
is in its training data (a test checks that).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from skill.core import redflag_model, safety
from skill.core.safety import Finding, screen, screen_rules
from tools import redflag
from tools.eval import real

#: Said the way people do, in words no rule was written for; the model hears them.
NOT_IN_THE_RULES = [
    ("my whole body feels like it's shutting down below the waist", "emergency"),
    ("the pain's shooting into both my legs and they feel like they belong to someone else",
     "emergency"),
    ("I've been shaking and boiling hot all night and my back is killing me", "urgent"),
    ("there's a weird hard knot sticking out near my spine", "urgent"),
    ("I lost my footing on the ice and my spine took the blow", "urgent"),
]


def _level(found: Finding | None) -> str | None:
    return found.level if found is not None and found.level in safety.LEVELS else None


@pytest.mark.parametrize(("user_says", "expected"), NOT_IN_THE_RULES)
def test_no_rule_knows_these_words(user_says: str, expected: str) -> None:
    assert screen_rules(user_says) is None, "a rule learned it: pick a phrasing it does not know"


def test_most_red_flags_in_words_no_rule_knows_are_still_sent_to_care() -> None:
    """The model is statistical: what it hears in one phrasing moves as it learns from more
    (after round five, "shaking and boiling hot all night" fell to about a third urgent, as the
    new batches held shaking and heat at night that were no fever, and "shutting down below the
    waist" sits just under the 0.7 the model needs). So the test is that more than half of these
    reach care at their level, and that each one that does names no sign and says where to go."""
    heard = 0
    for user_says, expected in NOT_IN_THE_RULES:
        found = screen(user_says)
        if _level(found) != expected:
            continue
        heard += 1
        assert found is not None and found.sign.startswith("described_"), (user_says, found)
        assert "doctor" in found.advice or "nine one one" in found.advice
    assert 2 * heard > len(NOT_IN_THE_RULES), f"{heard} of {len(NOT_IN_THE_RULES)}"


def test_none_of_these_phrasings_was_learned() -> None:
    learned = {" ".join(safety.words(text)) for text, _ in redflag.examples()}
    said = [text for text, _ in NOT_IN_THE_RULES]
    assert not [t for t in said if " ".join(safety.words(t)) in learned]


def test_the_model_never_learns_the_frozen_split() -> None:
    """Counts only: the frozen texts are never printed."""
    learned = {" ".join(safety.words(text)) for text, _ in redflag.examples()}
    frozen = real.load("frozen")
    seen = sum(1 for group in frozen.values() for e in group
               if " ".join(safety.words(e.text)) in learned)
    assert seen == 0, f"{seen} frozen phrasings in the model's training data"


def _odds(none: float, mention: float = 0.0, urgent: float = 0.0,
          emergency: float = 0.0) -> dict[str, float]:
    return {"none": none, "mention": mention, "urgent": urgent, "emergency": emergency}


def test_an_emergency_the_rules_find_is_never_stood_down() -> None:
    for said in ["my legs have both gone weak", "I can't control my bladder",
                 "I've got chest pain"]:
        ruled = screen_rules(said)
        assert ruled is not None and ruled.level == "emergency", said
        assert safety.second_opinion(ruled, _odds(1.0), "en", "en-US") == ruled


def test_an_alarm_the_rules_raise_keeps_its_level_and_its_own_advice() -> None:
    ruled = screen_rules("my leg has gone numb")
    assert ruled is not None and ruled.level == "urgent"
    assert safety.second_opinion(ruled, _odds(0.0, emergency=1.0), "en", "en-US") == ruled


def test_an_urgent_finding_stands_however_sure_the_model_is_it_is_nothing() -> None:
    ruled = screen_rules("I had a fall")
    assert ruled is not None and ruled.level == "urgent"
    assert safety.second_opinion(ruled, _odds(1.0), "en", "en-US") == ruled


def test_a_mention_the_model_is_sure_is_nothing_is_stood_down() -> None:
    ruled = screen_rules("my back has been stiff for hours every morning since I was a teenager")
    assert ruled is not None and ruled.level == "mention"
    assert safety.second_opinion(ruled, _odds(0.97, mention=0.03), "en", "en-US") is None
    assert safety.second_opinion(ruled, _odds(0.9, mention=0.1), "en", "en-US") == ruled


def test_the_model_raises_a_level_only_when_it_gives_that_level_enough() -> None:
    settings = safety.learned("en")
    assert settings is not None
    add = settings.add  # [learned] add in safety.toml
    below = add - 0.05
    assert safety.second_opinion(None, _odds(1 - below, urgent=below), "en", "en-US") is None
    # Sure it is something, not sure what: nothing is raised on a guess.
    assert safety.second_opinion(None, _odds(0.1, urgent=0.45, emergency=0.45), "en",
                                 "en-US") is None
    found = safety.second_opinion(None, _odds(0.9 - add, urgent=add, emergency=0.1), "en",
                                  "en-US")
    assert found is not None and (found.level, found.sign) == ("urgent", "described_urgent")
    found = safety.second_opinion(None, _odds(0.1, mention=0.9), "en", "en-US")
    assert found is not None and (found.level, found.sign) == ("mention", "described_mention")


@pytest.mark.parametrize("user_says", ["", "?!", "a", "the", "um", "my back hu",
                                       "my back hurts alexa", "blah blah blah"])
def test_a_fragment_or_a_stray_word_raises_nothing(user_says: str) -> None:
    assert _level(screen(user_says)) is None, (user_says, screen(user_says))


def test_an_unreadable_model_file_leaves_the_rules_screening(monkeypatch: pytest.MonkeyPatch,
                                                             tmp_path: Path) -> None:
    for text in ["{", json.dumps({"format": redflag_model.FORMAT}),
                 json.dumps({"format": redflag_model.FORMAT, "features": "u:a", "scale": 1.0,
                             "weights": "AAAA", "bias": [0.0] * 4, "fingerprint": "x"})]:
        broken = tmp_path / "broken.json"
        broken.write_text(text, encoding="utf-8")
        monkeypatch.setattr(redflag_model, "path", lambda language, file=broken: file)
        redflag_model.forget()
        try:
            assert redflag_model.model("en") is None
            said = "there's a weird hard knot sticking out near my spine"
            assert screen(said) == screen_rules(said)
            assert _level(screen("I've got chest pain")) == "emergency"
        finally:
            monkeypatch.undo()
            redflag_model.forget()


def test_without_a_model_file_the_rules_screen_alone(monkeypatch: pytest.MonkeyPatch,
                                                     tmp_path: Path) -> None:
    monkeypatch.setattr(redflag_model, "path", lambda language: tmp_path / "missing.json")
    redflag_model.forget()
    try:
        said = NOT_IN_THE_RULES[0][0]
        assert screen(said) is None
        assert screen("my legs have both gone weak") == screen_rules("my legs have both gone weak")
    finally:
        monkeypatch.undo()
        redflag_model.forget()


def test_the_model_is_read_on_the_first_free_text_not_at_import() -> None:
    probe = ("import json, skill.core.safety, skill.core.redflag_model as m;"
             "print(json.dumps(len(m._models)))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout
    assert json.loads(out) == 0


def test_the_words_carry_the_scopes_the_rules_read() -> None:
    assert ("neg", "numbness") in safety.model_words("I have no numbness")
    assert ("exp", "fever") in safety.model_words("my husband has a fever")
    assert ("", redflag_model.SENSE) in safety.model_words("my hay fever is bad")
    features = redflag_model.features(safety.model_words("no numbness"))
    assert "u:neg:numb" in features and "b:<s>_no" in features


def test_the_file_keeps_its_weights() -> None:
    weights = {"u:numb": [0.5, -1.25, 2.0, 3.75], "b:my_bum": [-0.001, 0.0, 0.0, 4.0]}
    model = redflag_model.Model({**redflag_model.pack(weights), "bias": [0.0] * 4,
                                 "fingerprint": "x"})
    odds = model.probabilities([("", "numb")])  # features u:numb, b:<s>_numb, b:numb_</s>...
    expected = redflag_model.softmax([0.5, -1.25, 2.0, 3.75])
    assert [odds[level] for level in redflag_model.LEVELS] == pytest.approx(expected, abs=1e-3)
    nothing = model.probabilities([("", "unheard")])
    assert [nothing[level] for level in redflag_model.LEVELS] == pytest.approx([0.25] * 4)


@pytest.mark.slow
def test_the_committed_model_is_the_one_its_data_gives() -> None:
    """`python -m tools redflag` from the same data writes the same file, so the bundle in git is
    exactly what the tunable sets, the rules and the tests' phrasings train."""
    committed = json.loads(redflag_model.path("en").read_text(encoding="utf-8"))
    rebuilt = json.loads(json.dumps(redflag.build("en"), sort_keys=True))
    assert not redflag.stale("en")
    assert {k: v for k, v in committed.items() if k not in ("scale", "weights")} == {
        k: v for k, v in rebuilt.items() if k not in ("scale", "weights")}
    # The weights to within one step of their int16 packing (exp may differ in the last bit
    # from one platform's libm to another's).
    a, b = redflag_model.Model(committed), redflag_model.Model(rebuilt)
    for words in [[("", "numb")], [("neg", "numb")], [("", "bum"), ("", "numb")]]:
        assert a.probabilities(words) == pytest.approx(b.probabilities(words), abs=1e-3)
    assert committed["scale"] == pytest.approx(rebuilt["scale"], rel=1e-9)

