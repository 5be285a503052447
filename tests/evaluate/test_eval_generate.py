"""Generation orchestration (rows, chunking, resume, sharding) and the vLLM output conversion,
tested with stand-in engines; the real transformers backend is tested in test_eval_generate_hf."""

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from rlvr_repro.evaluate.generate import (
    generate_benchmarks, load_benchmark_rows, merge_shards, problem_seed, resolve_parallelism)
from rlvr_repro.evaluate.samples import make_sample, mean_nll, think_boundary
from rlvr_repro.evaluate.vllm_backend import VLLMBackend

PROTOCOL = {"temperature": 0.7, "top_p": 0.9, "top_k": -1, "n": 3, "max_tokens": 16,
            "benchmarks": ["gsm8k", "math500"], "seed": 11}


class FakeTokenizer:
    """Chat template and a character-level 'tokenizer' (one token per character)."""

    def apply_chat_template(self, messages, tokenize=False, add_generation_prompt=True, **kw):
        return "".join(f"<{m['role']}>{m['content']}" for m in messages) + "<assistant>"

    def encode(self, text, add_special_tokens=False):
        return [ord(c) for c in text]

    def decode(self, ids, skip_special_tokens=True):
        return "".join(chr(i) for i in ids)


class FakeEngine:
    """Deterministic stand-in for a backend: the sample text depends on (prompt, seed, j)."""

    def __init__(self, fail_after=None):
        self.tokenizer = FakeTokenizer()
        self.calls = []
        self.fail_after = fail_after

    def generate(self, prompts, settings, seeds):
        if self.fail_after is not None and len(self.calls) >= self.fail_after:
            raise KeyboardInterrupt("simulated crash")
        self.calls.append((list(prompts), list(seeds)))
        out = []
        for prompt, seed in zip(prompts, seeds):
            samples = []
            for j in range(settings["n"]):
                text = f"s{seed % 1000}-{j} \\boxed{{{len(prompt) % 7}}}"
                ids = self.tokenizer.encode(text)
                samples.append(make_sample(text, ids, [-0.5] * len(ids), "stop"))
            out.append(samples)
        return out

    def close(self):
        pass


