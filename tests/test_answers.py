"""Question answering: a sleepy person asks, the skill answers from the knowledge base or admits
it doesn't know."""

from __future__ import annotations

import dataclasses
import logging
import re
import tomllib
from pathlib import Path

import pytest

from skill.core.answers import Answer, AnswerBook, log_unanswered, stem, words
from tools.eval import ARTICLE_CANDIDATES
from tools.model import CONTENT_DIR

KNOWLEDGE = CONTENT_DIR / "en" / "knowledge.toml"
MOVEMENTS = [
    "settle_breath",
    "pelvic_tilt",
    "knee_to_chest",
    "lower_trunk_rotation",
    "figure_four",
    "heel_slide",
    "double_knee_hug",
]


@pytest.fixture(scope="module")
def book() -> AnswerBook:
    return AnswerBook.for_locale("en-US")


@pytest.fixture(scope="module")
def items() -> list[dict]:
    with KNOWLEDGE.open("rb") as f:
        return tomllib.load(f)["item"]


# -- conversations ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user_says", "item", "answer_mentions"),
    [
        ("why is my back worse in the morning", "why_mornings", "cycle"),
        ("should I just rest", "rest", "gentle movement"),
        ("is my mattress the problem", "mattress", "mattress"),
        ("what is muscle guarding", "muscle_guarding", "protecting"),
        ("when should I see a doctor", "see_a_doctor", "bladder"),
        ("could it be arthritis", "medical_conditions", "doctor"),
        ("won't exercise make it worse", "exercise_worse", "sharp pain"),
    ],
)
def test_the_questions_people_ask_get_the_right_answer(
    book: AnswerBook, user_says: str, item: str, answer_mentions: str
) -> None:
    answer = book.match(user_says)
    assert answer is not None and answer.id == item
    assert answer_mentions in answer.short


@pytest.mark.parametrize(
    ("slot_value", "item"),
    [
        # "why is my back so stiff when I wake up" with the sample "why {query}"
        ("is my back so stiff when I wake up", "symptoms"),
        # "what is muscle guarding" with "what {query}"
        ("is muscle guarding", "muscle_guarding"),
        # "tell me about bed rest" with "tell me about {query}"
        ("bed rest", "rest"),
        # "is it the bed" with "is it {query}"
        ("the bed", "mattress"),
        ("my pillows", "pillows"),
    ],
)
def test_searchquery_fragments_without_the_carrier_word_still_match(
    book: AnswerBook, slot_value: str, item: str
) -> None:
    answer = book.match(slot_value)
    assert answer is not None and answer.id == item


@pytest.mark.parametrize(
    "user_says",
    [
        "what's the weather tomorrow",
        "tell me a joke",
        "how do I make pancakes",
        "why does my neck hurt in the morning",
        "my knee hurts when I climb stairs",
        "what is sciatica",
        "",
        "um",
        "back",
    ],
)
def test_questions_the_article_does_not_cover_get_no_answer(
    book: AnswerBook, user_says: str
) -> None:
    assert book.match(user_says) is None


def test_alexa_s_spelling_of_contractions_does_not_matter(book: AnswerBook) -> None:
    with_apostrophe = book.match("won't exercise make it worse")
    without = book.match("wont exercise make it worse")
    curly = book.match("won\u2019t exercise make it worse")
    assert with_apostrophe == without == curly


def test_tell_me_more_gives_the_longer_answer_of_the_same_item(book: AnswerBook) -> None:
    first = book.match("should I just rest")
    assert first is not None
    more = book.get(first.id)
    assert more is not None and more.more and more.more != more.short


def test_why_am_i_doing_this_during_each_step(book: AnswerBook) -> None:
    for movement in MOVEMENTS:
        answer = book.for_step(movement)
        assert answer is not None, movement
        assert answer.step == movement
    assert book.for_step("no_such_movement") is None


def test_unknown_ids_are_none(book: AnswerBook) -> None:
    assert book.get("no_such_item") is None


def test_answers_are_immutable_values(book: AnswerBook) -> None:
    answer = book.get("rest")
    assert isinstance(answer, Answer)
    with pytest.raises(dataclasses.FrozenInstanceError):
        answer.short = "changed"  # type: ignore[misc]


def test_a_matched_answer_carries_its_confidence(book: AnswerBook) -> None:
    answer = book.match("is my mattress the problem")
    assert answer is not None and 0.5 <= answer.score <= 1.0


# -- locales, laziness, logging ---------------------------------------------------------------


def test_every_english_locale_shares_one_cached_book() -> None:
    assert AnswerBook.for_locale("en-US") is AnswerBook.for_locale("en-GB")
    assert AnswerBook.for_locale("en-AU") is AnswerBook.for_locale("en_IN")


def test_a_language_without_content_falls_back_to_english() -> None:
    assert AnswerBook.for_locale("xx-YY") is AnswerBook.for_locale("en-US")


