# Aggregation: the papers' tables (md/tex/csv), a tidy CSV of every number, plots, one HTML page.
from rlvr_repro.report.specs import parse_report_config

# Seconds-long aggregation over files already on disk: run on the submit host, never queued.
localrules:
    tables,
    plots,
    report,


PAPER_NUMBERS = str(Path(workflow.basedir) / "config" / "paper_numbers.yaml")
REPORT_CONFIG = parse_report_config(config.get("tables") or [])
ACTIVE_TABLES = [t for t in REPORT_CONFIG.tables if t.protocol in PLAN.protocols()]
RUN_INFO = {rid: {"model": r.model, "dataset": r.dataset, "method": r.method, "seed": r.seed}
            for rid, r in PLAN.runs.items()}
TABLE_FILES = [f"results/tables/{t.paper}/{t.name}.{ext}" for t in ACTIVE_TABLES for ext in ("md", "tex", "csv")]


rule tables:
    input:
        metrics=PLAN.metrics_targets(),
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
        metrics=PLAN.metrics_targets(),
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


rule report:
    input:
        tables=rules.tables.output.tables,
        plots="results/plots/index.json",
        diagnostics=PLAN.diagnostics_targets(),
        manifests=[f"results/data/{d}/manifest.json" for d in PLAN.datasets()],
        trained=[f"results/runs/{r}/train_done.json" for r in PLAN.runs],
    output:
        "results/report/index.html",
    params:
        config_files=[str(p) for p in workflow.configfiles],
        datasets=PLAN.datasets(),
    resources:
        **res("report"),
    log:
        "logs/report/html.log",
    conda:
        "../../envs/report.yaml"
    script:
        "../../scripts/report.py"
