"""Abstractive summaries: targets from the BBC data, the faithfulness guard, and LoRA training on a tiny generator."""
import json

import pytest

from training.data.summary_data import SummaryExample

ARTICLE = ("Wenger rules out new keeper\n\nArsenal boss Arsene Wenger says he has no plans to sign a new goalkeeper "
           "during the January transfer window. Wenger has brought in Manuel Almunia for the last three games. "
           "There have been suggestions that Wenger will swoop in the New Year.")
REFERENCE = ("Wenger has brought in Manuel Almunia for the last three games.Arsenal boss Arsene Wenger says he has no "
             "plans to sign a new goalkeeper during the January transfer window.")


def test_target_is_title_plus_first_kept_sentence_within_budget():
    from training.abstractive import abstractive_target

    target = abstractive_target(SummaryExample("1", ARTICLE, REFERENCE), target_words=32)
    assert target == ("Wenger rules out new keeper: Arsenal boss Arsene Wenger says he has no plans to sign a new "
                      "goalkeeper during the January transfer window.")
    short = abstractive_target(SummaryExample("1", ARTICLE, REFERENCE), target_words=16)
    assert short.startswith("Wenger rules out new keeper: Arsenal boss") and len(short.split()) <= 16
    assert abstractive_target(SummaryExample("2", "no title line here at all, just one long sentence of text "
                                                  "that goes on and on without any break in it whatsoever for "
                                                  "many many words so it cannot be a headline.", "x"), 32) is None


def test_guard_flags_invented_numbers_and_names_and_passes_faithful_text():
    from model.abstractive import guard

    article = "Quarterly profits at TimeWarner jumped 76% to $1.13bn, said Richard Parsons in New York. It has 1,200 staff."
    assert guard("TimeWarner profits jumped 76%, Parsons said in New York.", article) == []
    assert guard("TimeWarner profits jumped 80%, said Parsons.", article) == ["80%"]
    assert guard("TimeWarner boss John Parsons spoke.", article) == ["John"]
    assert guard("It has 1200 staff, Parsons said.", article) == []
    assert guard("   ", article) == ["(empty summary)"]


def test_first_sentence_cuts_generation():
    from model.generator import first_sentence

    assert first_sentence(" Troops leave Syria. Then more text\nand a new line", 40) == "Troops leave Syria."
    assert first_sentence("one two three four five", 3) == "one two three..."


def test_lora_training_writes_a_loadable_adapter(tiny_generator, tmp_path):
    from model.abstractive import AbstractiveSummarizer
    from training.abstractive import AbstractiveTrainConfig, train_abstractive
    from training.loop import LoopConfig

    examples = [SummaryExample(str(i), ARTICLE, REFERENCE) for i in range(8)]
    config = AbstractiveTrainConfig(base_model=str(tiny_generator), max_input_tokens=48, dev_articles=2)
    loop = LoopConfig(epochs=3, batch_size=4, learning_rate=5e-3, checkpoint_every=0, seed=1)
    card = train_abstractive(examples[:6], examples[6:], tmp_path / "abs", config, loop)
    history = [h["dev"] for h in card["loop"]["history"]]
    assert history[-1] > history[0]  # dev loss (negated) improves
    saved = json.loads((tmp_path / "abs" / "config.json").read_text())
    assert saved["task"] == "summary-abstractive" and saved["base_model"] == str(tiny_generator)
    summarizer = AbstractiveSummarizer.load(tmp_path / "abs")
    out = summarizer.summarize([ARTICLE, "Short one."])
    assert len(out) == 2 and all(isinstance(s, str) for s in out)


def test_loading_a_folder_without_an_adapter_is_a_clear_error(tmp_path):
    from model.abstractive import AbstractiveSummarizer
    from model.errors import ModelNotFoundError

    with pytest.raises(ModelNotFoundError, match="holds no abstractive summariser"):
        AbstractiveSummarizer.load(tmp_path)


def test_generation_stops_at_the_end_of_the_first_non_empty_line(tiny_generator):
    import torch
    from transformers import AutoTokenizer

    from model.abstractive import LineEnd

    tokenizer = AutoTokenizer.from_pretrained(tiny_generator)

    class Lines:  # decode() of fixed texts, to drive the criterion
        def __init__(self, text):
            self.text = text

        def decode(self, ids, skip_special_tokens=True):
            return self.text

    ids = torch.zeros((1, 5), dtype=torch.long)
    assert not bool(LineEnd(Lines("\n\n"), 2)(ids, None)[0])
    assert not bool(LineEnd(Lines("\nTroops leave"), 2)(ids, None)[0])
    assert bool(LineEnd(Lines("\nTroops leave Syria.\n"), 2)(ids, None)[0])
    assert LineEnd(tokenizer, 0)(ids, None).shape == (1,)
