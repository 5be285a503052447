"""The train keys: one table, and the only list of them.

A run's ``train`` block is flat, and both backends read the same names. Each row of ``TRAIN_KEYS`` says

  name      the key
  kind      int | float | bool | str | mapping, with its JSON-schema bounds (``nullable``: null allowed)
  default   the value when no config level sets it (verl 0.9.1's own default where verl has the key,
            so a key left out behaves as it would on the cluster); ``REQUIRED``: no default
  required  the top-level ``train`` of the config must state it (the papers' scale has no sane default)
  verl      the verl 0.9.1 key it sets, or None (local only, or several keys: see ``verl_doc``);
            ``copied``: the value goes to verl as is, otherwise ``overrides.build_overrides`` derives it
  local     the local trainer reads it (the verl-only keys are accepted and ignored there)
  layer     which config level may set it: "global" (the top-level ``train`` only) or "any" (also an
            experiment's ``train``, ``train_per_model``, a method preset's ``train`` and an experiment's
            ``train_per_method``)
  group     "run" | "throughput" (GPU throughput, derived when null: integrations/verl/throughput.py)

Derived from the table: the ``train`` block of the config schema (:func:`train_schema`, which is also
how the local trainer validates its keys), config/train_keys.md (:func:`render_markdown`; a test keeps
the file in step), the local trainer's ``TrainSettings`` fields (train/settings.py), the verl overrides
that are a plain copy and the verl keys the pipeline owns (integrations/verl/overrides.py) and the
throughput keys (integrations/verl/throughput.py).

    python -m rlvr_repro.train.keys > config/train_keys.md      regenerate the reference page
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

REQUIRED = object()  # ``default`` of a key without one
A = "actor_rollout_ref."

# verl 0.9.1's accepted values (workers/config/actor.py, trainer/ppo/core_algos.py:kl_penalty_forward).
LOSS_AGG_MODES = ("token-mean", "token-sum", "seq-mean-token-sum", "seq-mean-token-mean", "seq-mean-token-sum-norm")
_KL_BASES = ("kl", "k1", "abs", "mse", "k2", "low_var_kl", "k3")  # "+" suffix: straight-through k2 gradient
KL_LOSS_TYPES = _KL_BASES + tuple(b + "+" for b in _KL_BASES)
_PY_TYPES = {"int": int, "float": float, "bool": bool, "str": str, "mapping": dict}
_JSON_TYPES = {"int": "integer", "float": "number", "bool": "boolean", "str": "string", "mapping": "object"}


@dataclass(frozen=True)
class TrainKey:
    name: str
    kind: str  # int | float | bool | str | mapping
    doc: str
    default: Any = REQUIRED
    required: bool = False
    verl: str | None = None
    copied: bool = True
    verl_doc: str = ""
    local: bool = True
    layer: str = "any"  # "global" | "any"
    group: str = "run"  # "run" | "throughput"
    nullable: bool = False
    bounds: tuple[tuple[str, Any], ...] = ()  # JSON-schema keywords: minimum, exclusiveMinimum, maximum, enum, ...

    @property
    def annotation(self) -> type:
        return _PY_TYPES[self.kind]

    def schema(self) -> dict[str, Any]:
        s: dict[str, Any] = {"type": [_JSON_TYPES[self.kind], "null"] if self.nullable else _JSON_TYPES[self.kind]}
        s.update(self.bounds)
        if "enum" in s:
            s["enum"] = list(s["enum"]) + ([None] if self.nullable else [])
            del s["type"]
        if self.default is not REQUIRED:
            s["default"] = self.default
        s["description"] = self.doc
        return s

    def coerce(self, value: Any) -> Any:
        """A schema-valid value as the backends use it (integral floats -> int, ints -> float)."""
        if value is None or self.kind not in ("int", "float"):
            return value
        return int(value) if self.kind == "int" else float(value)


def _k(name, kind, doc, **kw) -> TrainKey:
    bounds = {k: kw.pop(k) for k in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum", "enum",
                                    "propertyNames") if k in kw}
    return TrainKey(name, kind, doc, bounds=tuple(bounds.items()), **kw)


TRAIN_KEYS: tuple[TrainKey, ...] = (
    _k("backend", "str", "`local` (CPU loop in rlvr_repro.train.local) or `verl`", enum=("local", "verl"),
       default="local", required=True, local=False, layer="global"),
    _k("total_steps", "int", "optimizer steps (one step = one batch of prompts)", minimum=1, required=True,
       verl="trainer.total_training_steps"),
    _k("save_freq", "int", "checkpoint every N steps (and at the last step); the local trainer's default 0 saves "
       "only the last step", minimum=1, default=0, required=True, verl="trainer.save_freq"),
    _k("prompts_per_step", "int", "prompts per step", minimum=1, required=True, verl="data.train_batch_size"),
    _k("group_size", "int", "responses per prompt (G)", minimum=1, required=True, verl=A + "rollout.n"),
    _k("ppo_mini_batch_size", "int", "prompts per optimizer mini-batch (null = prompts_per_step: fully on-policy)",
       minimum=1, nullable=True, default=None, verl=A + "actor.ppo_mini_batch_size", copied=False),
    _k("ppo_epochs", "int", "passes over each batch", minimum=1, default=1, verl=A + "actor.ppo_epochs"),
    _k("micro_batch_size", "int", "sequences per forward pass (memory only; null = the whole mini-batch)", minimum=1,
       nullable=True, default=None, verl=A + "actor.ppo_micro_batch_size_per_gpu", copied=False,
       verl_doc="actor.ppo_micro_batch_size_per_gpu, ref/rollout.log_prob_micro_batch_size_per_gpu"),
    _k("lr", "float", "AdamW learning rate", exclusiveMinimum=0, required=True, verl=A + "actor.optim.lr"),
    _k("weight_decay", "float", "AdamW weight decay", minimum=0, default=0.01, verl=A + "actor.optim.weight_decay"),
    _k("warmup_steps", "int", "linear warm-up steps", minimum=0, default=0, verl=A + "actor.optim.lr_warmup_steps"),
    _k("grad_clip", "float", "max grad norm", exclusiveMinimum=0, default=1.0, verl=A + "actor.grad_clip"),
    _k("temperature", "float", "rollout sampling temperature", exclusiveMinimum=0, default=1.0,
       verl=A + "rollout.temperature"),
    _k("top_p", "float", "rollout nucleus sampling", exclusiveMinimum=0, maximum=1, default=1.0, verl=A + "rollout.top_p"),
    _k("max_prompt_length", "int", "prompt tokens", minimum=1, default=512, verl="data.max_prompt_length"),
    _k("max_response_length", "int", "response tokens", minimum=1, default=512, required=True,
       verl="data.max_response_length"),
    _k("clip_ratio_low", "float", "PPO clip, lower side", minimum=0, exclusiveMaximum=1, default=0.2,
       verl=A + "actor.clip_ratio_low"),
    _k("clip_ratio_high", "float", "PPO clip, upper side (DAPO clip-higher: 0.28)", minimum=0, default=0.2,
       verl=A + "actor.clip_ratio_high"),
    _k("clip_ratio_c", "float", "dual-clip bound on negative advantages", exclusiveMinimum=1, default=3.0,
       verl=A + "actor.clip_ratio_c"),
    _k("loss_agg_mode", "str", "how token losses become the batch loss", enum=LOSS_AGG_MODES, default="token-mean",
       verl=A + "actor.loss_agg_mode"),
    _k("loss_scale_factor", "float", "Dr.GRPO's constant normaliser (null = max_response_length under "
       "seq-mean-token-sum-norm)", exclusiveMinimum=0, nullable=True, default=None,
       verl=A + "actor.loss_scale_factor", copied=False),
    _k("entropy_coeff", "float", "entropy bonus", minimum=0, default=0.0, verl=A + "actor.entropy_coeff"),
    _k("use_kl_loss", "bool", "KL-to-reference loss term", default=False, verl=A + "actor.use_kl_loss", copied=False,
       verl_doc="actor.use_kl_loss (true also for need_ref)"),
    _k("kl_coef", "float", "KL loss coefficient", minimum=0, default=0.001, verl=A + "actor.kl_loss_coef", copied=False,
       verl_doc="actor.kl_loss_coef (0 without use_kl_loss)"),
    _k("kl_loss_type", "str", "KL estimator", enum=KL_LOSS_TYPES, default="low_var_kl", verl=A + "actor.kl_loss_type"),
    _k("need_ref", "bool", "compute reference log-probs even without a KL term (an estimator that reads "
       "ref_log_probs, e.g. ACE, sets it implicitly)", default=False, copied=False,
       verl_doc="use_kl_loss=True kl_loss_coef=0"),
    _k("dynamic_sampling", "bool", "DAPO: drop groups whose rewards are all equal, refill", default=False,
       verl="algorithm.filter_groups.enable", copied=False),
    _k("max_gen_batches", "int", "DAPO: max rollout batches per step when refilling", minimum=1, default=10,
       verl="algorithm.filter_groups.max_num_gen_batches", copied=False),
    _k("overlong_buffer_len", "int", "DAPO soft overlong punishment: buffer tokens (0 = off)", minimum=0, default=0,
       copied=False, verl_doc="reward_kwargs.overlong_buffer_cfg, reward_manager dapo"),
    _k("overlong_penalty_factor", "float", "DAPO soft overlong punishment: penalty at the length limit", minimum=0,
       default=1.0, copied=False, verl_doc="reward_kwargs.overlong_buffer_cfg.penalty_factor"),
    _k("logprob_gain_diag", "bool", "log `diag/logprob_gain_correct`, E[log π_new(y) − log π_old(y)] over correct "
       "rollouts after the update (AsymGRPO Fig. 2(d)); one more forward of the batch per step", default=False,
       copied=False, verl_doc="legacy loop (`trainer.use_v1=false`): the plug-in re-runs `compute_log_prob` "
       "after `update_actor`"),
    _k("gpu_memory_utilization", "float", "vLLM's share of GPU memory during rollout", exclusiveMinimum=0, maximum=1,
       default=0.5, local=False, verl=A + "rollout.gpu_memory_utilization"),
    _k("tensor_parallel_size", "int", "vLLM tensor parallelism", minimum=1, default=2, local=False,
       verl=A + "rollout.tensor_model_parallel_size"),
    _k("nnodes", "int", "nodes per run", minimum=1, default=1, local=False, verl="trainer.nnodes"),
    _k("gpus_per_node", "int", "GPUs per node", minimum=1, default=8, local=False, verl="trainer.n_gpus_per_node"),
    _k("use_dynamic_bsz", "bool", "pack micro-batches to a token budget; derived: true (every recipe at these "
       "lengths)", nullable=True, default=None, local=False, group="throughput",
       verl_doc="actor.use_dynamic_bsz, ref/rollout.log_prob_use_dynamic_bsz"),
    _k("ppo_max_token_len_per_gpu", "int", "update token budget per GPU; derived: 32768 / 24576 / 16384 tokens for "
       "<= 2B / <= 5B / larger, at least one sequence shard", minimum=1, nullable=True, default=None, local=False,
       group="throughput", verl_doc="actor.ppo_max_token_len_per_gpu"),
    _k("log_prob_max_token_len_per_gpu", "int", "forward-only token budget per GPU; derived: 1.5 x "
       "ppo_max_token_len_per_gpu", minimum=1, nullable=True, default=None, local=False, group="throughput",
       verl_doc="ref/rollout.log_prob_max_token_len_per_gpu"),
    _k("ulysses_sequence_parallel_size", "int", "Ulysses sequence parallelism; derived: smallest of 1, 2, 4 with "
       "(prompt + response) / sp <= 12288 / 8192 / 4096 tokens (<= 2B / <= 5B / larger); at most 4 because Ulysses "
       "splits attention heads (12, 16, 28, 32 in our backbones)", minimum=1, nullable=True, default=None,
       local=False, group="throughput", verl_doc="actor/ref.ulysses_sequence_parallel_size"),
    _k("param_offload", "bool", "offload the actor's weights; derived: when even without the optimizer (8 B/param) "
       "the FSDP state per GPU exceeds `gpu_memory_gb x (1 - gpu_memory_utilization) - 6 GB`", nullable=True,
       default=None, local=False, group="throughput",
       verl_doc="actor.fsdp_config.param_offload, ref.fsdp_config.param_offload"),
    _k("optimizer_offload", "bool", "offload the optimizer; derived: when 16 B/param of actor FSDP state (+ 2 B/param "
       "reference) per GPU exceeds the same budget", nullable=True, default=None, local=False, group="throughput",
       verl_doc="actor.fsdp_config.optimizer_offload"),
    _k("gpu_memory_gb", "float", "GPU memory the offload rule budgets with (our choice: 80, H100/A100)",
       exclusiveMinimum=0, default=80.0, local=False, group="throughput"),
    _k("verl_overrides", "mapping", "dotted verl 0.9.1 keys -> values, passed through last (see below)",
       propertyNames={"pattern": r"^(\+\+|\+|~)?[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$"}, default={}, local=False,
       copied=False, verl_doc="verbatim, last"),
)
BY_NAME: dict[str, TrainKey] = {k.name: k for k in TRAIN_KEYS}


def keys(*, group: str | None = None, local: bool | None = None) -> tuple[str, ...]:
    """Names of the train keys of ``group`` / read by the local trainer (or not), in table order."""
    return tuple(k.name for k in TRAIN_KEYS
                 if (group is None or k.group == group) and (local is None or k.local == local))


def defaults() -> dict[str, Any]:
    """Every key that has a default, with it."""
    return {k.name: k.default for k in TRAIN_KEYS if k.default is not REQUIRED}


def train_schema() -> dict[str, Any]:
    """JSON schema of the top-level ``train`` (required keys included); ``$defs/partial`` is the schema of
    the levels above it (an experiment's ``train``, ``train_per_model``, a preset's ``train``, an
    experiment's ``train_per_method``), which may set any key but the global ones, each optional.
    Generated into config validation as ``train.schema.yaml``."""
    props = {k.name: k.schema() for k in TRAIN_KEYS}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "description": "Flat train keys (generated from rlvr_repro.train.keys; reference: config/train_keys.md).",
        "type": "object",
        "additionalProperties": False,
        "properties": props,
        "required": [k.name for k in TRAIN_KEYS if k.required],
        "$defs": {
            "partial": {"type": "object", "additionalProperties": False,
                        "properties": {k.name: props[k.name] for k in TRAIN_KEYS if k.layer == "any"}},
            "optional": {"type": "object", "additionalProperties": False, "properties": props},
        },
    }


def _default_text(k: TrainKey) -> str:
    if k.default is REQUIRED:
        return "**required**"
    if k.default is None:
        return "null (derived)" if k.group == "throughput" else "null"
    value = {True: "true", False: "false"}.get(k.default, k.default) if isinstance(k.default, bool) else k.default
    return f"`{value}`" + (" (config: required)" if k.required else "")


def _values_text(k: TrainKey) -> str:
    b = dict(k.bounds)
    if "enum" in b:
        return ", ".join(f"`{v}`" for v in b["enum"])
    parts = [f"{op} {b[key]}" for key, op in (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="),
                                              ("exclusiveMaximum", "<")) if key in b]
    return ", ".join(parts) or "-"


def _verl_text(k: TrainKey) -> str:
    text = k.verl_doc or (k.verl.replace(A, "") if k.verl else "")
    return text or "-"


def render_markdown() -> str:
    """config/train_keys.md: the table, then what the pipeline does with the verl passthrough."""
    head = ("| key | type | values | default | meaning | set in | local backend | verl key |\n"
            "|---|---|---|---|---|---|---|---|\n")

    def row(k: TrainKey) -> str:
        kind = k.kind + (" or null" if k.nullable else "")
        return (f"| {k.name} | {kind} | {_values_text(k)} | {_default_text(k)} | {k.doc} | "
                f"{'top-level `train` only' if k.layer == 'global' else 'any level'} | "
                f"{'yes' if k.local else '-'} | {_verl_text(k)} |\n")

    run = "".join(row(k) for k in TRAIN_KEYS if k.group == "run")
    gpu = "".join(row(k) for k in TRAIN_KEYS if k.group == "throughput")
    return MARKDOWN.format(run=head + run, throughput=head + gpu)


MARKDOWN = """\
# Training keys (config `train`, flat; both backends read the same names)

<!-- GENERATED by `python -m rlvr_repro.train.keys > config/train_keys.md` from the table in
src/rlvr_repro/train/keys.py, the only list of train keys. Edit the table, not this file. -->

Levels, lowest to highest priority: the top-level `train` < `experiments.<e>.train` <
`experiments.<e>.train_per_model.<model>` < `methods.<preset>.train` <
`experiments.<e>.train_per_method.<preset>` (a baseline as one paper ran it, e.g. EGPO's DAPO without
overlong shaping) ("set in": which of them may set the key). Defaults are verl 0.9.1's own where verl has the key; "config: required" keys must be stated
in the top-level `train` (the local trainer's default serves programmatic use).

{run}
## GPU throughput (verl backend only; `null` = derived, our choice)

Derived in `src/rlvr_repro/integrations/verl/throughput.py` from the model's size (`models.<m>.params_b`,
default: the size in its hub id) and `max_prompt_length + max_response_length`, anchored on verl's own
recipes at 8k-20k tokens (`recipe/dapo/test_dapo_7b_math.sh`, `run_dapo_qwen2.5_32b.sh`,
`run_dapo_qwen_3_4b_w_GFPO`, `examples/grpo_trainer/run_qwen2-7b_seq_balance.sh`). The local backend ignores them.

{throughput}
Resolved for the default config (8 GPUs, `gpu_memory_utilization` 0.75; pinned by
tests/integrations/test_verl_throughput.py): Qwen2.5-Math-7B at 1k + 3k tokens: sp 1, 16k tokens/GPU,
optimizer offload only with a reference policy (ACE's KL runs); Qwen3-8B-Base at 1k + 8k: sp 4, optimizer
offload; Llama-3.1-8B at 1k + 4k: sp 2, optimizer offload; R1-Distill-Qwen-1.5B at 1k + 16k: sp 2, 32k
tokens/GPU; R1-Distill-Qwen-7B at 1k + 16k: sp 4, no offload; no model offloads its weights.

## verl passthrough: `verl_overrides`

A mapping of dotted verl 0.9.1 keys to values, appended verbatim after everything above (an entry
replaces ours for the same key). `+key` adds a key verl's config does not have, `++key` adds or
replaces, `~key: null` deletes. Merged key by key across train defaults < experiment < per-model <
method preset < per-method. Example:

```yaml
train:
  verl_overrides:
    actor_rollout_ref.rollout.enforce_eager: true
    +actor_rollout_ref.model.override_config.max_position_embeddings: 32768
```

The verl keys in the last column above (e.g. `actor_rollout_ref.actor.optim.lr` -> `lr`), and the
keys the pipeline owns (run length, checkpoint cadence, cluster shape, paths, run id, seed, estimator
and its `algorithm.rlvr` parameters) are refused with a message naming what sets them
(`OWNED_KEYS` in `src/rlvr_repro/integrations/verl/overrides.py`).

Checked before any training job is queued: the local rule `check_verl` composes verl's Hydra config for
every distinct override set of the planned runs, runs verl's `validate_config` and our checks (key
names with a did-you-mean, leaf types, token budgets x sp >= prompt + response, sp divides the GPUs, the
estimator is registered with valid parameters) and writes `results/checks/verl/{{set}}.json`, which every
verl training job takes as input. A misspelled key fails there in seconds. Changing a run's settings
gives it a new set and a new check; do not delete `results/checks/` while keeping finished runs (a
rebuilt marker restarts its runs). `python -m rlvr_repro.integrations.verl.check` re-checks every set.
"""


if __name__ == "__main__":
    print(render_markdown(), end="")
