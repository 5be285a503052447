"""Plots are real non-empty PNGs; the HTML page embeds tables, plots and provenance; the CLI wires it all."""
import base64
import hashlib
import json
import re
from pathlib import Path

import pytest

from rlvr_repro.report.__main__ import main
from rlvr_repro.report.collect import collect_metrics, collect_train_logs
from rlvr_repro.report.html import markdown_table_to_html, render_html
from rlvr_repro.report.plots import (
    plot_accuracy_vs_step, plot_pass_at_k, plot_training_comparison, plot_training_curves,
)
from report.fixtures import metrics_record, write_metrics, write_run_spec, write_train_log

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def assert_png(path):
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 2000, path


@pytest.fixture
def results(tmp_path):
    """A tiny local run: base + two methods (two seeds of grpo), two checkpoints, two benchmarks."""
    metrics, logs, specs = [], [], []
    for bench, base in (("math500", 0.1), ("gsm8k", 0.3)):
        metrics.append(write_metrics(tmp_path / "eval", metrics_record(
            "local", "base-smollm2_135m", 0, bench, pass_at_k={1: base, 2: base + 0.05, 4: base + 0.1})))
        for method, seeds in (("grpo", (0, 1)), ("lens", (0,))):
            for seed in seeds:
                run = f"smollm2_135m-arith-{method}-s{seed}"
                for step, gain in ((1, 0.05), (2, 0.1)):
                    p1 = base + gain + 0.01 * seed
                    metrics.append(write_metrics(tmp_path / "eval", metrics_record(
                        "local", run, step, bench, pass_at_k={1: p1, 2: p1 + 0.05, 4: p1 + 0.1})))
    for method, seeds in (("grpo", (0, 1)), ("lens", (0,))):
        for seed in seeds:
            run = f"smollm2_135m-arith-{method}-s{seed}"
            logs.append(write_train_log(tmp_path / "runs" / run / "train_log.jsonl", steps=4))
            specs.append(write_run_spec(tmp_path / "runs", run, "smollm2_135m", "arith", method, seed))
    return tmp_path, metrics, logs, specs


def test_plots_are_png_files(results):
    root, metrics, logs, _ = results
    df = collect_metrics(metrics)
    train = collect_train_logs(logs)
    curves = plot_training_curves(train, root / "plots" / "training")
    assert sorted(p.name for p in curves) == ["smollm2_135m-arith-grpo-s0.png", "smollm2_135m-arith-grpo-s1.png",
                                              "smollm2_135m-arith-lens-s0.png"]
    compare = plot_training_comparison(train, root / "plots" / "training")
    assert [p.name for p in compare] == ["compare__smollm2_135m__arith.png"]
    passk = plot_pass_at_k(df, root / "plots" / "pass_at_k")
    assert sorted(p.relative_to(root / "plots").as_posix() for p in passk) == [
        "pass_at_k/local/smollm2_135m__gsm8k.png", "pass_at_k/local/smollm2_135m__math500.png"]
    acc = plot_accuracy_vs_step(df, root / "plots" / "acc")
    assert len(acc) == 2
    for path in curves + compare + passk + acc:
        assert_png(path)
    assert not list((root / "plots").rglob("*.tmp"))  # atomic writes left no temporaries


def test_runs_without_values_get_no_figure(tmp_path):
    log = tmp_path / "m-d-grpo-s0" / "train_log.jsonl"
    log.parent.mkdir()
    log.write_text('{"step": 1, "kl": null}\n{"step": 2, "kl": null}\n')
    assert plot_training_curves(collect_train_logs([log]), tmp_path / "out") == []
    # a single k gives no pass@k curve
    frame = collect_metrics([write_metrics(tmp_path / "e", metrics_record("p", "m-d-grpo-s0", 1, "b",
                                                                          pass_at_k={1: 0.5}, n=1))])
    assert plot_pass_at_k(frame, tmp_path / "out") == []


