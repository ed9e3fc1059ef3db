"""Checks for exercises/03_batch_stochastic_minibatch.ipynb."""
import functools
import numbers

import numpy as np

from gdlab.check.core import Chapter, Failed, as_array, call, close, fail, near, number, parts, show
from gdlab.data import linear_regression, minibatches
from gdlab.models import LinearRegressionObjective, mse_grad, mse_loss


def _index_batches(batches, where):
    """The learner's batches as a list of 1-D integer arrays of row indices."""
    if not isinstance(batches, (list, tuple)) and not hasattr(batches, "__next__"):
        fail(f"{where} should return a list of index arrays, got a {type(batches).__name__}.")
    arrays = [np.asarray(batch) for batch in batches]
    for k, batch in enumerate(arrays):
        if batch.ndim != 1 or not np.issubdtype(batch.dtype, np.integer):
            fail(f"{where}: batch {k} should be a 1-D array of row indices (integers), "
                 f"got dtype {batch.dtype}, shape {batch.shape}; slice the order from rng.permutation(n).")
    if not arrays:
        fail(f"{where} returned no batches.")
    return arrays


def _call_epoch_batches(epoch_batches, n, batch_size, rng):
    """The learner's epoch_batches(n, batch_size, rng); a hint when reshape or np.split cannot cut equal batches."""
    try:
        return call(epoch_batches, n, batch_size, rng)
    except Failed as failure:
        if "reshape" in str(failure) or "equal division" in str(failure):
            fail(f"epoch_batches({n}, {batch_size}, rng) raised an error from reshape or split: with n = {n} and "
                 f"batch_size = {batch_size} the batches cannot all have the same size, the last one is shorter. "
                 "Slice order[start:start + batch_size] for start in range(0, n, batch_size).")
        raise


def _split_hint(count, n, batch_size):
    """Why a learner got `count` batches of the wrong sizes, when a splitting function explains it."""
    if count == batch_size:
        return " (np.array_split(order, batch_size) makes batch_size batches, not batches of batch_size rows)"
    if count == n // batch_size:
        return (" (np.split or np.array_split(order, n // batch_size) cuts n // batch_size nearly equal pieces, "
                "not batches of batch_size rows and a shorter last one)")
    return ""


class _RowLoop(Exception):
    """Raised when the learner's code takes the rows of X one at a time."""


class _ColumnLoop(Exception):
    """Raised when the learner's code takes the columns of X one at a time."""


class _NoRowLoops(np.ndarray):
    """X that refuses to be looped over in Python (for x in X, X[i], for column in X.T, X[:, j]), so that a
    loop shows."""

    def __iter__(self):
        if self.ndim == 2 and self.strides[0] < self.strides[1]:  # X.T: its "rows" are the columns of X
            raise _ColumnLoop("a Python loop over the columns of X")
        raise _RowLoop("a Python loop over the rows of X")

    def __getitem__(self, key):
        first = key[0] if isinstance(key, tuple) and key else key
        if isinstance(first, numbers.Integral):
            raise _RowLoop("a Python loop over the rows of X")
        if isinstance(key, tuple) and any(isinstance(k, numbers.Integral) for k in key[1:]):
            raise _ColumnLoop("a Python loop over the columns of X")
        return super().__getitem__(key)


