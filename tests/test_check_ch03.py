"""gdlab.check.ch03: right answers PASS, untouched tasks TODO, and planted mistakes FAIL with the right hint."""
import numpy as np
import pytest

from conftest import assert_reports, stub
from gdlab import check
from gdlab.data import minibatches
from gdlab.models import mse_grad, mse_loss


def epoch_batches(n, batch_size, rng, mistake=None):
    if mistake == "in order":
        order = np.arange(n)
    elif mistake == "replacement":
        order = rng.integers(0, n, n)
    elif mistake == "fixed seed":
        order = np.random.default_rng(0).permutation(n)
    elif mistake == "global":
        order = np.random.permutation(n)
    else:
        order = rng.permutation(n).astype(float if mistake == "floats" else int)
    if mistake == "array_split":
        return np.array_split(order, batch_size)
    if mistake == "reshape":
        return list(order.reshape(-1, batch_size))
    if mistake == "split":
        return np.split(order, n // batch_size)
    stop = n - n % batch_size if mistake == "drop last" else n
    return [order[start:start + batch_size] for start in range(0, stop, batch_size)]


def mse_grad_loop(w, b, X, y):
    dw, db = np.zeros(len(w)), 0.0
    for x_i, y_i in zip(X, y):
        residual = x_i @ w + b - y_i
        dw += 2 * residual * x_i
        db += 2 * residual
    return dw / len(y), db / len(y)


def mse_grad_rows(w, b, X, y):
    return np.mean([2 * (X[i] @ w + b - y[i]) * X[i] for i in range(len(y))], axis=0), 2 * np.mean(X @ w + b - y)


def vectorised(w, b, X, y, mistake=None):
    r = (X @ w - y if mistake == "no bias" else X @ w + b - y) * (-1 if mistake == "sign" else 1)
    dw = 2 * (X @ r if mistake == "X @ r" else X.T @ r) / len(y)
    dw = {"no 2": dw / 2, "sum": dw * len(y), "per row": 2 * X * r[:, None],
          "/ d": dw * len(y) / len(w), "column": dw[:, None]}.get(mistake, dw)
    db = {"db no 2": r.mean(), "db sum": 2 * r.sum(), "db / d": 2 * r.sum() / len(w)}.get(mistake, 2 * r.mean())
    return dw, db


def mse_grad_columns(w, b, X, y):
    r = X @ w + b - y
    return np.array([2 * np.mean(r * column) for column in X.T]), 2 * r.mean()


def mse_grad_column_index(w, b, X, y):
    r = X @ w + b - y
    return np.array([2 * np.mean(r * X[:, j]) for j in range(X.shape[1])]), 2 * r.mean()


def train(X, y, batch_size, lr, epochs, seed=0, mistake=None):
    """Mini-batch SGD written the textbook way, with index arrays, and one planted mistake."""
    rng = np.random.default_rng(seed)
    n = len(y)
    w, b = np.zeros(X.shape[1]), 0.0
    losses = [np.mean((X @ w + b - y) ** 2)]
    for _ in range(epochs + {"short": -1, "long": 1}.get(mistake, 0)):
        if mistake == "reseed":
            rng = np.random.default_rng(seed)
        if mistake == "in order":
            order = np.arange(n)
        elif mistake == "choice":
            order = rng.choice(n, n, replace=False)
        else:
            order = rng.permutation(n)
        for start in range(0, n - n % batch_size if mistake == "drop last" else n, batch_size):
            rows = order[start:start + batch_size]
            r = X[rows] @ w + b - y[rows]
            dw, db = 2 * X[rows].T @ r, 2 * r.sum()
            if mistake != "sum":
                dw, db = dw / len(rows), db / len(rows)
            step = {"lr / B": lr / batch_size, "uphill": -lr}.get(mistake, lr)
            w = w - step * dw
            if mistake == "stale":
                db = 2 * np.mean(X[rows] @ w + b - y[rows])
            if mistake != "frozen":
                b = b - step * db
            if mistake == "per update":
                losses.append(np.mean((X @ w + b - y) ** 2))
        if mistake != "per update":
            losses.append(np.mean((X @ w + b - y) ** 2))
    losses = {"rmse": np.sqrt(losses), "sse": n * np.array(losses)}.get(mistake, losses)
    return w, b, losses[1:] if mistake == "no start" else losses[:-1] if mistake == "no end" else losses


def train_with_minibatches(X, y, batch_size, lr, epochs, seed=0, mistake=None):
    """The same loop with gdlab.data.minibatches, and the mistakes a learner makes with it."""
    rng = np.random.default_rng(seed)
    w, b = np.zeros(X.shape[1]), 0.0
    losses = [mse_loss(w, b, X, y)]
    for _ in range(epochs):
        if mistake == "seed to minibatches":
            batches = minibatches(X, y, batch_size, seed)
        elif mistake == "no rng":
            batches = minibatches(X, y, batch_size)
        else:
            batches = minibatches(X, y, batch_size, rng)
        batch_losses = []
        for X_batch, y_batch in batches:
            dw, db = mse_grad(w, b, *((X, y) if mistake == "full gradient" else (X_batch, y_batch)))
            batch_losses.append(mse_loss(w, b, X_batch, y_batch))
            w, b = w - lr * dw, b - lr * db
        losses.append({"last batch": batch_losses[-1], "last batch after": mse_loss(w, b, X_batch, y_batch),
                       "mean of batches": np.mean(batch_losses)}.get(mistake, mse_loss(w, b, X, y)))
    return w, b, losses


def noise_floor(X, y, f_star, lr, batch_size, mistake=None, seed=0, epochs=20):
    """Mean excess loss after every update of the second half of the epochs; with a mistake, something else."""
    rng, n = np.random.default_rng(seed), len(y)
    w, b = np.zeros(X.shape[1]), 0.0
    excess, thetas = [], []
    for epoch in range(epochs):
        if mistake == "independent draws":
            draws = [rng.integers(0, n, batch_size) for _ in range(-(-n // batch_size))]
            batches = [(X[rows], y[rows]) for rows in draws]
        else:
            batches = minibatches(X, y, batch_size, rng)
        for X_batch, y_batch in batches:
            before = mse_loss(w, b, X_batch, y_batch)
            dw, db = mse_grad(w, b, X_batch, y_batch)
            w, b = w - lr * dw, b - lr * db
            if mistake == "from the start" or epoch >= epochs // 2:
                excess.append({"running loss": before, "batch after its step": mse_loss(w, b, X_batch, y_batch)}
                              .get(mistake, mse_loss(w, b, X, y)) - f_star)
                thetas.append(np.append(w, b))
    if mistake == "last sample":
        return mse_loss(w, b, X, y) - f_star
    if mistake == "averaged parameters":
        theta = np.mean(thetas, axis=0)
        return mse_loss(theta[:-1], theta[-1], X, y) - f_star
    return {"loss": np.mean(excess) + f_star, "reversed": -np.mean(excess)}.get(mistake, np.mean(excess))


def noise_floor_per_epoch(X, y, f_star, lr, batch_size, train=train):
    """The same with Task 4's train: one sample per epoch, ten in all, too few to average out the noise."""
    epochs = 20
    w, b, losses = train(X, y, batch_size, lr, epochs)
    return np.mean(losses[epochs // 2:]) - f_star


def raise_value_error(*_):
    raise ValueError("boom")


CH03 = [
    ("task1", epoch_batches, "PASS", "every row once per epoch"),
    ("task1", stub(1), "TODO", "not implemented yet"),
    ("task1", lambda n, b, rng: epoch_batches(n, b, rng, "drop last"), "FAIL", "the last, shorter batch of 2 rows"),
    ("task1", lambda n, b, rng: epoch_batches(n, b, rng, "replacement"), "FAIL", "draw the order without replacement"),
    ("task1", lambda n, b, rng: epoch_batches(n, b, rng, "in order"), "FAIL", "the rows come in order"),
    ("task1", lambda n, b, rng: epoch_batches(n, b, rng, "fixed seed"), "FAIL", "got the same order"),
    ("task1", lambda n, b, rng: epoch_batches(n, b, rng, "global"), "FAIL", "not with np.random's global"),
    ("task1", lambda n, b, rng: epoch_batches(n, b, rng, "array_split"), "FAIL", "makes batch_size batches"),
    ("task1", lambda n, b, rng: epoch_batches(n, b, rng, "floats"), "FAIL", "row indices (integers)"),
    ("task1", lambda n, b, rng: epoch_batches(n, b, rng, "reshape"), "FAIL", "cannot all have the same size"),
    ("task1", lambda n, b, rng: epoch_batches(n, b, rng, "split"), "FAIL", "nearly equal pieces"),
    ("task1", lambda n, b, rng: [rng.permutation(n) + 1], "FAIL", "must lie between 0 and n - 1"),
    ("task1", raise_value_error, "FAIL", "raised ValueError: boom"),
    ("task2", lambda n, b: (-(-n // b), n), "PASS", "SGD 1000 updates"),
    ("task2", stub(2), "TODO", "not implemented yet"),
    ("task2", lambda n, b: (n // b, n), "FAIL", "forgets the last, shorter batch"),
    ("task2", lambda n, b: (n / b, n), "FAIL", "a whole number"),
    ("task2", lambda n, b: (n // b + 1, n), "FAIL", "counts a batch too many when batch_size divides n"),
    ("task2", lambda n, b: (-(-n // b), -(-n // b) * b), "FAIL", "the last batch holds only the rows that are left"),
    ("task2", lambda n, b: (-(-n // b), -(-n // b)), "FAIL", "not one per update"),
    ("task2", lambda n, b: (-(-n // b), b), "FAIL", "that is the cost of one update"),
    ("task2", lambda n, b: (n, -(-n // b)), "FAIL", "swapped"),
    ("task2", lambda n, b: -(-n // b), "FAIL", "should return the 2 values (updates, examples), got a int"),
    ("task3", vectorised, "PASS", "equals the loop"),
    ("task3", stub(3), "TODO", "not implemented yet"),
    ("task3", mse_grad_loop, "FAIL", "takes the rows of X one at a time"),
    ("task3", mse_grad_rows, "FAIL", "takes the rows of X one at a time"),
    ("task3", mse_grad_columns, "FAIL", "takes the columns of X one at a time"),
    ("task3", mse_grad_column_index, "FAIL", "takes the columns of X one at a time"),
    ("task3", lambda *a: vectorised(*a, "column"), "FAIL", "not a column (d, 1)"),
    ("task3", lambda *a: vectorised(*a, "db / d"), "FAIL", "your db for n = 7 rows, d = 3 features: divide by n"),
    ("task3", lambda *a: vectorised(*a, "no 2"), "FAIL", "your dw for n = 7 rows, d = 3 features: the 2 from"),
    ("task3", lambda *a: vectorised(*a, "sum"), "FAIL", "divide by n"),
    ("task3", lambda *a: vectorised(*a, "sign"), "FAIL", "points the wrong way"),
    ("task3", lambda *a: vectorised(*a, "no bias"), "FAIL", "the bias is missing from the residual"),
    ("task3", lambda *a: vectorised(*a, "per row"), "FAIL", "one gradient per row"),
    ("task3", lambda *a: vectorised(*a, "X @ r"), "FAIL", "the gradient needs X.T @ r"),
    ("task3", lambda *a: vectorised(*a, "/ d"), "FAIL", "not by d, the number of features"),
    ("task3", lambda *a: vectorised(*a, "db no 2"), "FAIL", "your db for n = 7 rows, d = 3 features: the 2 from"),
    ("task3", lambda *a: vectorised(*a, "db sum"), "FAIL", "db is the mean of 2 r"),
    ("task3", lambda *a: vectorised(*a)[0], "FAIL", "should return the 2 values (dw, db), got an array of shape (3,)"),
    ("task4", train, "PASS", "3 epochs of 7 updates each"),
    ("task4", stub(4), "TODO", "not implemented yet"),
    ("task4", lambda *a: train(*a, mistake="sum"), "FAIL", "not the sum"),
    ("task4", lambda *a: train(*a, mistake="uphill"), "FAIL", "you moved uphill"),
    ("task4", lambda *a: train(*a, mistake="rmse"), "FAIL", "the roots of the losses (RMSE)"),
    ("task4", lambda *a: train(*a, mistake="sse"), "FAIL", "sums of squared errors"),
    ("task4", lambda *a: train(*a, mistake="lr / B"), "FAIL", "do not divide lr by the batch size"),
    ("task4", lambda *a: train(*a, mistake="short"), "FAIL", "one epoch short"),
    ("task4", lambda *a: train(*a, mistake="long"), "FAIL", "one epoch too many"),
    ("task4", lambda *a: train(*a, mistake="reseed"), "FAIL", "every epoch used the same order"),
    ("task4", lambda *a: train(*a, mistake="in order"), "FAIL", "the rows came in order"),
    ("task4", lambda *a: train(*a, mistake="drop last"), "FAIL", "the last, shorter batch was skipped"),
    ("task4", lambda *a: train(*a, mistake="frozen"), "FAIL", "the bias never moved"),
    ("task4", lambda *a: train(*a, mistake="stale"), "FAIL", "db was computed after w had moved"),
    ("task4", lambda *a: train(*a, mistake="choice"), "FAIL", "the batches may differ"),
    ("task4", lambda *a: train(*a, mistake="per update"), "FAIL", "record it once per epoch"),
    ("task4", lambda *a: train(*a, mistake="no start"), "FAIL", "the loss before training is missing"),
    ("task4", lambda *a: train(*a, mistake="no end"), "FAIL", "the loss after the last epoch is missing"),
    ("task4", train_with_minibatches, "PASS", "3 epochs of 7 updates each"),
    ("task4", lambda *a: train_with_minibatches(*a, mistake="seed to minibatches"), "FAIL",
     "passing the seed itself to minibatches"),
    ("task4", lambda *a: train_with_minibatches(*a, mistake="no rng"), "FAIL", "two calls with the same seed"),
    ("task4", lambda *a: train_with_minibatches(*a, mistake="full gradient"), "FAIL", "the gradient of all the rows"),
    ("task4", lambda *a: train_with_minibatches(*a, mistake="last batch"), "FAIL", "last batch (before its step)"),
    ("task4", lambda *a: train_with_minibatches(*a, mistake="last batch after"), "FAIL",
     "last batch (after its step)"),
    ("task4", lambda *a: train_with_minibatches(*a, mistake="mean of batches"), "FAIL",
     "the mean of the batch losses"),
    ("task4", lambda *a: train(*a)[:2], "FAIL", "should return the 3 values (w, b, losses)"),
    ("task5", noise_floor, "PASS", "independently the floors are exactly 3.47e-02, 1.59e-02, 7.66e-03, 2.99e-03"),
    ("task5", lambda *a: noise_floor(*a, mistake="independent draws"), "PASS", "log-log slope 1.01"),
    ("task5", lambda *a: noise_floor(*a, epochs=10), "PASS", "log-log slope 1.44"),
    ("task5", stub(5), "TODO", "not implemented yet"),
    ("task5", lambda *a: noise_floor_per_epoch(*a, train=stub(4)), "TODO", "this task uses Task 4"),
    ("task5", noise_floor_per_epoch, "FAIL", "one sample of a noisy quantity, or too few"),
    ("task5", lambda *a: noise_floor(*a, mistake="last sample"), "FAIL", "one sample of a noisy quantity, or too few"),
    ("task5", lambda *a: noise_floor(*a, mistake="running loss"), "FAIL", "a running loss"),
    ("task5", lambda *a: noise_floor(*a, mistake="batch after its step"), "FAIL", "the loss of a few rows can be"),
    ("task5", lambda *a: noise_floor(*a, mistake="averaged parameters"), "FAIL", "did you average the parameters"),
    ("task5", lambda *a: noise_floor(*a, mistake="loss"), "FAIL", "that is the loss"),
    ("task5", lambda *a: noise_floor(*a, mistake="from the start"), "FAIL", "includes the descent from w = 0"),
    ("task5", lambda *a: noise_floor(*a, mistake="reversed"), "FAIL", "and so can f* - L"),
    ("task5", lambda X, y, f_star, lr, batch_size: 0.01, "FAIL", "a log-log slope of 0.00"),
    ("task5", lambda X, y, f_star, lr, batch_size: noise_floor(X, y, f_star, lr, 1), "FAIL",
     "averaging 4 gradients"),
    ("task5", lambda X, y, f_star, lr, batch_size: 0.5 * noise_floor(X, y, f_star, lr, batch_size), "FAIL",
     "below the floor of SGD even with shuffled epochs"),
]


@pytest.mark.parametrize("task, answer, status, hint", CH03, ids=[f"{t}-{s}-{h[:30]}" for t, _, s, h in CH03])
def test_ch03(task, answer, status, hint, capsys):
    assert_reports(capsys, getattr(check.ch03, task)(answer), status, hint)


def test_the_noise_floor_is_reported_with_its_measured_numbers(capsys):
    result = check.ch03.task5(noise_floor)
    capsys.readouterr()
    assert "your floors 3.06e-02, 1.24e-02, 4.65e-03, 1.03e-03 at lr = 0.02, 0.01, 0.005, 0.002" in result.message
    assert "log-log slope 1.47" in result.message
    assert "B = 4 lowered the floor 6.4 times" in result.message
    assert "B = 4 lowers them 4.46 times" in result.message


def test_the_exact_floor_matches_independent_draws():
    """The check's exact floor of independent draws is the plateau such a run measures (to the noise of 8 seeds)."""
    from gdlab.check.chapter03 import _floor_problem

    X, y, f_star, references = _floor_problem()
    measured = [noise_floor(X, y, f_star, 0.01, 1, mistake="independent draws", seed=seed) for seed in range(8)]
    assert np.mean(measured) == pytest.approx(references[1, 0.01][1], rel=0.05)