def test_markdown_to_html_keeps_bold_and_escapes():
    md = ("**t / x**: A <caption> & more\n\n| Model | Method | b1 |\n|---|---|---:|\n"
          "| m | a \\| b | **55.00** ± 7.07 |\n\nNotes with `code`.\n")
    out = markdown_table_to_html(md)
    assert "<p><b>t / x</b>: A &lt;caption&gt; &amp; more</p>" in out
    assert '<th class="l">Model</th>' in out and "<th>b1</th>" in out
    assert '<td class="l">a | b</td><td><b>55.00</b> ± 7.07</td>' in out
    assert '<p class="notes">Notes with <code>code</code>.</p>' in out


def test_cli_end_to_end_tables_plots_html(results, tmp_path):
    root, metrics, logs, specs = results
    repo_config = Path(__file__).resolve().parents[2] / "config"
    listfile = tmp_path / "metrics.txt"
    listfile.write_text("\n".join(map(str, metrics)) + "\n")
    out = root / "results"
    assert main(["tables", "--tables-config", str(repo_config / "tables.yaml"),
                 "--paper-numbers", str(repo_config / "paper_numbers.yaml"), "--only", "local/table1", "local/steps",
                 "--metrics", f"@{listfile}", "--run-specs", *map(str, specs),
                 "--out-dir", str(out / "tables")]) == 0
    md = (out / "tables" / "local" / "table1.md").read_text()
    # grpo at step 2, seeds 0/1: math500 0.1 + 0.1 + {0, 0.01} -> 20.50 ± 0.71; gsm8k 40.50 ± 0.71
    # Avg per seed (0.2 + 0.4) / 2 = 0.30 and 0.31 -> 30.50 ± 0.71 ; pass@4 = p1 + 0.1
    # the lift columns stay empty for the base row and "–" here: these metrics files carry no lift_vs_base
    assert "| SmolLM2-135M-Instruct | Base | 10.00 |  | 20.00 | 30.00 |  | 40.00 | 20.00 |  | 30.00 |" in md
    assert "|  | GRPO | **20.50** ± 0.71 | – | **30.50** ± 0.71 | **40.50** ± 0.71 | – | **50.50** ± 0.71 | " \
           "**30.50** ± 0.71 | – | **40.50** ± 0.71 |" in md
    assert "|  | LENS | 20.00 | – | 30.00 | 40.00 | – | 50.00 | 30.00 | – | 40.00 |" in md
    assert {p.suffix for p in (out / "tables" / "local").iterdir()} == {".md", ".tex", ".csv"}
    steps = (out / "tables" / "local" / "steps.md").read_text()
    assert "|  | GRPO | 1 | 15.50 ± 0.71 | 35.50 ± 0.71 | 25.50 ± 0.71 |" in steps

    assert main(["plots", "--metrics", *map(str, metrics), "--train-logs", *map(str, logs),
                 "--out-dir", str(out / "plots")]) == 0
    pngs = sorted((out / "plots").rglob("*.png"))
    assert len(pngs) == 3 + 1 + 2 + 2

    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"content_hash": "abc123", "source_revision": "r1", "rows": 5}))
    page = out / "report" / "index.html"
    assert main(["html", "--tables", *map(str, (out / "tables" / "local").glob("*.md")),
                 "--plots", *map(str, pngs), "--plots-root", str(out / "plots"),
                 "--config", str(repo_config / "tables.yaml"), "--run-specs", *map(str, specs),
                 "--manifest", f"arith={manifest}", "--out", str(page)]) == 0
    html = page.read_text()
    assert html.count("<table>") == 2 and "<b>20.50</b> ± 0.71" in html
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    assert len(images) == len(pngs) and all(base64.b64decode(i).startswith(PNG_MAGIC) for i in images)
    table_hash = hashlib.sha256((repo_config / "tables.yaml").read_bytes()).hexdigest()
    combined = hashlib.sha256(f"tables.yaml\0{table_hash}\n".encode()).hexdigest()
    assert table_hash in html and combined in html
    assert "smollm2_135m-arith-lens-s0" in html and "content_hash: <code>abc123</code>" in html
    assert hashlib.sha256(manifest.read_bytes()).hexdigest() in html


