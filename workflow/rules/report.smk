# Aggregation: the papers' tables (md/tex/csv), a tidy CSV of every number, plots, one HTML page.
from rlvr_repro.report.targets import diag_table_targets, figure_targets
from rlvr_repro.report.specs import parse_report_config


# Seconds-long aggregation over files already on disk: run on the submit host, never queued.
localrules:
    tables,
    plots,
    report,


PAPER_NUMBERS = str(Path(workflow.basedir) / "config" / "paper_numbers.yaml")
REPORT_CONFIG = parse_report_config(config.get("tables") or [])
ACTIVE_TABLES = [t for t in REPORT_CONFIG.tables if t.protocol in PLAN.protocols()]
RUN_INFO = {
    rid: {"model": r.model, "dataset": r.dataset, "method": r.method, "seed": r.seed} for rid, r in PLAN.runs.items()
}
TABLE_FILES = [f"results/tables/{t.paper}/{t.name}.{ext}" for t in ACTIVE_TABLES for ext in ("md", "tex", "csv")]
# The papers' figures and diagnostic tables, for every paper one of whose protocols is active.
ACTIVE_PAPERS = sorted({config["protocols"][p].get("paper") or p for p in PLAN.protocols()})
FIGURE_FILES = figure_targets(ACTIVE_PAPERS)
DIAG_TABLE_FILES = diag_table_targets(ACTIVE_PAPERS)
# paper -> the datasets its runs train on (the report's per-paper provenance)
PAPER_DATASETS = {
    p: sorted(
        {
            r.dataset
            for r in PLAN.runs.values()
            if any(
                (config["protocols"][PLAN.experiments[e]["protocol"]].get("paper") or "") == p for e in r.experiments
            )
        }
    )
    for p in ACTIVE_PAPERS
}


rule tables:
    input:
        scores=PLAN.score_targets(),  # each lists its checkpoint's metrics.json files
        paper_numbers=PAPER_NUMBERS,
    output:
        tables=TABLE_FILES,
        tidy="results/tables/metrics.csv",
    params:
        only=[t.id for t in ACTIVE_TABLES],
        run_info=RUN_INFO,
        tables=config.get("tables") or [],
    resources:
        **res("report"),
    log:
        "logs/report/tables.log",
    conda:
        "../../envs/report.yaml"
    script:
        "../../scripts/tables.py"


rule plots:
    input:
        scores=PLAN.score_targets(),  # each lists its checkpoint's metrics.json files
        trained=[f"results/runs/{r}/train_done.json" for r in PLAN.runs],
    output:
        "results/plots/index.json",
    params:
        run_info=RUN_INFO,
    resources:
        **res("report"),
    log:
        "logs/report/plots.log",
    conda:
        "../../envs/report.yaml"
    script:
        "../../scripts/plots.py"


rule figures:
    """The papers' figures (results/plots/{paper}/fig{N}.png + .csv) and diagnostic tables (AsymGRPO
    Table 1, EGPO Table 3) from metrics, training logs and evaluation diagnostics (rlvr_repro.report.figures)."""
    input:
        scores=PLAN.score_targets(),  # each lists its checkpoint's metrics.json files
        trained=[f"results/runs/{r}/train_done.json" for r in PLAN.runs],
        diagnostics=PLAN.diagnostics_targets(),
        paper_numbers=PAPER_NUMBERS,
    output:
        figures=FIGURE_FILES,
        tables=DIAG_TABLE_FILES,
    params:
        run_info=RUN_INFO,
        papers=ACTIVE_PAPERS,
        protocols=config["protocols"],
        methods=config["methods"],
    resources:
        **res("report"),
    log:
        "logs/report/figures.log",
    conda:
        "../../envs/report.yaml"
    script:
        "../../scripts/figures.py"


rule report:
    input:
        tables=rules.tables.output.tables,
        figures=rules.figures.output.figures,
        diag_tables=rules.figures.output.tables,
        plots="results/plots/index.json",
        diagnostics=PLAN.diagnostics_targets(),
        manifests=[f"results/data/{d}/manifest.json" for d in PLAN.datasets()],
        trained=[f"results/runs/{r}/train_done.json" for r in PLAN.runs],
    output:
        "results/report/index.html",
    params:
        config_files=[str(p) for p in workflow.configfiles],
        datasets=PLAN.datasets(),
        papers=PAPER_DATASETS,
        repo=workflow.basedir,
    resources:
        **res("report"),
    log:
        "logs/report/html.log",
    conda:
        "../../envs/report.yaml"
    script:
        "../../scripts/report.py"
