# Two commands on a fresh machine: `make demo` and `make test`. Each sets up what it needs.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_CLIP ?= sample_videos/dev05_head_back.mp4

.PHONY: setup sysdeps demo test test-fast eval bench bench-live bench-batch clean

$(BIN)/formcheck: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,voice,ray]'
	touch $@

setup: $(BIN)/formcheck

# System packages the GUI/browser/voice tests use (Xvfb + libXtst for key presses, headless Chromium,
# espeak-ng). Installed only when missing.
sysdeps:
	@missing=""; \
	command -v Xvfb >/dev/null || missing="$$missing xvfb"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v espeak-ng >/dev/null || missing="$$missing espeak-ng"; \
	ldconfig -p | grep -q 'libXtst.so.6' || missing="$$missing libxtst6"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "missing system packages:$$missing (sudo apt-get install$$missing); GUI/browser tests will be skipped"; fi; \
	fi

demo: setup
	$(BIN)/formcheck analyze $(DEMO_CLIP) -o out/demo

test: setup sysdeps
	$(BIN)/python -m pytest -q

test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow"

SHARED ?= ../shared
eval: setup
	$(BIN)/formcheck eval sample_videos $(SHARED)/train_videos $(SHARED)/real_clips --json tests/accuracy/metrics.json --markdown tests/accuracy/metrics.md
	$(BIN)/python tests/accuracy/copy_fit.py

bench: setup
	$(BIN)/python bench/bench_speed.py

bench-live: setup
	$(BIN)/python bench/bench_live.py

bench-batch: setup
	$(BIN)/python bench/bench_batch.py

clean:
	rm -rf $(VENV) out build src/*.egg-info