# The known mistakes of a training loop, each planted in the reference _train below.
_LOOP_MISTAKES = {
    "uphill": "you moved uphill: the step is w - lr * dw, b - lr * db, against the gradient",
    "summed": "the batch gradient is the mean over its rows, not the sum (a sum makes every step batch_size "
              "times larger); mse_grad already returns the mean",
    "lr / B": "do not divide lr by the batch size: mse_grad returns the mean over the batch already",
    "one epoch short": "one epoch short (off by one): make exactly `epochs` passes, range(epochs)",
    "one epoch too many": "one epoch too many (off by one): make exactly `epochs` passes, range(epochs)",
    "reseeded": "every epoch used the same order: passing the seed itself to minibatches(X, y, batch_size, seed), "
                "or making np.random.default_rng(seed) inside the epoch loop, starts the same shuffle again each "
                "epoch; make rng = np.random.default_rng(seed) once, before the epochs, and pass rng",
    "in order": "the rows came in order 0, 1, 2, ...: shuffle them every epoch (minibatches shuffles by default)",
    "drop last": "the last, shorter batch was skipped; it is a step too",
    "bias frozen": "the bias never moved: update b as well, b = b - lr * db",
    "stale bias": "db was computed after w had moved: compute dw and db at the same point, then update both",
    "full gradient": "every step used the gradient of all the rows, mse_grad(w, b, X, y): that is batch gradient "
                     "descent, once per batch; step along the batch's gradient, mse_grad(w, b, X_batch, y_batch)",
}

# Losses logged from the batches instead of the whole training set, as many training loops print them.
_BATCH_LOSSES = {
    "last batch": "after each epoch, losses has the loss of the epoch's last batch (before its step); record the "
                  "loss of the whole training set, mse_loss(w, b, X, y), once per epoch",
    "last batch, after its step": "after each epoch, losses has the loss of the epoch's last batch (after its "
                                  "step); record the loss of the whole training set, mse_loss(w, b, X, y), once "
                                  "per epoch",
    "mean of the batches": "after each epoch, losses has the mean of the batch losses over the epoch (a running "
                           "loss, measured while w and b moved); record mse_loss(w, b, X, y) on the whole training "
                           "set once the epoch is over",
}


def _train(X, y, batch_size, lr, epochs, seed, mistake=None, logged="whole set"):
    """Reference mini-batch SGD from w = 0, b = 0: theta = [w, b] at the end, and the loss at the start
    and after each epoch. `mistake` (a key of _LOOP_MISTAKES) plants one known error; `logged` (a key of
    _BATCH_LOSSES) logs batch losses after each epoch instead of the loss of the whole set."""
    rng = np.random.default_rng(seed)
    w, b = np.zeros(X.shape[1]), 0.0
    losses = [mse_loss(w, b, X, y)]
    epochs += {"one epoch short": -1, "one epoch too many": 1}.get(mistake, 0)
    for _ in range(epochs):
        if mistake == "reseeded":
            rng = np.random.default_rng(seed)
        batch_losses = []
        for X_batch, y_batch in minibatches(X, y, batch_size, rng, shuffle=mistake != "in order"):
            if mistake == "drop last" and len(y_batch) < batch_size:
                continue
            step = {"summed": lr * len(y_batch), "lr / B": lr / batch_size, "uphill": -lr}.get(mistake, lr)
            dw, db = mse_grad(w, b, *((X, y) if mistake == "full gradient" else (X_batch, y_batch)))
            batch_losses.append(mse_loss(w, b, X_batch, y_batch))
            w = w - step * dw
            if mistake == "stale bias":
                db = mse_grad(w, b, X_batch, y_batch)[1]
            if mistake != "bias frozen":
                b = b - step * db
        losses.append({"whole set": mse_loss(w, b, X, y), "last batch": batch_losses[-1],
                       "last batch, after its step": mse_loss(w, b, X_batch, y_batch),
                       "mean of the batches": np.mean(batch_losses)}[logged])
    return np.append(w, b), np.array(losses)


def _least_squares(X, y):
    """theta* = [w*, b*] and f* = the lowest MSE of a line."""
    objective = LinearRegressionObjective(X, y)
    return objective.minima[0], objective(objective.minima[0])


# Task 5's (batch_size, lr) settings: four steps with B = 1 for the slope, one with B = 4 for the batch size.
_FLOOR_RUNS = ((1, 0.02), (1, 0.01), (1, 0.005), (1, 0.002), (4, 0.02))


