# Everything a person or CI needs, from a fresh machine. Each target installs what it uses.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
PIP_STAMP  := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
APT_STAMP  := .venv/.apt-installed
PORT ?= 5000

.PHONY: setup chat serve test eval bench validate model check-template package lint clean

$(PIP_STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]' >&2
	@touch $@

$(NODE_STAMP): package.json package-lock.json
	@npm ci --no-audit --no-fund --loglevel=error >&2
	@touch $@

# Debian packages the tests use: espeak-ng and sox (speech timing), wrk (load test), nginx (serve).
$(APT_STAMP): scripts/apt-packages.sh | $(PIP_STAMP)
	@bash scripts/apt-packages.sh >&2
	@touch $@

setup: $(PIP_STAMP) $(NODE_STAMP) $(APT_STAMP)

# The skill reads its content from a JSON bundle compiled from the files people edit in content/.
COMPILED := skill/bundle/core.json
$(COMPILED): $(shell find content -type f) | $(PIP_STAMP)
	@$(PY) -m tools model 2>/dev/null

chat: $(PIP_STAMP) $(COMPILED)
	@$(PY) -m tools chat $(ARGS)

# Production setup: nginx (from scripts/apt-packages.sh) reads each request in full, then gunicorn
# (webservice/server.py). SKILL_DEV=1 is Flask's development server, verification off, loopback only.
serve: $(PIP_STAMP) $(APT_STAMP) $(COMPILED)
	@PORT=$(PORT) $(PY) -m webservice

test: setup
	$(PY) -m ruff check .
	$(PY) -m tools validate
	$(PY) -m pytest
	$(PY) -m tools eval

eval: $(PIP_STAMP)
	$(PY) -m tools eval

validate: $(PIP_STAMP)
	$(PY) -m tools validate

model: $(PIP_STAMP)
	$(PY) -m tools model

bench: setup
	$(PY) -m bench

lint: $(PIP_STAMP)
	$(PY) -m ruff check .

check-template: $(PIP_STAMP)
	@bash scripts/check-template.sh

package: $(PIP_STAMP)
	@bash scripts/package.sh

# Run by `sam build` (template.yaml: BuildMethod makefile) with ARTIFACTS_DIR set: the function gets
# the skill package (core, Alexa shell and compiled bundle: the web service and tools live outside
# it, so nothing needs excluding), the entry point and the runtime dependencies built for Lambda,
# nothing else. boto3 and its own dependencies ship with the Lambda runtime, so they are removed.
# Bytecode is compiled for python3.13 with hash checks off: /var/task is read-only, so without it
# every cold start compiles ask-sdk-model again (0.4 s here, several times that at 128 MB).
LAMBDA_PYTHON ?= python3.13
LAMBDA_RUNTIME_PROVIDED := boto3 botocore s3transfer jmespath
build-SkillFunction:
	@test -n "$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR unset: use make package" >&2; exit 2; }
	tar -cf - --exclude=__pycache__ --exclude='*.pyc' skill | tar -xf - -C "$(ARTIFACTS_DIR)"
	cp lambda/lambda_function.py "$(ARTIFACTS_DIR)/"
	$(LAMBDA_PYTHON) -m pip install -q --disable-pip-version-check --no-compile \
		--only-binary=:all: --platform manylinux2014_x86_64 --python-version 3.13 \
		--implementation cp --abi cp313 --target "$(ARTIFACTS_DIR)" -r lambda/requirements.txt
	cd "$(ARTIFACTS_DIR)" && rm -rf bin $(foreach p,$(LAMBDA_RUNTIME_PROVIDED),$(p) $(p)-*.dist-info)
	$(LAMBDA_PYTHON) -W ignore -m compileall -q -j0 --invalidation-mode unchecked-hash \
		"$(ARTIFACTS_DIR)"

clean:
	rm -rf $(VENV) node_modules .aws-sam build .pytest_cache .ruff_cache
