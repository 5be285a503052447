# Datasets and benchmarks, each built by a tested builder (rlvr_repro.data) from a pinned source.
#   resources/raw/{kind}/{name}/{source}/source.json   HF snapshot (localrule: needs internet)
#   resources/fixtures/*                               the CPU run's generated sources (config `fixtures`)
#   results/data/{dataset}/{train,val}.parquet + manifest.json
#   results/data/{dataset}/{family}/{train,val}.parquet
#   results/benchmarks/{benchmark}.jsonl
FIXTURES = config.get("fixtures") or {}
FIXTURE_FILES = {
    "math_train": "math_train.jsonl", "dapo": "dapo_math_17k.parquet",
    "openr1_default": "openr1_default.parquet", "openr1_extended": "openr1_extended.parquet",
    "numina": "numinamath_1_5.parquet", "math500": "math500.jsonl", "gsm8k": "gsm8k.jsonl",
    "mmlu_stem": "mmlu_stem.jsonl", "arith_train": "arith_train.jsonl", "arith_test": "arith_test.jsonl",
    "arith_words": "arith_words.jsonl", "arith_hard": "arith_hard.jsonl",
}


localrules:
    download_source,
    local_fixtures,


rule download_source:
    output:
        "resources/raw/{kind}/{name}/{source}/source.json",
    wildcard_constraints:
        kind="datasets|benchmarks",
    params:
        spec=lambda w: _sources(w.kind, w.name)[w.source],
    resources:
        **res("download"),
    log:
        "logs/download/{kind}/{name}/{source}.log",
    conda:
        "../../envs/data.yaml"
    script:
        "../../scripts/download_source.py"


rule local_fixtures:
    output:
        [f"{FIXTURE_DIR}/{f}" for f in FIXTURE_FILES.values()],
    params:
        seed=FIXTURES.get("seed", 0),
        sizes=FIXTURES.get("sizes") or {},
    log:
        "logs/data/local_fixtures.log",
    conda:
        "../../envs/data.yaml"
    script:
        "../../scripts/local_fixtures.py"


rule build_benchmark:
    input:
        unpack(lambda w: _source_inputs("benchmarks", w.benchmark)),
    output:
        "results/benchmarks/{benchmark}.jsonl",
    params:
        spec=lambda w: config["benchmarks"][w.benchmark],
    resources:
        **res("data"),
    log:
        "logs/data/benchmark_{benchmark}.log",
    conda:
        "../../envs/data.yaml"
    script:
        "../../scripts/build_benchmark.py"


rule build_dataset:
    input:
        unpack(dataset_inputs),
    output:
        train="results/data/{dataset}/train.parquet",
        val="results/data/{dataset}/val.parquet",
        manifest="results/data/{dataset}/manifest.json",
    params:
        spec=lambda w: config["datasets"][w.dataset],
    threads: nthreads("data", 2)
    resources:
        **res("data"),
    log:
        "logs/data/dataset_{dataset}.log",
    conda:
        "../../envs/data.yaml"
    script:
        "../../scripts/build_dataset.py"


rule render_family:
    """The same rows with the prompt rebuilt for a model family's template (rlvr_repro.prompts)."""
    input:
        "results/data/{dataset}/{split}.parquet",
    output:
        "results/data/{dataset}/{family}/{split}.parquet",
    wildcard_constraints:
        split="train|val",
    resources:
        **res("data"),
    log:
        "logs/data/render_{dataset}_{family}_{split}.log",
    conda:
        "../../envs/data.yaml"
    script:
        "../../scripts/render_family.py"


rule data:
    input:
        [f"results/data/{d}/manifest.json" for d in PLAN.datasets()],
        [PLAN.train_file(d, f, s) for d, f in PLAN.dataset_families() for s in ("train", "val")],
        [f"results/benchmarks/{b}.jsonl" for b in PLAN.benchmarks()],
