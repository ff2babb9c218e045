"""Red flags: what someone says that should send them to care, today or now, or to mention to
their doctor; and everything that only looks like it.

The phrasings here are the project's own, written for these tests; none is taken from the
real-world evaluation sets (tests/eval/sets/), which are scored by `python -m tools eval`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skill.core import content, safety
from skill.core.safety import (
    MENTIONED_ABSENT,
    Finding,
    advice,
    flag_ids,
    is_urgent,
    red_flag,
    screen,
)
from tools.eval import DEFAULT_QUESTIONS, real
from tools.model import CONTENT_DIR


def level(text: str) -> str | None:
    found = screen(text)
    return found.level if found else None


# -- emergency: go now --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "user_says",
    [
        # numbness in the saddle area
        "I've got numbness between my legs",
        "my groin has gone numb",
        "there's tingling around my back passage",
        "I can't feel anything when I wipe myself",
        "pins and needles in my bum and my inner thighs",
        "loss of sensation around my genitals",
        "it feels different down there when I use toilet paper",
        "I don't feel anything when I wipe",
        "I've lost feeling in my private parts",
        "I have altered sensation when wiping",
        # bladder and bowels
        "I can't pee properly since this morning",
        "I've lost control of my bladder",
        "I keep leaking urine",
        "I have no idea when I need a wee, I don't feel when I need to go",
        "I don't know when my bladder is full",
        "I can't tell when I need the toilet, I can't tell when my bladder is full",
        "I have to strain really hard to pee",
        "I soiled myself without noticing",
        "I can't hold my bowels",
        "there's no sensation when I pass urine",
        "my bladder feels full but nothing comes out",
        "I've had to start wearing pads",
        "I'm passing urine without realising",
        # sexual function, new since the back pain
        "since my back went I can't get an erection",
        "sex feels numb since the back pain started",
        "I don't get erections anymore since I hurt my back",
        # both legs, walking
        "both my legs feel weak",
        "my legs feel heavy and I keep stumbling",
        "my legs keep giving way",
        "my leg gave way on the stairs",
        "I'm having real trouble walking",
        "I can barely walk, my legs won't go",
        "pins and needles in both legs",
        "sciatica down both legs",
        "pain down both legs",
        "I can't feel my legs",
        # chest and breathing
        "I have chest pain",
        "there's a tightness across my chest",
        "I'm struggling to breathe",
        "it's hard to breathe and my back hurts",
        "pain spreading down my left arm",
    ],
)
def test_emergencies_send_the_person_to_care_now(user_says: str) -> None:
    found = screen(user_says)
    assert found is not None and found.level == "emergency", (user_says, found)
    assert is_urgent(red_flag(user_says) or "")


# -- urgent: see a doctor today ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("user_says", "sign"),
    [
        ("I've got a fever and my back is killing me", "fever"),
        ("I'm shivery and hot and cold with this back ache", "fever"),
        ("I have a high temperature", "fever"),
        ("I keep waking up drenched in sweat", "fever"),
        ("I fell down the stairs yesterday", "fall_or_accident"),
        ("I slipped on the ice and landed on my back", "fall_or_accident"),
        ("my back has hurt since the car crash", "fall_or_accident"),
        ("I took a tumble off a ladder", "fall_or_accident"),
        ("I had breast cancer a few years ago", "cancer_history"),
        ("I'm being treated for prostate cancer", "cancer_history"),
        ("I've had chemotherapy and now my back aches", "cancer_history"),
        ("I've lost a stone without trying", "weight_loss"),
        ("I'm losing weight for no reason", "weight_loss"),
        ("the pain is severe and getting worse every day", "severe_worsening"),
        ("it's excruciating and never stops", "severe_worsening"),
        ("it's really bad and getting steadily worse", "severe_worsening"),
        ("it hurts so much when I sneeze", "cough_sneeze"),
        ("coughing makes my back pain much worse", "cough_sneeze"),
        ("I have pain between my shoulder blades", "upper_back"),
        ("my upper back really hurts", "upper_back"),
        ("I found a lump on my spine", "lump_or_shape"),
        ("my spine looks curved now", "lump_or_shape"),
        ("there's a swelling on my lower back", "lump_or_shape"),
        ("the pain at night is unbearable", "night_pain"),
        ("it wakes me at night and no position helps", "night_pain"),
        ("it's worse at night and I can't sleep", "night_pain"),
        ("the pain doesn't improve after resting", "night_pain"),
        ("my leg has gone numb", "leg_numb_or_weak"),
        ("my foot feels weak", "leg_numb_or_weak"),
        ("I've got numbness and tingling", "numbness"),
    ],
)
def test_urgent_signs_send_the_person_to_a_doctor_today(user_says: str, sign: str) -> None:
    assert screen(user_says) == Finding("urgent", sign, advice(sign)), user_says


# -- mention: a calm pointer ------------------------------------------------------------------


@pytest.mark.parametrize(
    "user_says",
    [
        "I'm thirty two and my back is stiff for hours every morning",
        "my back has been stiff every morning for years and loosens up once I get moving",
        "I'm only 27 and the stiffness eases when I move",
        "morning stiffness for several months that gets better with exercise",
        "could I have ankylosing spondylitis, my back is always stiff",
        "I'm 28 and have had morning stiffness for a year",
    ],
)
def test_the_inflammatory_pattern_is_a_calm_mention(user_says: str) -> None:
    found = screen(user_says)
    assert found is not None and found.level == "mention", (user_says, found)
    assert not is_urgent(found.sign)
    said = found.advice.lower()
    assert "doctor" in said and "emergency" in said  # "it isn't an emergency"


def test_ordinary_morning_stiffness_is_not_the_inflammatory_pattern() -> None:
    for said in ["my back is stiff in the morning", "I'm stiff when I wake up but it eases",
                 "I'm forty and stiff", "it takes a few minutes to loosen up"]:
        assert screen(said) is None, said


# -- absent: mentioned only to deny it --------------------------------------------------------


@pytest.mark.parametrize(
    "user_says",
    [
        "no numbness",
        "I don't have any numbness in my legs",
        "my legs aren't numb, just stiff",
        "I haven't got a fever",
        "no problems with my bladder",
        "my bladder and bowels are fine",
        "no tingling or weakness",
        "I've not noticed any weakness in my legs",
        "I haven't lost any weight",
        "there's no chest pain",
        "it isn't worse when I cough",
        "no loss of bladder control",
    ],
)
def test_a_denied_red_flag_gets_a_kind_acknowledgement_not_an_alarm(user_says: str) -> None:
    found = screen(user_says)
    assert found is not None and found.level == "absent", (user_says, found)
    assert red_flag(user_says) == MENTIONED_ABSENT
    assert not is_urgent(MENTIONED_ABSENT)
    assert found.advice == advice(MENTIONED_ABSENT)
    assert len(found.advice.split(".")) <= 2  # one line


def test_a_denial_does_not_hide_a_symptom_in_the_same_breath() -> None:
    assert level("no fever but my legs are numb") == "emergency"
    assert level("no, my legs are numb") == "emergency"
    assert level("I don't have a fever, I have numbness in my groin") == "emergency"
    assert level("my back is fine but I can't feel when I wipe") == "emergency"


# -- not red flags ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "user_says",
    [
        "my hay fever is awful this morning",
        "I've got cabin fever stuck indoors",
        "I fell asleep on the sofa",
        "I always fall asleep reading",
        "I get that falling feeling as I drift off",
        "I knocked my tea over by accident",
        "I had an accident with a cup of coffee this morning",
        "what's my horoscope, I'm a cancer",
        "cancer the crab is my star sign",
        "we bought a chest of drawers",
        "I pull my knees to my chest",
        "I fell behind at work",
        "my computer crashed again",
        "I crashed on the sofa last night",
        "I'm so out of shape",
        "I tripped the circuit breaker",
        "that film nearly gave me a heart attack",
        "I nearly wet myself laughing",
        "my knees went weak when I saw him",
        "I've got a wee bit of trouble with my hips",
        "the leaves fall in the autumn",
        "I want to lose weight",
        "I did a heavy deadlift",
        "I had a falling out with my sister",
        "the cure for cancer will come one day",
        "I can't breathe through my nose with this cold",
        "I can't breathe for laughing",
        "I did the race for life for breast cancer",
        "my phone fell and cracked",
        "I get night sweats with the menopause",
        "my legs are weak after the gym",
        "my toes go numb after cycling in the cold",
        "I hurt my back sneezing",  # sneezing as the cause, not pain worse on sneezing
        "I'm dragging my feet on the paperwork",
        "I was so tired I could hardly walk straight",
    ],
)
def test_a_symptom_word_in_another_sense_is_not_a_red_flag(user_says: str) -> None:
    assert screen(user_says) is None, (user_says, screen(user_says))


@pytest.mark.parametrize(
    "user_says",
    [
        "I slept on my arm and it went dead but it came back to life",
        "my foot tingled for a minute or so after sitting cross legged",
        "my bottom went numb on the long drive and then it was fine",
        "I had a temperature last week but it's gone now",
        "my leg was numb earlier but it went away",
        "I used to get pins and needles in my feet",
        "my foot was numb after sitting on it",
        "my bum was numb after a long drive",
        "after sitting too long my bum goes numb until I stand up",
        "I fell off my bike as a kid",
    ],
)
def test_a_passing_resolved_sensation_is_not_a_red_flag(user_says: str) -> None:
    assert screen(user_says) is None, (user_says, screen(user_says))


@pytest.mark.parametrize(
    "user_says",
    [
        "my husband has a fever",
        "my wife can't feel her legs",
        "husband has a fever",  # the "my" kept by a carrier phrase
        "my mum had breast cancer",
        "my son fell off his bike",
        "my dad has chest pain and I've got a bad back",
        "my dog keeps tripping over",
        "she lost a lot of weight without trying",
        "my daughter's bladder is leaking",
        "my little boy has a temperature",
        "5 year old has a temperature",  # "my {query}" kept the "my"
    ],
)
def test_someone_elses_symptom_is_not_the_speakers_red_flag(user_says: str) -> None:
    assert screen(user_says) is None, (user_says, screen(user_says))


def test_the_speaker_can_speak_up_after_someone_else() -> None:
    assert level("my husband has a fever and I have numbness between my legs") == "emergency"


@pytest.mark.parametrize(
    "user_says",
    [
        "what would numbness mean",
        "what are the signs of cauda equina",
        "is numbness a sign of something serious",
        "what if I lose control of my bladder",
        "can a slipped disc cause numbness",
        "how do I know if I have a fever",
        "should I see a doctor if I get chest pain",
        "what causes weakness in the legs",
        "is back pain a symptom of cancer",
        "my physio told me to watch out for numbness",
        "I'm scared of falling",
        "could my back pain be cancer",
        # as Alexa hands them over, after the question word of the carrier phrase
        "are chest pains serious",
        "would numbness in the legs mean anything",
        "is saddle numbness an emergency",
        "do i know if i have a fever",
    ],
)
def test_a_question_about_signs_is_not_a_red_flag(user_says: str) -> None:
    assert screen(user_says) is None, (user_says, screen(user_says))


def test_a_question_about_the_speakers_own_symptom_is() -> None:
    assert level("my legs are numb, is that a sign of something") == "emergency"
    assert level("why do I get numbness when I wipe") == "emergency"
    assert level("what does it mean when my legs go numb") == "emergency"
    assert level("is my leg numb because of my back") == "urgent"
    assert level("is worse when I cough") == "urgent"  # "it {query}": a statement


@pytest.mark.parametrize(
    "user_says",
    [
        "is stiffness normal in the morning",
        "my back hurts all night",
        "can't sleep for the pain",
        "the pain is worse at night",
        "I lost ten pounds on a diet and feel great",
        "my legs feel stiff",
        "do weak abs cause back pain",
        "why do my hands go numb at night",
        "I climbed the stairs and I'm out of breath",
        "my husband has crippling back pain",
        "I need a wee all the time",
        "what temperature should my bedroom be",
        "let your knees fall to one side",
        "my back hurts so badly in the morning",
        "it keeps getting worse",
        "my upper back is stiff",
        "my mattress is lumpy",
        "I sat on my foot and it went to sleep",
        "the numbing cream helped",
        "my back is so stiff I can barely walk to the bathroom",
        "I can barely walk because of the pain",
        "the pain is constant and getting worse",
        "I'm 25 and my back is stiff every morning",
        "my back is stiff for a couple of hours every morning until I've moved around",
        "I have a weak bladder since having kids",
    ],
)
def test_everyday_remarks_raise_nothing(user_says: str) -> None:
    assert screen(user_says) is None, (user_says, screen(user_says))


@pytest.mark.parametrize(
    ("slot", "expected"),
    [
        # "i {query}": the I is gone, the verb starts the sentence
        ("fell down the stairs last night", "urgent"),
        ("had a fall in the garden", "urgent"),
        ("can't feel anything when i wipe", "emergency"),
        # "the pain {query}", "it {query}": the subject is gone
        ("is between my shoulder blades", "urgent"),
        ("s much worse when i sneeze", "urgent"),
        # "i'm {query}": the age is left at the start
        ("twenty nine and my back is stiff for hours every morning", "mention"),
        # questions whose first word the carrier kept
        ("it normal for legs to feel heavy with sciatica", None),
        ("back pain cause chest pain", None),
        ("are chest pains serious", None),
    ],
)
def test_what_the_free_text_slot_carries_is_read_the_same_way(slot: str, expected: str) -> None:
    """Alexa keeps a sample's carrier words for itself ("what {query}", "i {query}"): the
    screen hears the rest, and must read it as the whole utterance."""
    assert level(slot) == expected, (slot, screen(slot))


def test_the_most_serious_sign_wins() -> None:
    # A fall (urgent) and numbness around the bottom (emergency) in one breath.
    assert screen("I fell and now my bottom is numb").sign == "saddle_numbness"  # type: ignore[union-attr]
    # Saddle numbness is listed before both legs, though "between my legs" names the legs.
    assert screen("I'm numb between my legs").sign == "saddle_numbness"  # type: ignore[union-attr]


def test_nothing_at_all_is_nothing() -> None:
    for said in ["", "   ", "?!", "the"]:
        assert screen(said) is None


# -- properties -------------------------------------------------------------------------------

EMERGENCIES = [
    "my legs are numb", "I can't control my bladder", "numbness between my legs",
    "I have chest pain", "both my legs feel weak", "I can't feel when I wipe",
    "I've wet myself", "I can't walk properly",
]
WRAPPERS = [
    "I don't have {}", "no {}", "I haven't had any {}", "my husband has {}",
    "my friend says she has {}", "what would {} mean", "is {} a sign of something",
    "what are the symptoms of {}", "what if I get {}",
]
SYMPTOMS = [
    "numbness", "a fever", "chest pain", "weakness in both legs", "bladder problems",
    "pins and needles", "numbness between the legs", "chills", "tingling in my legs",
    "unexplained weight loss", "a lump on my back",
]
FILLER = st.sampled_from([
    "this morning", "and my back is sore", "since yesterday", "when I get up", "again",
    "honestly", "after my walk", "and I'm worried", "as well", "today",
])


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(st.sampled_from(WRAPPERS), st.sampled_from(SYMPTOMS), FILLER)
def test_denied_hypothetical_or_someone_elses_symptoms_never_alarm(
    wrapper: str, symptom: str, filler: str
) -> None:
    """The rules read these scopes and never alarm. The learned model may overrule a reading
    of "supposed" (tests/test_redflag_model.py): the rules misread many real red flags asked as
    a question ("could a lump on my back be ..."), and a missed red flag costs more; the false
    alarms that costs are counted in the eval's harmless figure, not promised away here."""
    said = f"{wrapper.format(symptom)} {filler}"
    found = safety.screen_rules(said)
    assert found is None or found.level == "absent", (said, found)


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(st.sampled_from(EMERGENCIES), FILLER, FILLER)
def test_an_emergency_stays_an_emergency_in_a_longer_sentence(
    emergency: str, before: str, after: str
) -> None:
    for said in [f"{emergency} {after}", f"{before}, {emergency}", f"{before} {emergency} {after}",
                 f"good morning. {emergency}. {after}"]:
        assert level(said) == "emergency", said


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.text(max_size=400))
def test_any_text_at_all_gives_a_known_finding_or_none(text: str) -> None:
    found = screen(text)
    assert found is None or (found.level in {*safety.LEVELS, "absent"}
                             and found.sign in {*flag_ids(), MENTIONED_ABSENT})