def test_cli_reports_bad_input_with_exit_code(tmp_path, capsys):
    bad = tmp_path / "metrics.json"
    bad.write_text("{}")
    assert main(["metrics-csv", "--metrics", str(bad), "--out", str(tmp_path / "all.csv")]) == 2
    assert f"{bad}: missing key protocol" in capsys.readouterr().err
    assert not (tmp_path / "all.csv").exists()


def test_same_inputs_same_page(results):
    root, metrics, _, specs = results
    pngs = plot_pass_at_k(collect_metrics(metrics), root / "p")
    first_bytes = [p.read_bytes() for p in pngs]
    kwargs = dict(plot_files=pngs, plots_root=root / "p", run_specs=specs)
    first = render_html(**kwargs)
    assert plot_pass_at_k(collect_metrics(metrics), root / "p") == pngs
    assert [p.read_bytes() for p in pngs] == first_bytes and render_html(**kwargs) == first


def test_page_opens_with_one_section_per_paper(tmp_path):
    from rlvr_repro.report.figures.common import Drawn, new_figure, write_figure
    from rlvr_repro.report.provenance import git_commit, package_versions

    drawn, axes = new_figure(1, 1, "t")
    axes[0, 0].plot([0, 1], [0, 1])
    drawn.add("p", [0, 1], [0, 1])
    fig = write_figure(drawn, tmp_path / "plots" / "lens" / "fig2")[0]
    table = tmp_path / "tables" / "lens" / "table1.md"
    table.parent.mkdir(parents=True)
    table.write_text("**lens / table1**: c\n\n| Model | Method | x | paper | Δ |\n|---|---|---:|---:|---:|\n"
                     "| m | GRPO | 50.00 | 48.0 | +2.00 |\n\nnotes.\n")
    other = tmp_path / "tables" / "local" / "table1.md"
    other.parent.mkdir(parents=True)
    other.write_text(table.read_text().replace("lens /", "local /"))
    hist = tmp_path / "eval" / "entropy.png"
    hist.parent.mkdir()
    hist.write_bytes(fig.read_bytes())
    manifest = tmp_path / "m.json"
    manifest.write_text('{"content_sha256": "abc"}')
    page = render_html(table_files=[other, table], figure_files=[fig], detail_plot_files=[hist],
                       papers={"lens": ["lens_math_dapo"]}, manifests={"lens_math_dapo": manifest},
                       git_commit="deadbeef", packages={"pandas": "2"}, plots_root=tmp_path / "plots")
    lens = page.index('<h2 id="paper-lens">')
    assert lens < page.index("lens-table1") < page.index('alt="fig2"') < page.index("Provenance: git commit")
    assert page.index("Provenance: git commit <code>deadbeef</code>") < page.index("<h2>Tables</h2>") < page.index("local-table1")
    assert "content_sha256: <code>abc</code>" in page[lens:page.index("<h2>Tables</h2>")]
    assert page.index("<details><summary>Per-cell entropy histograms (1)") > page.index("<h2>Plots</h2>")
    assert "fig2.csv" in page and "<td>+2.00</td>" in page
    assert package_versions(["pandas", "no-such-package-xyz"])["no-such-package-xyz"] == "not installed"
    assert git_commit(tmp_path) == "unknown"


