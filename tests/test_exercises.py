"""exercises/ is generated from solutions/ by tools/make_exercises.py, and kept up to date.

Re-executing every notebook here would repeat what strict nbval already does in `make test` (it runs
each committed exercise and compares its outputs). So this file compares everything else, fast: the
sources, cell ids and metadata must equal what the generator makes; no solution code may be left;
the committed outputs must say TODO in exercises and PASS in solutions. That the generator, outputs
included, gives the same bytes every time is tested on a small notebook run end to end.
"""
import json
import re
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import make_exercises  # noqa: E402

SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
IDS = [p.name for p in SOLUTIONS]
STUB = re.compile(r'^\s*raise NotImplementedError\("Task \d+: ', re.MULTILINE)


def exercise_of(solution):
    return nbformat.read(ROOT / "exercises" / solution.name, as_version=4)


def without_outputs(notebook):
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return notebook


def check_lines(notebook):
    """The first word of every line the check cells printed, with the line."""
    return [line for cell in notebook.cells if cell.cell_type == "code" and "check.ch" in cell.source
            for out in cell.outputs for line in out.get("text", "").splitlines()]


def test_every_solution_has_an_exercise_and_back():
    assert SOLUTIONS, "no solution notebooks"
    assert {p.name for p in (ROOT / "exercises").glob("*.ipynb")} == set(IDS)


@pytest.mark.parametrize("solution", SOLUTIONS, ids=IDS)
def test_exercise_is_what_the_solution_generates(solution):
    generated = nbformat.reads(make_exercises.render(solution, run=False), as_version=4)
    committed = without_outputs(exercise_of(solution))
    assert committed.metadata == generated.metadata
    assert len(committed.cells) == len(generated.cells)
    for index, (have, want) in enumerate(zip(committed.cells, generated.cells)):
        assert have == want, f"exercises/{solution.name}, cell {index} is stale: run `make exercises`"


@pytest.mark.parametrize("solution", SOLUTIONS, ids=IDS)
def test_no_solution_code_is_left_and_every_stub_is_checked(solution):
    solved, exercise = nbformat.read(solution, as_version=4), exercise_of(solution)
    regions = 0
    for index, (cell, stubbed) in enumerate(zip(solved.cells, exercise.cells)):
        if cell.cell_type != "code":
            continue
        assert make_exercises.BEGIN not in stubbed.source and make_exercises.END not in stubbed.source
        inside, kept = False, []
        for line in cell.source.splitlines():
            if line.strip() in (make_exercises.BEGIN, make_exercises.END):
                inside = line.strip() == make_exercises.BEGIN
                regions += inside
            elif inside and line.strip() and not line.strip().startswith("#"):
                kept.append(line)
        outside = cell.source.splitlines()
        for line in kept:
            leaked = stubbed.source.splitlines().count(line) - (outside.count(line) - kept.count(line))
            assert leaked <= 0, f"{solution.name}, cell {index}: solution line left in the exercise: {line!r}"
        stubs = len(STUB.findall(stubbed.source))
        if stubs:
            following = next(c for c in exercise.cells[index + 1:] if c.cell_type == "code")
            assert "check.ch" in following.source, f"{solution.name}, cell {index}: no check cell after the task"
        assert stubs == cell.source.count(make_exercises.BEGIN)
    assert regions >= 3, "3 to 6 tasks per chapter"


@pytest.mark.parametrize("solution", SOLUTIONS, ids=IDS)
def test_committed_outputs_say_todo_in_exercises_and_pass_in_solutions(solution):
    exercise_lines = check_lines(exercise_of(solution))
    solution_lines = check_lines(nbformat.read(solution, as_version=4))
    tasks = len(STUB.findall("\n".join(c.source for c in exercise_of(solution).cells)))
    assert len(exercise_lines) == len(solution_lines) == tasks
    assert all(line.startswith("TODO Task ") for line in exercise_lines), exercise_lines
    assert all(line.startswith("PASS Task ") for line in solution_lines), solution_lines


def tiny_solution(path):
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# Exercises 99 · Demo\n[![Open In Colab](https://colab.research.google.com/"
                                      "assets/colab-badge.svg)](https://colab.research.google.com/github/o/r/blob/"
                                      "main/solutions/99_demo.ipynb)\n\n## Task 1 · Double it"),
        nbformat.v4.new_code_cell("class Doubler:\n    def __call__(self, x):\n        # Hint: twice x.\n"
                                  "        ### BEGIN SOLUTION\n        y = 2 * x\n        return y\n"
                                  "        ### END SOLUTION\n\n\ndouble = Doubler()"),
        nbformat.v4.new_code_cell("from gdlab import check\n\n"
                                  "check.run('Task 1 · double it',\n"
                                  "          lambda: check.close(check.call(double, 3), 6, 'x'))"),
    ]
    for index, cell in enumerate(notebook.cells):
        cell["id"] = f"demo-{index}"
    path.parent.mkdir(parents=True)
    nbformat.write(notebook, path)


def test_generator_is_reproducible_end_to_end(tmp_path, capsys):
    solution = tmp_path / "solutions" / "99_demo.ipynb"
    tiny_solution(solution)
    (tmp_path / "exercises").mkdir()
    exercise = tmp_path / "exercises" / "99_demo.ipynb"

    assert make_exercises.main([str(solution)]) == 0
    first = exercise.read_bytes()
    assert make_exercises.main(["--check", str(solution)]) == 0
    assert exercise.read_bytes() == first

    cells = json.loads(first)["cells"]
    assert [c["id"] for c in cells] == ["demo-0", "demo-1", "demo-2"]
    assert "github/o/r/blob/main/exercises/99_demo.ipynb" in "".join(cells[0]["source"])
    assert "".join(cells[1]["source"]) == ("class Doubler:\n    def __call__(self, x):\n        # Hint: twice x.\n"
                                           '        raise NotImplementedError("Task 1: replace this line with your '
                                           'code")\n\n\ndouble = Doubler()')
    assert [c["execution_count"] for c in cells[1:]] == [1, 2]
    assert "".join(cells[2]["outputs"][0]["text"]).startswith("TODO Task 1 · double it: not implemented yet")
    assert all("execution" not in c["metadata"] for c in cells)

    exercise.write_text(first.decode().replace("Double it", "Triple it"), encoding="utf-8")
    capsys.readouterr()
    assert make_exercises.main(["--check", str(solution)]) == 1
    assert "99_demo.ipynb differs from what its solution generates" in capsys.readouterr().out


@pytest.mark.parametrize("source, task, message", [
    ("### BEGIN SOLUTION\nx = 1\n### END SOLUTION", "1", "must sit inside a function body"),
    ("def f():\n    ### BEGIN SOLUTION\n    return 1", "1", "BEGIN SOLUTION without ### END SOLUTION"),
    ("def f():\n    return 1\n    ### END SOLUTION", "1", "END SOLUTION without ### BEGIN SOLUTION"),
    ("def f():\n    ### BEGIN SOLUTION\n    ### BEGIN SOLUTION\n", "1", "BEGIN SOLUTION again"),
    ("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION", None, "no '## Task N' heading"),
])
def test_malformed_solutions_are_rejected_with_their_place(source, task, message):
    with pytest.raises(ValueError, match=re.escape(message)) as error:
        make_exercises.stub_out(source, task, "demo.ipynb, cell 3")
    assert str(error.value).startswith("demo.ipynb, cell 3, line ")
