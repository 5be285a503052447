"""OpenR1-Math Stable-10k: EGPO's training pool (EGPO App. A.2), built from OpenR1-Math-220k.

EGPO App. A.2: load the ``default`` and ``extended`` subsets of ``open-r1/OpenR1-Math-220k``;
build candidates with heavy filtering; decontaminate against the test sets and remove internal
near-duplicates with MinHash-LSH (num_perm 128, threshold 0.8); sample a 10,000-row pool with
subset ratio default 0.85 / extended 0.15 and outcome-bucket ratio mixed 0.60 / entirely-correct
0.40 ("entirely_incorrect retained for robustness"); split out a 128-row validation set; finally
drop prompts longer than 1,024 tokens (the paper removed 8). Every number is a config key.

Candidate filters, in order; a row is counted under the first one it fails:
  empty_problem, empty_answer      "empty GT dropped"
  multi_value_answer               "single-value GT enforced" (answers.is_single_value)
  no_generations, too_few_generations   no R1 trace / fewer than ``min_generations``
  boxed_mismatch                   "Boxed-match filter: solution or any generation last \\boxed{}
                                   matches answer" (answers.answers_match)
  problem_too_long                 problem > ``max_problem_tokens`` (tokenizer-based)
  response_too_long                the response > ``max_response_tokens``: with rule ``solution_first``
                                   the reference solution if its last \boxed{} matches the answer, else the
                                   first R1 trace whose does (EGPO's authors' prep script); with ``shortest``
                                   the shortest R1 trace must fit, with ``all`` every trace

Outcome buckets come from the per-generation correctness lists (``correctness`` = math_verify,
llama or either): all correct -> entirely_correct, none -> entirely_incorrect, else mixed.

The paper's table lost the values of "Min generations" and of the prompt/response length limits
in our copy of the text; config/datasets.yaml sets EGPO's authors' values (their prep script), the
defaults below are our choice and say so.
"""

from __future__ import annotations

from rlvr_repro.data.answers import answers_match, is_single_value, last_boxed
from rlvr_repro.data.errors import DataError, require_field
from rlvr_repro.data.examples import Example, seeded_order
from rlvr_repro.data.pipeline import BuildContext, decontaminate_and_dedup, open_source, resolve_params, split
from rlvr_repro.data.sources import Source
from rlvr_repro.data.tokens import TokenCounter
from rlvr_repro.prompts import FAMILIES

DATA_SOURCE = "openr1_stable10k"
BUCKETS = ("mixed", "entirely_correct", "entirely_incorrect")
CORRECTNESS = {"math_verify": ("correctness_math_verify",), "llama": ("correctness_llama",),
               "either": ("correctness_math_verify", "correctness_llama")}
DEFAULTS = {
    "subsets": {"default": 0.85, "extended": 0.15},      # EGPO A.2; keys = source names
    "buckets": {"mixed": 0.60, "entirely_correct": 0.40, "entirely_incorrect": 0.0},  # EGPO A.2
    "fill_shortfall": True,          # a short cell is filled from the same subset's other buckets
    "pool_size": 10_000,             # EGPO A.2
    "val_size": 128,                 # EGPO A.2
    "val_holdout": True,             # the val rows are split *out* of the pool
    "min_generations": 2,            # our choice (value lost in the paper text; OpenR1 has 2-4)
    "correctness": "math_verify",    # our choice: which per-generation labels define the buckets
    "require_single_value": True,    # EGPO A.2
    "boxed_match": True,             # EGPO A.2 ("enabled in Stable mode")
    "tokenizer": "REQUIRED",         # hub id / local dir of the trained model's tokenizer, or null
    "tokenizer_revision": None,
    "max_problem_tokens": 1024,      # our choice (value lost in the paper text)
    "max_response_tokens": 8192,     # our choice (value lost in the paper text)
    "response_length_rule": "shortest",
    "final_prompt_max_tokens": 1024,  # EGPO A.2 "Prompt Filter: drop prompts longer than 1024 tokens"
    "final_prompt_family": "qwen_math",  # the chat template the final filter renders with
    "max_source_fraction": None,     # optional cap per OpenR1 `source` (the paper's "source constraints")
    "decontaminate": "drop",         # EGPO A.2
    "near_dedup": True,              # EGPO A.2
}
_BLOCK = 2048


