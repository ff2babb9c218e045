"""tools/coverage.py: the share of real utterances the interaction model routes to the free-text
intent, by virtual-alexa (one node process per batch) and by the resolver."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools import coverage

pytestmark = pytest.mark.slow

SET = '''
[[tuning]]
text = "My legs are numb and I can not control my bladder"
[[tuning]]
text = "I fell down the stairs and now my back really hurts"
[[tuning]]
text = "play some jazz"
[[tuning]]
text = "can you tell me why my back is stiff"
[[frozen]]
text = "this one is held out"
'''


def test_coverage_counts_what_reaches_the_free_text() -> None:
    found = coverage.coverage(["my leg is tingling", "since my fall my back hurts",
                               "purple monkey dishwasher", "skip", "no numbness at all"])
    assert (found.total, found.virtual_alexa, found.resolver) == (5, 2, 2)
    assert found.share == pytest.approx(0.4)
    assert not found.disagreements
    # A negation never starts the free text: it would be dropped with its carrier.
    assert dict(found.misses) == {"purple monkey dishwasher": "AMAZON.FallbackIntent",
                                  "skip": "SkipIntent",
                                  "no numbness at all": "AMAZON.FallbackIntent"}


def test_one_matcher_serves_several_sets() -> None:
    with coverage.matcher() as alexa:
        first = coverage.coverage(["my back is stiff"], alexa=alexa)
        second = coverage.coverage(["stop", "i've got a cold"], alexa=alexa)
    assert (first.virtual_alexa, second.virtual_alexa) == (1, 1)
    assert coverage.coverage(["my back is stiff"], use_virtual_alexa=False).virtual_alexa is None


def test_the_command_reads_one_part_of_each_set(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "answerable.toml"
    path.write_text(SET)
    assert coverage.texts(path) == [
        "My legs are numb and I can not control my bladder",
        "I fell down the stairs and now my back really hurts", "play some jazz",
        "can you tell me why my back is stiff"]
    assert coverage.main([str(path), "--misses"]) == 0
    out = capsys.readouterr().out
    assert "answerable [tuning]: 75% reach QuestionIntent (virtual-alexa 3/4, resolver 3/4)" in out
    assert "missed 'play some jazz'" in out and "held out" not in out
    assert coverage.coverage(coverage.texts(path)).launch_words == 1  # "tell": said in-session
