# gdlab: `make lab` to learn, `make test` to check every notebook still gives its outputs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LAB_ARGS ?=
NB ?= notebooks/*.ipynb
NOTEBOOK_DIRS := notebooks exercises solutions

.PHONY: venv lab test unit test-portable test-pythons execute exercises badges html lock clean

venv: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check torch==2.13.0
	$(BIN)/pip install --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --disable-pip-version-check --no-deps -e .
	touch $@

# JupyterLab's settings for the course (no news prompt on first start) and its server config (explorers' answers sent
# without delay), the same files Binder's postBuild installs.
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings/overrides.json

lab: venv $(LAB_SETTINGS)
	$(BIN)/jupyter lab --config=binder/jupyter_server_config.py --ServerApp.root_dir=. \
		--LabApp.default_url=/lab/tree/notebooks/00_start_here.ipynb $(LAB_ARGS)

$(LAB_SETTINGS): binder/overrides.json | $(STAMP)
	mkdir -p $(dir $@)
	cp binder/overrides.json $@

test: venv
	$(BIN)/ruff check gdlab tools tests benchmarks conftest.py
	$(BIN)/python -m pytest -n auto --dist loadfile --nbval --nbval-current-env -m "not browser" tests $(NOTEBOOK_DIRS)
	$(BIN)/python -m pytest -m browser tests/test_browser.py

unit: venv
	$(BIN)/python -m pytest -n auto tests

# Every notebook again, outputs compared strictly, as other machines would run it: NumPy's, OpenBLAS's, MKL's
# and torch's code paths limited to AVX2 or to SSE4.2 (x86-64 only), and 8 BLAS/OpenMP threads.
# make test-portable NOTEBOOKS=notebooks/03_batch_stochastic_minibatch.ipynb checks one notebook.
NOTEBOOKS ?= $(NOTEBOOK_DIRS)
CPU_PROFILES := avx2 sse42 threads8
PROFILE_avx2 := NPY_DISABLE_CPU_FEATURES="X86_V4 AVX512_ICL" OPENBLAS_CORETYPE=Haswell \
	MKL_ENABLE_INSTRUCTIONS=AVX2 ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2
PROFILE_sse42 := NPY_DISABLE_CPU_FEATURES="X86_V3 X86_V4 AVX512_ICL" OPENBLAS_CORETYPE=Nehalem \
	MKL_ENABLE_INSTRUCTIONS=SSE4_2 ATEN_CPU_CAPABILITY=default ONEDNN_MAX_CPU_ISA=SSE41
PROFILE_threads8 := OMP_NUM_THREADS=8 OPENBLAS_NUM_THREADS=8 MKL_NUM_THREADS=8

test-portable: $(CPU_PROFILES:%=portable-%)

portable-%: venv
	@echo "== $(NOTEBOOKS) under the $* profile: $(PROFILE_$*)"
	env $(PROFILE_$*) $(BIN)/python -m pytest -n auto --dist loadfile --nbval --nbval-current-env $(NOTEBOOKS)

# Unit tests and every notebook that needs no torch on other Pythons (torch's wheel on disk is for 3.11 only).
PYTHONS ?= 3.12 3.13
find_python = $$(python$(1) -c '' 2>/dev/null && echo python$(1) || \
	PYENV_VERSION=$$(pyenv versions --bare | grep -x '$(1)\.[0-9]*' | tail -n 1) pyenv which python$(1))

test-pythons: $(PYTHONS:%=test-python-%)

test-python-%: .venv-%/.installed
	.venv-$*/bin/python -m pytest -n auto --dist loadfile --nbval --nbval-current-env tests $(NOTEBOOK_DIRS)

.venv-%/.installed: requirements.lock pyproject.toml
	rm -rf .venv-$*
	$(call find_python,$*) -m venv .venv-$*
	grep -v '^torch==' requirements.lock > .venv-$*/requirements.txt
	.venv-$*/bin/pip install --disable-pip-version-check -q -r .venv-$*/requirements.txt
	.venv-$*/bin/pip install --disable-pip-version-check -q --no-deps -e .
	touch $@

# The course on Google Colab's versions (tools/colab_versions.txt: Python 3.13, ipywidgets 7.7.1, numpy 2.1.3, ...;
# no torch): a notebook's own setup cell with google.colab simulated, pip shown to change nothing but gdlab,
# every explorer built; then the explorer tests and every notebook that needs no torch, outputs compared strictly.
COLAB_VENV := .venv-colab
# Deprecations inside Colab's own packages (matplotlib 3.10.0 on pyparsing 3.3, ipywidgets 7.7.1 on traitlets,
# jupyter_client and IPython on Python 3.13), about 900 lines a run that say nothing of gdlab; gdlab's own
# deprecation warnings still show.
COLAB_QUIET = -W "ignore::pyparsing.warnings.PyparsingDeprecationWarning" \
	-W "ignore:Deprecated in traitlets 4.1:DeprecationWarning" \
	-W "ignore:datetime.datetime.utcnow:DeprecationWarning" \
	-W "ignore:There is no current event loop:DeprecationWarning" \
	-W "ignore:The default datetime adapter:DeprecationWarning"

.PHONY: test-colab
test-colab: $(COLAB_VENV)/.installed
	$(COLAB_VENV)/bin/python tools/colab_check.py check
	PYDEVD_DISABLE_FILE_VALIDATION=1 $(COLAB_VENV)/bin/python -m pytest -n auto --dist loadfile --nbval \
		--nbval-current-env $(COLAB_QUIET) tests/test_widgets.py $(NOTEBOOK_DIRS)

$(COLAB_VENV)/.installed: tools/colab_versions.txt requirements.lock
	rm -rf $(COLAB_VENV)
	$(call find_python,3.13) -m venv $(COLAB_VENV)
	$(COLAB_VENV)/bin/python tools/colab_check.py install $(COLAB_VENV)
	touch $@

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
	rm -rf $(VENV) .venv-* .pytest_cache