def _bench(tmp_path, name="gsm8k", count=5):
    path = tmp_path / f"{name}.jsonl"
    rows = [{"id": f"q{i}", "problem": f"What is {i} + {i}?", "answer": str(2 * i), "benchmark": name,
             "answer_type": "numeric", "choices": None, "level": None, "subject": None}
            for i in range(count)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _read(path):
    return [json.loads(l) for l in Path(path).read_text().splitlines()]


def test_rows_follow_the_contract_and_one_engine_serves_all_benchmarks(tmp_path):
    jobs = [(_bench(tmp_path, "gsm8k", 3), tmp_path / "g" / "generations.jsonl"),
            (_bench(tmp_path, "math500", 2), tmp_path / "m" / "generations.jsonl")]
    engine = FakeEngine()
    summary = generate_benchmarks("model", jobs, backend="hf", family="generic", protocol=PROTOCOL,
                                  engine=engine, progress=False)
    assert [s["generated"] for s in summary] == [3, 2]
    rows = _read(jobs[0][1])
    assert [r["id"] for r in rows] == ["q0", "q1", "q2"]
    row = rows[1]
    assert set(row) == {"id", "benchmark", "prompt", "answer", "n", "seed", "samples"}
    assert row["benchmark"] == "gsm8k" and row["answer"] == "2" and row["n"] == 3 and len(row["samples"]) == 3
    assert row["prompt"].startswith("<user>What is 1 + 1?") and row["prompt"].endswith("<assistant>")
    assert row["seed"] == problem_seed(11, "gsm8k", "q1")
    s = row["samples"][0]
    assert set(s) == {"text", "n_tokens", "finish_reason", "mean_nll"} and s["mean_nll"] == 0.5
    assert not list(tmp_path.glob("**/*.partial*"))
    assert len(engine.calls) == 5  # batch 1 per problem (hf default), one engine for both jobs


def _interrupted(tmp_path, count, fail_after):
    """A benchmark of ``count`` problems whose generation crashed after ``fail_after`` chunks."""
    bench = _bench(tmp_path, count=count)
    out = tmp_path / "generations.jsonl"
    with pytest.raises(KeyboardInterrupt):
        generate_benchmarks("model", [(bench, out)], backend="hf", family="generic", protocol=PROTOCOL,
                            engine=FakeEngine(fail_after=fail_after), progress=False)
    return bench, out


def test_resume_skips_finished_problems_and_repairs_a_torn_line(tmp_path):
    bench, out = _interrupted(tmp_path, 5, 3)
    partial = out.with_name(out.name + ".partial")
    assert not out.exists() and len(partial.read_text().splitlines()) == 3
    with open(partial, "a") as fh:  # a kill in the middle of a write
        fh.write('{"id": "q3", "benchm')
    engine = FakeEngine()
    with pytest.warns(UserWarning, match="torn last line"):
        summary = generate_benchmarks("model", [(bench, out)], backend="hf", family="generic",
                                      protocol=PROTOCOL, engine=engine, progress=False)
    assert summary[0]["resumed"] == 3 and summary[0]["generated"] == 2
    assert [seeds for _, seeds in engine.calls] == [[problem_seed(11, "gsm8k", "q3")],
                                                   [problem_seed(11, "gsm8k", "q4")]]
    fresh = tmp_path / "fresh.jsonl"
    generate_benchmarks("model", [(bench, fresh)], backend="hf", family="generic", protocol=PROTOCOL,
                        engine=FakeEngine(), progress=False)
    assert _read(out) == _read(fresh)  # resumed == uninterrupted
    assert not partial.exists()


def test_partial_from_other_settings_is_discarded_not_mixed(tmp_path):
    bench, out = _interrupted(tmp_path, 4, 2)
    engine = FakeEngine()
    with pytest.warns(UserWarning, match="different settings"):
        summary = generate_benchmarks("model", [(bench, out)], backend="hf", family="generic",
                                      protocol=dict(PROTOCOL, temperature=1.0), engine=engine, progress=False)
    assert summary[0]["resumed"] == 0 and summary[0]["generated"] == 4


def test_finished_output_is_not_regenerated(tmp_path):
    bench = _bench(tmp_path, count=2)
    out = tmp_path / "generations.jsonl"
    generate_benchmarks("model", [(bench, out)], backend="hf", family="generic", protocol=PROTOCOL,
                        engine=FakeEngine(), progress=False)
    engine = FakeEngine()
    generate_benchmarks("model", [(bench, out)], backend="hf", family="generic", protocol=PROTOCOL,
                        engine=engine, progress=False)
    assert engine.calls == []


def test_chunks_limit_and_choices(tmp_path):
    path = tmp_path / "mmlu.jsonl"
    rows = [{"id": str(i), "problem": f"Q{i}?", "answer": "B", "benchmark": "gsm8k",
             "choices": ["1", "2", "3", "4"]} for i in range(7)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    engine = FakeEngine()
    out = tmp_path / "o.jsonl"
    generate_benchmarks("model", [(path, out)], backend="vllm", family="generic", protocol=PROTOCOL,
                        engine=engine, batch_size=3, limit=5, progress=False)
    assert [len(p) for p, _ in engine.calls] == [3, 2]
    got = _read(out)
    assert len(got) == 5 and got[0]["choices"] == ["1", "2", "3", "4"]
    assert "(A) 1" in got[0]["prompt"]


def test_sharded_generation_merges_in_order(tmp_path):
    bench = _bench(tmp_path, count=5)
    out = tmp_path / "generations.jsonl"
    for rank in range(2):
        generate_benchmarks("model", [(bench, out)], backend="hf", family="generic", protocol=PROTOCOL,
                            engine=FakeEngine(), shard=(rank, 2), progress=False)
    assert not out.exists()
    merge_shards(out, load_benchmark_rows(bench), 2)
    single = tmp_path / "single.jsonl"
    generate_benchmarks("model", [(bench, single)], backend="hf", family="generic", protocol=PROTOCOL,
                        engine=FakeEngine(), progress=False)
    assert _read(out) == _read(single)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["gsm8k.jsonl", "generations.jsonl", "single.jsonl"])


def test_bad_inputs_name_file_and_row(tmp_path):
    path = tmp_path / "b.jsonl"
    path.write_text(json.dumps({"id": "1", "problem": "x", "answer": "1", "benchmark": "gsm8k"}) + "\n"
                    + json.dumps({"id": "2", "problem": "", "answer": "1", "benchmark": "gsm8k"}) + "\n")
    with pytest.raises(ValueError, match=r"b.jsonl: row 1 has no 'problem'"):
        load_benchmark_rows(path)
    path.write_text('{"id": "1"\n')
    with pytest.raises(ValueError, match=r"b.jsonl:1: not valid JSON"):
        load_benchmark_rows(path)
    bench = _bench(tmp_path, "aime24", 1)
    with pytest.raises(ValueError, match="not in"):
        generate_benchmarks("m", [(bench, tmp_path / "o.jsonl")], backend="hf", family="generic",
                            protocol=PROTOCOL, engine=FakeEngine(), progress=False)
    with pytest.raises(ValueError, match="unknown generation backend"):
        generate_benchmarks("m", [], backend="tgi", family="generic", protocol=PROTOCOL)


def test_parallelism_from_resources():
    assert resolve_parallelism("vllm", {"gpu": 4}) == (4, 1)
    assert resolve_parallelism("vllm", {"gpus": 8, "tensor_parallel_size": 2}) == (2, 4)
    assert resolve_parallelism("vllm", None) == (1, 1)
    assert resolve_parallelism("hf", {"gpu": 4}) == (1, 1)
    with pytest.raises(ValueError, match="cannot be split"):
        resolve_parallelism("vllm", {"gpus": 6, "tensor_parallel_size": 4})


# ---------------------------------------------------------------------------------- samples

def test_mean_nll_hand_value_and_edges():
    # EGPO Eq. 5: -(1/3) * (log 0.5 + log 0.25 + log 1) = (0.6931 + 1.3863 + 0) / 3
    import math
    assert mean_nll([math.log(0.5), math.log(0.25), 0.0]) == pytest.approx((math.log(2) + math.log(4)) / 3)
    assert mean_nll([]) is None
    with pytest.raises(ValueError, match="non-finite"):
        mean_nll([float("-inf")])
    s = make_sample("", [], [], "length")
    assert s == {"text": "", "n_tokens": 0, "finish_reason": "length", "mean_nll": None}


def test_think_split_by_token_and_by_decoding():
    tok = FakeTokenizer()
    text = "abc</think>xy"
    ids = tok.encode(text)
    cut = think_boundary(ids, text, tok.encode("</think>"), tok.decode)
    assert cut == 11
    # a tokenizer whose </think> ids differ from the sample's: bisection on decoded prefixes
    assert think_boundary(ids, text, [999], tok.decode) == 11
    assert think_boundary(ids, "abc", tok.encode("</think>"), tok.decode) is None
    lps = [-1.0] * 11 + [-3.0, -3.0]
    s = make_sample(text, ids, lps, "stop", think_ids=tok.encode("</think>"), decode=tok.decode)
    assert s["nll_think"] == 1.0 and s["nll_answer"] == 3.0 and s["mean_nll"] == pytest.approx(17 / 13)
    assert s["n_answer_tokens"] == 2
    s = make_sample("x</think>", tok.encode("x</think>"), [-1.0] * 9, "stop",
                    think_ids=tok.encode("</think>"), decode=tok.decode)
    assert s["nll_answer"] is None  # nothing after </think>


# ------------------------------------------------------------------- vLLM output conversion

class FakeSamplingParams:
    def __init__(self, **kw):
        self.__dict__.update(kw)


class FakeLLM:
    """vLLM's offline interface (generate / get_tokenizer) without a GPU."""

    def __init__(self):
        self.requests = []

    def get_tokenizer(self):
        return FakeTokenizer()

    def generate(self, prompts, params, use_tqdm=True):
        self.requests.append((prompts, params))
        results = []
        for prompt, p in zip(prompts, params):
            outs = []
            for j in reversed(range(p.n)):  # vLLM may return completions out of index order
                ids = [65 + j, 66, 2]
                outs.append(SimpleNamespace(
                    index=j, text="AB", token_ids=ids, finish_reason="length" if j == 0 else "stop",
                    cumulative_logprob=-1.5,
                    logprobs=[{t: SimpleNamespace(logprob=-0.5), 7: SimpleNamespace(logprob=-9.0)} for t in ids]))
            results.append(SimpleNamespace(prompt=prompt, outputs=outs))
        return results


def test_vllm_requests_one_per_problem_with_n_seed_and_logprobs(tmp_path):
    llm = FakeLLM()
    engine = VLLMBackend("m", llm=llm, sampling_params_cls=FakeSamplingParams)
    bench = _bench(tmp_path, count=4)
    out = tmp_path / "o.jsonl"
    generate_benchmarks("m", [(bench, out)], backend="vllm", family="generic", protocol=PROTOCOL,
                        engine=engine, progress=False)
    prompts, params = llm.requests[0]
    assert len(llm.requests) == 1 and len(prompts) == 4  # all problems in one generate call
    assert [p.n for p in params] == [3] * 4
    assert [p.seed for p in params] == [problem_seed(11, "gsm8k", f"q{i}") for i in range(4)]
    p = params[0]
    assert (p.temperature, p.top_p, p.top_k, p.max_tokens, p.logprobs) == (0.7, 0.9, -1, 16, 0)
    row = _read(out)[0]
    assert [s["finish_reason"] for s in row["samples"]] == ["length", "stop", "stop"]
    assert row["samples"][0] == {"text": "AB", "n_tokens": 3, "finish_reason": "length", "mean_nll": 0.5}


def test_vllm_conversion_errors():
    class NoLogprobs(FakeLLM):
        def generate(self, prompts, params, use_tqdm=True):
            res = super().generate(prompts, params)
            for r in res:
                for o in r.outputs:
                    o.logprobs = None
            return res

    engine = VLLMBackend("m", llm=NoLogprobs(), sampling_params_cls=FakeSamplingParams)
    settings = {"n": 2, "temperature": 1.0, "top_p": 1.0, "top_k": 20, "max_tokens": 4}
    with pytest.raises(ValueError, match=r"logprobs=0\) is required"):
        engine.generate(["p"], settings, [1])
    assert engine.sampling_params(settings, 5).top_k == 20


def test_raw_config_protocol_with_name_is_validated_and_defaulted(tmp_path):
    """The rule passes the config mapping plus its name; omitted keys (top_p, top_k) get defaults."""
    raw = {"name": "local", "temperature": 0.5, "n": 2, "max_tokens": 8, "benchmarks": ["local_gsm8k"]}
    bench = _bench(tmp_path, "local_gsm8k", 2)
    engine = FakeEngine()
    settings = []
    engine.generate = lambda prompts, s, seeds: settings.append(s) or FakeEngine().generate(prompts, s, seeds)
    generate_benchmarks("m", [(bench, tmp_path / "o.jsonl")], backend="hf", family="generic",
                        protocol=raw, engine=engine, progress=False)
    assert settings[0]["top_p"] == 1.0 and settings[0]["top_k"] == -1 and settings[0]["n"] == 2


def test_protocol_prompt_template_and_per_model_length_reach_the_engine(tmp_path):
    """EGPO's protocol prompts with evalscope's template (no system prompt, for every family); a
    protocol's max_tokens_by_model wins over the family entry for the named model only."""
    seen = []

    class Recording(FakeEngine):
        def generate(self, prompts, settings, seeds):
            seen.append((list(prompts), dict(settings)))
            return super().generate(prompts, settings, seeds)

    protocol = {**PROTOCOL, "benchmarks": ["gsm8k"], "prompt_template": "evalscope",
                "max_tokens": {"default": 16, "qwen_math": 12}, "max_tokens_by_model": {"qwen25_7b": 20}}
    bench = _bench(tmp_path, "gsm8k", 1)
    for model, expected_len in (("qwen25_math_1_5b", 12), ("qwen25_7b", 20), (None, 12)):
        out = tmp_path / str(model) / "generations.jsonl"
        generate_benchmarks("model", [(bench, out)], backend="hf", family="qwen_math", protocol=protocol,
                            model=model, engine=Recording(), progress=False)
        prompts, settings = seen[-1]
        assert settings["max_tokens"] == expected_len and settings["prompt_template"] == "evalscope"
        assert prompts == ["<user>What is 0 + 0?\nPlease reason step by step, and put your final answer "
                           "within \\boxed{}.<assistant>"]
    default = {**protocol, "prompt_template": "default"}
    generate_benchmarks("model", [(bench, tmp_path / "d" / "generations.jsonl")], backend="hf", family="qwen_math",
                        protocol=default, engine=Recording(), progress=False)
    assert seen[-1][0][0].startswith("<system>Please reason step by step")  # the qwen_math family prompt