# -- the older interface, the advice, the locales ---------------------------------------------


def test_the_old_functions_wrap_the_screen() -> None:
    assert red_flag("I have chest pain") == "chest_or_breathing"
    assert is_urgent("chest_or_breathing") and is_urgent("fever")
    assert not is_urgent("inflammatory") and not is_urgent(MENTIONED_ABSENT)
    assert red_flag("no fever") == MENTIONED_ABSENT
    assert red_flag("what's the weather like") is None
    with pytest.raises(KeyError):
        advice("no_such_flag")


@pytest.mark.parametrize("locale", sorted(content.LANGUAGES))
def test_every_advice_is_short_plain_spoken_text_for_every_locale(locale: str) -> None:
    for flag in [*flag_ids(locale), MENTIONED_ABSENT]:
        said = advice(flag, locale)
        assert said and not set(said) & set("<>&%()[]{}"), (flag, said)
        assert not any(ch.isdigit() for ch in said), said  # numbers spelled out for speech
        assert len(said) < 300, flag
        assert "stretch" not in said.lower(), flag  # the closing line says that, once


def test_the_emergency_number_is_the_locales() -> None:
    assert "nine nine nine" in advice("chest_or_breathing", "en-GB")
    assert "nine one one" in advice("chest_or_breathing", "en-US")
    assert "triple zero" in advice("chest_or_breathing", "en-AU")
    assert "one one two" in advice("chest_or_breathing", "en-IN")
    assert screen("I have chest pain", "en-GB").advice == advice("chest_or_breathing", "en-GB")  # type: ignore[union-attr]


