# gdlab: `make lab` to learn, `make test` to check every notebook still gives its outputs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LAB_ARGS ?=
NB ?= notebooks/*.ipynb
NOTEBOOK_DIRS := notebooks exercises solutions

.PHONY: venv lab test unit execute exercises badges html lock clean

venv: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check torch==2.13.0
	$(BIN)/pip install --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --disable-pip-version-check --no-deps -e .
	touch $@

lab: venv
	$(BIN)/jupyter lab --ServerApp.root_dir=. --LabApp.default_url=/lab/tree/notebooks/00_start_here.ipynb $(LAB_ARGS)

test: venv
	$(BIN)/python -m pytest -n auto --dist loadfile --nbval --nbval-current-env tests $(NOTEBOOK_DIRS)

unit: venv
	$(BIN)/python -m pytest -n auto tests

# Re-execute notebooks in place, outputs saved (make execute NB=notebooks/02_gradient_descent.ipynb).
execute: venv
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace $(NB)

# Regenerate exercises/ from solutions/ (solution code replaced by stubs, re-executed).
exercises: venv
	$(BIN)/python tools/make_exercises.py

# Point every badge and Colab install cell at a fork: make badges REPO=owner/name
badges:
	@test -n "$(REPO)" || { echo "usage: make badges REPO=owner/name"; exit 2; }
	$(PYTHON) tools/badges.py $(REPO)

# A static, browsable copy of the course in site/ (open site/index.html).
html: venv
	$(BIN)/python tools/build_site.py site

lock: venv
	{ sed -n '1,2p' requirements.lock; echo "torch==2.13.0"; $(BIN)/pip freeze --exclude-editable | grep -v '^torch=='; } > requirements.lock.new
	mv requirements.lock.new requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache
