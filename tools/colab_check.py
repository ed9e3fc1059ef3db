"""Run the course as it runs on Google Colab: Colab's package versions, the notebooks' own setup cell.

    python3.13 tools/colab_check.py install VENV   install tools/colab_versions.txt (exactly) into VENV
    VENV/bin/python tools/colab_check.py check      the setup cell on Colab's versions (make test-colab)
    python3 tools/colab_check.py refresh PIP_FREEZE COMMIT DATE    rewrite tools/colab_versions.txt

`check` runs, in a kernel of this environment, what a learner's Colab session runs: `google.colab` loaded
(simulated: an empty module, plus anywidget and numpy, which the real one imports at kernel start), then the
setup cell of notebooks/00_start_here.ipynb with its `git+https://github.com/...` address pointed at a copy of
this checkout, then every explorer of gdlab.widgets built and displayed. It fails unless pip installed gdlab
and nothing else (`pip freeze` before and after), the kernel still has Colab's ipywidgets, every explorer
builds, and installing the `torch` extra would leave Colab's torch as it is. gdlab stays installed, so that
`make test-colab` can then run the notebooks on it.

`refresh` rebuilds the list from a newer backend-info pip-freeze.txt (see the list's header).
Only the standard library is imported at the top: `install` runs before anything else is installed.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VERSIONS = ROOT / "tools" / "colab_versions.txt"
SETUP_NOTEBOOK = ROOT / "notebooks" / "00_start_here.ipynb"
# Listed for the floor checks, not installed: the interpreter comes from pyenv, and torch's Colab wheel is
# 900 MB (the notebooks that need torch are left out by conftest.py where it is missing).
NOT_INSTALLED = {"python", "torch"}
# Not on Colab, needed to run the notebooks as tests; their versions come from requirements.lock.
TEST_TOOLS = ("nbval", "coverage", "pytest-xdist", "execnet")
# Header line naming what the packages below require but Colab does not have (pip check reports them there too).
ABSENT = "# Required by these but absent on Colab (so not installed here):"
# What `refresh` installs from Colab's list; the list is these and everything they pull in.
ROOTS = ("pip", "numpy", "matplotlib", "ipywidgets", "anywidget", "scipy", "scikit-learn", "tqdm", "ipykernel",
         "ipython", "nbclient", "nbformat", "pytest")


def canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(path):
    """{canonical name: version} of the `name==version` lines of a requirements-style file."""
    pins = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[canonical(name)] = version.strip()
    return pins


def colab_versions():
    return read_pins(VERSIONS)


def absent_on_colab():
    line = next(line for line in VERSIONS.read_text(encoding="utf-8").splitlines() if line.startswith(ABSENT))
    return line.removeprefix(ABSENT).split()


def test_tool_pins():
    lock = read_pins(ROOT / "requirements.lock")
    return {canonical(name): lock[canonical(name)] for name in TEST_TOOLS}


def pip(python, *args, capture=False):
    command = [str(python), "-m", "pip", "--disable-pip-version-check", *args]
    if capture:
        return subprocess.run(command, check=True, capture_output=True, text=True).stdout
    subprocess.run(command, check=True)
    return None


def install(venv):
    """Exactly Colab's versions (no resolver: every dependency is in the list), then the test tools."""
    python = Path(venv) / "bin" / "python"
    versions = colab_versions()
    pip(python, "install", "-q", f"pip=={versions['pip']}")
    with tempfile.TemporaryDirectory() as tmp:
        requirements = Path(tmp) / "requirements.txt"
        pins = {**{n: v for n, v in versions.items() if n not in NOT_INSTALLED | {"pip"}}, **test_tool_pins()}
        requirements.write_text("".join(f"{name}=={version}\n" for name, version in sorted(pins.items())))
        pip(python, "install", "-q", "--no-deps", "-r", str(requirements))
    problems = subprocess.run([str(python), "-m", "pip", "check"], capture_output=True, text=True, check=False).stdout
    unexpected = [line for line in problems.splitlines()
                  if not any(f"requires {name}" in line for name in absent_on_colab())]
    if unexpected:
        raise SystemExit("pip check, beyond what Colab lacks too:\n" + "\n".join(unexpected))


def installed(python=sys.executable):
    """{canonical name: version} of what is installed for `python`."""
    report = json.loads(pip(python, "list", "--format=json", capture=True))
    return {canonical(item["name"]): item["version"] for item in report}