def _bucket(flags: list[bool]) -> str:
    if all(flags):
        return "entirely_correct"
    if not any(flags):
        return "entirely_incorrect"
    return "mixed"


def _correctness(row: dict, fields: tuple[str, ...], n_gen: int, dataset: str, idx: int) -> list[bool]:
    combined = [False] * n_gen
    for f in fields:
        values = require_field(row, f, list, dataset=dataset, index=idx, allow_none=True)
        if values is None:  # e.g. correctness_llama on rows the judge never saw
            continue
        if len(values) != n_gen:
            raise DataError(dataset, f"{len(values)} labels for {n_gen} generations", row=idx, field=f)
        combined = [c or bool(v) for c, v in zip(combined, values)]
    return combined


class _Candidates:
    """Streams one subset's rows through the cheap checks, then batches the tokenizer checks."""

    def __init__(self, subset: str, params: dict, counter: TokenCounter, ctx: BuildContext):
        self.subset, self.params, self.counter, self.ctx = subset, params, counter, ctx
        self.fields = CORRECTNESS[params["correctness"]]
        self.drops: dict[str, int] = {}
        self.kept: list[tuple[Example, str]] = []
        self._pending: list[tuple[Example, str, list[str]]] = []

    def _drop(self, reason: str) -> None:
        self.drops[reason] = self.drops.get(reason, 0) + 1

    def add(self, idx: int, row: dict) -> None:
        ds, p = self.ctx.dataset, self.params
        problem = require_field(row, "problem", str, dataset=ds, index=idx)
        answer = require_field(row, "answer", str, dataset=ds, index=idx, allow_none=True) or ""
        solution = require_field(row, "solution", str, dataset=ds, index=idx, allow_none=True) or ""
        gens = require_field(row, "generations", list, dataset=ds, index=idx)
        if any(not isinstance(g, str) for g in gens):
            raise DataError(ds, "generations must be strings", row=idx, field="generations")
        flags = _correctness(row, self.fields, len(gens), ds, idx)
        answer = answer.strip()
        if not problem.strip():
            return self._drop("empty_problem")
        if not answer:
            return self._drop("empty_answer")
        if p["require_single_value"] and not is_single_value(answer):
            return self._drop("multi_value_answer")
        if not gens:  # no traces: no outcome bucket can be assigned, whatever min_generations says
            return self._drop("no_generations")
        if len(gens) < p["min_generations"]:
            return self._drop("too_few_generations")
        matching = [text for text in [solution, *gens]
                    if (box := last_boxed(text)) is not None and answers_match(box, answer)]
        if p["boxed_match"] and not matching:
            return self._drop("boxed_mismatch")
        uid = row.get("uuid") or idx
        extra = {"subset": self.subset, "bucket": _bucket(flags), "origin": row.get("source"),
                 "subject": row.get("problem_type"), "n_generations": len(gens), "n_correct": sum(flags)}
        example = Example(problem.strip(), answer, f"{self.subset}/{uid}", DATA_SOURCE, extra)
        if p["response_length_rule"] == "solution_first":  # the one response the length filter measures
            gens = matching[:1] if matching else ([solution] if solution.strip() else gens[:1])
        self._pending.append((example, extra["bucket"], gens))
        if len(self._pending) >= _BLOCK:
            self.flush()

    def flush(self) -> None:
        """Length filters for the pending rows (tokenizer only where the byte bound is not enough)."""
        p = self.params
        for example, bucket, gens in self._pending:
            if not self.counter.fits(example.problem, p["max_problem_tokens"]):
                self._drop("problem_too_long")
                continue
            if not self._responses_fit(gens, p["max_response_tokens"], p["response_length_rule"]):
                self._drop("response_too_long")
                continue
            self.kept.append((example, bucket))
        self._pending = []

    def _responses_fit(self, gens: list[str], limit: int, rule: str) -> bool:
        """``shortest``: any text fits; ``all`` and ``solution_first`` (one text, picked in ``add``): every
        text fits. A text of fewer UTF-8 bytes than ``limit`` has fewer tokens: no tokenizer needed."""
        cheap = [len(g.encode("utf-8")) < limit for g in gens]
        if rule == "shortest" and any(cheap):
            return True
        if rule != "shortest" and all(cheap):
            return True
        lengths = self.counter.count([g for g, ok in zip(gens, cheap) if not ok])
        if rule == "shortest":
            return min(lengths) <= limit
        return max(lengths) <= limit


