import pytest

from training.metrics import classification_report, fnc_percent, fnc_score, rouge_scores, stance_report


def test_fnc_score_on_hand_made_cases():
    gold = ["agree", "disagree", "discuss", "unrelated"]
    assert fnc_score(gold, gold) == (3.25, 3.25)
    # related pair given the wrong related stance: relatedness credit only
    assert fnc_score(["agree"], ["discuss"]) == (0.25, 1.0)
    # related pair called unrelated, and unrelated pair called related: nothing
    assert fnc_score(["agree", "unrelated"], ["unrelated", "disagree"]) == (0.0, 1.25)
    assert fnc_percent(gold, ["agree", "agree", "agree", "agree"]) == pytest.approx(100 * 1.5 / 3.25)


def test_classification_report_counts():
    report = classification_report(["a", "a", "b", "b"], ["a", "b", "b", "b"], ["a", "b"])
    assert report["accuracy"] == 0.75
    assert report["per_class"]["a"] == {"precision": 1.0, "recall": 0.5, "f1": pytest.approx(2 / 3), "support": 2}
    assert report["per_class"]["b"]["f1"] == pytest.approx(0.8)
    assert report["macro_f1"] == pytest.approx((2 / 3 + 0.8) / 2)
    assert report["confusion_matrix"] == [[1, 1], [0, 2]]
    with pytest.raises(ValueError, match="not one of"):
        classification_report(["a"], ["c"], ["a", "b"])


def test_stance_report_has_fnc_score():
    report = stance_report(["agree", "unrelated"], ["agree", "unrelated"], ["agree", "disagree", "discuss", "unrelated"])
    assert report["fnc_percent"] == 100.0


def test_rouge_identical_and_disjoint():
    assert rouge_scores(["the cat sat"], ["the cat sat"])["rouge2"] == pytest.approx(100.0)
    assert rouge_scores(["the cat sat"], ["dogs bark loudly"])["rouge1"] == 0.0


def test_macro_f1_averages_the_labels_the_gold_data_holds_and_says_so():
    from training.metrics import classification_report, format_report

    report = classification_report(["a", "a", "b"], ["a", "c", "b"], ["a", "b", "c"])
    assert report["macro_f1_labels"] == ["a", "b"]
    assert report["macro_f1"] == (2 / 3 + 1.0) / 2  # a: precision 1, recall 1/2; b: 1; c (no gold) left out
    assert "(over the 2 labels the data holds)" in format_report(report)
    full = classification_report(["a", "b", "c"], ["a", "b", "c"], ["a", "b", "c"])
    assert "labels the data holds" not in format_report(full)


def test_format_report_prints_a_dash_only_for_undefined_precision_recall_and_f1():
    from training.metrics import classification_report, format_report

    report = classification_report(["a", "a", "b"], ["a", "c", "a"], ["a", "b", "c", "d"])
    lines = {line.split()[0]: line.split()[1:] for line in format_report(report).splitlines()[2:6]}
    assert lines["a"] == ["0.500", "0.500", "0.500", "2"]
    assert lines["b"] == ["-", "0.000", "0.000", "1"]  # never predicted: precision 0/0; F1 is 0 (2TP/(2TP+FP+FN))
    assert lines["c"] == ["0.000", "-", "0.000", "0"]  # no gold example: recall 0/0
    assert lines["d"] == ["-", "-", "-", "0"]  # neither gold nor predicted
    assert "-: undefined (0/0)" in format_report(report)
    assert report["per_class"]["d"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}  # the JSON keeps numbers
    full = classification_report(["a", "b"], ["a", "b"], ["a", "b"])
    assert " - " not in format_report(full) and "undefined" not in format_report(full)