def checkout_copy(destination):
    """The files a `git clone` of this checkout would have (tracked or new, not ignored), copied."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    return destination


def setup_cell_source(notebook=SETUP_NOTEBOOK):
    cells = json.loads(Path(notebook).read_text(encoding="utf-8"))["cells"]
    return "".join(next(cell for cell in cells if cell["cell_type"] == "code")["source"])


def pointed_at(source, checkout):
    """The setup cell with its git+https://github.com/OWNER/NAME address replaced by the local copy."""
    new, count = re.subn(r"git\+https://github\.com/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", checkout.as_uri(), source)
    if count != 1:
        raise SystemExit(f"the setup cell should install gdlab from one git+https://github.com address:\n{source}")
    return new


COLAB_KERNEL_START = """\
import sys, types
google = types.ModuleType("google")
google.colab = types.ModuleType("google.colab")
sys.modules.update({"google": google, "google.colab": google.colab})
import anywidget, numpy  # what the real google.colab imports when the kernel starts
import ipywidgets
print("ipywidgets in memory before the setup cell:", ipywidgets.__version__)
"""

BUILD_EXPLORERS = """\
import ipywidgets, gdlab, gdlab.widgets
from IPython.display import display
print("ipywidgets in memory after the setup cell:", ipywidgets.__version__)
print("gdlab", gdlab.__version__, "imported from", gdlab.__file__)
for name in gdlab.widgets.__all__:
    display(getattr(gdlab.widgets, name)())
print("explorers built:", ", ".join(gdlab.widgets.__all__))
"""


def run_in_kernel(cells, cwd):
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in cells])
    NotebookClient(notebook, kernel_name="python3", timeout=600,
                   resources={"metadata": {"path": str(cwd)}}).execute()
    return notebook.cells


def text_of(cell):
    return "".join(output.get("text", "") for output in cell.outputs if output.output_type == "stream")


def fake_distribution(site_packages, name, version):
    info = Path(site_packages) / f"{name}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (info / "INSTALLER").write_text("colab_check\n")
    (info / "RECORD").write_text("")
    return info


def check(notebook=SETUP_NOTEBOOK):
    import sysconfig

    versions = colab_versions()
    subprocess.run([sys.executable, "-m", "pip", "uninstall", "-q", "-y", "gdlab"], check=True, capture_output=True)
    expected = {n: v for n, v in versions.items() if n not in NOT_INSTALLED} | test_tool_pins()
    before = installed()
    drift = {n: (expected.get(n), before.get(n)) for n in expected.keys() | before.keys()
             if expected.get(n) != before.get(n)}
    if drift:
        raise SystemExit(f"this environment is not Colab's list (name: (listed, installed)): {drift}\n"
                         "rebuild it: rm -rf .venv-colab && make test-colab")
    print(f"{len(expected)} packages at Colab's versions (+ test tools {', '.join(TEST_TOOLS)}), "
          f"Python {sys.version.split()[0]} (Colab: {versions['python']})")

    with tempfile.TemporaryDirectory() as tmp:
        checkout = checkout_copy(Path(tmp) / "gdlab")
        content = Path(tmp) / "content"  # Colab's working directory: the notebook alone, no repository
        content.mkdir()
        setup = pointed_at(setup_cell_source(notebook), checkout)
        print(f"setup cell of {notebook}, pointed at {checkout}:\n{setup}")
        cells = run_in_kernel([COLAB_KERNEL_START, setup, BUILD_EXPLORERS], cwd=content)
        for cell in cells:
            print(text_of(cell), end="")
        pip_lines = re.findall(r"^Successfully installed (.*)$", text_of(cells[1]), re.MULTILINE)
        installed_by_pip = " ".join(pip_lines).split()

        after = installed()
        changed = {n: (before.get(n), after.get(n)) for n in before.keys() | after.keys()
                   if before.get(n) != after.get(n)}
        version = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.MULTILINE).group(1)
        assert changed == {"gdlab": (None, version)}, f"pip changed more than gdlab (before, after): {changed}"
        print(f"pip freeze before/after: only gdlab {version} added; none of the {len(before)} packages changed")
        # Colab offers a restart when a package pip lists here was already imported; gdlab was not.
        assert installed_by_pip == [f"gdlab-{version}"], installed_by_pip
        problems = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True,
                                  check=False).stdout
        assert "gdlab" not in problems, f"gdlab's dependencies are not met by Colab's versions:\n{problems}"
        print("pip check: every dependency of gdlab is met by Colab's own versions")
        memory = re.findall(r"ipywidgets in memory (?:before|after) the setup cell: (\S+)", text_of(cells[0]) +
                            text_of(cells[2]))
        assert memory == [versions["ipywidgets"]] * 2, memory
        shown = [output for output in cells[2].outputs if output.output_type == "display_data"]
        widget_views = [o for o in shown if "application/vnd.jupyter.widget-view+json" in o.data]
        with_png = [o for o in shown if "image/png" in o.data]
        import gdlab.widgets

        assert len(widget_views) == len(gdlab.widgets.__all__), [sorted(o.data) for o in shown]
        print(f"{len(widget_views)} explorers displayed as widgets under ipywidgets {memory[-1]} "
              f"({len(with_png)} with a static image/png beside the widget)")

        # The chapters that need torch use Colab's: installing the torch extra must not touch it.
        fake = [fake_distribution(sysconfig.get_paths()["purelib"], "torch", versions["torch"])]
        try:
            report = json.loads(pip(sys.executable, "install", "--dry-run", "--quiet", "--report", "-",
                                    f"gdlab[torch] @ {checkout.as_uri()}", capture=True))
        finally:
            for info in fake:
                shutil.rmtree(info)
        would_install = sorted(canonical(item["metadata"]["name"]) for item in report["install"])
        replaced = sorted(set(would_install) & (set(before) | {"torch"}))
        assert replaced == [], f"installing gdlab[torch] would replace Colab's {replaced}"
        added = [name for name in would_install if name != "gdlab"]
        print(f"pip install gdlab[torch] (with deps) beside Colab's torch {versions['torch']} and tqdm "
              f"{versions['tqdm']}: replaces nothing (would add only {', '.join(added) or 'gdlab'}: "
              f"what Colab lacks, {', '.join(absent_on_colab())}; the setup cell's --no-deps adds nothing)")


