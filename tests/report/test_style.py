"""One colour per method preset (rlvr_repro.report.style): every preset of config/methods.yaml and the
base model have their own, and a preset without an entry gets the same colour in every call."""
from matplotlib.colors import to_hex

from rlvr_repro.config import load_config
from rlvr_repro.report.style import METHOD_COLORS, _FALLBACK, method_color, method_label
from rlvr_repro.report.specs import Labels


def test_every_preset_has_its_own_colour():
    presets = set(load_config()["methods"]) | {"base"}
    assert presets <= set(METHOD_COLORS), sorted(presets - set(METHOD_COLORS))
    colours = [to_hex(c) for c in METHOD_COLORS.values()]
    assert len(set(colours)) == len(colours)
    assert not set(_FALLBACK) & set(colours)
    assert method_color("grpo") == "#1f77b4" and method_color("base") == "#000000"


def test_unlisted_presets_get_a_fixed_colour_and_their_name():
    assert method_color("my_new_method") == method_color("my_new_method") in _FALLBACK
    assert method_label("my_new_method", Labels()) == "my_new_method"
    assert method_label("grpo") == "GRPO" and method_label("asym_p05_n05") == "GRPO (closed form, β = 0.5)"
