"""One self-contained HTML page: every table, every plot (base64-embedded) and the provenance.

The page must open from anywhere (a laptop after ``scp``, a CI artifact), so nothing is linked: plots
are inlined as data URIs and tables are rendered from the Markdown files the table rule wrote (the
format of ``rlvr_repro.report.writers.to_markdown``, so bold cells and notes survive). Provenance
lists the SHA-256 of every config file (and one combined hash), each run spec, and each dataset
manifest's hash fields, so a reader can tell exactly which inputs produced the numbers. No timestamp
is written: the same inputs give the same page.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from rlvr_repro import __version__
from rlvr_repro.io import sha256_file, write_text as atomic_write_text
from rlvr_repro.report.collect import ReportInputError

_CSS = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1300px;color:#222}
table{border-collapse:collapse;margin:.5em 0 1em;font-size:13px}
th,td{border-bottom:1px solid #ddd;padding:3px 8px;text-align:right;white-space:nowrap}
th{border-bottom:2px solid #444}td.l,th.l{text-align:left}
.notes{font-size:12px;color:#555}figure{display:inline-block;margin:.4em}
figure img{max-width:620px;border:1px solid #eee}figcaption{font-size:11px;color:#555}
pre{background:#f6f6f6;padding:.6em;overflow-x:auto;font-size:12px}code{font-size:12px}
"""


def _inline(text: str) -> str:
    """Escape HTML, then turn our Markdown's **bold** and `code` into tags."""
    text = html.escape(text)
    text = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", text)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", text)


def _split_row(line: str) -> list[str]:
    cells = re.split(r"(?<!\\)\|", line.strip()[1:-1])
    return [c.strip().replace("\\|", "|") for c in cells]


def markdown_table_to_html(markdown: str, source: str = "<markdown>") -> str:
    """Render one table file written by ``writers.to_markdown`` (title line, pipe table, notes)."""
    lines = markdown.strip().splitlines()
    table_lines = [i for i, line in enumerate(lines) if line.startswith("|")]
    if len(table_lines) < 2:
        raise ReportInputError(f"{source}: no Markdown table found")
    first, last = table_lines[0], table_lines[-1]
    header = _split_row(lines[first])
    n_labels = sum(1 for spec in _split_row(lines[first + 1]) if not spec.endswith(":"))
    out = [f"<p>{_inline(line)}</p>" for line in lines[:first] if line.strip()]
    out.append("<table><thead><tr>" + "".join(
        f'<th class="l">{_inline(h)}</th>' if i < n_labels else f"<th>{_inline(h)}</th>"
        for i, h in enumerate(header)) + "</tr></thead><tbody>")
    for line in lines[first + 2:last + 1]:
        cells = _split_row(line)
        out.append("<tr>" + "".join(
            f'<td class="l">{_inline(c)}</td>' if i < n_labels else f"<td>{_inline(c)}</td>"
            for i, c in enumerate(cells)) + "</tr>")
    out.append("</tbody></table>")
    out += [f'<p class="notes">{_inline(line)}</p>' for line in lines[last + 1:] if line.strip()]
    return "\n".join(out)


def config_hash(config_files: Iterable[Path]) -> tuple[str, list[tuple[Path, str]]]:
    """One SHA-256 over the config files' names and hashes, and each file's own hash."""
    files = sorted(Path(p) for p in config_files)
    hashes = [(p, sha256_file(p)) for p in files]
    combined = hashlib.sha256("".join(f"{p.name}\0{h}\n" for p, h in hashes).encode()).hexdigest()
    return combined, hashes


def _manifest_items(manifests: Mapping[str, Path]) -> list[str]:
    rows = []
    for name, path in sorted(manifests.items()):
        try:
            manifest = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ReportInputError(f"{path}: cannot read dataset manifest ({exc})") from None
        fields = {k: v for k, v in (manifest.items() if isinstance(manifest, dict) else [])
                  if any(t in k.lower() for t in ("hash", "sha", "revision")) and not isinstance(v, (dict, list))}
        detail = ", ".join(f"{k}: <code>{html.escape(str(v))}</code>" for k, v in sorted(fields.items()))
        rows.append(f"<li><b>{html.escape(name)}</b>: manifest <code>{sha256_file(Path(path))}</code>"
                    + (f"; {detail}" if detail else "") + "</li>")
    return rows


def _short_provenance(git_commit: str | None, config_files, packages: Mapping[str, str],
                      manifests: Mapping[str, Path]) -> str:
    """The provenance line of one paper section: commit, config hash, package versions, its datasets."""
    parts = [f"git commit <code>{html.escape(git_commit or 'unknown')}</code>"]
    if config_files:
        parts.append(f"config hash <code>{config_hash(config_files)[0][:16]}</code>")
    if packages:
        parts.append("packages " + ", ".join(f"{html.escape(k)} {html.escape(v)}" for k, v in sorted(packages.items())))
    out = f'<p class="notes">Provenance: {"; ".join(parts)}.</p>'
    rows = _manifest_items(manifests)
    return out + (f'<ul class="notes">{"".join(rows)}</ul>' if rows else "")


