"""Colab: gdlab's dependency floors are at or below Colab's own versions, listed in one place with their source.
The run on those versions (setup cell, notebooks, explorers) is `make test-colab` (tools/colab_check.py)."""
import re
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import colab_check

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_colab_versions_say_where_they_come_from_and_how_to_refresh_them():
    text = colab_check.VERSIONS.read_text()
    assert re.search(r"github\.com/googlecolab/backend-info, commit [0-9a-f]{7,40} of \d{4}-\d{2}-\d{2}", text)
    assert "tools/colab_check.py refresh" in text
    versions = colab_check.colab_versions()
    for name in ("python", "torch", *colab_check.ROOTS):
        assert Version(versions[colab_check.canonical(name)]), name
    # what the listed packages require and Colab's freeze lacks (jedi, for IPython 7.34) is named, not listed
    assert colab_check.absent_on_colab() and not set(colab_check.absent_on_colab()) & set(versions)


def test_every_dependency_floor_is_met_by_colabs_own_version():
    """So that installing gdlab on Colab upgrades nothing (the torch extra included: Colab's torch stays)."""
    versions = colab_check.colab_versions()
    requirements = PROJECT["dependencies"] + [r for extra in PROJECT["optional-dependencies"].values() for r in extra]
    unmet = {}
    for requirement in map(Requirement, requirements):
        colab = versions.get(colab_check.canonical(requirement.name))
        if colab is None or not requirement.specifier.contains(colab, prereleases=True):
            unmet[str(requirement)] = colab
    assert unmet == {}
    assert Version(versions["python"]) in SpecifierSet(PROJECT["requires-python"])


def test_test_tools_of_the_colab_run_are_in_the_lock():
    assert set(colab_check.test_tool_pins()) == {colab_check.canonical(n) for n in colab_check.TEST_TOOLS}
