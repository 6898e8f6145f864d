# A table of contents: every target calls the jaxcourse CLI or pytest.
PYTHON ?= python3
VENV   := .venv
BIN    := $(CURDIR)/$(VENV)/bin
STAMP  := $(VENV)/.installed
export PATH := $(BIN):$(PATH)

.PHONY: help install browser lab test soak frontends notebooks book release check-release mistakes validate audit transcription grade export autograder report badges normalize bench lint clean

help:                       ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## (.*)$$/\1\t\2/' | expand -t 16

install: $(STAMP)           ## create .venv and install the course into it

# uv installs what pip would, from PyPI, in under 30 s (pip takes over a minute); pip where uv cannot be had.
# Compiled to bytecode as pip does: sandboxed kernels cannot write it there, and would compile JAX at every start
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	( $(BIN)/python -m pip install --quiet uv && $(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e '.[dev]' ) \
	  || $(BIN)/python -m pip install --quiet -e '.[dev]'
	# jsonschema's optional IRI check (rfc3987-syntax, asked for by jupyter-events) builds 39 grammars at
	# every import of nbformat: 1.4 s of each notebook tool's start, dozens a test run. Nothing here checks IRIs.
	$(BIN)/python -m pip uninstall --quiet --yes rfc3987-syntax
	touch $(STAMP)

lab: install                ## open the course in JupyterLab
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root)  # jupyter refuses root without it

# Debian's chromium for tests/course/test_site.py (the site in a real browser); quick when present
browser:                    ## make sure headless Chromium is installed (apt-get, as root)
	@if command -v chromium >/dev/null 2>&1; then \
	  echo "chromium found at $$(command -v chromium)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else \
	  echo "chromium is not installed and only root can install it: run 'sudo make browser'" \
	       "(or 'sudo apt-get install chromium'); tests/course/test_site.py fails until then" >&2; \
	fi

test: install browser       ## everything CI checks
	$(BIN)/python -m pytest -n auto --dist loadgroup --durations=15

SOAK_RUNS ?= 1
soak: install               ## grade a class of 200 of 01_xor, 10% hostile (not in make test): make soak SOAK_RUNS=5
	for run in $$(seq $(SOAK_RUNS)); do \
	  $(BIN)/python -m pytest -m soak -s -q -p no:cacheprovider tests/grading/test_soak.py || exit 1; done

FRONTENDS_REPORT = docs/frontends-$(shell $(BIN)/python -c "import jax; print(jax.default_backend())").md
frontends: install browser  ## every chapter in JupyterLab (Chromium) and nbconvert: make frontends CHAPTERS="12_transformer" QUICK=1
	rm -f $(FRONTENDS_REPORT)
	FRONTENDS_REPORT=$(FRONTENDS_REPORT) CHAPTERS="$(CHAPTERS)" QUICK="$(QUICK)" $(BIN)/python -m pytest -m frontends -s -q -p no:cacheprovider tests/test_frontends.py

notebooks: install          ## execute every chapter in quick mode into build/
	$(BIN)/jaxcourse run-notebooks --quick

book: install               ## execute every chapter (full mode) and render the site into build/site
	$(BIN)/jaxcourse book --output build/site

release: install            ## regenerate exercises/ from solutions/
	$(BIN)/jaxcourse release

check-release: install      ## fail if exercises/ drifted from solutions/
	$(BIN)/jaxcourse check-release

mistakes: install           ## record how each kept mistake behaves (tests/mistakes/*/behaviour.json)
	$(BIN)/jaxcourse mistakes

validate: install           ## grade solution, release and kept mistakes through nbgrader
	$(BIN)/jaxcourse validate

audit: install              ## mutation analysis of every assignment's hidden tests, recorded in tests/audit/ (fails below 90%)
	$(BIN)/jaxcourse audit

transcription: install      ## share of task solutions already in a chapter's code (fails above 15%)
	$(BIN)/jaxcourse transcription

grade: install              ## grade submissions: make grade ASSIGNMENT=01_xor SUBMISSIONS=downloads.zip
	@test -n "$(ASSIGNMENT)" -a -n "$(SUBMISSIONS)" || { echo "usage: make grade ASSIGNMENT=01_xor" \
	  "SUBMISSIONS=<folder or LMS zip> [GRADE_ARGS='--workers 4 --student alice']" >&2; exit 2; }
	$(BIN)/jaxcourse grade $(ASSIGNMENT) $(SUBMISSIONS) $(GRADE_ARGS)

export: install             ## grades for the LMS: make export ASSIGNMENT=01_xor FORMAT=canvas|moodle|csv|feedback-zip
	@test -n "$(ASSIGNMENT)" -a -n "$(FORMAT)" || { echo "usage: make export ASSIGNMENT=01_xor" \
	  "FORMAT=canvas|moodle|csv|feedback-zip [EXPORT_ARGS='--roster roster.csv -o out.csv']" >&2; exit 2; }
	$(BIN)/jaxcourse export $(ASSIGNMENT) --format $(FORMAT) $(EXPORT_ARGS)

autograder: install         ## a platform's grader: make autograder ASSIGNMENT=01_xor FOR=gradescope|prairielearn
	@test -n "$(ASSIGNMENT)" -a -n "$(FOR)" || { echo "usage: make autograder ASSIGNMENT=01_xor" \
	  "FOR=gradescope|prairielearn [AUTOGRADER_ARGS='--image you/jaxcourse-grader:2025']" >&2; exit 2; }
	$(BIN)/jaxcourse autograder $(ASSIGNMENT) --for $(FOR) $(AUTOGRADER_ARGS)

report: install             ## HTML analytics of the last grading run: make report ASSIGNMENT=01_xor
	@test -n "$(ASSIGNMENT)" || { echo "usage: make report ASSIGNMENT=01_xor" >&2; exit 2; }
	$(BIN)/jaxcourse report $(ASSIGNMENT)

badges: install             ## restamp Colab badges and set-up cells from pyproject's address
	$(BIN)/jaxcourse badges

normalize: install          ## strip outputs and extra metadata from chapters/ and solutions/
	$(BIN)/jaxcourse normalize

# DEVICES=1: a notebook that asks for simulated CPU devices gets this many (JAXCOURSE_CPU_DEVICES), as on one GPU
NOTEBOOKS ?= chapters solutions
RUNTIMES = runtimes-$(shell $(BIN)/python -c "import jax; print(jax.default_backend())")$(if $(DEVICES),-$(DEVICES)-device)
runtimes: install           ## run every chapter and solution (full mode), write docs/runtimes-cpu.md (DEVICES=1 NOTEBOOKS=...)
	JAXCOURSE_CPU_DEVICES=$(DEVICES) $(BIN)/jaxcourse run-notebooks $(NOTEBOOKS) --output build/$(RUNTIMES) --report docs/$(RUNTIMES).md

bench: install              ## print benchmark tables (not tests)
	$(BIN)/jaxcourse bench mnist
	$(BIN)/jaxcourse bench grading

lint: install               ## ruff over the package, the tests and the notebooks
	$(BIN)/ruff check src tests chapters solutions

clean:                      ## remove build/, grading/ and pytest's cache
	rm -rf build grading .pytest_cache
