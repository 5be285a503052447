"""MinHash-LSH near-duplicate removal and decontamination (docs/CONTRACTS.md "Near-duplicates")."""

import json
import random
import re

import numpy as np
import pytest
from datasketch import LeanMinHash, MinHash, MinHashLSH

from rlvr_repro.data import dedup as dd

from .rows import PROBLEMS, shared_file

WORDS = ("find the value of number integer positive real triangle circle area perimeter sum product let be "
         "such that how many ways can if and only compute determine what is smallest largest possible points "
         "line segment angle probability chosen randomly from set digits remainder divided sequence defined "
         "function equation roots polynomial square prime factor ratio rectangle side radius tangent").split()
SYNONYMS = {"find": "determine", "what": "which", "compute": "calculate", "the": "this", "is": "equals",
            "number": "integer", "value": "amount", "many": "several", "of": "for"}


def synthetic_problems(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        words = [rng.choice(WORDS) if rng.random() > 0.1 else str(rng.randint(2, 999))
                 for _ in range(rng.randint(30, 80))]
        out.append(" ".join(words).capitalize() + "?")
    return out


def respaced(text: str, rng: random.Random) -> str:
    text = re.sub(r" ", lambda m: rng.choice([" ", "  ", "\n", " "]), text)
    return re.sub(r"([=+\-^])", r" \1 ", text)


def reworded(text: str, rng: random.Random) -> str:
    """One word replaced by a synonym (or a word prepended when none applies)."""
    words = text.split(" ")
    idx = [i for i, w in enumerate(words) if w.lower() in SYNONYMS]
    if not idx:
        return "Please " + text
    i = rng.choice(idx)
    words[i] = SYNONYMS[words[i].lower()]
    return " ".join(words)


def renumbered(text: str, rng: random.Random) -> str | None:
    """One number changed."""
    nums = list(re.finditer(r"\d+", text))
    if not nums:
        return None
    m = rng.choice(nums)
    return text[:m.start()] + str(int(m.group()) + rng.randint(1, 9)) + text[m.end():]


# ---------------------------------------------------------------------------------------------
# The parts: parameters, signatures, candidates.

def test_lsh_bands_for_the_papers_parameters():
    # EGPO App. A.2: num_perm 128, threshold 0.8. Largest r with 1-(1-0.8^r)^(128//r) >= 0.99:
    #   r=8, b=16: 0.8^8 = 0.16777; 1-(0.83223)^16 = 1-0.0530 = 0.947  (< 0.99)
    #   r=7, b=18: 0.8^7 = 0.20972; 1-(0.79028)^18 = 1-0.0144 = 0.9856 (< 0.99)
    #   r=6, b=21: 0.8^6 = 0.262144; 1-(0.737856)^21 = 1-exp(21*ln 0.737856) = 1-exp(-6.384) = 0.99831
    assert dd.lsh_bands(0.8, 128) == (21, 6)
    with pytest.raises(ValueError):
        dd.lsh_bands(0.0, 128)
    with pytest.raises(ValueError):
        dd.lsh_bands(0.8, 1)


def test_signatures_equal_datasketch_minhash():
    texts = PROBLEMS + ["", "x", "What is 7 + 5?"]
    sh = dd.shingle(texts, num_perm=128, seed=3, progress=False)
    for i in range(len(texts)):
        m = MinHash(num_perm=128, seed=3, hashfunc=lambda x: x, scheme="affine32")
        m.update_batch([int(h) for h in sh.shingles(i)])
        assert np.array_equal(m.hashvalues, sh.signatures[i]), i


def test_shingles_are_word_bigrams_after_normalisation():
    sh = dd.shingle(["What is $x^2+1$?", "what  is x ^ 2 + 1 ?", "a", ""], ngram=2, progress=False)
    # tokens: what is x ^ 2 + 1 ?  -> 7 bigrams
    assert len(sh.shingles(0)) == 7
    assert np.array_equal(sh.shingles(0), sh.shingles(1))          # case, $ and spacing do not matter
    assert len(sh.shingles(2)) == 1 and len(sh.shingles(3)) == 1    # short / empty: one padded shingle


def test_shingling_does_not_depend_on_chunking():
    texts = synthetic_problems(50)
    a = dd.shingle(texts, chunk_size=7, progress=False)
    b = dd.shingle(texts, chunk_size=1000, progress=False)
    assert np.array_equal(a.hashes, b.hashes) and np.array_equal(a.offsets, b.offsets)
    assert np.array_equal(a.signatures, b.signatures)


def test_candidates_equal_datasketch_minhashlsh():
    rng = random.Random(1)
    base = synthetic_problems(60)
    texts = base + [reworded(t, rng) for t in base[:20]] + [renumbered(t, rng) or t for t in base[20:40]]
    p = dd.minhash_params()
    sh = dd.shingle(texts, num_perm=p.num_perm, seed=p.seed, progress=False)
    ours = set(dd.candidate_pairs(sh.signatures, p.bands, p.rows))
    lsh = MinHashLSH(threshold=p.threshold, num_perm=p.num_perm, params=(p.bands, p.rows))
    theirs = set()
    for i in range(len(texts)):
        m = LeanMinHash(seed=p.seed, hashvalues=sh.signatures[i], scheme="affine32")
        theirs.update((j, i) for j in lsh.query(m))
        lsh.insert(i, m)
    assert ours == theirs and len(ours) >= 40
    cross = dd.cross_candidates(sh.signatures[60:], sh.signatures[:60], p.bands, p.rows)
    assert {(j, i + 60) for i, js in cross.items() for j in js} == {(j, i) for j, i in theirs if j < 60 <= i}


# ---------------------------------------------------------------------------------------------
# The contract functions.

def test_dedup_threshold_is_exact_jaccard():
    a = " ".join(f"w{k}" for k in range(1, 12))               # 11 tokens -> 10 bigrams
    b = " ".join([f"w{k}" for k in range(1, 11)] + ["x"])     # last token changed: shares 9 of 10 bigrams
    c = " ".join([f"w{k}" for k in range(1, 10)] + ["x", "y"])  # last two changed: shares 8 of 10
    # J(a, b) = 9 / (10 + 10 - 9) = 9/11 = 0.818 >= 0.8 -> duplicate
    # J(a, c) = 8 / (10 + 10 - 8) = 8/12 = 0.667 <  0.8 -> kept
    assert dd.dedup([a, b], progress=False) == [0]
    assert dd.dedup([a, c], progress=False) == [0, 1]
    assert dd.dedup([a, c], threshold=0.6, progress=False) == [0]


def test_dedup_first_wins_and_compares_with_kept_texts_only():
    a = " ".join(f"w{k}" for k in range(1, 12))   # 10 bigrams
    b = a + " x"                                   # 11 bigrams, 10 shared with a
    c = a + " x y z"                               # 13 bigrams, 10 shared with a, 11 with b
    # J(a,b) = 10/11 = 0.909, J(b,c) = 11/13 = 0.846, J(a,c) = 10/13 = 0.769 (< 0.8)
    assert dd.dedup([a, b, c], progress=False) == [0, 2]      # b is a dup of a; c is not a dup of a
    assert dd.dedup([b, a, c], progress=False) == [0]         # b first: a and c are both dups of b


def test_dedup_edge_cases():
    assert dd.dedup([], progress=False) == []
    assert dd.dedup(["only one"], progress=False) == [0]
    assert dd.dedup(["", "   ", "x"], progress=False) == [0, 2]     # empty texts are duplicates of each other
    assert dd.dedup(["same text here"] * 5, progress=False) == [0]
    with pytest.raises(TypeError, match=r"texts\[1\]"):
        dd.dedup(["a", None], progress=False)


def test_contaminated_edge_cases():
    assert dd.contaminated([], ["a b c"], progress=False) == []
    assert dd.contaminated(["a b c"], [], progress=False) == [False]
    assert dd.contaminated(["What is 7 + 5?", "What is 8 + 3?"], ["what is 7+5 ?"], progress=False) == [True, False]


def test_decontaminate_and_dedup_names_the_first_matching_benchmark():
    texts = [PROBLEMS[0], PROBLEMS[1], PROBLEMS[1] + " ", PROBLEMS[2]]
    refs = {"aime24": [PROBLEMS[2]], "math500": [PROBLEMS[0], PROBLEMS[2]]}
    matches, kept = dd.decontaminate_and_dedup(texts, refs, progress=False)
    assert matches == ["math500", None, None, "aime24"]
    assert kept == [1]                                          # 2 is an exact copy of 1; 0 and 3 contaminated


def _planted(base: list[str], seed: int) -> dict[str, list[tuple[int, str]]]:
    rng = random.Random(seed)
    out = {"respaced": [], "reworded": [], "renumbered": []}
    for i, text in enumerate(base):
        out["respaced"].append((i, respaced(text, rng)))
        out["reworded"].append((i, reworded(text, rng)))
        copy = renumbered(text, rng)
        if copy is not None:
            out["renumbered"].append((i, copy))
    return out


def _recall(base: list[str], planted: list[tuple[int, str]]) -> float:
    texts = base + [t for _, t in planted]
    kept = set(dd.dedup(texts, progress=False))
    return sum(1 for k in range(len(base), len(texts)) if k not in kept) / len(planted)


def test_recall_and_precision_on_synthetic_problems():
    base = synthetic_problems(300, seed=2)
    assert dd.dedup(base, progress=False) == list(range(len(base)))        # precision: nothing distinct dropped
    for kind, planted in _planted(base, seed=3).items():
        assert _recall(base, planted) >= (1.0 if kind == "respaced" else 0.95), kind
    refs = base[:100]
    flags = dd.contaminated([t for _, t in _planted(refs, 4)["reworded"]] + base[100:], refs, progress=False)
    assert sum(flags[:100]) >= 95 and not any(flags[100:])


def test_recall_and_precision_on_real_benchmark_problems():
    """Planted copies of real MATH-500 + GSM8K problems (realistic length and LaTeX)."""
    math500 = [json.loads(line)["problem"] for line in shared_file("math500", "test.jsonl").read_text().splitlines()]
    gsm8k = [json.loads(line)["question"] for line in shared_file("gsm8k", "test.jsonl").read_text().splitlines()]
    base = math500 + gsm8k[:500]
    kept = dd.dedup(base, progress=False)
    assert len(kept) >= len(base) - 3                          # distinct problems survive (precision)
    planted = _planted(base, seed=5)
    recall = {kind: _recall(base, p) for kind, p in planted.items()}
    assert recall["respaced"] == 1.0
    assert recall["reworded"] >= 0.9 and recall["renumbered"] >= 0.9, recall