def _exact_floor(Z, y, theta, lr, batch_size):
    """The floor of SGD whose batches are drawn independently (rows with replacement), exactly (chapter 03,
    section 6): the stationary spread Sigma of e = theta - theta* solves Sigma = E[T Sigma T] + lr^2 E[g gᵀ], with
    T = I - lr (the batch's curvature) and g the batch's gradient at theta*; the floor is trace(H Sigma) / 2."""
    n, p = Z.shape
    per_row = 2 * (Z @ theta - y)[:, None] * Z  # each row's gradient at theta*
    curvatures = 2 * Z[:, :, None] * Z[:, None, :]  # each row's Hessian, A_i = 2 z_i z_iᵀ
    H = curvatures.mean(axis=0)
    eye = np.eye(p)
    kron_AA = np.einsum("nij,nkl->ikjl", curvatures, curvatures).reshape(p * p, p * p) / n  # E[A_i ⊗ A_i]
    kron_batch = np.kron(H, H) + (kron_AA - np.kron(H, H)) / batch_size  # E[Ā ⊗ Ā] for B independent rows
    step = np.kron(eye, eye) - lr * (np.kron(H, eye) + np.kron(eye, H)) + lr**2 * kron_batch  # E[T ⊗ T]
    noise = lr**2 * per_row.T @ per_row / n / batch_size
    spread = np.linalg.solve(np.eye(p * p) - step, noise.ravel()).reshape(p, p)
    return np.trace(H @ spread) / 2


def _shuffled_floor(Z, y, theta, lr, batch_size, seeds=8, epochs=20):
    """The check's own measurement with shuffled epochs: the mean excess loss after every update of the second
    half of `epochs` epochs, over `seeds` runs made side by side."""
    n = len(y)
    H = 2 * Z.T @ Z / n
    rngs = [np.random.default_rng(1000 + seed) for seed in range(seeds)]
    thetas, excess = np.zeros((seeds, Z.shape[1])), []
    for epoch in range(epochs):
        orders = np.array([rng.permutation(n) for rng in rngs])
        for start in range(0, n, batch_size):
            z, target = Z[orders[:, start:start + batch_size]], y[orders[:, start:start + batch_size]]
            residual = np.einsum("sbi,si->sb", z, thetas) - target
            thetas = thetas - lr * 2 * np.einsum("sb,sbi->si", residual, z) / z.shape[1]
            if epoch >= epochs // 2:
                error = thetas - theta
                excess.append(np.einsum("si,ij,sj->s", error, H, error) / 2)
    return float(np.mean(excess))


@functools.lru_cache(maxsize=1)
def _floor_problem():
    """Task 5's data (400 rows, 5 features), f*, and for each of _FLOOR_RUNS the floors a measurement is compared
    with: (the small-step formula, the exact floor of independent draws, the check's shuffled-epoch measurement)."""
    data = linear_regression(n=400, n_features=5, noise=0.5, seed=0)
    X, y = data.X, data.y
    theta, f_star = _least_squares(X, y)
    Z = np.column_stack([X, np.ones(len(y))])
    floors = {(batch_size, lr): (_floor_formula(X, y, lr, batch_size), _exact_floor(Z, y, theta, lr, batch_size),
                                 _shuffled_floor(Z, y, theta, lr, batch_size))
              for batch_size, lr in _FLOOR_RUNS}
    return X, y, f_star, floors


def _floor_formula(X, y, lr, batch_size):
    """The small-step balance of SGD: excess loss ~ lr * E|grad l_i(theta*)|^2 / (4 B), for B rows drawn
    without replacement (factor (n - B) / (n - 1))."""
    theta, _ = _least_squares(X, y)
    Z = np.column_stack([X, np.ones(len(y))])
    per_row = 2 * (Z @ theta - y)[:, None] * Z
    n = len(y)
    return lr * np.mean(np.sum(per_row**2, axis=1)) / (4 * batch_size) * (n - batch_size) / (n - 1)


