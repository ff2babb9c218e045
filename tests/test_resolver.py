"""tools/resolver.py: words to intents as virtual-alexa matches them, checked against the real
virtual-alexa on every sample of the model and on real-world utterances; how real statements,
commands, conversational answers and times land."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.support import REPO_ROOT, require_node_package
from tests.support.virtual_alexa import VirtualAlexa
from tools import coverage
from tools.resolver import (
    AUDIO_PLAYER_INTENTS,
    BUILT_IN_UTTERANCES,
    FALLBACK,
    MODELS,
    Resolver,
    heard,
    language_model,
    said_samples,
    spoken,
    spoken_time,
)

#: Statements and fragments from issue 10, said by people in the real world: none matched a
#: sample before.
STATEMENTS = [
    "my legs are numb and I can not control my bladder",
    "I fell down the stairs and now my back really hurts",
    "I think my bed is trying to kill me",
    "I am five months pregnant and I wake up with back pain",
    "my leg is tingling",
    "I can't feel anything when I wipe",
    "I don't know when my bladder is full",
    "since my back pain started I can't get an erection",
    "the pain is severe when I sneeze or cough",
    "my legs feel heavy and it affects my walking",
    "there is a lump in my back",
    "the pain is between my shoulder blades",
    "why is my hay fever worse in the morning",
    "I have cabin fever",
    "what is the horoscope for cancer today",
    "I spilled my tea by accident",
    "should I just lay in bed and rest",
    "I have had physical therapy but not much improvement",
    "I have osteoarthritis and I am afraid to move in the morning",
    "would sleeping on my side with a pillow between my knees help",
    "my new mattress makes it worse",
    "I'm afraid to move in the morning",
    "I've been stiff for weeks",
    "it hurts when I bend",
    "there's a pain in my hip",
    "with a fever and chills",
    "after my fall my back hurts",
]

#: What the lead's conversation work needs, and what it arrives as.
SAID = {
    "let's do the morning routine": ("StartRoutineIntent", {"routine": "morning"}),
    "begin the morning stretches": ("StartRoutineIntent", {"routine": "morning"}),
    "I want to do my morning stretches": ("StartRoutineIntent", {"routine": "morning"}),
    "can we do the bedtime stretches": ("StartRoutineIntent", {"routine": "bedtime"}),
    "take me through the quick routine": ("StartRoutineIntent", {"routine": "quick"}),
    "bedtime": ("StartRoutineIntent", {"routine": "bedtime"}),
    "let's get started": ("StartRoutineIntent", {}),
    "not yet": ("WaitIntent", {}),
    "hold on": ("WaitIntent", {}),
    "give me a second": ("WaitIntent", {}),
    "wait": ("AMAZON.PauseIntent", {}),
    "I'm done": ("EndRoutineIntent", {}),
    "finish": ("EndRoutineIntent", {}),
    "that's enough for today": ("EndRoutineIntent", {}),
    "that's enough": ("EndRoutineIntent", {}),
    "um": ("HesitationIntent", {}),
    "hmm": ("HesitationIntent", {}),
    "what": ("HesitationIntent", {}),
    "sorry?": ("HesitationIntent", {}),
    "the easier one": ("EasierIntent", {}),
    "skip it": ("SkipIntent", {}),
    "seven a.m.": ("SetReminderIntent", {"time": "07:00"}),
    "ten p.m.": ("SetReminderIntent", {"time": "22:00"}),
    "half past ten": ("SetReminderIntent", {"time": "10:30"}),
    "remind me every night at nine thirty p.m.": ("SetReminderIntent", {"time": "21:30"}),
    "yeah": ("AMAZON.YesIntent", {}),
    "nope": ("AMAZON.NoIntent", {}),
    "no thanks not now": ("AMAZON.NoIntent", {}),
    "skip": ("SkipIntent", {}),  # before AMAZON.NextIntent, which hears "skip" too
    "keep going": ("KeepGoingIntent", {}),  # before AMAZON.ResumeIntent
    "purple monkey dishwasher": (FALLBACK, {}),
}


@pytest.fixture(scope="module")
def heard_by() -> Resolver:
    return Resolver.for_locale("en-US")


def real_utterances() -> list[str]:
    """Everything real people said that the project keeps: the statements above, the
    question set's questions, and the tuning part of any evaluation sets on this machine."""
    import tomllib

    found = list(STATEMENTS) + list(SAID)
    with open(REPO_ROOT / "tests" / "eval" / "questions.toml", "rb") as handle:
        kept = tomllib.load(handle)
    for table in ("in_scope", "red_flags"):
        found += [q for questions in kept[table].values() for q in questions]
    found += kept["out_of_scope"]["questions"]
    for path in coverage.evaluation_sets():
        found += coverage.texts(path, "tuning")
    return found


def test_the_built_in_phrases_are_virtual_alexas_own() -> None:
    node = require_node_package("virtual-alexa")
    script = ("const m = require('virtual-alexa/lib/src/model/BuiltinUtterances');"
              "console.log(JSON.stringify([m.BuiltinUtterances.values(), m.AudioPlayerIntents]))")
    out = subprocess.run([node, "-e", script], cwd=REPO_ROOT, capture_output=True, text=True,
                         check=True).stdout
    values, audio = json.loads(out)
    assert {k: tuple(v) for k, v in values.items()} == BUILT_IN_UTTERANCES
    assert tuple(audio) == AUDIO_PLAYER_INTENTS


