"""rlvr-repro: a reproducible RLVR pipeline for math reasoning.

Subpackages, one job each:
  data/        dataset and benchmark builders, near-duplicate removal
  advantages/  every advantage estimator (GRPO family, ACE, LENS, EGPO, EDGE-GRPO, AsymGRPO)
  integrations/verl  adapter that plugs the estimators into verl
  train/       the local CPU trainer and the verl launch helpers
  evaluate/    generation (vLLM / transformers), grading, metrics
  report/      tables and plots
"""

__version__ = "0.1.0"

from rlvr_repro.quiet import silence_known_noise as _silence_known_noise

_silence_known_noise()
