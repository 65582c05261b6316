import numpy as np
import pytest

from training.bootstrap import BootstrapConfig, bootstrap_intervals, format_intervals, group_confusions
from training.metrics import classification_report, fnc_percent, fnc_percent_from_confusion, stance_report

LABELS = ["agree", "disagree", "discuss", "unrelated"]


def _random_labels(n, seed):
    rng = np.random.default_rng(seed)
    return [LABELS[i] for i in rng.integers(0, 4, n)]


def test_fnc_score_from_a_confusion_matrix_equals_the_per_pair_score():
    gold, predicted = _random_labels(300, 1), _random_labels(300, 2)
    matrix = classification_report(gold, predicted, LABELS)["confusion_matrix"]
    assert fnc_percent_from_confusion(matrix, LABELS) == pytest.approx(fnc_percent(gold, predicted))


def test_group_confusions_count_each_group_apart():
    stack = group_confusions(["agree", "agree", "discuss"], ["agree", "discuss", "discuss"], LABELS,
                             groups=["s1", "s2", "s1"])
    assert stack.shape == (2, 4, 4)
    assert stack[0][0][0] == 1 and stack[0][2][2] == 1 and stack[1][0][2] == 1
    with pytest.raises(ValueError, match="'maybe'"):
        group_confusions(["agree"], ["maybe"], LABELS)


def test_intervals_hold_the_estimate_and_narrow_with_more_data():
    def widths(n):
        gold = _random_labels(n, 3)
        predicted = [g if i % 3 else "discuss" for i, g in enumerate(gold)]  # two thirds right
        report = bootstrap_intervals(gold, predicted, LABELS, config=BootstrapConfig(resamples=300, seed=5))
        est = report["scores"]["macro_f1"]
        assert est["estimate"] == pytest.approx(stance_report(gold, predicted, LABELS)["macro_f1"])
        assert est["low"] <= est["estimate"] <= est["high"]
        assert report["scores"]["fnc_percent"]["low"] < report["scores"]["fnc_percent"]["high"]
        return est["high"] - est["low"]

    assert widths(4000) < widths(200) / 2


def test_grouped_resampling_is_wider_when_groups_are_all_right_or_all_wrong():
    gold = ["agree"] * 200 + ["discuss"] * 200
    predicted = []
    groups = []
    for i in range(400):  # 40 groups of 10 pairs: a group is read entirely right or entirely wrong
        group = i // 10
        groups.append(f"story{group}")
        right = group % 2 == 0
        predicted.append(gold[i] if right else ("discuss" if gold[i] == "agree" else "agree"))
    config = BootstrapConfig(resamples=400, seed=1)
    pairs = bootstrap_intervals(gold, predicted, LABELS, config=config)["scores"]["accuracy"]
    stories = bootstrap_intervals(gold, predicted, LABELS, groups=groups, config=config, unit="stories")
    assert stories["resampled"] == "stories" and stories["units"] == 40
    s = stories["scores"]["accuracy"]
    assert (s["high"] - s["low"]) > 2 * (pairs["high"] - pairs["low"])


def test_paired_difference_against_a_baseline():
    gold = _random_labels(1000, 7)
    model = list(gold)
    baseline = [g if i % 2 else "unrelated" for i, g in enumerate(gold)]
    report = bootstrap_intervals(gold, model, LABELS, baselines={"tfidf": baseline},
                                 config=BootstrapConfig(resamples=200))
    diff = report["differences"]["tfidf"]["macro_f1"]
    expected = 1.0 - stance_report(gold, baseline, LABELS)["macro_f1"]
    assert diff["estimate"] == pytest.approx(expected)
    assert 0 < diff["low"] <= diff["estimate"] <= diff["high"]
    text = format_intervals(report)
    assert "macro_f1 minus tfidf" in text and "1000 examples" in text


def test_the_same_seed_draws_the_same_resamples():
    gold, predicted = _random_labels(500, 8), _random_labels(500, 9)
    a = bootstrap_intervals(gold, predicted, LABELS, config=BootstrapConfig(resamples=50, seed=3))
    b = bootstrap_intervals(gold, predicted, LABELS, config=BootstrapConfig(resamples=50, seed=3))
    c = bootstrap_intervals(gold, predicted, LABELS, config=BootstrapConfig(resamples=50, seed=4))
    assert a == b and a != c


@pytest.mark.parametrize("kwargs", [{"resamples": 0}, {"level": 1.0}])
def test_config_refuses_bad_values(kwargs):
    with pytest.raises(ValueError):
        BootstrapConfig(**kwargs)


def test_stance_baselines_hand_back_the_predictions_their_reports_score():
    from training.baselines import stance_baselines
    from training.data.stance_data import StanceData, StanceExample

    topics = ["storm hit the coast", "bank raised its rates", "team won the cup", "volcano erupted at dawn"]
    bodies = {str(i): f"Reports say the {t}. Officials confirmed the {t} on Monday. More follows." for i, t in enumerate(topics)}
    def pairs(n):
        return [StanceExample(f"The {topics[i % 4]} claim {i}", str(i % 4 if i % 3 else (i + 1) % 4),
                              ["agree", "discuss", "disagree"][i % 3] if i % 3 else "unrelated") for i in range(n)]
    train, test = StanceData(pairs(60), bodies), StanceData(pairs(12), bodies)
    guesses: dict = {}
    reports = stance_baselines(train, test, predictions=guesses)
    assert set(guesses) == set(reports) == {"tfidf_logreg", "embedding_gate+tfidf_logreg"}
    gold = [e.label for e in test.examples]
    for name, predicted in guesses.items():
        assert len(predicted) == len(gold)
        assert reports[name] == stance_report(gold, predicted, LABELS)


def test_a_label_neither_in_the_data_nor_predicted_gets_no_f1_interval():
    from training.bootstrap import BootstrapConfig, bootstrap_intervals

    gold, predicted = ["war", "war", "sport", "sport"], ["war", "sport", "sport", "sport"]
    report = bootstrap_intervals(gold, predicted, ["war", "sport", "tech"], baselines={"b": ["war"] * 4},
                                 config=BootstrapConfig(resamples=50))
    assert "f1_tech" not in report["scores"] and "f1_tech" not in report["differences"]["b"]
    assert {"f1_war", "f1_sport", "macro_f1"} <= set(report["scores"])


def test_a_resample_that_draws_none_of_a_label_leaves_it_out_of_that_label_s_interval():
    from training.bootstrap import BootstrapConfig, bootstrap_intervals

    # 'unrelated' occurs in one story of four and is always right: about a third of the resamples draw none of it
    gold = ["agree", "discuss", "agree", "discuss", "agree", "discuss", "unrelated", "unrelated"]
    predicted = ["agree", "agree", "agree", "discuss", "discuss", "discuss", "unrelated", "unrelated"]
    groups = ["s1", "s1", "s2", "s2", "s3", "s3", "s4", "s4"]
    report = bootstrap_intervals(gold, predicted, ["agree", "disagree", "discuss", "unrelated"], groups,
                                 config=BootstrapConfig(resamples=200))
    perfect = report["scores"]["f1_unrelated"]
    assert (perfect["estimate"], perfect["low"], perfect["high"]) == (1.0, 1.0, 1.0)  # never 0 for an undrawn label
    assert "f1_disagree" not in report["scores"]