def test_cluster_logs_fill_the_entropy_and_negative_group_panels(tmp_path):
    """verl runs log `entropy` and `diag/frac_none_solved`; the local trainer `entropy` (true token
    entropy), `entropy_proxy` (mean NLL) and `frac_all_incorrect`: one canonical accessor reads either,
    row by row in a mixed frame, and never reads the NLL proxy as the entropy."""
    from rlvr_repro.report.plots import COMPARE_KEYS
    from rlvr_repro.report.trainkeys import train_series

    verl = tmp_path / "m-d-grpo-s0" / "train_log.jsonl"
    local = tmp_path / "m-d-lens-s0" / "train_log.jsonl"
    old = tmp_path / "m-d-dapo-s0" / "train_log.jsonl"  # a local log from before true entropy was logged
    for path, rec in ((verl, {"entropy": 0.7, "diag/frac_none_solved": 0.4, "verl/response_length/clip_ratio": 0.1}),
                      (local, {"entropy": 0.8, "entropy_proxy": 0.9, "frac_all_incorrect": 0.2, "truncated_frac": 0.3}),
                      (old, {"entropy_proxy": 0.6, "frac_all_incorrect": 0.5, "truncated_frac": 0.0})):
        path.parent.mkdir()
        path.write_text("\n".join(json.dumps({"step": s, "reward_mean": 0.1, **rec}) for s in (1, 2)) + "\n")
    logs = collect_train_logs([verl, local, old])
    assert list(train_series(logs, "entropy"))[:4] == [0.7, 0.7, 0.8, 0.8]
    assert train_series(logs, "entropy").iloc[4:].isna().all()
    assert list(train_series(logs, "frac_none_solved")) == [0.4, 0.4, 0.2, 0.2, 0.5, 0.5]
    assert list(train_series(logs, "truncated_frac")) == [0.1, 0.1, 0.3, 0.3, 0.0, 0.0]
    assert list(train_series(logs, "frac_none_solved_generated")) == [0.4, 0.4, 0.2, 0.2, 0.5, 0.5]
    assert {"truncated_frac", "entropy", "frac_none_solved_generated", "frac_nonzero_adv"} <= set(COMPARE_KEYS)
    with pytest.raises(KeyError, match="unknown training quantity"):
        train_series(logs, "entropy_proxy")
    (fig,) = plot_training_comparison(logs, tmp_path / "out")
    assert_png(fig)
    verl_only = collect_train_logs([verl])
    assert len(plot_training_comparison(verl_only, tmp_path / "v")) == 1
    assert "entropy" in collect_train_logs([verl]).columns and "entropy_proxy" not in verl_only.columns


def test_one_colour_and_name_per_method_and_two_point_curves_as_points(results, monkeypatch):
    """GRPO is the same colour (rlvr_repro.report.style) and carries its paper name in every plot; a
    curve of base + one checkpoint is two points, not a line."""
    from rlvr_repro.report import plots
    from rlvr_repro.report.style import METHOD_COLORS

    root, metrics, logs, _ = results
    figures = []
    real = plots._save
    monkeypatch.setattr(plots, "_save", lambda fig, path: (figures.append(fig), real(fig, path))[1])
    df = collect_metrics(metrics)
    plots.plot_training_comparison(collect_train_logs(logs), root / "t")
    plots.plot_pass_at_k(df, root / "p")
    plots.plot_accuracy_vs_step(df, root / "a")
    plots.plot_accuracy_vs_step(df[df.step != 1], root / "a2")  # base (step 0) + step 2 only
    colours = {}
    for fig in figures:
        for ax in fig.axes:
            for line in ax.lines:
                label = line.get_label().split(" (")[0]
                if not label.startswith("_"):
                    colours.setdefault(label, set()).add(line.get_color())
    assert colours["GRPO"] == {METHOD_COLORS["grpo"]} and colours["LENS"] == {METHOD_COLORS["lens"]}
    assert colours["Base"] == {METHOD_COLORS["base"]} and "grpo" not in colours
    two = [line for line in figures[-1].axes[0].lines if line.get_label().startswith("GRPO")]
    assert len(two) == 1 and list(two[0].get_xdata()) == [0, 2] and two[0].get_linestyle() == "None"
    three = [line for line in figures[-3].axes[0].lines if line.get_label().startswith("GRPO")]
    assert list(three[0].get_xdata()) == [0, 1, 2] and three[0].get_linestyle() == "-"