def refresh(pip_freeze, commit, date):
    """Rewrite the list: ROOTS installed into a scratch Python 3.13 venv constrained to Colab's pip-freeze."""
    lines = Path(pip_freeze).read_text(encoding="utf-8").splitlines()
    torch = next(re.search(r"torch-([0-9.]+)", line).group(1) for line in lines if line.startswith("torch"))
    python = colab_versions()["python"]
    with tempfile.TemporaryDirectory() as tmp:
        constraints = Path(tmp) / "constraints.txt"
        constraints.write_text("\n".join(line for line in lines if "==" in line and " @ " not in line) + "\n")
        venv = Path(tmp) / "venv"
        interpreter = shutil.which(f"python{python.rsplit('.', 1)[0]}")
        subprocess.run([interpreter, "-m", "venv", str(venv)], check=True)
        pinned = read_pins(constraints)
        pip(venv / "bin" / "python", "install", "-q", f"pip=={pinned['pip']}")
        pip(venv / "bin" / "python", "install", "-q", "-c", str(constraints), *ROOTS)
        found = installed(venv / "bin" / "python")
    absent = sorted(n for n in found if n not in pinned)
    outside = {n: v for n, v in found.items() if n in pinned and pinned[n] != v}
    if outside:
        raise SystemExit(f"not at Colab's version: {outside}")
    header = [line for line in VERSIONS.read_text().splitlines() if line.startswith("#") and ABSENT not in line]
    header = [re.sub(r"commit \S+ of \S+", f"commit {commit} of {date}", line) for line in header]
    header.append(f"{ABSENT} {' '.join(absent)}")
    body = [f"python=={python}", f"torch=={torch}"] + [f"{n}=={found[n]}" for n in sorted(found) if n in pinned]
    VERSIONS.write_text("\n".join(header + body) + "\n")
    print(f"{VERSIONS.relative_to(ROOT)}: {len(body)} versions from {commit} ({date}); check python== by hand "
          "(backend-info's os-info.txt)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("install").add_argument("venv", type=Path)
    commands.add_parser("check").add_argument("--notebook", type=Path, default=SETUP_NOTEBOOK)
    refresh_parser = commands.add_parser("refresh")
    for name in ("pip_freeze", "commit", "date"):
        refresh_parser.add_argument(name)
    args = parser.parse_args(argv)
    if args.command == "install":
        install(args.venv)
    elif args.command == "check":
        check(args.notebook.resolve())
    else:
        refresh(args.pip_freeze, args.commit, args.date)


if __name__ == "__main__":
    os.environ.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # ipykernel 6's debugger chatter on 3.13
    main()
