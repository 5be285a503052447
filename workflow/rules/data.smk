# Datasets and benchmarks, each built by a tested builder (rlvr_repro.data) from a pinned source.
#   resources/raw/{kind}/{name}/{source}/source.json   HF snapshot (localrule: needs internet)
#   resources/fixtures/*                               the CPU run's generated sources: the ones config names
#   results/data/{dataset}/{train,val}.parquet + manifest.json
#   results/data/{dataset}/{family}/{train,val}.parquet
#   results/benchmarks/{benchmark}.jsonl
#   results/benchmarks/sets/{protocol}.json            a protocol's benchmarks as one input of its jobs
from rlvr_repro.data.fixtures import FIXTURES as LOCAL_FIXTURES
from rlvr_repro.data.fixtures import fixtures_named_by

FIXTURES = config.get("fixtures") or {}
# the generated sources this config reads (rlvr_repro.data.fixtures.FIXTURES; none at paper scale)
FIXTURES_USED = fixtures_named_by(config, FIXTURE_DIR)


localrules:
    download_source,
    local_fixtures,
    benchmark_set,


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
        [f"{FIXTURE_DIR}/{LOCAL_FIXTURES[name].file}" for name in FIXTURES_USED],
    params:
        names=FIXTURES_USED,
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


rule benchmark_set:
    """A protocol's benchmark files listed in one file (rlvr_repro.data.benchmark_sets): its generate
    and score jobs take this one input instead of every benchmark file, which keeps planning short."""
    input:
        lambda w: [f"results/benchmarks/{b}.jsonl" for b in PLAN.benchmarks(w.protocol)],
    output:
        "results/benchmarks/sets/{protocol}.json",
    wildcard_constraints:
        protocol=_alternation(PLAN.protocols()),
    params:
        names=lambda w: PLAN.benchmarks(w.protocol),
    log:
        "logs/data/benchmark_set_{protocol}.log",
    conda:
        "../../envs/data.yaml"
    script:
        "../../scripts/benchmark_set.py"


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