def candidates(source: Source, subset: str, params: dict, counter: TokenCounter,
               ctx: BuildContext) -> list[tuple[Example, str]]:
    """(example, bucket) for every row of one subset that passes the candidate filters."""
    cols = ["problem", "answer", "solution", "generations", *CORRECTNESS[params["correctness"]]]
    cols += [c for c in ("uuid", "source", "problem_type") if c in source.columns]
    cand = _Candidates(subset, params, counter, ctx)
    n = 0
    for idx, row in source.rows(cols, progress=ctx.progress, desc=f"{ctx.dataset}: {subset}"):
        n += 1
        cand.add(idx, row)
    cand.flush()
    ctx.manifest.stage(f"{subset}:loaded", n)
    ctx.manifest.stage(f"{subset}:candidates", len(cand.kept), rows_in=n, drops=cand.drops)
    return cand.kept


def largest_remainder(total: int, weights: dict[tuple[str, str], float]) -> dict[tuple[str, str], int]:
    """Integer targets summing to ``total`` (weights summing to 1): floors, then the largest
    fractional parts get the remaining units (ties in cell order)."""
    raw = {k: total * w for k, w in weights.items()}
    out = {k: int(v) for k, v in raw.items()}
    rest = total - sum(out.values())
    for k in sorted(raw, key=lambda k: -(raw[k] - out[k]))[:rest]:
        out[k] += 1
    return out


def sample_pool(cells: list[tuple[str, str]], buckets_of: list[tuple[str, str]], origins: list,
                params: dict, seed: int) -> tuple[list[int], dict]:
    """Indices (increasing) of the pool rows and a per-cell report.

    ``cells``: the (subset, bucket) cells in order; ``buckets_of[i]``: the cell of candidate i.
    Each cell's candidates are visited in a seeded order; a cell takes its target; with
    ``fill_shortfall`` a subset's missing rows come from its other cells' leftovers (bucket order),
    then from any leftover. ``max_source_fraction`` caps rows per OpenR1 ``source``.
    """
    weights = {(s, b): params["subsets"][s] * params["buckets"][b] for s, b in cells}
    targets = largest_remainder(params["pool_size"], weights)
    members: dict[tuple[str, str], list[int]] = {c: [] for c in cells}
    for i, c in enumerate(buckets_of):
        members[c].append(i)
    orders = {}
    for k, c in enumerate(cells):
        perm = seeded_order(len(members[c]), seed + k)
        orders[c] = [members[c][j] for j in perm]
    frac = params["max_source_fraction"]
    cap = None if frac is None else int(frac * params["pool_size"])
    per_origin: dict = {}
    taken: set[int] = set()
    report = {f"{s}/{b}": {"target": targets[(s, b)], "available": len(members[(s, b)]), "taken": 0,
                           "filled": 0} for s, b in cells}

    def take(c: tuple[str, str], want: int, key: str) -> int:
        got = 0
        for i in orders[c]:
            if got >= want:
                break
            if i in taken or (cap is not None and per_origin.get(origins[i], 0) >= cap):
                continue
            taken.add(i)
            per_origin[origins[i]] = per_origin.get(origins[i], 0) + 1
            report[f"{c[0]}/{c[1]}"][key] += 1
            got += 1
        return got

    for c in cells:
        take(c, targets[c], "taken")
    if params["fill_shortfall"]:
        for subset in params["subsets"]:
            want = sum(t for (s, _), t in targets.items() if s == subset)
            have = sum(1 for i in taken if buckets_of[i][0] == subset)
            for c in [c for c in cells if c[0] == subset]:
                if have >= want:
                    break
                have += take(c, want - have, "filled")
        for c in cells:
            missing = params["pool_size"] - len(taken)
            if missing <= 0:
                break
            take(c, missing, "filled")
    return sorted(taken), report


