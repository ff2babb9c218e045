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

# Debian packages the tests use: espeak-ng and sox (speech timing), wrk (load test).
$(APT_STAMP): scripts/apt-packages.sh | $(PIP_STAMP)
	@bash scripts/apt-packages.sh >&2
	@touch $@

setup: $(PIP_STAMP) $(NODE_STAMP) $(APT_STAMP)

chat: $(PIP_STAMP)
	@$(PY) -m skill chat $(ARGS)

serve: $(PIP_STAMP)
	@PORT=$(PORT) $(PY) -m skill serve

test: setup
	$(PY) -m ruff check .
	$(PY) -m skill validate
	$(PY) -m pytest
	$(PY) -m skill eval

eval: $(PIP_STAMP)
	$(PY) -m skill eval

validate: $(PIP_STAMP)
	$(PY) -m skill validate

model: $(PIP_STAMP)
	$(PY) -m skill model

bench: setup
	$(PY) -m bench

lint: $(PIP_STAMP)
	$(PY) -m ruff check .

clean:
	rm -rf $(VENV) node_modules .aws-sam build .pytest_cache .ruff_cache
