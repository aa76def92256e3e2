# MallBots Workbook: two commands do everything.
#   make lab    set up (first time only) and open the workbook in JupyterLab
#   make test   set up (first time only) and run every test, notebooks included
# For instructors: make student writes student copies (solutions stripped) to build/student.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.mallbots-installed
# mutmut's parallel test runs (make mutants); raise it on a machine of your own.
MUTANT_CHILDREN ?= 2
# Which mutants: all by default; one file's with MUTANTS='*projection.x*' (see tests/mutants.md).
MUTANTS ?=
# JupyterLab refuses to run as root (containers, some classrooms) unless told it may.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: lab test venv demo lint bench notebooks student mutants clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "MallBots needs Python 3.11 or newer (DuckDB 2 does); run: make PYTHON=python3.11 ...")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[lab,test]"
	touch $(STAMP)

lab: venv
	$(BIN)/jupyter lab notebooks/ $(ROOT_FLAG)

test: venv lint
	$(BIN)/python -m pytest tests notebooks --nbval --nbval-sanitize-with notebooks/sanitize.cfg

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

notebooks: venv  ## re-execute every notebook in a fresh kernel and save its outputs
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace \
		--ExecutePreprocessor.timeout=300 --ExecutePreprocessor.record_timing=False \
		notebooks/[0-9]*.ipynb

student: venv  ## student copies: solutions stripped, outputs cleared, in build/student/
	$(BIN)/python -m mallbots.student_copies --out build/student

demo: venv
	$(BIN)/python -m mallbots demo

bench: venv
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	$(BIN)/python benchmarks/run.py

mutants: venv  ## mutation testing of mallbots/es/ (not part of make test); see tests/mutants.md
	env -u PYTHONPATH $(BIN)/mutmut run --max-children $(MUTANT_CHILDREN) $(MUTANTS)
	env -u PYTHONPATH $(BIN)/mutmut results

clean:
	rm -rf $(VENV) build .pytest_cache .hypothesis .ruff_cache *.egg-info mutants
