"""``python -m rlvr_repro.integrations.verl.entry <hydra overrides>``: verl's main_ppo with our estimators.

Same overrides and behaviour as ``python -m verl.trainer.main_ppo``, plus:
  * the plug-in (registration + compute_advantage wrapper + diag metrics) is set up in the driver AND,
    via a TaskRunner subclass, inside the Ray TaskRunner actor, where verl computes advantages (a
    registry entry made in the driver does not exist in the actor's process);
  * before Ray starts, the estimator, its ``algorithm.rlvr`` parameters and the reference policy it
    needs are checked (stock verl finds an unknown estimator only after the first rollout); inside the
    actor, ``plugin.assert_ready`` checks again before ``fit`` starts.

``RLVR_VERL_DRY_RUN=<file.json>`` stops inside the TaskRunner right after that check and writes what the
actor sees (pid, registered names, wrapped trainer paths) to the file: the CPU test of the plumbing.
"""

from __future__ import annotations

import json
import os

import hydra
import ray

from rlvr_repro.integrations.verl import plugin
from rlvr_repro.integrations.verl.check import preflight
from verl.trainer import main_ppo
from verl.trainer.main_ppo_v0 import TaskRunner as _TaskRunnerV0
from verl.trainer.ppo.utils import need_critic, need_reference_policy
from verl.utils.config import validate_config
from verl.utils.device import auto_set_device

DRY_RUN_ENV = "RLVR_VERL_DRY_RUN"


def _unwrap(actor_cls):
    """The plain class behind a ``@ray.remote`` actor, so it can be subclassed."""
    return getattr(actor_cls, "__ray_actor_class__", actor_cls)


class _PluginSetupMixin:
    """Runs first in ``TaskRunner.run`` inside the actor: set up the plug-in, assert it, then train."""

    def run(self, config):
        plugin.setup()
        plugin.assert_ready(config.algorithm.adv_estimator)
        report_path = os.environ.get(DRY_RUN_ENV)
        if report_path:
            report = {"pid": os.getpid(), "runner_mro": [c.__name__ for c in type(self).__mro__],
                      **plugin.status(config.algorithm.adv_estimator)}
            with open(report_path + ".tmp", "w") as f:
                json.dump(report, f)
            os.replace(report_path + ".tmp", report_path)
            return None
        return super().run(config)


class RlvrTaskRunnerV1(_PluginSetupMixin, _unwrap(main_ppo.TaskRunnerV1)):
    """verl 0.9.x default trainer (``trainer.use_v1=true``) with the rlvr plug-in set up in the actor."""


class RlvrTaskRunnerV0(_PluginSetupMixin, _unwrap(_TaskRunnerV0)):
    """verl's legacy RayPPOTrainer (``trainer.use_v1=false``) with the rlvr plug-in set up in the actor."""


def runner_class(config):
    """The Ray actor class for this config (module-level classes: Ray pickles them by reference, so the
    actor imports this module and with it the plug-in)."""
    return ray.remote(RlvrTaskRunnerV1 if config.trainer.get("use_v1", True) else RlvrTaskRunnerV0)


@hydra.main(config_path="pkg://verl.trainer.config", config_name="ppo_trainer", version_base=None)
def main(config) -> None:
    plugin.setup()
    auto_set_device(config)
    validate_config(config=config, use_reference_policy=need_reference_policy(config), use_critic=need_critic(config))
    info = preflight(config)
    print(f"[rlvr] estimator {info['adv_estimator']} -> {info['adv_estimator_fn']} params={info['rlvr_params']}",
          flush=True)
    main_ppo.run_ppo(config, task_runner_class=runner_class(config))


if __name__ == "__main__":
    main()