def test_every_urgent_or_emergency_advice_says_where_to_go() -> None:
    for flag in flag_ids():
        said = advice(flag).lower()
        if is_urgent(flag):
            assert "doctor" in said or "emergency" in said, flag


# -- the rules file ---------------------------------------------------------------------------


def _rules() -> dict:  # type: ignore[type-arg]
    with open(CONTENT_DIR / "en" / "safety.toml", "rb") as handle:
        return tomllib.load(handle)


def test_every_class_a_flag_names_is_defined_and_every_defined_class_is_used() -> None:
    data = _rules()
    defined = set(data["terms"]) | set(data["capacities"]) - {"negators"} | {"i"}
    named = {c for flag in data["flag"] for rule in flag.get("when", [])
             for key in ("all", "any", "also", "none") for c in rule.get(key, [])}
    assert named <= defined, named - defined
    assert defined - named <= {"i"} | set(data["capacities"]), defined - named
    assert set(data["settings"]["symptoms"]) <= defined
    assert {flag["level"] for flag in data["flag"]} <= set(safety.LEVELS)


def test_the_rules_compile_without_clashes() -> None:
    # A phrase that is both a symptom and a trigger would be read one way silently.
    safety.compile_lexicon(_rules())


def _phrases(data: dict) -> list[str]:  # type: ignore[type-arg]
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, str):
            found.extend(safety.expand(node))
        elif isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)

    walk(data)
    return found


