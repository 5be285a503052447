"""Evaluation protocols: the sampling settings, sample counts and k-lists each paper reports with.

A protocol (``config/protocols.yaml``, top-level ``protocols:``) is a mapping::

    temperature: float >= 0        top_p: (0, 1]        top_k: int (-1 or 0 = off)
    n: int >= 1                    samples per problem (one request / generate call per problem)
    k_list: [int]                  pass@k values to report (default 1, 2, 4, ..., n)
    trials: int | null             EGPO-style independent trials (trial t = sample t)
    max_tokens: int | {default: int, <family>: int}   per model family (prompts.FAMILIES)
    max_tokens_by_model: {model: int}   per configured model, over max_tokens (Qwen2.5-7B shares
                                   the qwen_math prompt family with Qwen2.5-Math-1.5B, not its length)
    prompt_template: default | evalscope   how a problem becomes a prompt (rlvr_repro.prompts.TEMPLATES)
    grader: math_verify | evalscope | strict_answer   how responses are graded
                                   (rlvr_repro.evaluate.grading.GRADERS; default math_verify, the strict default)
    eval_every: int | null         evaluate every N training steps (rlvr_repro.plan checks the checkpoints)
    eval_until: int | null         evaluate only checkpoints up to this step (ACE §5.4: the first 20 steps)
    token_entropy: bool            diagnostics also measure the evaluated policy's token entropy (ACE eq. 16)
    curve_ema: float in [0, 1) | null   report side: EMA factor of accuracy-vs-step curves
    diagnostics: all | last | none | null   which cells get diagnostics.json (null = config eval.diagnostics)
    seed: int                      base seed; each problem's seed is derived from it
    benchmarks: [name]             benchmarks evaluated under this protocol (keys of the config's
                                   ``benchmarks:`` mapping; their ``loader`` names the grader)
    overrides: {benchmark: {n, k_list, trials, max_tokens, temperature, top_p, top_k}}
    paper, description: str       provenance only

:func:`validate_protocol` fills defaults and raises ``ProtocolError`` naming the bad key;
:func:`resolve` gives the concrete settings for one (benchmark, model family).
"""

from __future__ import annotations

import re

from rlvr_repro.evaluate.grading import DEFAULT_GRADER, GRADERS
from rlvr_repro.prompts import FAMILIES, TEMPLATES

SAMPLING_KEYS = ("temperature", "top_p", "top_k", "n", "k_list", "trials", "max_tokens")
TOP_KEYS = SAMPLING_KEYS + ("seed", "benchmarks", "overrides", "paper", "description", "max_tokens_by_model",
                            "prompt_template", "grader", "eval_every", "eval_until", "curve_ema", "diagnostics",
                            "token_entropy")
NAME_RE = re.compile(r"^[a-z0-9_]+$")


class ProtocolError(ValueError):
    """A protocol entry that does not validate; the message names the key."""


