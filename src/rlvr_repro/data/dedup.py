"""Near-duplicate removal and test-set decontamination with MinHash-LSH (datasketch).

Contract (docs/CONTRACTS.md "Near-duplicates"):
    dedup(texts, threshold=0.8, num_perm=128, seed=0) -> list[int]        indices kept, first wins
    contaminated(texts, reference_texts, threshold=0.8, num_perm=128) -> list[bool]

Similarity is the Jaccard index of the documents' sets of word n-grams ("shingles") after
:func:`normalize_text`. EGPO App. A.2 fixes num_perm=128 and threshold=0.8; the rest is ours and is
recorded by :func:`minhash_params` in every manifest:

* Tokens are runs of letters/digits or single symbols, so ``x^2+1`` and ``x^2 + 1`` tokenize the
  same; LaTeX spacing commands, ``\\left``/``\\right``, ``$`` and case are removed first.
* Candidates come from a datasketch ``MinHashLSH`` with bands/rows (b, r) chosen explicitly so a
  pair at exactly the threshold becomes a candidate with probability >= 0.99 (default: b=21, r=6
  for 128 permutations); every candidate is then *verified with the exact Jaccard index* of the
  two shingle sets. So a reported near-duplicate really has Jaccard >= threshold (no false
  positives from the sketch), and misses are confined to the LSH's <1% at the threshold.

Speed (220k problems + decontamination against ~8k in well under the 5-minute budget on 2 cores;
see ``benchmarks/bench_dedup.py``) comes from computing signatures for many documents at once:
each distinct token is hashed once (SHA-1, cached), n-gram hashes are combined arithmetically in
numpy, and the 128 affine permutations plus the per-document minimum run as array operations —
instead of one Python-level hash and one ``MinHash.update`` per shingle. The permutations are
datasketch's own ``affine32`` scheme (same seed -> same ``a``, ``b``), so our signatures are
bit-identical to ``datasketch.MinHash`` fed the same shingle hashes (tested).
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass

import numpy as np
from datasketch import MinHash
from tqdm import tqdm

DEFAULT_NGRAM = 2
TARGET_CANDIDATE_RECALL = 0.99
SCHEME = "affine32"

_LATEX_NOISE_RE = re.compile(r"\\(?:left|right|displaystyle|[,;:! ]|quad|qquad)|\$|~")
_TOKEN_RE = re.compile(r"\w+|[^\w\s]")
_EMPTY_TOKEN = "\x00empty"  # the one shingle of an empty document: all empty texts are duplicates
_PAD_TOKEN = "\x00pad"      # pads a document shorter than n tokens to one full n-gram
_U64 = np.uint64
_MIX = _U64(0x9E3779B97F4A7C15)  # golden-ratio multiplier for combining token hashes


@dataclass(frozen=True)
class MinHashParams:
    """Everything that determines which pairs count as near-duplicates (goes in the manifest)."""

    threshold: float
    num_perm: int
    bands: int
    rows: int
    ngram: int
    seed: int
    scheme: str = SCHEME
    verification: str = "exact_jaccard"
    tokenizer: str = "lowercase NFKC; LaTeX spacing/delimiters removed; \\w+ or single symbol"

    def as_dict(self) -> dict:
        return asdict(self)


def lsh_bands(threshold: float, num_perm: int, target: float = TARGET_CANDIDATE_RECALL) -> tuple[int, int]:
    """(b, r): the most rows per band whose candidate probability at ``threshold`` is >= ``target``.

    A pair with Jaccard s becomes an LSH candidate with probability 1 - (1 - s^r)^b. Fewer rows per
    band means more candidates (all of them verified exactly), so this picks the largest r that still
    keeps recall at the threshold >= target; b = num_perm // r uses as many permutations as fit.
    """
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    if num_perm < 2:
        raise ValueError(f"num_perm must be >= 2, got {num_perm}")
    for r in range(num_perm // 2, 0, -1):
        b = num_perm // r
        if b >= 2 and 1.0 - (1.0 - threshold ** r) ** b >= target:
            return b, r
    return num_perm, 1


def minhash_params(threshold: float = 0.8, num_perm: int = 128, seed: int = 0,
                   ngram: int = DEFAULT_NGRAM) -> MinHashParams:
    b, r = lsh_bands(threshold, num_perm)
    return MinHashParams(threshold=threshold, num_perm=num_perm, bands=b, rows=r, ngram=ngram, seed=seed)


# ----------------------------------------------------------------------------------------------
# Text -> tokens -> shingle hashes.

def normalize_text(text: str) -> str:
    """Lowercased NFKC text without LaTeX spacing commands, ``\\left``/``\\right`` and ``$``."""
    if not isinstance(text, str):
        raise TypeError(f"expected str, got {type(text).__name__}")
    text = unicodedata.normalize("NFKC", text).lower()
    text = text.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    return _LATEX_NOISE_RE.sub(" ", text)


def tokenize(text: str) -> list[str]:
    """Word tokens of the normalised text: runs of letters/digits, or one symbol each."""
    return _TOKEN_RE.findall(normalize_text(text))


class _TokenHasher:
    """64-bit hash per distinct token (first 8 bytes of SHA-1), cached: corpora reuse tokens a lot."""

    def __init__(self):
        self._cache: dict[str, int] = {}

    def __call__(self, tokens: list[str]) -> list[int]:
        out = list(map(self._cache.get, tokens))
        if None in out:
            for k, (tok, h) in enumerate(zip(tokens, out)):
                if h is None:
                    h = int.from_bytes(hashlib.sha1(tok.encode("utf-8")).digest()[:8], "little")
                    self._cache[tok] = out[k] = h
        return out


def _fmix64(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> _U64(33))
    h = h * _U64(0xFF51AFD7ED558CCD)
    h = h ^ (h >> _U64(33))
    h = h * _U64(0xC4CEB9FE1A85EC53)
    return h ^ (h >> _U64(33))


def _shingle_hashes_batch(texts: Sequence[str], ngram: int, hasher: _TokenHasher
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Unique 32-bit shingle hashes of each text, concatenated; and the start offset of each text.

    Returns ``(hashes uint32[M], offsets int64[len(texts)+1])``; text i owns
    ``hashes[offsets[i]:offsets[i+1]]``, sorted and unique. An n-gram's hash combines its token
    hashes position by position (h = h * MIX + t_k, wrapping in uint64) and is then avalanched
    (MurmurHash3 fmix64), keeping the top 32 bits.
    """
    tok_hashes: list[int] = []
    lengths = np.empty(len(texts), dtype=np.int64)
    for i, text in enumerate(texts):
        toks = tokenize(text)
        if not toks:
            toks = [_EMPTY_TOKEN]
        if len(toks) < ngram:
            toks = toks + [_PAD_TOKEN] * (ngram - len(toks))
        lengths[i] = len(toks)
        tok_hashes.extend(hasher(toks))
    tok = np.fromiter(tok_hashes, dtype=np.uint64, count=len(tok_hashes))
    starts = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(lengths, out=starts[1:])
    n_grams = lengths - ngram + 1                     # >= 1 for every text after padding
    doc_of_gram = np.repeat(np.arange(len(texts)), n_grams)
    gram_starts = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(n_grams, out=gram_starts[1:])
    pos = starts[doc_of_gram] + (np.arange(gram_starts[-1]) - gram_starts[doc_of_gram])
    h = np.zeros(len(pos), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(ngram):
            h = h * _MIX + tok[pos + k]
        h = (_fmix64(h) >> _U64(32)).astype(np.uint64)
    # sort + unique per document in one pass over (doc << 32 | hash)
    keys = np.sort((doc_of_gram.astype(np.uint64) << _U64(32)) | h)
    if keys.size:
        first = np.empty(keys.size, dtype=bool)
        first[0] = True
        np.not_equal(keys[1:], keys[:-1], out=first[1:])
        keys = keys[first]
    docs = (keys >> _U64(32)).astype(np.int64)
    hashes = (keys & _U64(0xFFFFFFFF)).astype(np.uint32)
    offsets = np.searchsorted(docs, np.arange(len(texts) + 1)).astype(np.int64)
    return hashes, offsets


def _fmix32(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's affine32 permutation parameters (a odd, b) for ``seed``: taken from datasketch."""
    a, b = MinHash(num_perm=num_perm, seed=seed, scheme=SCHEME).permutations
    return a.astype(np.uint32), b.astype(np.uint32)


def minhash_signatures(hashes: np.ndarray, offsets: np.ndarray, num_perm: int, seed: int) -> np.ndarray:
    """uint32[n_docs, num_perm] MinHash signatures, equal to datasketch ``MinHash(scheme="affine32")``
    updated with the same 32-bit shingle hashes (``hashfunc`` = identity).

    datasketch affine32: ``phv_k = a_k * fmix32(h) + b_k (mod 2^32)``, signature = min over shingles.
    One permutation at a time over all shingles (a cache-resident 1-D pass, then a segmented min),
    which measured ~50x faster than materialising the [shingles, num_perm] matrix.
    """
    a, b = permutations(num_perm, seed)
    n_docs = len(offsets) - 1
    sig = np.empty((num_perm, n_docs), dtype=np.uint32)
    if n_docs == 0:
        return sig.T.copy()
    mixed = _fmix32(hashes.astype(np.uint32))
    tmp = np.empty_like(mixed)
    starts = offsets[:-1]
    with np.errstate(over="ignore"):
        for k in range(num_perm):
            np.multiply(mixed, a[k], out=tmp)
            tmp += b[k]
            sig[k] = np.minimum.reduceat(tmp, starts)
    return np.ascontiguousarray(sig.T)


@dataclass
class Shingled:
    """Shingle sets (for exact verification) and MinHash signatures of a list of texts."""

    hashes: np.ndarray     # uint32, concatenated sorted unique shingle hashes
    offsets: np.ndarray    # int64 [n+1]
    signatures: np.ndarray  # uint32 [n, num_perm]

    def shingles(self, i: int) -> np.ndarray:
        return self.hashes[self.offsets[i]:self.offsets[i + 1]]

    def jaccard(self, i: int, other: "Shingled", j: int) -> float:
        a, b = self.shingles(i), other.shingles(j)
        inter = np.intersect1d(a, b, assume_unique=True).size
        return inter / (a.size + b.size - inter)


def _shingle_chunk(args) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    texts, ngram, num_perm, seed = args
    hashes, offsets = _shingle_hashes_batch(texts, ngram, _TokenHasher())
    return hashes, offsets, minhash_signatures(hashes, offsets, num_perm, seed)


def shingle(texts: Sequence[str], *, ngram: int = DEFAULT_NGRAM, num_perm: int = 128, seed: int = 0,
            workers: int | None = None, chunk_size: int = 5000, progress: bool = True,
            desc: str = "minhash") -> Shingled:
    """Shingle sets and signatures for ``texts``, in chunks, over ``workers`` processes.

    The result does not depend on ``workers`` or ``chunk_size`` (each document is independent).
    ``workers=None`` uses all cores when there are enough texts to pay for the process start-up.
    """
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise TypeError(f"texts[{i}] is {type(t).__name__}, expected str")
    if ngram < 1:
        raise ValueError(f"ngram must be >= 1, got {ngram}")
    chunks = [list(texts[i:i + chunk_size]) for i in range(0, len(texts), chunk_size)]
    jobs = [(c, ngram, num_perm, seed) for c in chunks]
    if workers is None:
        workers = min(os.cpu_count() or 1, len(chunks)) if len(texts) >= 4 * chunk_size else 1
    bar = tqdm(total=len(texts), desc=desc, unit="doc", disable=not progress, leave=False)
    results = []
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for job, res in zip(jobs, pool.map(_shingle_chunk, jobs)):
                results.append(res)
                bar.update(len(job[0]))
    else:
        hasher = _TokenHasher()  # shared cache across chunks in-process
        for job in jobs:
            hashes, offsets = _shingle_hashes_batch(job[0], ngram, hasher)
            results.append((hashes, offsets, minhash_signatures(hashes, offsets, num_perm, seed)))
            bar.update(len(job[0]))
    bar.close()
    if not results:
        return Shingled(np.empty(0, np.uint32), np.zeros(1, np.int64), np.empty((0, num_perm), np.uint32))
    hashes = np.concatenate([r[0] for r in results])
    offsets = [np.zeros(1, np.int64)]
    base = 0
    for r in results:
        offsets.append(r[1][1:] + base)
        base += int(r[1][-1])
    return Shingled(hashes, np.concatenate(offsets), np.concatenate([r[2] for r in results]))


# ----------------------------------------------------------------------------------------------
# LSH banding. Two documents are candidates when all r signature values of some band are equal:
# exactly datasketch ``MinHashLSH(params=(b, r))``'s rule (its buckets key on the band's bytes), here
# evaluated for all documents at once by sorting each band's rows instead of one dict lookup per
# band per document. Tests check the candidate sets against ``MinHashLSH.query``.

def _band_ids(signatures: np.ndarray, bands: int, rows: int) -> list[np.ndarray]:
    """For each band, an int bucket id per document (equal ids <=> identical band values)."""
    ids = []
    for band in range(bands):
        block = np.ascontiguousarray(signatures[:, band * rows:(band + 1) * rows])
        keys = block.view(np.dtype((np.void, block.dtype.itemsize * rows))).ravel()
        ids.append(np.unique(keys, return_inverse=True)[1].ravel())
    return ids


def _groups(bucket_ids: np.ndarray):
    """Index arrays (increasing) of documents sharing a bucket, for buckets with >= 2 documents."""
    shared = np.flatnonzero(np.bincount(bucket_ids)[bucket_ids] > 1)
    if shared.size == 0:
        return
    order = shared[np.argsort(bucket_ids[shared], kind="stable")]
    bounds = np.flatnonzero(np.diff(bucket_ids[order])) + 1
    yield from np.split(order, bounds)


def candidate_pairs(signatures: np.ndarray, bands: int, rows: int) -> list[tuple[int, int]]:
    """Sorted (j, i), j < i, pairs of rows that share at least one LSH band."""
    pairs: set[tuple[int, int]] = set()
    for ids in _band_ids(signatures, bands, rows):
        for group in _groups(ids):
            g = group.tolist()
            pairs.update((g[x], g[y]) for y in range(1, len(g)) for x in range(y))
    return sorted(pairs)


def cross_candidates(signatures: np.ndarray, reference: np.ndarray, bands: int, rows: int
                     ) -> dict[int, set[int]]:
    """{row i of ``signatures``: reference rows sharing at least one band with it}."""
    n_ref = reference.shape[0]
    out: dict[int, set[int]] = {}
    for ids in _band_ids(np.concatenate([reference, signatures]), bands, rows):
        ref_ids = ids[:n_ref]
        doc_ids = ids[n_ref:]
        hit = np.flatnonzero(np.isin(doc_ids, ref_ids))
        if hit.size == 0:
            continue
        by_bucket: dict[int, list[int]] = {}
        for j, bucket in enumerate(ref_ids.tolist()):
            by_bucket.setdefault(bucket, []).append(j)
        for i in hit.tolist():
            out.setdefault(i, set()).update(by_bucket[int(doc_ids[i])])
    return out


# ----------------------------------------------------------------------------------------------
# The two contract functions.

def dedup(texts: Sequence[str], threshold: float = 0.8, num_perm: int = 128, seed: int = 0, *,
          ngram: int = DEFAULT_NGRAM, workers: int | None = None, progress: bool = True) -> list[int]:
    """Indices of ``texts`` to keep: a text is dropped when its Jaccard similarity (word n-grams)
    with an earlier *kept* text is >= ``threshold``. First occurrence wins; the kept set has no pair
    at or above the threshold (among LSH candidates). Returned indices are increasing.
    """
    params = minhash_params(threshold, num_perm, seed, ngram)
    sh = shingle(texts, ngram=ngram, num_perm=num_perm, seed=seed, workers=workers, progress=progress,
                 desc="dedup: minhash")
    return _kept(sh, np.arange(len(texts)), params, progress)


def contaminated(texts: Sequence[str], reference_texts: Sequence[str], threshold: float = 0.8,
                 num_perm: int = 128, *, seed: int = 0, ngram: int = DEFAULT_NGRAM,
                 workers: int | None = None, progress: bool = True) -> list[bool]:
    """For each text, whether some reference text (a benchmark problem) has Jaccard >= ``threshold``."""
    matches, _ = decontaminate_and_dedup(texts, {"reference": reference_texts}, threshold, num_perm,
                                         seed=seed, ngram=ngram, workers=workers, progress=progress,
                                         dedup_too=False)
    return [m is not None for m in matches]


def decontaminate_and_dedup(texts: Sequence[str], references: Mapping[str, Sequence[str]],
                            threshold: float = 0.8, num_perm: int = 128, *, seed: int = 0,
                            ngram: int = DEFAULT_NGRAM, workers: int | None = None, progress: bool = True,
                            dedup_too: bool = True) -> tuple[list[str | None], list[int]]:
    """Both stages over one shingling pass (what the builders use).

    ``references`` maps a name (a benchmark) to its texts. Returns ``(matches, kept)``:
    ``matches[i]`` is the name of the first reference set (in mapping order) holding a text with
    Jaccard >= threshold to text i, else None; ``kept`` = increasing indices into ``texts`` of the
    uncontaminated texts that survive :func:`dedup` run on the uncontaminated texts in order
    (empty when ``dedup_too`` is False).
    """
    params = minhash_params(threshold, num_perm, seed, ngram)
    sh = shingle(texts, ngram=ngram, num_perm=num_perm, seed=seed, workers=workers, progress=progress,
                 desc="minhash")
    names, ref_texts, bounds = [], [], [0]
    for name, refs in references.items():
        names.append(name)
        ref_texts.extend(refs)
        bounds.append(len(ref_texts))
    matches: list[str | None] = [None] * len(texts)
    if ref_texts:
        ref = shingle(ref_texts, ngram=ngram, num_perm=num_perm, seed=seed, workers=workers,
                      progress=progress, desc="minhash: references")
        for i, j in enumerate(_first_reference(sh, ref, params, progress)):
            if j >= 0:
                matches[i] = names[int(np.searchsorted(bounds, j, side="right")) - 1]
    if not dedup_too:
        return matches, []
    clean = np.asarray([i for i, m in enumerate(matches) if m is None], dtype=np.int64)
    return matches, _kept(sh, clean, params, progress)


def _kept(sh: Shingled, docs: np.ndarray, params: MinHashParams, progress: bool) -> list[int]:
    """Greedy first-wins dedup over ``docs`` (increasing indices into ``sh``).

    Exact copies (identical shingle sets) are resolved first through a dict; LSH candidate pairs
    among the remaining documents are verified with the exact Jaccard index; a pass in input order
    then keeps a document unless a verified neighbour before it was kept.
    """
    first_copy: dict[bytes, int] = {}
    reps = [i for i in docs.tolist() if first_copy.setdefault(sh.shingles(i).tobytes(), i) == i]
    pairs = candidate_pairs(sh.signatures[np.asarray(reps, dtype=np.int64)], params.bands, params.rows)
    earlier: dict[int, list[int]] = {}
    for a, b in tqdm(pairs, desc="dedup: verify", unit="pair", disable=not progress, leave=False):
        j, i = reps[a], reps[b]
        if sh.jaccard(i, sh, j) >= params.threshold:
            earlier.setdefault(i, []).append(j)
    kept: set[int] = set()
    for i in reps:
        if not any(j in kept for j in earlier.get(i, ())):
            kept.add(i)
    return sorted(kept)


def _first_reference(sh: Shingled, ref: Shingled, params: MinHashParams, progress: bool) -> list[int]:
    """Per document of ``sh``: the smallest reference index with Jaccard >= threshold, or -1."""
    n_ref = len(ref.offsets) - 1
    exact: dict[bytes, int] = {}
    for j in range(n_ref):
        exact.setdefault(ref.shingles(j).tobytes(), j)
    first = [exact.get(sh.shingles(i).tobytes(), -1) for i in range(len(sh.offsets) - 1)]
    cands = cross_candidates(sh.signatures, ref.signatures, params.bands, params.rows)
    for i in tqdm(sorted(cands), desc="decontam: verify", unit="doc", disable=not progress, leave=False):
        for j in sorted(cands[i]):
            if first[i] >= 0 and j >= first[i]:
                break
            if sh.jaccard(i, ref, j) >= params.threshold:
                first[i] = j
                break
    return first


__all__ = ["dedup", "contaminated", "minhash_params", "MinHashParams", "lsh_bands", "normalize_text",
           "tokenize", "shingle", "Shingled", "minhash_signatures", "permutations", "candidate_pairs",
           "cross_candidates", "decontaminate_and_dedup", "DEFAULT_NGRAM"]
