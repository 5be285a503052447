"""Results aggregation: the papers' tables (Markdown, LaTeX, CSV), plots and one HTML report.

Modules, one job each:
  collect   metrics.json / train_log.jsonl / run.json -> tidy pandas frames (strict validation)
  specs     table specs, display labels and the papers' numbers from config/tables.yaml and
            config/paper_numbers.yaml
  tables    checkpoint choice, seed aggregation and Avg columns -> ResultTable
  writers   ResultTable -> Markdown / LaTeX (booktabs) / CSV, written atomically
  plots     training curves, pass@k curves, accuracy vs step (PNG, Agg canvas)
  html      the self-contained results/report/index.html
  build     the entry points Snakemake rules call

Nothing is imported here: the workflow imports the target lists of ``figures`` and ``diag_tables``
while it plans, which must not pay for pandas and matplotlib.
"""
