"""The eval keeps the question answering honest: it must clear its thresholds on the kept set."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from skill.core.answers import AnswerBook, words
from tools.eval import kept as skill_eval
from tools.eval import real


@pytest.fixture(scope="module")
def report() -> skill_eval.Report:
    return skill_eval.run()


def test_the_question_set_is_big_enough_and_labelled_with_real_items() -> None:
    with skill_eval.DEFAULT_QUESTIONS.open("rb") as f:
        data = tomllib.load(f)
    book = AnswerBook.for_locale("en-US")
    in_scope = [q for qs in data["in_scope"].values() for q in qs]
    assert len(in_scope) >= 60
    assert len(data["out_of_scope"]["questions"]) >= 20
    assert sum(len(qs) for qs in data["red_flags"].values()) >= 15
    assert set(data["in_scope"]) <= set(book.ids())
    assert set(data["baseline"]) >= set(data["in_scope"])


@pytest.mark.slow
def test_most_eval_questions_are_not_copied_from_the_knowledge_base(
    report: skill_eval.Report,
) -> None:
    assert report.verbatim <= report.top1.total // 10


def test_top1_accuracy_is_at_least_90_percent(report: skill_eval.Report) -> None:
    assert report.top1.rate >= skill_eval.MIN_TOP1, report.top1.failures


def test_every_red_flag_is_caught(report: skill_eval.Report) -> None:
    assert report.red_flags.rate == 1.0, report.red_flags.failures


def test_out_of_scope_questions_are_rejected(report: skill_eval.Report) -> None:
    assert report.rejection.rate >= skill_eval.MIN_OUT_OF_SCOPE_REJECTION, report.rejection.failures


def test_we_beat_plain_bm25_over_the_article(report: skill_eval.Report) -> None:
    if report.baseline_top1 is None:
        pytest.skip("source article not beside the repository")
    assert report.top1.rate > report.baseline_top1.rate + 0.3


def test_the_command_prints_the_side_by_side_table_and_passes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert skill_eval.main([]) == 0
    out = capsys.readouterr().out
    assert "| top-1 accuracy, in scope |" in out
    assert "out-of-scope rejection" in out and "red-flag recall" in out
    assert out.rstrip().endswith("PASS")


def _toml(tables: dict[str, dict[str, list[str]]]) -> str:
    # JSON strings are valid TOML basic strings, which is all this small file needs.
    return "".join(
        f"[{name}]\n" + "".join(f"{key} = {json.dumps(values)}\n" for key, values in table.items())
        for name, table in tables.items()
    )


def test_a_missed_threshold_fails_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Questions about the mattress, labelled as if they were about rest: accuracy collapses.
    path = tmp_path / "questions.toml"
    path.write_text(
        _toml(
            {
                "in_scope": {"rest": ["is it my mattress", "do I need a new mattress"]},
                "out_of_scope": {"questions": ["tell me a joke"]},
                "red_flags": {"fever": ["I have a fever"]},
                "baseline": {"rest": ["Be wary of Rest and Medication"]},
            }
        ),
        encoding="utf-8",
    )
    assert skill_eval.main(["--questions", str(path)]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "'is it my mattress': expected rest, got mattress" in out


def test_without_the_article_the_baseline_is_skipped_not_failed(tmp_path: Path) -> None:
    report = skill_eval.run(article=tmp_path / "missing.txt")
    assert report.baseline_top1 is None and report.ok
    assert "baseline skipped" in skill_eval.format_report(report)


# -- the real-world sets ------------------------------------------------------------------------



def _norm(text: str) -> str:
    return " ".join(words(text))


def test_the_real_world_sets_are_split_and_labelled() -> None:
    splits = {split: real.load(split) for split in real.SPLITS}
    frozen = splits["frozen"]
    for name in real.NAMES:
        texts = [{e.text.lower() for e in splits[split][name]} for split in real.SPLITS]
        # The training split holds red flags and harmless remarks only. (Counts, never texts:
        # an assertion's message must not print the frozen split.)
        empty = [split for split, t in zip(real.SPLITS, texts, strict=True) if not t
                 and not (split == "training" and name in ("answerable", "out_of_scope"))]
        assert not empty, (name, empty)
        shared = sum(len(t) for t in texts) - len(set().union(*texts))
        assert shared == 0, f"{name}: {shared} texts in two splits"
    assert all(e.ids for split in splits.values() for e in split["answerable"])
    assert {e.level for e in frozen["red_flags"]} == {"emergency", "urgent", "mention"}


def test_no_frozen_phrasing_was_copied_into_the_knowledge_base() -> None:
    """The frozen split is a held-out test only while nothing learned it by heart."""
    book = AnswerBook.for_locale("en-US")
    known = {_norm(q) for item in book.ids() for q in book.questions(item)}
    frozen = real.load("frozen")
    copied = [e.text for group in frozen.values() for e in group if _norm(e.text) in known]
    # Counts only: the frozen texts are never printed.
    count = len(copied)  # an int: pytest would print the list itself
    assert count == 0, f"{count} frozen phrasings are in the knowledge base"


@pytest.mark.slow
def test_the_report_lists_no_frozen_text() -> None:
    results = real.run()
    report = real.format_report(results)
    frozen = real.load("frozen")
    leaked = sum(1 for group in frozen.values() for e in group if repr(e.text) in report)
    assert leaked == 0, f"{leaked} frozen texts in the report"
