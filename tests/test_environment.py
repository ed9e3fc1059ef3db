"""The conda environments pin requirements.lock's versions: environment.yml (developers: everything) and
binder/environment.yml (Binder's learners: the course only, cached apart from the checkout)."""
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import jsonschema
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"
CONDA_NAMES = {"pytorch-cpu": "torch", "matplotlib-base": "matplotlib"}
TEST_TOOLS = {"pytest", "pytest-xdist", "nbval", "hypothesis", "playwright", "ruff", "coverage"}


def lock_versions():
    pins = (line.split("==") for line in (ROOT / "requirements.lock").read_text().splitlines() if "==" in line)
    return {name.lower(): version for name, version in pins}


def conda_pins(path):
    pins = re.findall(r"^\s+- ([A-Za-z0-9_.-]+)(?:=|==)([0-9][^\s]*)$", path.read_text(), re.MULTILINE)
    return {CONDA_NAMES.get(name, name).lower(): version for name, version in pins if name != "python"}


def test_every_environment_pin_matches_the_lock():
    lock, env = lock_versions(), conda_pins(ROOT / "environment.yml")
    assert len(env) >= 17
    assert {name: version for name, version in env.items() if lock.get(name) != version} == {}


def test_environment_installs_gdlab_from_the_checkout():
    assert "- -e ." in (ROOT / "environment.yml").read_text()


def test_binder_environment_matches_the_lock_and_holds_what_the_course_imports():
    lock, env = lock_versions(), conda_pins(BINDER / "environment.yml")
    assert {name: version for name, version in env.items() if lock.get(name) != version} == {}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    needed = {Requirement(r).name for r in project["dependencies"] + project["optional-dependencies"]["torch"]}
    assert needed | {"scipy", "scikit-learn", "pillow", "ipykernel", "jupyterlab"} <= set(env)


def test_binder_environment_is_for_learners_and_cacheable():
    text = (BINDER / "environment.yml").read_text()
    assert re.search(r"^channels:\n  - conda-forge\n(?!  -)", text, re.MULTILINE)
    assert not TEST_TOOLS & set(conda_pins(BINDER / "environment.yml"))
    assert "pip:" not in text and "-e ." not in text  # a local package would rebuild the layer on every commit
    assert "matplotlib-base=" in text and "\n  - matplotlib=" not in text  # no Qt in a headless image
    assert not (BINDER / "requirements.txt").exists() and not (BINDER / "runtime.txt").exists()


def test_binder_post_build_installs_gdlab_from_the_checkout_without_dependencies():
    post_build = BINDER / "postBuild"
    lines = post_build.read_text().splitlines()
    assert lines[0] == "#!/bin/bash" and "set -e" in lines
    assert "python -m pip install --no-deps --editable ." in lines
    assert os.access(post_build, os.X_OK)
    staged = subprocess.run(["git", "ls-files", "-s", "binder/postBuild"], cwd=ROOT, capture_output=True, text=True,
                            check=True)
    assert staged.stdout == "" or staged.stdout.startswith("100755 ")  # executable in the repository too


def test_jupyterlab_overrides_turn_off_the_news_prompt_and_fit_jupyterlabs_schema():
    overrides = json.loads((BINDER / "overrides.json").read_text())
    notification = overrides["@jupyterlab/apputils-extension:notification"]
    assert notification["fetchNews"] == "false" and notification["checkForUpdates"] is False
    schemas = Path(sys.prefix) / "share" / "jupyter" / "lab" / "schemas"
    schema = json.loads((schemas / "@jupyterlab" / "apputils-extension" / "notification.json").read_text())
    jsonschema.validate(notification, schema)
