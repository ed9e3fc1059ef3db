"""gdlab.check: the core: PASS / FAIL / TODO lines, named mistakes, chapters registering their tasks."""
import subprocess
import sys

import numpy as np
import pytest

from conftest import assert_reports, stub
from gdlab import check

# ---------------------------------------------------------------------------------------------
# The core


def test_run_reports_pass_fail_todo_and_exceptions_in_one_line(capsys):
    result = check.run("Task 1 · demo", lambda: "all good")
    assert_reports(capsys, result, "PASS", "all good")
    assert result.passed and str(result) == "PASS Task 1 · demo: all good"

    result = check.run("Task 1 · demo", lambda: check.fail("wrong\n  sign"))
    assert_reports(capsys, result, "FAIL", "wrong sign")
    assert not result.passed

    result = check.run("Task 1 · demo", lambda: check.call(stub(1)))
    assert_reports(capsys, result, "TODO", "not implemented yet")

    result = check.run("Task 2 · demo", lambda: check.call(stub(1)))
    assert_reports(capsys, result, "TODO", "this task uses Task 1, which is not implemented yet")

    def broken(x):
        return 1 / x

    result = check.run("Task 1 · demo", lambda: check.call(broken, 0))
    assert_reports(capsys, result, "FAIL", "broken raised ZeroDivisionError: division by zero")


def test_run_turns_an_unusable_answer_into_a_fail(capsys):
    result = check.run("Task 1 · demo", lambda: check.close(["a", "b"], [1.0, 2.0], "your answer"))
    assert_reports(capsys, result, "FAIL", "your answer should be numbers, got a list")
    result = check.run("Task 1 · demo", lambda: check.number({"x": 1}, "your answer") + 1)
    assert_reports(capsys, result, "FAIL", "should be numbers")


@pytest.mark.parametrize("actual, hint", [
    (np.array([1.0, 2.0]), None),
    (np.array([1.0, 2.0 + 1e-12]), None),
    (np.array([-1.0, -2.0]), "wrong sign"),
    (np.array([2.0, 4.0]), "off by a factor of 2 (twice"),
    (np.array([0.5, 1.0]), "off by a factor of 2 (half"),
    (np.array([3.0, 6.0]), "gradients accumulated: call zero_grad"),
    (np.array([[1.0], [2.0]]), "has shape (2, 1), expected (2,): as many numbers, arranged differently"),
    (np.array([1.0, 2.0, 3.0]), "has shape (3,), expected (2,)"),
    (np.array([1.0, np.nan]), "contains NaN or inf"),
    (None, "did you forget `return`?"),
    (np.array([1.0, 2.5]), "is [1, 2.5], expected [1, 2] (relative error 0.19)"),
])
def test_close_names_the_mistake(actual, hint):
    mistakes = {"gradients accumulated: call zero_grad before backward": np.array([3.0, 6.0])}
    if hint is None:
        np.testing.assert_array_equal(check.close(actual, [1.0, 2.0], "g", mistakes), actual)
        return
    with pytest.raises(check.Failed) as failure:
        check.close(actual, [1.0, 2.0], "g", mistakes)
    assert hint in str(failure.value) and str(failure.value).startswith("g")


def test_named_mistakes_come_before_the_generic_ones():
    with pytest.raises(check.Failed, match="forgot the bias correction"):
        check.close([2.0], [1.0], "m", {"forgot the bias correction": [2.0]})


def test_close_accepts_torch_tensors():
    torch = pytest.importorskip("torch")
    check.close(torch.tensor([1.0, 2.0], requires_grad=True) * 1, [1.0, 2.0], "t")


def test_number_wants_one_number():
    assert check.number(np.float64(2.5), "x") == 2.5
    with pytest.raises(check.Failed, match=r"one number, got an array of shape \(1,\)"):
        check.number(np.array([2.5]), "x")


def test_hint_on_adds_the_hint_of_a_known_error_message_and_keeps_any_other_failure():
    def backward():
        raise RuntimeError("element 0 of tensors does not require grad")

    with pytest.raises(check.Failed) as caught:
        check.call(backward)
    with pytest.raises(check.Failed, match="does not require grad.* → call .requires_grad_\\(\\) first\\.$"):
        check.hint_on(caught.value, {"no attribute": "another hint",
                                     "does not require grad": "call .requires_grad_() first"})
    with pytest.raises(check.Failed) as unknown:
        check.hint_on(caught.value, {"no attribute": "another hint"})
    assert unknown.value is caught.value


def test_a_new_chapter_registers_its_tasks(capsys):
    class ch99(check.Chapter):
        """99 · Demo."""

        def task1(double):
            "doubling"
            check.close(check.call(double, 3.0), 6.0, "double(3)")
            return "doubles."

    result = ch99.task1(lambda x: 2 * x)
    assert_reports(capsys, result, "PASS", "doubles.")
    assert str(result).startswith("PASS Task 1 · doubling: ")
    assert_reports(capsys, ch99.task1(lambda x: -2 * x), "FAIL", "double(3): wrong sign")
    assert ch99.task1.__doc__ == "doubling"


def test_import_check_is_light():
    code = "import sys, gdlab.check; print([m for m in ('matplotlib', 'torch', 'ipywidgets') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_result_does_not_display_twice_in_a_notebook():
    result = check.Result("PASS", "Task 1 · x", "fine")
    assert result._ipython_display_() is None