def test_no_phrasing_from_the_eval_sets_was_copied_into_the_rules() -> None:
    """The sets are a fair test only while the rules are general: no set's sentence may be a
    phrase or sit inside the advice, and no run of seven words may be shared with a term, a
    sense or the advice (a phrase is a few words; an idiom such as "as soon as I stood up" is
    language, not a copy, and so are the [context] triggers: "should I go to the doctor for"
    is how questions start). Counts only: the frozen texts are never printed."""
    rules = _rules()

    def said(phrases: list[str]) -> list[str]:
        return [" ".join(safety.words(p.replace("*", "").replace("#", ""))) for p in phrases]

    texts = said(_phrases(rules))
    phrases = set(texts)
    worded = said(_phrases({k: v for k, v in rules.items() if k != "context"}))
    runs = {tuple(t.split()[k : k + 7]) for t in worded for k in range(len(t.split()) - 6)}
    copied = 0
    for split in real.SPLITS:
        for group in real.load(split).values():
            for entry in group:
                said = " ".join(safety.words(entry.text))
                seven = {tuple(said.split()[k : k + 7]) for k in range(len(said.split()) - 6)}
                if said in phrases or any(f" {said} " in f" {t} " for t in texts) or seven & runs:
                    copied += 1
    assert copied == 0, f"{copied} eval phrasings found in safety.toml"