def _provenance(config_files: Iterable[Path], run_specs: Iterable[Path],
                manifests: Mapping[str, Path], git_commit: str | None = None,
                packages: Mapping[str, str] | None = None) -> str:
    parts = [f"<p>rlvr-repro {html.escape(__version__)}"
             + (f", git commit <code>{html.escape(git_commit)}</code>" if git_commit else "") + "</p>"]
    if packages:
        parts.append("<p>Packages: " + ", ".join(f"{html.escape(k)} <code>{html.escape(v)}</code>"
                                                  for k, v in sorted(packages.items())) + "</p>")
    config_files = sorted(Path(p) for p in config_files)
    if config_files:
        combined, hashes = config_hash(config_files)
        parts.append(f"<p>Config hash (SHA-256 over the files below): <code>{combined}</code></p><ul>")
        parts += [f"<li><code>{html.escape(str(p))}</code>: <code>{h}</code></li>" for p, h in hashes]
        parts.append("</ul>")
    specs = []
    for path in sorted(Path(p) for p in run_specs):
        try:
            spec = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ReportInputError(f"{path}: cannot read run spec ({exc})") from None
        run_id = spec.get("run_id", path.parent.name) if isinstance(spec, dict) else path.parent.name
        specs.append(f"<details><summary><code>{html.escape(str(run_id))}</code></summary><pre>"
                     f"{html.escape(json.dumps(spec, indent=2, sort_keys=True))}</pre></details>")
    if specs:
        parts.append(f"<h3>Run specs ({len(specs)})</h3>" + "\n".join(specs))
    rows = _manifest_items(manifests)
    if rows:
        parts.append("<h3>Dataset manifests</h3><ul>" + "\n".join(rows) + "</ul>")
    return "\n".join(parts)


def _plot_sections(plot_files: Iterable[Path], plots_root: Path | None) -> str:
    groups: dict[str, list[Path]] = {}
    for path in sorted(Path(p) for p in plot_files):
        rel = path.relative_to(plots_root) if plots_root is not None and path.is_relative_to(plots_root) else path
        groups.setdefault(str(rel.parent) if str(rel.parent) != "." else "plots", []).append(path)
    out = []
    for group, paths in groups.items():
        out.append(f"<h3>{html.escape(group)}</h3>")
        for path in paths:
            data = base64.b64encode(path.read_bytes()).decode("ascii")
            out.append(f'<figure><img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}">'
                       f"<figcaption>{html.escape(path.stem)}</figcaption></figure>")
    return "\n".join(out)


def _figure(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    csv = path.with_suffix(".csv")
    note = f" (numbers: <code>{html.escape(csv.name)}</code>)" if csv.exists() else ""
    return (f'<figure><img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{html.escape(path.stem)}{note}</figcaption></figure>")


def _table(path: Path) -> str:
    return (f'<section id="{html.escape(path.parent.name)}-{html.escape(path.stem)}">'
            + markdown_table_to_html(path.read_text(encoding="utf-8"), str(path)) + "</section>")


def render_html(*, table_files: Iterable[Path] = (), plot_files: Iterable[Path] = (),
                plots_root: Path | None = None, config_files: Iterable[Path] = (),
                run_specs: Iterable[Path] = (), manifests: Mapping[str, Path] | None = None,
                papers: Mapping[str, Iterable[str]] | None = None, figure_files: Iterable[Path] = (),
                detail_plot_files: Iterable[Path] = (), git_commit: str | None = None,
                packages: Mapping[str, str] | None = None, title: str = "rlvr-repro results") -> str:
    """The page as a string; see ``write_html``.

    ``papers`` (paper -> the datasets its runs train on) opens the page with one section per paper:
    its tables (``results/tables/{paper}/``; the paper's numbers beside ours with the difference), its
    figures (``results/plots/{paper}/fig{N}.png``) and its provenance. Tables and plots of no listed
    paper follow; ``detail_plot_files`` (per-cell histograms) sit folded in a ``<details>`` block."""
    manifests = dict(manifests or {})
    table_files, figure_files = [Path(p) for p in table_files], [Path(p) for p in figure_files]
    body = [f"<h1>{html.escape(title)}</h1>"]
    papers = dict(papers or {})
    if papers:
        body.append("<p>" + " · ".join(f'<a href="#paper-{html.escape(p)}">{html.escape(p)}</a>' for p in papers) + "</p>")
    for paper, datasets in papers.items():
        body.append(f'<h2 id="paper-{html.escape(paper)}">{html.escape(paper)}</h2>')
        body += [_table(p) for p in table_files if p.parent.name == paper]
        figs = sorted((p for p in figure_files if p.parent.name == paper),
                      key=lambda p: int(re.sub(r"\D", "", p.stem) or 0))
        body += [_figure(p) for p in figs]
        body.append(_short_provenance(git_commit, config_files, packages or {},
                                      {d: manifests[d] for d in datasets if d in manifests}))
    rest = [p for p in table_files if p.parent.name not in papers]
    if rest:
        body.append("<h2>Tables</h2>")
        body += [_table(p) for p in rest]  # the caller's order: config order of the tables
    body += ["<h2>Plots</h2>", _plot_sections(plot_files, plots_root)]
    details = sorted(Path(p) for p in detail_plot_files)
    if details:
        body.append(f"<details><summary>Per-cell entropy histograms ({len(details)})</summary>"
                    + _plot_sections(details, plots_root) + "</details>")
    body += ["<h2>Provenance</h2>", _provenance(config_files, run_specs, manifests, git_commit, packages)]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>\n"
            + "\n".join(body) + "\n</body></html>\n")


def write_html(out_path: Path, **kwargs) -> Path:
    """Write the self-contained report page atomically (keyword arguments as ``render_html``):
    ``table_files`` (the ``.md`` tables), ``plot_files`` (PNGs; grouped by their folder under
    ``plots_root``), ``config_files`` (hashed), ``run_specs`` (run.json paths), ``manifests``
    (dataset name -> manifest.json)."""
    return atomic_write_text(Path(out_path), render_html(**kwargs))