def default_k_list(n: int) -> list[int]:
    """1, 2, 4, ... up to n, plus n itself when n is not a power of two."""
    ks, k = [], 1
    while k <= n:
        ks.append(k)
        k *= 2
    if ks[-1] != n:
        ks.append(n)
    return ks


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _check_sampling(where: str, spec: dict) -> None:
    """Type/range checks of the sampling keys present in ``spec``."""
    if "temperature" in spec and not (_is_num(spec["temperature"]) and spec["temperature"] >= 0):
        raise ProtocolError(f"{where}.temperature: must be a number >= 0, got {spec['temperature']!r}")
    if "top_p" in spec and not (_is_num(spec["top_p"]) and 0 < spec["top_p"] <= 1):
        raise ProtocolError(f"{where}.top_p: must be in (0, 1], got {spec['top_p']!r}")
    if "top_k" in spec and not (_is_int(spec["top_k"]) and spec["top_k"] >= -1):
        raise ProtocolError(f"{where}.top_k: must be an int >= -1 (-1/0 = off), got {spec['top_k']!r}")
    if "n" in spec and not (_is_int(spec["n"]) and spec["n"] >= 1):
        raise ProtocolError(f"{where}.n: must be an int >= 1, got {spec['n']!r}")
    if "k_list" in spec and spec["k_list"] is not None:
        ks = spec["k_list"]
        if not (isinstance(ks, list) and ks and all(_is_int(k) and k >= 1 for k in ks)):
            raise ProtocolError(f"{where}.k_list: must be a non-empty list of ints >= 1, got {ks!r}")
    if "trials" in spec and spec["trials"] is not None and not (_is_int(spec["trials"]) and spec["trials"] >= 1):
        raise ProtocolError(f"{where}.trials: must be null or an int >= 1, got {spec['trials']!r}")
    if "max_tokens" in spec:
        mt = spec["max_tokens"]
        if isinstance(mt, dict):
            for fam, v in mt.items():
                if fam != "default" and fam not in FAMILIES:
                    raise ProtocolError(f"{where}.max_tokens.{fam}: not a model family; expected "
                                        f"'default' or one of {FAMILIES}")
                if not (_is_int(v) and v >= 1):
                    raise ProtocolError(f"{where}.max_tokens.{fam}: must be an int >= 1, got {v!r}")
        elif not (_is_int(mt) and mt >= 1):
            raise ProtocolError(f"{where}.max_tokens: must be an int >= 1 or a family map, got {mt!r}")


def validate_protocol(name: str, spec: dict) -> dict:
    """A validated copy of one protocol with defaults filled (``name`` added)."""
    where = f"protocols.{name}"
    if not isinstance(spec, dict):
        raise ProtocolError(f"{where}: must be a mapping, got {type(spec).__name__}")
    spec = {k: v for k, v in spec.items() if k != "name"}  # re-validating a validated protocol is fine
    unknown = sorted(set(spec) - set(TOP_KEYS))
    if unknown:
        raise ProtocolError(f"{where}: unknown key(s) {unknown}; allowed: {list(TOP_KEYS)}")
    for key in ("temperature", "n", "max_tokens", "benchmarks"):
        if key not in spec:
            raise ProtocolError(f"{where}: missing required key {key!r}")
    _check_sampling(where, spec)
    benches = spec["benchmarks"]
    if not (isinstance(benches, list) and benches and all(isinstance(b, str) for b in benches)):
        raise ProtocolError(f"{where}.benchmarks: must be a non-empty list of names, got {benches!r}")
    for b in benches:  # config keys of `benchmarks:` (their `loader` names the grader)
        if not NAME_RE.match(b):
            raise ProtocolError(f"{where}.benchmarks: {b!r} is not a benchmark name ({NAME_RE.pattern})")
    if "seed" in spec and not _is_int(spec["seed"]):
        raise ProtocolError(f"{where}.seed: must be an int, got {spec['seed']!r}")
    by_model = spec.get("max_tokens_by_model") or {}
    if not isinstance(by_model, dict):
        raise ProtocolError(f"{where}.max_tokens_by_model: must be a mapping model -> int")
    for model, v in by_model.items():
        if not (_is_int(v) and v >= 1):
            raise ProtocolError(f"{where}.max_tokens_by_model.{model}: must be an int >= 1, got {v!r}")
    if spec.get("prompt_template", "default") not in TEMPLATES:
        raise ProtocolError(f"{where}.prompt_template: must be one of {list(TEMPLATES)}, got {spec['prompt_template']!r}")
    if spec.get("grader", DEFAULT_GRADER) not in GRADERS:
        raise ProtocolError(f"{where}.grader: must be one of {sorted(GRADERS)}, got {spec['grader']!r}")
    every = spec.get("eval_every")
    if every is not None and not (_is_int(every) and every >= 1):
        raise ProtocolError(f"{where}.eval_every: must be null or an int >= 1, got {every!r}")
    until = spec.get("eval_until")
    if until is not None and (isinstance(until, bool) or not isinstance(until, int) or until < 1):
        raise ProtocolError(f"{where}.eval_until: must be null or an int >= 1, got {until!r}")
    if not isinstance(spec.get("token_entropy", False), bool):
        raise ProtocolError(f"{where}.token_entropy: must be true or false, got {spec['token_entropy']!r}")
    ema = spec.get("curve_ema")
    if ema is not None and not (_is_num(ema) and 0 <= ema < 1):
        raise ProtocolError(f"{where}.curve_ema: must be null or a number in [0, 1), got {ema!r}")
    if spec.get("diagnostics") not in (None, "all", "last", "none"):
        raise ProtocolError(f"{where}.diagnostics: must be null, all, last or none, got {spec['diagnostics']!r}")
    overrides = spec.get("overrides") or {}
    if not isinstance(overrides, dict):
        raise ProtocolError(f"{where}.overrides: must be a mapping benchmark -> settings")
    for bench, ov in overrides.items():
        if bench not in benches:
            raise ProtocolError(f"{where}.overrides.{bench}: not in this protocol's benchmarks")
        if not isinstance(ov, dict):
            raise ProtocolError(f"{where}.overrides.{bench}: must be a mapping")
        bad = sorted(set(ov) - set(SAMPLING_KEYS))
        if bad:
            raise ProtocolError(f"{where}.overrides.{bench}: unknown key(s) {bad}; allowed: {list(SAMPLING_KEYS)}")
        _check_sampling(f"{where}.overrides.{bench}", ov)
    out = {"name": name, "top_p": 1.0, "top_k": -1, "k_list": None, "trials": None, "seed": 0,
           "overrides": {}, "max_tokens_by_model": {}, "prompt_template": "default", "grader": DEFAULT_GRADER,
           "eval_every": None, "eval_until": None, "curve_ema": None, "diagnostics": None, "token_entropy": False,
           **spec}
    for bench in benches:  # every (benchmark, family) must resolve to coherent settings
        for family in FAMILIES:
            resolve(out, bench, family)
    return out