@pytest.mark.slow
def test_every_sample_said_with_its_values_reaches_its_own_intent(heard_by: Resolver) -> None:
    said = said_samples(language_model())
    stolen = [(intent, words, heard_by.resolve(words).intent) for intent, words, _ in said
              if heard_by.resolve(words).intent != intent]
    assert not stolen, stolen[:20]
    assert len(said) > 5000  # every slot value of every sample, not a sample of them


@pytest.mark.slow
def test_the_resolver_hears_what_virtual_alexa_hears(heard_by: Resolver) -> None:
    """One node process for the whole batch: every sample of the model said with every slot
    value, and every real utterance; intents and slot words must be identical."""
    words = [w for _, w, _ in said_samples(language_model())]
    words += [spoken(u) for u in real_utterances()]
    with VirtualAlexa.matcher(MODELS / "en-US.json") as alexa:
        theirs = alexa.match(words)
    differ = []
    for text, match in zip(words, theirs, strict=True):
        ours = heard_by.resolve(text)
        expected = (match["intent"], match["slots"]) if match else (FALLBACK, {})
        if (ours.intent, ours.heard) != expected:
            differ.append((text, expected, (ours.intent, ours.heard)))
    assert not differ, differ[:20]
    assert len(words) > 5000


@pytest.mark.parametrize("statement", STATEMENTS)
def test_statements_reach_the_free_text_intent(heard_by: Resolver, statement: str) -> None:
    found = heard_by.resolve(statement)
    assert found.intent == "QuestionIntent", (statement, found)
    # The carrier is not sent, and nothing else is lost.
    assert spoken(statement).endswith(found.slots["query"])


@pytest.mark.parametrize(("words", "expected"), list(SAID.items()))
def test_what_people_say_lands_where_the_conversation_needs_it(
        heard_by: Resolver, words: str, expected: tuple[str, dict[str, str]]) -> None:
    found = heard_by.resolve(words)
    assert (found.intent, found.slots) == expected, found


def test_an_exact_sample_beats_a_free_text_carrier_of_the_same_words(heard_by: Resolver) -> None:
    # "i'm ready" is AMAZON.YesIntent's sample; "i'm {query}" hears it too, with fewer literal
    # characters (virtual-alexa's score: the matched text minus the slot's words).
    assert heard_by.resolve("i'm ready").intent == "AMAZON.YesIntent"
    assert heard_by.resolve("i'm ready now").intent == "QuestionIntent"
    # A longer carrier beats a shorter one of the same intent; a typed slot beats free text.
    assert heard_by.resolve("i have a question about mattresses").slots == {"query": "mattresses"}
    assert heard_by.resolve("at ten").intent == "SetReminderIntent"
    assert heard_by.resolve("at night my back hurts").intent == "QuestionIntent"
    # "why" alone is "why {query}" with nothing in the slot, as in virtual-alexa.
    assert heard_by.resolve("why").slots == {"query": ""}


def test_audio_player_intents_come_with_pause_and_resume(heard_by: Resolver) -> None:
    assert heard_by.resolve("shuffle").intent == "AMAZON.ShuffleOnIntent"
    bare = Resolver({"invocationName": "x y", "intents": [
        {"name": "AMAZON.StopIntent", "samples": []}]})
    assert bare.resolve("shuffle").intent == FALLBACK
    assert bare.resolve("shut up").intent == "AMAZON.StopIntent"


@pytest.mark.parametrize(("words", "value"), [
    ("ten", "10:00"), ("ten p.m.", "22:00"), ("10 pm", "22:00"), ("10pm", "22:00"),
    ("seven a.m.", "07:00"), ("twelve a.m.", "00:00"), ("twelve p.m.", "12:00"),
    ("half past ten", "10:30"), ("half ten", "10:30"), ("quarter to ten", "09:45"),
    ("quarter past nine p.m.", "21:15"), ("nine thirty", "09:30"), ("ten at night", "22:00"),
    ("seven in the morning", "07:00"), ("twenty two hundred", "22:00"), ("22:00", "22:00"),
    ("nine o'clock", "09:00"), ("noon", "12:00"), ("midnight", "00:00"), ("tonight", "NI"),
    ("ten oh five pm", "22:05"), ("twenty five to eleven", "10:35"),
])
def test_times_as_alexa_sends_them(words: str, value: str) -> None:
    assert spoken_time(words) == value


@pytest.mark.parametrize("words", ["morning", "in the evening", "my back hurts", "thirty", ""])
def test_words_that_are_not_a_time(words: str) -> None:
    assert spoken_time(words) is None


def test_how_a_line_reaches_the_skill() -> None:
    name = "bedside back coach"
    assert heard("Alexa, open Bedside Back Coach", name).kind == "launch"
    assert heard("start bedside back coach", name).kind == "launch"
    shot = heard("ask bedside back coach to start my morning stretch", name)
    assert (shot.kind, shot.words) == ("one_shot", "start my morning stretch")
    assert heard("tell bedside back coach my back is stiff", name).words == "my back is stiff"
    assert heard("exit", name).kind == "end"
    assert heard("Next stretch!", name) == heard("next stretch", name)
    assert heard("next stretch", name).kind == "session"


def test_words_as_a_recogniser_hands_them_over() -> None:
    assert spoken("I’m   done, thanks!") == "i'm done thanks"
    assert spoken("remind me at 10 p.m.") == "remind me at 10 pm"
    assert spoken("follow-up & 'quotes'") == "follow up and quotes"