def _measured_floor(noise_floor, X, y, f_star, lr, batch_size, where, formula, shuffled):
    """The learner's floor, or a FAIL naming what was measured instead of the excess loss of the iterates."""
    floor = number(call(noise_floor, X.copy(), y.copy(), f_star, lr, batch_size), f"your floor {where}")
    where = f"{where} you measured {floor:.3g}"
    if not np.isfinite(floor):
        fail(f"{where}: it should be a finite number; did the run diverge?")
    if floor < 0:
        fail(f"{where}, below 0: the excess loss of the whole training set, L - f*, is never negative (f* is "
             "its lowest MSE), but the loss of a few rows can be, and so can f* - L. Measure "
             "mse_loss(w, b, X, y) - f_star on the whole training set, not the loss of a batch.")
    if 0 <= floor - f_star <= 10 * formula:
        fail(f"{where}, about f* = {f_star:.3f} itself: that is the loss; the floor is the excess loss L - f*.")
    if floor > 10 * formula:
        fail(f"{where}, far above the floor: your average includes the descent from w = 0. Average only "
             "once SGD has settled (for example over the second half of 20 epochs).")
    if floor < shuffled / 10:
        fail(f"{where}, far below the floor (the check measures about {shuffled:.2e} there): did you average "
             "the parameters and measure the loss of their mean? That removes the floor (iterate averaging, "
             "chapter 03 section 6); the floor is the mean of the excess losses of the iterates themselves, over the "
             "settled part of the run (a single sample can also dip this low).")
    return floor


