import pytest

from model.errors import InputError
from model.text import (chunk_tokens, clean_article, content_words, normalize_text, select_evidence, split_headline,
                        split_sentences)


def test_normalize_removes_html_and_collapses_space():
    assert normalize_text("<p>Hello&nbsp;  <b>world</b></p>\r\n\r\n\r\nNext") == "Hello world\n\nNext"
    assert normalize_text("ﬁne\u00a0print") == "fine print"


def test_sentence_split_handles_abbreviations_quotes_and_paragraphs():
    text = 'Mr. Smith met Dr. Jones in the U.S. on Monday. "It went well," he said. Prices rose 2.5% in Jan.\nNew line here'
    assert split_sentences(text) == [
        "Mr. Smith met Dr. Jones in the U.S. on Monday.",
        '"It went well," he said.',
        "Prices rose 2.5% in Jan.",
        "New line here",
    ]


def test_headline_is_taken_from_a_short_first_line_only():
    assert split_headline("Putin orders pull-out\n\nRussia will start.") == ("Putin orders pull-out", "Russia will start.")
    assert split_headline("This is a sentence.\nAnother one.")[0] is None
    assert split_headline("One line only")[0] is None


@pytest.mark.parametrize("n, size", [(0, 5), (1, 5), (17, 5), (1000, 128), (129, 128)])
def test_chunks_cover_every_token_once_in_order(n, size):
    boundaries = list(range(0, n, 7))
    chunks = chunk_tokens(n, size, boundaries)
    covered = [i for c in chunks for i in range(c.start, c.end)]
    assert covered == list(range(n))
    assert all(0 < c.end - c.start <= size for c in chunks)


def test_chunks_prefer_sentence_boundaries():
    chunks = chunk_tokens(300, 128, boundaries=[40, 100, 170, 250])
    assert [c.end for c in chunks] == [100, 170, 250, 300]


def test_evidence_selection_picks_sentences_sharing_claim_words():
    sentences = [
        "The weather was sunny in Paris.",
        "Russian troops will leave Syria, Putin ordered.",
        "Football results came in late.",
        "Putin visited the airbase in Syria on Monday.",
    ]
    assert select_evidence("Putin orders Russian troops out of Syria", sentences, k=2) == [1, 3]
    assert select_evidence("Putin orders Russian troops out of Syria", sentences, k=1) == [1]
    claim = "Putin at the Syria airbase"
    assert select_evidence(claim, sentences, k=4, token_counts=[5, 8, 5, 9], max_tokens=10) == [3]
    assert select_evidence(claim, sentences, k=4, token_counts=[5, 8, 5, 9], max_tokens=20) == [1, 3]
    # keep_first: the lead sentence comes first, the budget takes the most relevant of the rest
    assert select_evidence(claim, sentences, k=2, keep_first=True) == [0, 3]
    assert select_evidence(claim, sentences, k=4, token_counts=[5, 8, 5, 9], max_tokens=14, keep_first=True) == [0, 3]
    assert select_evidence(claim, sentences, k=4, token_counts=[5, 8, 5, 9], max_tokens=10, keep_first=True) == [0, 2]
    # prefer: the most relevant flagged sentence is always taken (after the lead when keep_first)
    claim = "Putin orders Russian troops out of Syria"
    assert select_evidence(claim, sentences, k=2, prefer=[False, False, True, False]) == [1, 2]
    assert select_evidence(claim, sentences, k=2, prefer=[False] * 4) == [1, 3]
    assert select_evidence(claim, sentences, k=2, prefer=[False, False, True, True]) == [1, 3]
    assert select_evidence(claim, sentences, k=2, prefer=[False, False, True, False], keep_first=True) == [0, 2]
    with pytest.raises(ValueError, match="one flag per sentence"):
        select_evidence(claim, sentences, k=2, prefer=[True])


def test_content_words_drop_stopwords_and_suffixes():
    assert content_words("The troops were pulling out of Syria") == {"troop", "pull", "syria"}


def test_clean_article_rejects_empty_and_binary():
    with pytest.raises(InputError, match="empty"):
        clean_article("<p> </p>")
    with pytest.raises(InputError, match="binary"):
        clean_article(bytes(range(256)) * 10)
    with pytest.raises(InputError, match="no words, only numbers and symbols: '5'"):  # e.g. {"article": 5} in JSONL
        clean_article("5")
    assert clean_article("3 dead, 12 injured") == "3 dead, 12 injured"
    assert clean_article("北京发生地震") == "北京发生地震"  # letters of any script count


def test_stance_evidence_settings_can_keep_the_lead_sentence():
    import numpy as np

    from model.stance import ArticleView, EvidenceSettings, pick_evidence

    sentences = ["Officials called the report a hoax.", "Putin visited the airbase in Syria.", "Weather was fine."]
    vectors = np.eye(3, dtype=np.float32)
    view = ArticleView(sentences, vectors, [7, 7, 4])
    claim_vec = np.array([0.0, 1.0, 0.0], dtype=np.float32)
    claim = "Putin at the Syria airbase"
    assert pick_evidence(EvidenceSettings(sentences=1, tokens=20), claim, claim_vec, view) == [1]
    assert pick_evidence(EvidenceSettings(sentences=2, tokens=20, lead=True), claim, claim_vec, view) == [0, 1]


def test_a_generation_stopped_at_its_token_limit_loses_its_last_word_and_says_so():
    from model.generator import first_sentence

    cut = "Profits rose to $700m from $639m year"
    assert first_sentence(cut, 40, cut_off=True, mid_word=True) == "Profits rose to $700m from $639m..."
    assert first_sentence(cut, 40, cut_off=True) == cut + "..."  # the next token starts a new word: "year" stays
    assert first_sentence(cut, 40) == cut  # generation ended on its own: the text stands
    assert first_sentence("Troops leave Syria. Then more", 40, cut_off=True) == "Troops leave Syria."


def test_html_block_tags_become_paragraph_breaks_so_headings_stay_apart():
    from model.text import clean_article, split_sentences

    text = clean_article("<h1>Floods in Millbrook</h1><p>Heavy rain flooded the town. <b>Many</b> homes were lost.</p>")
    assert split_sentences(text) == ["Floods in Millbrook", "Heavy rain flooded the town.", "Many homes were lost."]


def test_opening_sentences_leaves_out_the_headline_and_keeps_the_first_sentences():
    from model.text import opening_sentences

    article = "Troops pull out of Syria\nPutin ordered the pull-out on Monday. He visited the base. Talks followed."
    assert opening_sentences(article, 1) == "Putin ordered the pull-out on Monday."
    assert opening_sentences(article, 2) == "Putin ordered the pull-out on Monday. He visited the base."
    assert opening_sentences("One sentence only.", 3) == "One sentence only."


def test_article_chunks_are_the_article_then_windows_of_body_sentences_after_its_opening():
    from model.text import article_chunks

    body = " ".join(f"Sentence {i} ends here." for i in range(1, 9))
    article = f"Troops leave Syria\n\n{body}"
    assert article_chunks(article, 3) == [article, "Sentence 4 ends here. Sentence 5 ends here. Sentence 6 ends here.",
                                          "Sentence 7 ends here. Sentence 8 ends here."]
    assert article_chunks(article, 3, limit=2) == article_chunks(article, 3)[:2]
    assert article_chunks("Short. Text.", 3) == ["Short. Text."]
    with pytest.raises(ValueError, match="at least 1"):
        article_chunks(article, 0)