def _check(params: dict, sources: list[str], dataset: str) -> None:
    if params["tokenizer"] == "REQUIRED":
        raise DataError(dataset, "give tokenizer: <hub id or local dir> (the trained model's), or null for "
                                 "the explicit whitespace fallback", field="params.tokenizer")
    for key, names in (("subsets", sources), ("buckets", BUCKETS)):
        ratios = params[key]
        if set(ratios) - set(names) or abs(sum(ratios.values()) - 1.0) > 1e-9 or min(ratios.values()) < 0:
            raise DataError(dataset, f"{key} must map {sorted(names)} to non-negative ratios summing to 1, "
                                     f"got {ratios}", field=f"params.{key}")
    if params["correctness"] not in CORRECTNESS:
        raise DataError(dataset, f"correctness must be one of {sorted(CORRECTNESS)}", field="params.correctness")
    if params["response_length_rule"] not in ("solution_first", "shortest", "all"):
        raise DataError(dataset, "response_length_rule must be 'solution_first', 'shortest' or 'all'",
                        field="params.response_length_rule")
    if params["final_prompt_family"] not in FAMILIES:
        raise DataError(dataset, f"final_prompt_family must be one of {FAMILIES}", field="params.final_prompt_family")


def _prompt_filter(examples: list[Example], name: str, counter: TokenCounter, params: dict,
                   ctx: BuildContext) -> list[Example]:
    lengths = counter.prompt_lengths([e.problem for e in examples], params["final_prompt_family"],
                                     progress=ctx.progress)
    kept = [e for e, n in zip(examples, lengths) if n <= params["final_prompt_max_tokens"]]
    ctx.manifest.stage(f"{name}:prompt_filter", len(kept), rows_in=len(examples),
                       drops={"prompt_too_long": len(examples) - len(kept)})
    return kept


def build(spec: dict, ctx: BuildContext) -> tuple[list[Example], list[Example]]:
    params = resolve_params(spec, DEFAULTS, ctx)
    subsets = list(params["subsets"])
    _check(params, list((spec.get("sources") or {}).keys()), ctx.dataset)
    counter = TokenCounter(params["tokenizer"], params["tokenizer_revision"])
    ctx.manifest.note("tokenizer", counter.describe())
    pool: list[tuple[Example, str]] = []
    for subset in subsets:
        pool.extend(candidates(open_source(spec, subset, ctx), subset, params, counter, ctx))
    ctx.manifest.stage("candidates", len(pool))
    examples = decontaminate_and_dedup([e for e, _ in pool], ctx, decontaminate=params["decontaminate"],
                                       near_dedup=params["near_dedup"], minhash=params["minhash"])
    cells = [(s, b) for s in subsets for b in params["buckets"]]
    cell_of = [(e.extra["subset"], e.extra["bucket"]) for e in examples]
    picked, report = sample_pool(cells, cell_of, [e.extra["origin"] for e in examples], params, ctx.seed)
    ctx.manifest.note("pool_cells", report)
    if len(picked) < params["pool_size"]:
        ctx.manifest.note("pool_shortfall", params["pool_size"] - len(picked))
    ctx.manifest.stage("pool", len(picked), rows_in=len(examples),
                       drops={"not_sampled": len(examples) - len(picked)})
    train, val = split([examples[i] for i in picked], ctx, val_size=params["val_size"],
                       holdout=params["val_holdout"])
    return (_prompt_filter(train, "train", counter, params, ctx),
            _prompt_filter(val, "val", counter, params, ctx))
