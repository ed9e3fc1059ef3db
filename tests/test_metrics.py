"""Classification metrics against scikit-learn on random cases, ties and degenerate predictions."""
import warnings

import numpy as np
import pytest
import sklearn.metrics as sk
from hypothesis import given, settings
from hypothesis import strategies as st

from gdlab.metrics import accuracy_score, confusion_matrix, f1_score, precision_score, recall_score, roc_auc_score

labels = st.lists(st.integers(0, 1), min_size=1, max_size=40)


@st.composite
def label_pairs(draw):
    y_true = draw(labels)
    y_pred = draw(st.lists(st.integers(0, 1), min_size=len(y_true), max_size=len(y_true)))
    return np.array(y_true), np.array(y_pred)


@st.composite
def labels_and_scores(draw):
    """Both classes present; scores drawn from a few levels (many ties) or from the floats."""
    y_true = draw(labels.filter(lambda y: 0 < sum(y) < len(y)))
    few_levels = st.integers(-2, 2).map(float)
    floats = st.floats(-1e6, 1e6, allow_nan=False, allow_subnormal=False)
    scores = draw(st.lists(st.one_of(few_levels, floats), min_size=len(y_true), max_size=len(y_true)))
    return np.array(y_true), np.array(scores)


@given(label_pairs(), st.sampled_from([0, 1]))
@settings(max_examples=150, deadline=None)
def test_label_metrics_match_sklearn(pair, pos_label):
    y_true, y_pred = pair
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # ours is warn-free, even where 0 / 0 gives 0.0
        ours = [m(y_true, y_pred, pos_label=pos_label) for m in (precision_score, recall_score, f1_score)]
        matrix = confusion_matrix(y_true, y_pred)
        accuracy = accuracy_score(y_true, y_pred)
    theirs = [m(y_true, y_pred, pos_label=pos_label, zero_division=0.0)
              for m in (sk.precision_score, sk.recall_score, sk.f1_score)]
    assert ours == pytest.approx(theirs, rel=1e-12, abs=0)
    assert all(type(value) is float for value in ours + [accuracy])
    np.testing.assert_array_equal(matrix, sk.confusion_matrix(y_true, y_pred, labels=[0, 1]))
    assert accuracy == pytest.approx(sk.accuracy_score(y_true, y_pred), rel=1e-12)


@given(labels_and_scores())
@settings(max_examples=200, deadline=None)
def test_roc_auc_matches_sklearn_with_ties(case):
    y_true, y_score = case
    assert roc_auc_score(y_true, y_score) == pytest.approx(sk.roc_auc_score(y_true, y_score), rel=1e-12, abs=1e-15)


def test_roc_auc_by_hand():
    assert roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75
    assert roc_auc_score([0, 1], [0.5, 0.5]) == 0.5  # a tie counts one half
    assert roc_auc_score([1, 0, 1], [3.0, 2.0, 1.0]) == 0.5
    assert roc_auc_score([0, 0, 1], [1.0, 2.0, 3.0]) == 1.0
    assert roc_auc_score([1, 1, 0], [1.0, 2.0, 3.0]) == 0.0
    assert roc_auc_score(np.array([True, False]), [2, 1]) == 1.0


def test_zero_division_gives_zero_like_sklearns_default():
    cases = [([0, 0, 1], [0, 0, 0]), ([0, 0], [0, 0]), ([0, 0], [1, 0]), ([1, 1], [1, 1])]
    pairs = [(precision_score, sk.precision_score), (recall_score, sk.recall_score), (f1_score, sk.f1_score)]
    for y_true, y_pred in cases:
        for ours, theirs in pairs:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # sklearn's default zero_division="warn" warns, then returns 0.0
                expected = theirs(y_true, y_pred)
            assert ours(y_true, y_pred) == expected, (ours.__name__, y_true, y_pred)


def test_confusion_matrix_layout_and_degenerate_predictions():
    np.testing.assert_array_equal(confusion_matrix([0, 0, 0, 1, 1], [0, 1, 1, 0, 1]), [[1, 2], [1, 1]])
    np.testing.assert_array_equal(confusion_matrix([1, 1, 1], [1, 1, 1]), [[0, 0], [0, 3]])  # always 2 x 2
    np.testing.assert_array_equal(confusion_matrix([True, False], [0.0, 0.0]), [[1, 0], [1, 0]])


def test_accuracy_takes_any_labels():
    assert accuracy_score(["cat", "dog", "dog"], ["cat", "dog", "cat"]) == pytest.approx(2 / 3)
    assert accuracy_score([2, 0, 1, 2], [2, 0, 2, 2]) == 0.75


@pytest.mark.parametrize("call, match", [
    (lambda: accuracy_score([0, 1, 1], [0, 1]), "y_true and y_pred must have the same length, got 3 and 2"),
    (lambda: precision_score([0, 1], [0, 1, 1]), "y_true and y_pred must have the same length"),
    (lambda: confusion_matrix([0, 1], [1]), "y_true and y_pred must have the same length"),
    (lambda: roc_auc_score([0, 1, 1], [0.2, 0.4]), "y_true and y_score must have the same length"),
    (lambda: roc_auc_score([1, 1, 1], [0.2, 0.4, 0.5]), "y_true must contain both classes 0 and 1"),
    (lambda: roc_auc_score([0, 0], [0.2, 0.4]), "y_true must contain both classes 0 and 1"),
    (lambda: roc_auc_score([0, 1], [0.2, np.nan]), "y_score must be finite"),
    (lambda: recall_score([0, 2], [0, 1]), "y_true must hold the labels 0 and 1 only"),
    (lambda: f1_score([0, 1], [0, -1]), "y_pred must hold the labels 0 and 1 only"),
    (lambda: precision_score([0, 1], [0, 1], pos_label=2), "pos_label must be one of 0, 1"),
    (lambda: accuracy_score([], []), "must not be empty"),
    (lambda: accuracy_score([[0, 1]], [[0, 1]]), "must be 1-D arrays"),
])
def test_bad_input_names_the_parameter(call, match):
    with pytest.raises(ValueError, match=match):
        call()
