"""Name masking: names are read off the article, and each gets one numbered placeholder across claim and evidence."""
import numpy as np

from model.name_mask import article_names, mask_names
from model.stance import ArticleView, EvidenceSettings, classifier_pairs

BODY = [
    "Singer Robert Plant tore up a contract worth $800 million, the Daily Mirror reported.",
    "The band's label said Plant was never offered a contract.",
    "Fans of the NASA-backed tour were told to wait, a spokesperson for Live Nation said.",
    "Live music is a hard business.",
]


def test_names_are_words_the_article_capitalises_mid_sentence_and_never_writes_in_lower_case():
    names = article_names(BODY)
    assert {"robert", "plant", "daily", "mirror", "nasa", "nation", "live"} <= names  # "Live Nation" mid-sentence
    assert "singer" not in names  # capitalised only as a sentence's first word
    assert "the" not in names and "fans" not in names and "contract" not in names


def test_a_word_also_written_in_lower_case_is_not_a_name():
    assert "plant" not in article_names(["He met Robert Plant there.", "The plant closed."])
    assert article_names(["He met Robert Plant there."]) == {"robert", "plant"}


def test_each_name_gets_one_placeholder_across_claim_and_evidence():
    names = article_names(BODY)
    claim, evidence = mask_names(["Robert Plant Rips Up $800M Led Zeppelin Contract", " ".join(BODY[:2])], names)
    assert claim == "name1 Rips Up $800M Led Zeppelin Contract"  # the headline's other words are not the article's names
    assert evidence.startswith("Singer name1 tore up")
    assert "the name2 reported" in evidence  # "Daily Mirror": one run, one placeholder
    assert "said name1 was never offered" in evidence  # a later surname alone shares the full name's placeholder


def test_hyphens_join_a_run_and_other_punctuation_ends_it():
    names = frozenset({"al", "qaeda", "obama"})
    assert mask_names(["Al-Qaeda denies it; Obama's aides agree."], names) == ["name1 denies it; name2's aides agree."]
    assert mask_names(["Obama, Qaeda"], names) == ["name1, name2"]


def test_nothing_to_mask_leaves_text_unchanged():
    assert mask_names(["no names here"], frozenset()) == ["no names here"]


def test_classifier_pairs_mask_only_when_asked():
    vectors = np.eye(len(BODY), 4, dtype=np.float32)
    view = ArticleView(BODY, vectors, [12] * len(BODY))
    claim = "Robert Plant tore up a contract"
    plain = classifier_pairs(EvidenceSettings(), [claim], [view], [[0, 1]])
    assert plain == ([claim], [BODY[0] + " " + BODY[1]])
    masked = classifier_pairs(EvidenceSettings(mask_names=True), [claim, claim], [view, view], [[0], [1]])
    assert masked[0] == ["name1 tore up a contract"] * 2
    assert masked[1] == ["Singer name1 tore up a contract worth $800 million, the name2 reported.",
                         "The band's label said name1 was never offered a contract."]