class ch03(Chapter):
    """03 · Batch, stochastic and mini-batch gradient descent."""

    def task1(epoch_batches):
        "mini-batches of one epoch"
        for n, batch_size in [(10, 4), (12, 4), (7, 7), (6, 1)]:
            where = f"epoch_batches({n}, {batch_size}, rng)"
            rng = np.random.default_rng(0)
            first = _index_batches(_call_epoch_batches(epoch_batches, n, batch_size, rng), where)
            second = _index_batches(call(epoch_batches, n, batch_size, rng), f"the second call of {where}")
            rows = np.concatenate(first)
            if rows.min() < 0 or rows.max() >= n:
                fail(f"{where}: row indices must lie between 0 and n - 1 = {n - 1}; got {rows.min()} to {rows.max()}.")
            full, rest = divmod(n, batch_size)
            expected_sizes = [batch_size] * full + [rest] * (rest > 0)
            sizes = [len(batch) for batch in first]
            unique, counts = np.unique(rows, return_counts=True)
            if rest and len(rows) == full * batch_size and len(unique) == len(rows):
                fail(f"{where}: the last, shorter batch of {rest} rows is missing; an epoch uses every row, so "
                     "slice order[start:start + batch_size] for start in range(0, n, batch_size).")
            if counts.max() > 1:
                fail(f"{where}: row {unique[np.argmax(counts)]} appears {counts.max()} times in one epoch; draw "
                     "the order without replacement, rng.permutation(n), so that each row is used exactly once.")
            if len(unique) < n:
                fail(f"{where}: rows {show(np.setdiff1d(np.arange(n), unique))} never appear; "
                     "every row belongs to exactly one batch.")
            if sizes != expected_sizes:
                fail(f"{where}: batch sizes {sizes}, expected {expected_sizes}: consecutive slices of batch_size "
                     f"rows, the last one smaller{_split_hint(len(sizes), n, batch_size)}.")
            if np.array_equal(rows, np.arange(n)):
                fail(f"{where}: the rows come in order 0, 1, 2, ...; shuffle them every epoch with rng.permutation(n).")
            if n > 6 and np.array_equal(rows, np.concatenate(second)):
                fail(f"{where}: two epochs in a row got the same order; draw a new permutation from the rng you "
                     "are given at every call (do not create np.random.default_rng(...) inside the function).")
            again = _index_batches(call(epoch_batches, n, batch_size, np.random.default_rng(0)), where)
            if not np.array_equal(rows, np.concatenate(again)):
                fail(f"{where}: the same seed gave different batches; shuffle with the rng argument "
                     "(rng.permutation(n)), not with np.random's global generator.")
        return "every row once per epoch, the last batch shorter, a new order every epoch, reproducible from the seed."

    def task2(epoch_cost):
        "the cost of one epoch"
        for n, batch_size in [(10, 4), (1000, 32), (10, 5), (1000, 1), (1000, 1000)]:
            updates = -(-n // batch_size)
            got = parts(call(epoch_cost, n, batch_size), ("updates", "examples"), f"epoch_cost({n}, {batch_size})")
            close([number(v, f"epoch_cost({n}, {batch_size})[{k}]") for k, v in enumerate(got)], [updates, n],
                  f"(updates, examples) for n = {n}, batch_size = {batch_size}", {
                      "n // batch_size forgets the last, shorter batch; it is an update too: round up, "
                      "-(-n // batch_size) or math.ceil(n / batch_size)": [n // batch_size, n],
                      "a number of updates is a whole number: round n / batch_size up": [n / batch_size, n],
                      "n // batch_size + 1 counts a batch too many when batch_size divides n (10 rows in batches "
                      "of 5 make 2 batches): round up, -(-n // batch_size) or math.ceil(n / batch_size)":
                          [n // batch_size + 1, n],
                      "the last batch holds only the rows that are left: an epoch touches each example once, "
                      "n in all": [updates, updates * batch_size],
                      "each update costs batch_size per-example gradients, so an epoch costs n of them, "
                      "not one per update": [updates, updates],
                      "that is the cost of one update; an epoch costs n per-example gradients": [updates, batch_size],
                      "swapped: return (updates, examples)": [n, updates],
                  })
        return ("per epoch of n = 1000 rows: batch GD makes 1 update, mini-batch (B = 32) 32 updates, SGD 1000 "
                "updates, and each costs 1000 per-example gradients.")

    def task3(mse_grad_vectorised):
        "a vectorised gradient"
        rng = np.random.default_rng(3)
        for n, d in [(7, 3), (1, 2), (20, 1)]:
            X, y, w, b = rng.normal(size=(n, d)), rng.normal(size=n), rng.normal(size=d), float(rng.normal())
            r = X @ w + b - y
            try:
                got = call(mse_grad_vectorised, w.copy(), b, X.copy().view(_NoRowLoops), y.copy())
            except Failed as failure:
                if "_RowLoop" in str(failure):
                    fail("your function takes the rows of X one at a time (a Python loop, or X[i]); "
                         "compute all residuals at once, r = X @ w + b - y, then dw = 2 * X.T @ r / n.")
                if "_ColumnLoop" in str(failure):
                    fail("your function takes the columns of X one at a time (for column in X.T, or X[:, j]); "
                         "that loop is short, d steps, but the task asks for whole-array operations: "
                         "dw = 2 * X.T @ r / n is one matrix product for all the features at once.")
                if "matmul" in str(failure):
                    fail(f"a matrix product raised a shape error for n = {n} rows, d = {d} features. X has shape "
                         "(n, d) and the residuals r shape (n,): X @ w gives the predictions, and the gradient needs "
                         "X.T @ r, one entry per feature.")
                raise
            dw, db = parts(got, ("dw", "db"), "mse_grad_vectorised")
            where = f"for n = {n} rows, d = {d} features"
            close(dw, 2 * X.T @ r / n, f"your dw {where}", {
                "the 2 from the square is missing: dw = 2 Xᵀr / n": X.T @ r / n,
                "divide by n: the loop returns the mean over the rows, not the sum": 2 * X.T @ r,
                "the residual is X @ w + b - y; with y - X @ w - b the gradient points the wrong way": -2 * X.T @ r / n,
                "the bias is missing from the residual: r = X @ w + b - y": 2 * X.T @ (X @ w - y) / n,
                "you have one gradient per row, shape (n, d); average them over the rows (axis=0)": 2 * X * r[:, None],
                "divide by n, the number of rows, not by d, the number of features": 2 * X.T @ r / d,
                "dw should be flat, shape (d,), one entry per feature, not a column (d, 1): 2 * X.T @ r / n with "
                "r of shape (n,) gives it": (2 * X.T @ r / n)[:, None],
            })
            close(number(db, f"your db {where}"), 2 * r.mean(), f"your db {where}", {
                "the 2 from the square is missing: db = 2 mean(r)": r.mean(),
                "divide by n: db is the mean of 2 r over the rows, not the sum": 2 * r.sum(),
                "the bias is missing from the residual: r = X @ w + b - y": 2 * (X @ w - y).mean(),
                "divide by n, the number of rows, not by d, the number of features": 2 * r.sum() / d,
            })
        return "equals the loop on 3 datasets (n = 1 included), with no Python loop over the rows."

    def task4(train):
        "one training loop"
        data = linear_regression(n=50, n_features=2, noise=0.5, seed=3)
        X, y, batch_size, lr, epochs, seed = data.X, data.y, 8, 0.05, 3, 0
        theta, losses = _train(X, y, batch_size, lr, epochs, seed)
        where = f"(n = 50, batch_size = {batch_size}, lr = {lr}, epochs = {epochs}, seed = {seed})"
        w, b, got_losses = parts(call(train, X.copy(), y.copy(), batch_size, lr, epochs, seed),
                                  ("w", "b", "losses"), "train")
        got = np.append(as_array(w, "your w"), number(b, "your b"))
        w_again, b_again, _ = parts(call(train, X.copy(), y.copy(), batch_size, lr, epochs, seed),
                                    ("w", "b", "losses"), "train")
        again = np.append(as_array(w_again, "your w"), number(b_again, "your b"))
        if not near(got, again, rtol=1e-12, atol=1e-12):
            fail("two calls with the same seed gave different w and b, so the order of the rows does not come from "
                 "the seed. Make rng = np.random.default_rng(seed) once and pass it: minibatches(X, y, batch_size, "
                 "rng) (without rng, minibatches draws a new random order every time).")
        try:
            close(got, theta, f"your [w, b] after training {where}",
                  {hint: _train(X, y, batch_size, lr, epochs, seed, mistake)[0]
                   for mistake, hint in _LOOP_MISTAKES.items()})
        except Failed as failure:
            if "relative error" not in str(failure):
                raise
            fail(f"{str(failure)[:-1]}. If your steps are right, the batches may differ: use minibatches(X, y, "
                 "batch_size, rng) with rng = np.random.default_rng(seed) made once, before the epochs.")
        got_losses = np.asarray(got_losses, dtype=float)
        if got_losses.shape == (epochs * -(-len(y) // batch_size) + 1,):
            fail("you recorded the loss after every update; record it once per epoch, on the whole training set.")
        close(got_losses, losses, "your list of losses", {
            "the loss before training is missing: losses[0] is the loss at w = 0, b = 0, then one per epoch "
            "(epochs + 1 numbers)": losses[1:],
            "the loss after the last epoch is missing: record it after each epoch (and once before training), "
            "epochs + 1 numbers": losses[:-1],
            **{hint: _train(X, y, batch_size, lr, epochs, seed, logged=logged)[1]
               for logged, hint in _BATCH_LOSSES.items()},
            "those are the roots of the losses (RMSE); record the mean squared error itself, mse_loss(w, b, X, y)":
                np.sqrt(losses),
            "those are sums of squared errors, n times the mean; record the mean squared error, mse_loss(w, b, X, y)":
                len(y) * losses,
        })
        return (f"{epochs} epochs of {-(-len(y) // batch_size)} updates each; the loss went from {losses[0]:.3f} "
                f"to {losses[-1]:.3f}.")

    def task5(noise_floor):
        "the SGD noise floor, measured"
        X, y, f_star, references = _floor_problem()
        floors, again = {}, {}
        for k, run in enumerate(_FLOOR_RUNS):
            batch_size, lr = run
            formula, _, shuffled = references[run]
            where = f"at lr = {lr}, batch_size = {batch_size}"
            floors[run] = _measured_floor(noise_floor, X, y, f_star, lr, batch_size, where, formula, shuffled)
            if batch_size == 1:  # once more, with the same rows in another order: a different draw of the noise
                reordered = np.random.default_rng(k + 1).permutation(len(y))
                again[run] = _measured_floor(noise_floor, X[reordered], y[reordered], f_star, lr, batch_size,
                                             f"{where}, with the rows in another order,", formula, shuffled)
        for (batch_size, lr), floor in again.items():
            # An average over the settled part of a run moves by a few % at lr = 0.02, more at smaller steps,
            # whose noise changes more slowly (over about 1/lr updates); one sample moves by a factor of 2 or more.
            allowed = 0.25 * np.sqrt(0.02 / lr)
            if abs(np.log(floor / floors[batch_size, lr])) > allowed:
                fail(f"at lr = {lr} your floor went from {floors[batch_size, lr]:.3g} to {floor:.3g} when the "
                     "check gave you the same rows in another order (an average of the settled run moves by less "
                     f"than a factor {np.exp(allowed):.2f} there): your number is one sample of a noisy quantity, "
                     "or too few. Average the excess loss after every update of the settled part of the run, over "
                     "10 epochs or more (thousands of samples), not once per epoch or only at the end.")
        steps = [run for run in _FLOOR_RUNS if run[0] == 1]
        lrs, measured = [lr for _, lr in steps], [floors[run] for run in steps]
        slope = np.polyfit(np.log(lrs), np.log(measured), 1)[0]
        if not 0.7 <= slope <= 2.0:
            fail(f"your floors at lr = {', '.join(map(str, lrs))} are {show(measured)}: a log-log slope of "
                 f"{slope:.2f}, where the floor should shrink roughly in proportion to lr (slope about 1). "
                 "Measure each once SGD has settled, over enough epochs to average out the noise.")
        ratio = floors[1, 0.02] / floors[4, 0.02]
        if not 2.5 <= ratio <= 16:
            fail(f"at lr = 0.02, batch_size = 4 changed your floor by a factor {ratio:.2f} compared with "
                 "batch_size = 1; averaging 4 gradients (their mean, not their sum) divides their noise variance "
                 "by about 4, and the floor with it.")
        for (batch_size, lr), floor in [*((run, floors[run]) for run in steps), *again.items()]:
            _, exact, shuffled = references[batch_size, lr]
            where = f"at lr = {lr}, batch_size = {batch_size} you measured {floor:.3g}"
            if floor > 1.4 * exact:
                fail(f"{where}, above the floor of SGD even with independent draws ({exact:.2e}, exactly). Did you "
                     "average the losses of the batches (a running loss)? Each is measured on rows the steps have "
                     "not fitted yet, so they run high. Measure mse_loss(w, b, X, y) - f_star on the whole "
                     "training set after each update (and average thousands of them: a single sample can also land "
                     "this high).")
            if floor < 0.6 * shuffled:
                fail(f"{where}, below the floor of SGD even with shuffled epochs (the check measures about "
                     f"{shuffled:.2e} there, over 8 seeds). One sample of the excess loss, or a few, can land "
                     "that low: average the excess loss after every update of the settled part of the run.")
        exact = [references[run][1] for run in steps]
        exact_slope = np.polyfit(np.log(lrs), np.log(exact), 1)[0]
        return (f"your floors {', '.join(f'{v:.2e}' for v in measured)} at lr = {', '.join(map(str, lrs))} (B = 1), "
                f"log-log slope {slope:.2f}; B = 4 lowered the floor {ratio:.1f} times. With batches drawn "
                f"independently the floors are exactly {', '.join(f'{v:.2e}' for v in exact)} (slope "
                f"{exact_slope:.2f}) and B = 4 lowers them {exact[0] / references[4, 0.02][1]:.2f} times; shuffled "
                "epochs cancel part of the noise, the more so the smaller the step (chapter 03, section 6), so "
                "their floors sit lower, the slope is steeper and the drop larger.")
