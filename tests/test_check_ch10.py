"""gdlab.check.ch10: right answers PASS, planted mistakes FAIL with their hint, stubs say TODO."""
import pytest

torch = pytest.importorskip("torch")
from torch import nn

from conftest import assert_reports, stub
from gdlab import check

torch.set_num_threads(1)


def training_step(model, optimizer, xb, yb, zero=True, reduce=torch.mean, order="right", item=True, flat=False,
                  error=torch.square, then=None):
    if zero:
        optimizer.zero_grad()
    output = model(xb).squeeze() if flat else model(xb)
    loss = reduce(error(output - yb))
    if then is not None:
        loss = then(loss)
    if order == "step first":
        optimizer.step()
        loss.backward()
    elif order == "no step":
        loss.backward()
    elif order == "zero between":
        loss.backward()
        optimizer.zero_grad()
        optimizer.step()
    elif order == "backward twice":
        loss.backward(retain_graph=True)
        loss.backward()
        optimizer.step()
    elif order == "loss after the step":
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            loss = reduce(error(model(xb) - yb))
    else:
        loss.backward()
        optimizer.step()
    return {True: loss.item(), False: loss, "detach": loss.detach(), "method": loss.item}[item]


def step_under_no_grad(model, optimizer, xb, yb):
    optimizer.zero_grad()
    with torch.no_grad():
        loss = ((model(xb) - yb) ** 2).mean()
    loss.backward()
    optimizer.step()
    return loss.item()


def step_by_hand(model, optimizer, xb, yb, no_grad=True):
    optimizer.zero_grad()
    loss = ((model(xb) - yb) ** 2).mean()
    loss.backward()
    if no_grad:
        with torch.no_grad():
            for p in model.parameters():
                p -= 0.05 * p.grad
    else:
        for p in model.parameters():
            p -= 0.05 * p.grad
    return loss.item()


def step_with_mse_loss(model, optimizer, xb, yb):
    model.zero_grad()
    loss = nn.MSELoss()(model(xb), yb)
    loss.backward()
    optimizer.step()
    return loss.item()


def validation_loss(model, X_val, y_val, mode="eval", item=True):
    if mode == "eval":
        model.eval()
    with torch.no_grad():
        loss = nn.functional.mse_loss(model(X_val), y_val)
    return loss.item() if item else loss


def fit(model, loader, optimizer, epochs, X_val, y_val, train_mode="every epoch", extra=0, average="examples",
        step=training_step, validate="after", evaluate="eval", item=True):
    if train_mode == "once":
        model.train()
    train_losses, val_losses = [], []
    for _ in range(epochs + extra):
        if validate == "before":
            val_losses.append(validation_loss(model, X_val, y_val, evaluate, item))
        if train_mode == "every epoch":
            model.train()
        total, seen, batch_losses = 0.0, 0, []
        for xb, yb in loader:
            loss = step(model, optimizer, xb, yb)
            total, seen = total + loss * len(xb), seen + len(xb)
            batch_losses.append(loss)
        train_losses.append({"examples": total / seen, "batches": sum(batch_losses) / len(batch_losses),
                             "sum": sum(batch_losses), "last": batch_losses[-1],
                             "full batches": total / (len(loader) * loader.batch_size),
                             "per batch": total / len(loader)}[average])
        if validate == "after":
            val_losses.append(validation_loss(model, X_val, y_val, evaluate, item))
        if train_mode == "at the end":
            model.train()
    return train_losses, val_losses


def fit_restoring_the_mode(model, loader, optimizer, epochs, X_val, y_val):
    """Right too: train() once, and after each validation the mode it found is put back."""
    model.train()
    train_losses, val_losses = [], []
    for _ in range(epochs):
        total = 0.0
        for xb, yb in loader:
            total += training_step(model, optimizer, xb, yb) * len(xb)
        train_losses.append(total / len(loader.dataset))
        model.eval()
        with torch.no_grad():
            val_losses.append(((model(X_val) - y_val) ** 2).mean().item())
        model.train()
    return train_losses, val_losses


def fit_validation_with_grad(model, loader, optimizer, epochs, X_val, y_val):
    train_losses, val_losses = fit(model, loader, optimizer, epochs, X_val, y_val)
    model.eval()
    return train_losses, [nn.functional.mse_loss(model(X_val), y_val) for _ in val_losses]


def fit_per_batch(model, loader, optimizer, epochs, X_val, y_val):
    model.train()
    losses = [training_step(model, optimizer, xb, yb) for _ in range(epochs) for xb, yb in loader]
    return losses, [validation_loss(model, X_val, y_val)] * epochs


def init_stds(weight, gain=1.0, fan=1, two=2.0, root=0.5, xavier_two=2.0, use_gain=True, he_gain=False, swap=False):
    fan_out, fan_in = weight.shape
    he = (gain if he_gain else 1.0) * (two / weight.shape[fan]) ** root
    xavier = (gain if use_gain else 1.0) * (xavier_two / (fan_in + fan_out)) ** 0.5
    return (xavier, he) if swap else (he, xavier)


def gradient_norms(model, loss_fn, X, y, zero=True, params=None, reverse=False, square=False, of="grad", backward=True,
                   zero_after=False, norm=torch.linalg.norm):
    if zero:
        model.zero_grad()
    if backward:
        loss_fn(model(X), y).backward()
    if zero_after:
        model.zero_grad()
    tensors = [m.weight for m in model.modules() if isinstance(m, nn.Linear)] if params is None else list(params(model))
    norms = [norm(t.grad if of == "grad" else t).item() ** (2 if square else 1) for t in tensors]
    return norms[::-1] if reverse else norms


def init_with(how, value=None):
    def fix_init(model):
        for m in model.modules():
            if isinstance(m, nn.Linear):
                if how == "xavier":
                    nn.init.xavier_normal_(m.weight, gain=value)
                elif how == "he":
                    nn.init.kaiming_normal_(m.weight)
                elif how == "normal":
                    nn.init.normal_(m.weight, 0.0, value)
                elif how == "constant":
                    nn.init.constant_(m.weight, value)
                elif how == "default":
                    m.reset_parameters()
                    continue
                nn.init.zeros_(m.bias)

    return fix_init


def returns_a_new_model(model):
    fresh = nn.Sequential(*[nn.Linear(m.in_features, m.out_features) for m in model if isinstance(m, nn.Linear)])
    init_with("xavier", 5 / 3)(fresh)
    return fresh


def raise_value_error(*args):
    raise ValueError("boom")


