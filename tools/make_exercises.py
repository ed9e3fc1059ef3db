"""Generate exercises/ from solutions/: the solution notebooks are the single source.

    python tools/make_exercises.py [solutions/NN_name.ipynb ...]          (all when none given; make exercises)
    python tools/make_exercises.py --check [solutions/NN_name.ipynb ...]  exit 1 naming each stale exercise

In every code cell, the lines from `### BEGIN SOLUTION` to `### END SOLUTION` (inside a function
body) become one `raise NotImplementedError("Task N: ...")` at the same indentation, N from the last
`## Task N` heading above it; comment lines just above the region stay as hints. The Colab badge is
pointed at exercises/, cell ids and notebook metadata are copied from the solution, and the exercise
is executed (kernel python3) so that its outputs, the TODO lines of the checks, are committed.
The same solution always gives the same bytes.
"""
import argparse
import copy
import re
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
TASK_HEADING = re.compile(r"^#+\s*Task\s+(\d+)", re.MULTILINE)
COLAB_SOLUTION = re.compile(r"((?:colab\.research\.google\.com/github/[^)\s]+?/blob/[^/)\s]+/"
                            r"|mybinder\.org/v2/gh/[^)\s]+?\?urlpath=lab/tree/))solutions/")


def exercise_path(solution_path):
    return solution_path.parent.parent / "exercises" / solution_path.name


def stub_out(source, task, where):
    """`source` with each solution region replaced by a NotImplementedError stub for `task`."""
    lines, start = [], None
    for number, line in enumerate(source.splitlines(), start=1):
        marker = line.strip()
        if marker == BEGIN:
            indent = line[: len(line) - len(line.lstrip())]
            if start is not None:
                raise ValueError(f"{where}, line {number}: {BEGIN} again before {END}")
            if not indent:
                raise ValueError(f"{where}, line {number}: a solution region must sit inside a function body")
            if task is None:
                raise ValueError(f"{where}, line {number}: no '## Task N' heading above this solution")
            lines.append(f'{indent}raise NotImplementedError("Task {task}: replace this line with your code")')
            start = number
        elif marker == END:
            if start is None:
                raise ValueError(f"{where}, line {number}: {END} without {BEGIN}")
            start = None
        elif start is None:
            lines.append(line)
    if start is not None:
        raise ValueError(f"{where}, line {start}: {BEGIN} without {END}")
    return "\n".join(lines) + ("\n" if source.endswith("\n") else "")


def exercise_from(solution, name):
    """The exercise notebook (not executed) made from the `solution` notebook."""
    exercise = copy.deepcopy(solution)
    task = None
    for index, cell in enumerate(exercise.cells):
        cell.metadata.pop("execution", None)
        if cell.cell_type == "markdown":
            cell.source = COLAB_SOLUTION.sub(r"\1exercises/", cell.source)
            task = (TASK_HEADING.findall(cell.source) or [task])[-1]
        elif cell.cell_type == "code":
            cell.source = stub_out(cell.source, task, f"{name}, cell {index}")
            cell.outputs, cell.execution_count = [], None
    return exercise


def execute(notebook, cwd, name):
    client = NotebookClient(notebook, kernel_name="python3", timeout=300, record_timing=False,
                            coalesce_streams=True, resources={"metadata": {"path": str(cwd)}})
    try:
        client.execute()
    except CellExecutionError as error:
        raise SystemExit(f"{name}: the generated exercise does not run top to bottom:\n{error}") from None
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)


def render(solution_path, run=True):
    """The text of the exercise notebook for `solution_path`, executed unless run=False."""
    solution_path = Path(solution_path)
    solution = nbformat.read(solution_path, as_version=4)
    exercise = exercise_from(solution, solution_path.name)
    if run:
        target = exercise_path(solution_path).parent
        execute(exercise, target if target.is_dir() else solution_path.parent, solution_path.name)
        exercise.metadata = copy.deepcopy(solution.metadata)  # drop what the kernel added (versions)
    text = nbformat.writes(exercise)
    return text if text.endswith("\n") else text + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("solutions", nargs="*", type=Path, help="default: every solutions/*.ipynb")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if an exercise is stale")
    args = parser.parse_args(argv)
    solutions = [p.resolve() for p in args.solutions] or sorted((ROOT / "solutions").glob("*.ipynb"))
    stale = []
    for solution in solutions:
        target = exercise_path(solution)
        text = render(solution)
        shown = target.relative_to(ROOT) if target.is_relative_to(ROOT) else target
        if args.check:
            if not target.exists() or target.read_text(encoding="utf-8") != text:
                stale.append(shown)
        elif not target.exists() or target.read_text(encoding="utf-8") != text:
            target.parent.mkdir(exist_ok=True)
            target.write_text(text, encoding="utf-8")
            print(f"wrote {shown}")
        else:
            print(f"{shown} is up to date")
    for path in stale:
        print(f"{path} differs from what its solution generates (run: python tools/make_exercises.py)")
    orphans = []
    if args.check and not args.solutions:
        orphans = sorted({p.name for p in (ROOT / "exercises").glob("*.ipynb")} - {p.name for p in solutions})
        for name in orphans:
            print(f"exercises/{name} has no solutions/{name} to be generated from")
    return 1 if stale or orphans else 0


if __name__ == "__main__":
    sys.exit(main())
