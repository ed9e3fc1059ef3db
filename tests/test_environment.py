"""environment.yml (conda, Binder) pins the same versions as requirements.lock (pip)."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"pytorch-cpu": "torch"}


def lock_versions():
    pins = (line.split("==") for line in (ROOT / "requirements.lock").read_text().splitlines() if "==" in line)
    return {name.lower(): version for name, version in pins}


def environment_pins():
    pins = re.findall(r"^\s+- ([A-Za-z0-9_.-]+)(?:=|==)([0-9][^\s]*)$", (ROOT / "environment.yml").read_text(), re.M)
    return {CONDA_NAMES.get(name, name).lower(): version for name, version in pins if name != "python"}


def test_every_environment_pin_matches_the_lock():
    lock, env = lock_versions(), environment_pins()
    assert len(env) >= 14
    assert {name: version for name, version in env.items() if lock.get(name) != version} == {}


def test_environment_installs_gdlab_from_the_checkout():
    assert "- -e ." in (ROOT / "environment.yml").read_text()