CH10 = [
    ("task1", training_step, "PASS", "3 steps match torch's reference"),
    ("task1", step_with_mse_loss, "PASS", "the batch losses were 2.0827"),
    ("task1", stub(1), "TODO", "not implemented yet"),
    ("task1", lambda *a: training_step(*a, zero=False), "FAIL", "call optimizer.zero_grad() before loss.backward()"),
    ("task1", lambda *a: training_step(*a, reduce=torch.sum), "FAIL", "summed over the batch, not averaged"),
    ("task1", lambda *a: training_step(*a, order="step first"), "FAIL", "step() after backward()"),
    ("task1", lambda *a: training_step(*a, order="no step"), "FAIL", "the parameters did not move"),
    ("task1", lambda *a: training_step(*a, order="zero between"), "FAIL", "never between backward() and step()"),
    ("task1", lambda *a: training_step(*a, item=False), "FAIL", "holds on to the batch's whole graph"),
    ("task1", lambda *a: training_step(*a, item="detach"), "FAIL", "this task asks for loss.item(), a Python float"),
    ("task1", lambda *a: training_step(*a) and None, "FAIL", "did you forget `return loss.item()`?"),
    ("task1", lambda *a: training_step(*a, flat=True), "FAIL", "broadcast to a (batch, batch) matrix"),
    ("task1", lambda *a: training_step(*a, error=torch.abs), "FAIL", "that is the mean absolute error"),
    ("task1", step_under_no_grad, "FAIL", "was the forward pass run under torch.no_grad()?"),
    ("task1", step_by_hand, "FAIL", "you updated the parameters by hand, a plain SGD step"),
    ("task1", lambda *a: step_by_hand(*a, no_grad=False), "FAIL", "optimizer.step() does it for you"),
    ("task1", lambda *a: training_step(*a, item="method"), "FAIL", "returned loss.item, the method itself"),
    ("task1", lambda *a: training_step(*a, then=torch.sqrt), "FAIL", "that is the root of the mean squared error"),
    ("task1", lambda *a: training_step(*a, then=lambda loss: loss / 2), "FAIL", "the task's loss has no ½"),
    ("task1", lambda *a: training_step(*a, order="backward twice"), "FAIL", "backward() ran twice"),
    ("task1", lambda *a: training_step(*a, order="loss after the step"), "FAIL", "those are the losses after the step"),
    ("task1", raise_value_error, "FAIL", "raise_value_error raised ValueError: boom"),
    ("task2", fit, "PASS", "dropout on for training and off for validation: training losses 2.3"),
    ("task2", fit_restoring_the_mode, "PASS", "validation losses"),
    ("task2", stub(2), "TODO", "not implemented yet"),
    ("task2", lambda *a: fit(*a, step=stub(1)), "TODO", "this task uses Task 1"),
    ("task2", lambda *a: fit(*a, train_mode="never"), "FAIL", "the model trained in evaluation mode"),
    ("task2", lambda *a: fit(*a, train_mode="once"), "FAIL", "not once before the loop"),
    ("task2", lambda *a: fit(*a, evaluate="train"), "FAIL", "measured in training mode, with dropout on"),
    ("task2", lambda *a: fit(*a, validate="before"), "FAIL", "before the epoch's training"),
    ("task2", lambda *a: fit(*a, extra=-1), "FAIL", "one epoch short"),
    ("task2", lambda *a: fit(*a, extra=1), "FAIL", "one epoch too many"),
    ("task2", lambda *a: fit(*a, average="batches"), "FAIL", "the last batch (8 examples) weighs as much"),
    ("task2", lambda *a: fit(*a, average="sum"), "FAIL", "the sum of the batch losses"),
    ("task2", lambda *a: fit(*a, average="last"), "FAIL", "each epoch's last batch"),
    ("task2", lambda *a: fit(*a, average="full batches"), "FAIL", "len(loader) * batch_size = 4 * 16 = 64"),
    ("task2", lambda *a: fit(*a, average="per batch"), "FAIL", "by the number of batches"),
    ("task2", lambda *a: fit(*a, train_mode="at the end"), "FAIL", "the first epoch trained in evaluation mode"),
    ("task2", fit_per_batch, "FAIL", "one per batch; return one per epoch (4)"),
    ("task2", lambda *a: fit(*a)[0], "FAIL", "return two lists"),
    ("task2", fit_validation_with_grad, "FAIL", "under torch.no_grad()"),
    ("task2", lambda *a: fit(*a, step=lambda *b: training_step(*b, zero=False)), "FAIL",
     "your (training losses, validation losses) for epochs = 4 is"),
    ("task3", init_stds, "PASS", "kaiming_normal_ on a 256 x 512 weight drew std 0.0626, your formula says 0.0625"),
    ("task3", lambda w, gain=1.0: [torch.tensor(v) for v in init_stds(w, gain)], "PASS", "20 ReLU layers"),
    ("task3", stub(3), "TODO", "not implemented yet"),
    ("task3", lambda w, gain=1.0: init_stds(w, gain)[0], "FAIL",
     "init_stds(weight of shape (32, 2), gain=1) should return a pair of numbers, (He std, Xavier std); got 1."),
    ("task3", lambda w, gain=1.0: (*init_stds(w, gain), 0.0), "FAIL", "got [1, 0.2425, 0]"),
    ("task3", lambda w, gain=1.0: init_stds(w, gain, fan=0), "FAIL", "fan_in is weight.shape[1]"),
    ("task3", lambda w, gain=1.0: init_stds(w, gain, two=1.0), "FAIL", "the 2 is missing: ReLU zeroes half"),
    ("task3", lambda w, gain=1.0: init_stds(w, gain, root=1), "FAIL", "that is the variance 2 / fan_in"),
    ("task3", lambda w, gain=1.0: ((2 / w.numel()) ** 0.5, init_stds(w, gain)[1]), "FAIL", "not the number of weights"),
    ("task3", lambda w, gain=1.0: init_stds(w, gain, he_gain=True), "FAIL", "He's std has no gain in this task"),
    ("task3", lambda w, gain=1.0: init_stds(w, gain, swap=True), "FAIL", "the pair is (He, Xavier), in this order"),
    ("task3", lambda w, gain=1.0: init_stds(w, gain, xavier_two=1.0), "FAIL", "the 2 is missing: std = gain"),
    ("task3", lambda w, gain=1.0: init_stds(w, gain, use_gain=False), "FAIL", "multiply by the gain"),
    ("task3", lambda w, gain=1.0: init_stds(w, gain, xavier_two=6.0), "FAIL", "the uniform version"),
    ("task3", lambda w, gain=1.0: (init_stds(w)[0], gain / w.shape[1] ** 0.5), "FAIL", "that is LeCun's"),
    ("task3", lambda w, gain=1.0: (init_stds(w)[0], gain**2 * 2 / sum(w.shape)), "FAIL", "the std is its square root"),
    ("task3", lambda w, gain=1.0: (init_stds(w)[0], gain**2 * (2 / sum(w.shape)) ** 0.5), "FAIL",
     "not by its square"),
    ("task4", gradient_norms, "PASS", "layer 1 gets 4.0e-06 of the last layer's gradient"),
    ("task4", stub(4), "TODO", "not implemented yet"),
    ("task4", lambda *a: gradient_norms(*a, zero=False), "FAIL", "call model.zero_grad() first"),
    ("task4", lambda *a: gradient_norms(*a, params=lambda m: m.parameters()), "FAIL", "biases included"),
    ("task4", lambda *a: gradient_norms(*a, reverse=True), "FAIL", "the order is reversed"),
    ("task4", lambda *a: gradient_norms(*a, square=True), "FAIL", "those are squared norms"),
    ("task4", lambda *a: gradient_norms(*a, of="weight"), "FAIL", "the norms of the weights"),
    ("task4", lambda *a: sum(gradient_norms(*a)), "FAIL", "has shape (), expected (7,)"),
    ("task4", lambda *a: gradient_norms(*a, zero_after=True), "FAIL", "not after (it sets them to None)"),
    ("task4", lambda *a: gradient_norms(*a, zero_after=True, norm=torch.Tensor.norm), "FAIL",
     "not after (it sets them to None)"),
    ("task4", lambda *a: gradient_norms(*a, zero=False, backward=False), "FAIL",
     "those are the gradients the model already held"),
    ("task4", lambda *a: gradient_norms(*a, norm=lambda g: g.abs().mean()), "FAIL", "mean absolute entries"),
    ("task4", lambda model, loss_fn, X, y: gradient_norms(model, loss_fn, X, y, zero=True, backward=False), "FAIL",
     "call loss.backward() before reading the gradients"),
    ("task5", init_with("xavier", 5 / 3), "PASS", "your network learns: test accuracy above 0.8 after 30 epochs"),
    ("task5", init_with("he"), "PASS", "the network with the tiny weights reached a test accuracy of 0.500"),
    ("task5", stub(5), "TODO", "not implemented yet"),
    ("task5", lambda model: None, "FAIL", "the weights are unchanged"),
    ("task5", returns_a_new_model, "FAIL", "the weights are unchanged"),
    ("task5", init_with("normal", 0.0), "FAIL", "draw random weights to break the symmetry"),
    ("task5", init_with("constant", 0.1), "FAIL", "draw random weights to break the symmetry"),
    ("task5", init_with("normal", 1.0), "FAIL", "the gradients explode"),
    ("task5", init_with("normal", 0.01), "FAIL", "the gradients still vanish"),
    ("task5", init_with("xavier", 1.0), "FAIL", "learns slowly: the signal still shrinks"),
    ("task5", init_with("default"), "FAIL", "the gradients still vanish"),
]


@pytest.mark.parametrize("task, answer, status, hint", CH10, ids=[f"{t}-{s}-{h[:30]}" for t, _, s, h in CH10])
def test_ch10(task, answer, status, hint, capsys):
    assert_reports(capsys, getattr(check.ch10, task)(answer), status, hint)
