# A table of contents: every target calls the jaxcourse CLI or pytest.
PYTHON ?= python3
VENV   := .venv
BIN    := $(CURDIR)/$(VENV)/bin
STAMP  := $(VENV)/.installed
export PATH := $(BIN):$(PATH)

.PHONY: install lab test notebooks release check-release validate badges normalize bench lint clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

lab: install                ## open the course in JupyterLab
	$(BIN)/jupyter lab

test: install               ## everything CI checks
	$(BIN)/python -m pytest -n auto --durations=15

notebooks: install          ## execute every chapter in quick mode into build/
	$(BIN)/jaxcourse run-notebooks --quick

release: install            ## regenerate exercises/ from solutions/
	$(BIN)/jaxcourse release

check-release: install      ## fail if exercises/ drifted from solutions/
	$(BIN)/jaxcourse check-release

validate: install           ## grade solution, release and kept mistakes through nbgrader
	$(BIN)/jaxcourse validate

badges: install             ## restamp Colab badges and set-up cells from pyproject's address
	$(BIN)/jaxcourse badges

normalize: install          ## strip outputs and extra metadata from chapters/ and solutions/
	$(BIN)/jaxcourse normalize

bench: install              ## print benchmark tables (not tests)
	$(BIN)/jaxcourse bench mnist

lint: install
	$(BIN)/ruff check src tests chapters solutions

clean:
	rm -rf build grading .pytest_cache
