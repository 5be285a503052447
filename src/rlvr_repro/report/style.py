"""One colour and one display name per method preset, for every figure and plot of the report.

A method is the same colour in the papers' figures (``rlvr_repro.report.figures``), the local
report's plots (``rlvr_repro.report.plots``) and any other plot that imports :func:`method_color`,
so GRPO is never blue in one figure and orange in the next. Keys are the preset names of
config/methods.yaml plus ``base`` (the untrained model); every preset has its own colour
(tests/report/test_style.py checks both). A preset added later without an entry gets a fixed colour
derived from its name, the same in every figure.

Display names come from ``labels.methods`` of config/paper_numbers.yaml (the papers' own names);
:func:`default_labels` reads them for callers that are not handed a ``Labels``.
"""

from __future__ import annotations

import zlib
from functools import lru_cache
from pathlib import Path

from rlvr_repro.report.specs import Labels

# The eleven method families of the local leaderboard and the papers' main rows first (matplotlib's
# tab10 and its light variants), then the ablation and analysis presets (tab20b / tab20c shades).
METHOD_COLORS: dict[str, str] = {
    "base": "#000000",
    "grpo": "#1f77b4",
    "drgrpo": "#17becf",
    "reinforce": "#7f7f7f",
    "dapo": "#ff7f0e",
    "grpo_clip_higher": "#ffbb78",
    "grpo_entreg": "#aec7e8",
    "edge_grpo": "#e377c2",
    "ace_grpo": "#2ca02c",
    "ace_dapo": "#d62728",
    "lens": "#9467bd",
    "egpo": "#8c564b",
    "asymgrpo": "#bcbd22",
    # ACE ablations (§5.5, App. D)
    "ace_relu": "#ff9896",
    "ace_grpo_alpha0_1": "#98df8a",
    "ace_grpo_alpha0_5": "#637939",
    "ace_grpo_alpha2": "#b5cf6b",
    "ace_grpo_alpha5": "#31a354",
    # LENS ablations (§6)
    "lens_mixed_only": "#c5b0d5",
    "lens_negative_only": "#7b4173",
    # EGPO ablations (Table 2)
    "egpo_c1": "#c49c94",
    "egpo_c2": "#e7969c",
    "egpo_c3": "#843c39",
    "egpo_c4": "#ad494a",
    "egpo_c5": "#d6616b",
    "egpo_c6": "#f7b6d2",
    "egpo_no_nsr": "#a1d99b",  # opt-in: EGPO without NSR (the authors' code)
    # AsymGRPO §3 analysis: channel isolation, flip test
    "asym_reinforce": "#525252",
    "asym_reinforce_entreg": "#9edae5",
    "asym_reinforce_entreg_qwen3": "#6baed6",
    "asym_pos_only": "#e6550d",
    "asym_neg_only": "#3182bd",
    "asym_neg_only_b075": "#9ecae1",
    "asym_symmetric": "#dbdb8d",
    "asym_ent_decrease": "#756bb1",
    "asym_ent_increase": "#fd8d3c",
    # AsymGRPO Fig. 4(d) grid; (0.5, 0.5) is GRPO's closed form, the flip test's reference
    "asym_p05_n05": "#393b79",
    "asym_p05_n03": "#5254a3",
    "asym_p05_n04": "#6b6ecf",
    "asym_p07_n03": "#8ca252",
    "asym_p07_n04": "#bd9e39",
    "asym_p07_n05": "#e7cb94",
    "asym_p09_n03": "#ce6dbd",
    "asym_p09_n05": "#de9ed6",
}
_FALLBACK = ("#8c6d31", "#636363", "#a55194", "#e7ba52", "#74c476", "#fdae6b", "#9e9ac8", "#cedb9c",
             "#bdbdbd", "#c7e9c0")


def method_color(method: str) -> str:
    """The colour of ``method`` in every figure (a name-derived fixed colour for unlisted presets)."""
    color = METHOD_COLORS.get(method)
    return color if color is not None else _FALLBACK[zlib.crc32(method.encode()) % len(_FALLBACK)]


@lru_cache(maxsize=1)
def default_labels() -> Labels:
    """``labels`` of config/paper_numbers.yaml (empty Labels when the file is absent)."""
    import yaml

    from rlvr_repro.config import CONFIG_DIR

    path = Path(CONFIG_DIR) / "paper_numbers.yaml"
    if not path.is_file():
        return Labels()
    raw = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("labels") or {}
    return Labels(models=dict(raw.get("models") or {}), methods=dict(raw.get("methods") or {}),
                  benchmarks=dict(raw.get("benchmarks") or {}))


def method_label(method: str, labels: Labels | None = None) -> str:
    """The paper's name of ``method`` (config/paper_numbers.yaml ``labels.methods``), else its preset name."""
    return (labels or default_labels()).method(method)
