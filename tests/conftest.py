"""Helpers shared by the test modules (imported as `from conftest import ...`)."""


def stub(task):
    def todo(*args, **kwargs):
        raise NotImplementedError(f"Task {task}: replace this line with your code")

    return todo


def assert_reports(capsys, result, status, hint=""):
    lines = capsys.readouterr().out.splitlines()
    assert lines == [str(result)], "a check prints exactly one line"
    assert lines[0].startswith(status + " ") and result.status == status, lines[0]
    assert hint in result.message, f"expected {hint!r} in: {lines[0]}"
    assert "Traceback" not in lines[0]