def test_no_in_scope_eval_question_raises_an_alarm() -> None:
    with DEFAULT_QUESTIONS.open("rb") as f:
        data = tomllib.load(f)
    for questions in data["in_scope"].values():
        for q in questions:
            found = screen(q)
            assert found is None or found.level not in safety.ALARMS, (q, found)


def test_nothing_is_read_or_parsed_at_import() -> None:
    """The Lambda cold start must not pay for the screen until the first free-text words."""
    probe = (
        "import json, skill.core.safety as s, skill.core.content as c;"
        "print(json.dumps([s._lexicon.cache_info().currsize, c._part.cache_info().currsize]))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout
    assert json.loads(out) == [0, 0]


def test_the_bundle_holds_the_screens_patterns_indexed_by_their_first_words() -> None:
    """`make model` expands and indexes the phrases once, at build time: the bundle's copy is
    what the TOML compiles to, so the runtime only loads it."""
    bundled = content.load("en/safety.toml")
    assert bundled["compiled"]["format"] == safety.FORMAT
    assert bundled["compiled"] == safety.precompile(_rules())


def test_a_stale_or_missing_index_is_rebuilt_not_trusted() -> None:
    rules = _rules()
    # an index of other patterns: one more phrase shifts every number after it
    terms = {"aaa": ["zzz"], **rules["terms"]}
    bundled = content.load("en/safety.toml")["compiled"]
    for data in ({**rules, "compiled": None}, {**rules, "compiled": {"format": -1}},
                 {**rules, "terms": terms, "compiled": bundled}):
        lex = safety.compile_lexicon(data)
        units = safety._units(safety.words("my legs are numb"), lex)
        assert [u.kind for u in units][-1] == "term"
        assert "numb" in units[-1].value


def test_the_first_words_expand_only_the_patterns_they_can_start() -> None:
    """A process's first free-text words build the part of the trie their own words start,
    not the whole file (the first question's cost stays small however the rules grow)."""
    lex = safety.compile_lexicon(content.load("en/safety.toml"))
    assert lex.main.built == {}
    safety._units(safety.words("my legs are numb"), lex)
    first_words = len(lex.main.index["root"]["w"]) + len(lex.main.index["start"].get("w", {}))
    assert 0 < len(lex.main.built) <= 8 < first_words // 10


def test_no_pattern_expands_into_so_many_phrases_that_one_word_costs_the_first_question() -> None:
    """Each alternative multiplies a pattern's phrases; the first utterance holding one of its
    first words expands them all. A class and a rule over two classes cost far less."""
    lex = safety.compile_lexicon(content.load("en/safety.toml"))
    sizes = {p.entry.text: len(safety._sequences(p.text))
             for trie in (lex.main, lex.senses) for p in trie.patterns}
    assert max(sizes.values()) <= 1000, max(sizes, key=sizes.__getitem__)


@pytest.mark.parametrize(("said", "hurts"), [
    ("it really hurts", True), ("my back hurts when i do this one", True),
    ("i've got a sharp pain in my hip", True), ("ouch", True),
    ("it doesn't hurt", False), ("no pain at all", False), ("is my back worse in the morning",
                                                             False),
])
def test_pain_now_is_pain_in_what_the_person_is_doing(said: str, hurts: bool) -> None:
    from skill.core.safety import pain_now

    assert pain_now(said) is hurts