def resolve(protocol: dict, benchmark: str, family: str, model: str | None = None) -> dict:
    """Concrete settings for one benchmark, model family and (optionally) configured model name:
    ``{name, benchmark, temperature, top_p, top_k, n, k_list, trials, max_tokens, prompt_template, seed}``.
    ``max_tokens`` is ``max_tokens_by_model[model]`` when the protocol names the model, else the
    benchmark override / family entry / default."""
    where = f"protocols.{protocol.get('name', '?')}"
    if family not in FAMILIES:
        raise ProtocolError(f"unknown model family {family!r}; expected one of {FAMILIES}")
    if benchmark not in protocol["benchmarks"]:
        raise ProtocolError(f"{where}: benchmark {benchmark!r} is not in {protocol['benchmarks']}")
    merged = {k: protocol.get(k) for k in SAMPLING_KEYS}
    merged.update((protocol.get("overrides") or {}).get(benchmark, {}))
    n = merged["n"]
    k_list = merged["k_list"] or default_k_list(n)
    if max(k_list) > n:
        raise ProtocolError(f"{where} ({benchmark}): k_list {k_list} has k > n={n}")
    if merged["trials"] is not None and merged["trials"] > n:
        raise ProtocolError(f"{where} ({benchmark}): trials={merged['trials']} > n={n}")
    mt = merged["max_tokens"]
    if isinstance(mt, dict):
        if family not in mt and "default" not in mt:
            raise ProtocolError(f"{where}.max_tokens: no entry for family {family!r} and no 'default'")
        mt = mt.get(family, mt.get("default"))
    by_model = protocol.get("max_tokens_by_model") or {}
    if model is not None and model in by_model:
        mt = by_model[model]
    return {"name": protocol.get("name"), "benchmark": benchmark,
            "temperature": float(merged["temperature"]), "top_p": float(merged["top_p"]),
            "top_k": int(merged["top_k"]), "n": int(n), "k_list": sorted(set(k_list)),
            "trials": merged["trials"], "max_tokens": int(mt),
            "prompt_template": protocol.get("prompt_template") or "default", "seed": int(protocol.get("seed", 0))}



