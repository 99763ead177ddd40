# Consult — the two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
HOST   ?= 127.0.0.1
PORT   ?= 8000
PYTEST_ARGS ?=

.PHONY: run test lint format typecheck pytest bench messages clean

$(VENV)/.run-deps: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev-deps: $(VENV)/.run-deps requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# The reference Whisper engine (PyTorch + openai-whisper) for the tests and the benchmark, not for make run;
# openai-whisper goes in with --no-deps so pip leaves out triton (requirements-whisper.txt says why).
$(VENV)/.whisper-deps: $(VENV)/.dev-deps requirements-whisper.txt requirements-whisper-nodeps.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-whisper.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -r requirements-whisper-nodeps.txt
	touch $@

## run: set up everything and serve the platform with demo data (HOST, PORT honoured)
run: $(VENV)/.run-deps
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py seed_demo
	$(PY) manage.py whisper_model
	@command -v janus >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends janus janus-tools >/dev/null; } || echo "calls need Janus: apt-get install janus janus-tools"
	$(PY) manage.py serve --host $(HOST) --port $(PORT)

## test: set up everything and run lint, type checks and the whole suite
test: lint typecheck pytest

pytest: $(VENV)/.whisper-deps
	$(PY) -m pytest $(PYTEST_ARGS)

## lint: ruff, formatting, and the import contracts between apps (pyproject.toml [tool.importlinter])
lint: $(VENV)/.dev-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: $(VENV)/.dev-deps
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

typecheck: $(VENV)/.whisper-deps
	$(VENV)/bin/mypy consult proposals chat transcription search frontend

## bench: the benchmarks in tests/bench (they print their figures and baselines)
bench: $(VENV)/.whisper-deps
	$(PY) -m pytest tests/bench -s -p no:cacheprovider -o python_files='bench_*.py' -m bench

## test-es: the search tests against a real Elasticsearch 9 (ELASTICSEARCH_URL required; indexes consult-test-*)
.PHONY: test-es
test-es: $(VENV)/.dev-deps
	ELASTICSEARCH_URL=$${ELASTICSEARCH_URL:?set ELASTICSEARCH_URL, e.g. http://127.0.0.1:9200} \
	SEARCH_INDEX_PREFIX=$${SEARCH_INDEX_PREFIX:-consult-test} \
	$(PY) -m pytest tests/search -p no:cacheprovider -k "elasticsearch or es_builders" $(PYTEST_ARGS)

## messages: refresh the translation catalogues after changing UI strings
messages: $(VENV)/.dev-deps
	$(PY) manage.py makemessages --locale zh_Hans --ignore 'var/*' --ignore '.venv/*' --ignore 'tests/*' --no-obsolete
	$(PY) manage.py compilemessages --ignore '.venv/*'

clean:
	rm -rf $(VENV) var .mypy_cache .pytest_cache .ruff_cache .import_linter_cache