def test_nothing_is_read_until_first_use(tmp_path: Path) -> None:
    path = tmp_path / "knowledge.toml"
    book = AnswerBook.from_file(path)  # the file does not exist yet, and that is fine
    path.write_text(KNOWLEDGE.read_text(encoding="utf-8"), encoding="utf-8")
    answer = book.match("is my mattress the problem")
    assert answer is not None and answer.id == "mattress"


def test_importing_the_module_loads_nothing() -> None:
    import subprocess
    import sys

    # No book is built at import: the Lambda cold start pays nothing for question answering.
    code = "import skill.core.answers as a; assert not a.AnswerBook._cache; print('ok')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"


def test_unanswered_questions_are_logged_as_text_only(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SKILL_LOG_UNANSWERED", "1")  # off by default: tests/test_redact.py
    with caplog.at_level(logging.INFO, logger="skill.core.answers.unanswered"):
        log_unanswered("how do I\nmake   pancakes")
    [record] = caplog.records
    assert record.name == "skill.core.answers.unanswered"
    assert record.getMessage() == "how do I make pancakes"


def test_a_synonym_in_two_groups_is_refused(tmp_path: Path) -> None:
    text = KNOWLEDGE.read_text(encoding="utf-8").replace(
        "synonyms = [\n", 'synonyms = [\n  ["pillow", "mattress"],\n', 1
    )
    path = tmp_path / "knowledge.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match="two groups"):
        AnswerBook.from_file(path).match("is it my mattress")


def test_duplicate_ids_are_refused(tmp_path: Path) -> None:
    text = KNOWLEDGE.read_text(encoding="utf-8").replace('id = "pillows"', 'id = "mattress"')
    path = tmp_path / "knowledge.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match="duplicate"):
        AnswerBook.from_file(path).get("mattress")


# -- text handling ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variants", "same"),
    [
        (["stretch", "stretches", "stretching", "stretched"], True),
        (["muscle", "muscles"], True),
        (["sit", "sitting"], True),
        (["injury", "injuries"], True),
        (["stiff", "stiffness"], True),
        (["should", "shoulder"], False),
    ],
)
def test_stemming_joins_word_forms_but_not_different_words(variants: list[str], same: bool) -> None:
    assert (len({stem(v) for v in variants}) == 1) is same


def test_words_drop_apostrophes_and_punctuation() -> None:
    assert words("Why can't I sleep?!") == ["why", "cant", "i", "sleep"]


# -- the content itself -------------------------------------------------------------------


def test_every_item_is_complete(items: list[dict]) -> None:
    ids = [item["id"] for item in items]
    assert len(ids) == len(set(ids))
    for item in items:
        assert item["topic"].strip(), item["id"]
        assert 5 <= len(item["questions"]) <= 12, item["id"]
        assert item["short"].strip() and item["more"].strip(), item["id"]


def test_short_answers_fit_in_twenty_seconds_of_speech(items: list[dict]) -> None:
    for item in items:
        assert len(item["short"].split()) <= 50, item["id"]


def test_answers_are_plain_spoken_text(items: list[dict]) -> None:
    # No SSML, brackets, symbols, digits or abbreviations: Alexa would read them badly.
    forbidden = re.compile(r"[<>()\[\]{}&%/*#@+=;0-9]|\b(?:e\.g|i\.e|etc|Dr)\b")
    for item in items:
        for field in ("short", "more"):
            assert not forbidden.search(item[field]), (item["id"], field)


def test_every_routine_step_has_a_why(items: list[dict]) -> None:
    steps = {item["step"] for item in items if "step" in item}
    assert steps == set(MOVEMENTS)


def test_the_medical_conditions_are_all_named_and_sent_to_a_doctor(book: AnswerBook) -> None:
    item = book.get("medical_conditions")
    assert item is not None
    for condition in [
        "rheumatoid arthritis",
        "osteoarthritis",
        "fibromyalgia",
        "osteoporosis",
        "ankylosing spondylitis",
        "spinal stenosis",
        "pregnancy",
        "ruptured disc",
        "sprained muscle",
        "facet joint injury",
    ]:
        assert condition in item.more, condition
    assert "doctor" in item.short


def test_no_answer_promises_a_cure(items: list[dict]) -> None:
    promises = re.compile(r"\b(will cure|cures|guarantee|permanently fix|will fix)\b", re.I)
    for item in items:
        assert not promises.search(item["short"] + item["more"]), item["id"]


def test_answers_are_in_our_own_words_not_the_article_s() -> None:
    article = next((p for p in ARTICLE_CANDIDATES if p.is_file()), None)
    if article is None:
        pytest.skip("source article not beside the repository")
    source = words(article.read_text(encoding="utf-8"))
    seven_word_runs = {tuple(source[i : i + 7]) for i in range(len(source) - 6)}
    with KNOWLEDGE.open("rb") as f:
        for item in tomllib.load(f)["item"]:
            said = words(item["short"] + " " + item["more"])
            copied = [
                " ".join(said[i : i + 7])
                for i in range(len(said) - 6)
                if tuple(said[i : i + 7]) in seven_word_runs
            ]
            assert not copied, (item["id"], copied)
