# Two entry points for a fresh machine: `make demo` (the main job) and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-fast fuzz lint readme-pictures clean-venv docs

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m ipykernel install --prefix $(VENV) --name python3 >/dev/null
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/humal-nb run parameters/quickstart.yaml

test: $(STAMP)
	$(BIN)/ruff check humal_nb tests
	$(BIN)/python -m pytest -q

# everyday work, on two workers (pytest-xdist): everything but the end-to-end runs (`slow`), the browser
# tests, the tests that read whole records or start a Python process (`heavy`) and the tests that
# train a model (`trains`); HUMAL_TEST_NO_TRAINING makes any training here fail its test (tests/conftest.py)
test-fast: $(STAMP)
	$(BIN)/ruff check humal_nb tests
	HUMAL_TEST_NO_TRAINING=1 $(BIN)/python -m pytest -q -n 2 -m "not slow and not browser and not trains and not heavy"

# the property-based tests of the readers and commands (tests/test_fuzz_inputs.py) with many examples
# each (hypothesis profile `fuzz`; the everyday profile runs a few)
fuzz: $(STAMP)
	HUMAL_FUZZ_PROFILE=fuzz $(BIN)/python -m pytest -q tests/test_fuzz_inputs.py

lint: $(STAMP)
	$(BIN)/ruff check humal_nb tests

# the README's pictures (outputs/readme/*.png; their manifest scripts/readme_pictures.json): Fig. 3 of the replication record, the
# explorer on the quickstart pair (trained first if missing), the annotation widget; needs /usr/bin/chromium
readme-pictures: $(STAMP)
	$(BIN)/python scripts/readme_pictures.py

clean-venv:
	rm -rf $(VENV)

# the documentation site (docs/ -> site/, offline): the generated reference pages first, then
# mkdocs in strict mode (a warning, e.g. a broken internal link, fails the build)
docs: $(STAMP)
	$(BIN)/python scripts/docs_reference.py
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet
