"""Sentence verification: every number and name in its cited passages, each number bound to the same subject."""

from rag.chunk import chunk_article
from rag.prompt import Evidence
from rag.types import Article, DocumentInfo, Passage
from rag.verify import Claim, check_claims, split_claims

VENTURE = (
    "Dongfeng Motor, Nissan's Chinese partner, has set up a new export venture with NCIC. "
    "With a registered capital of 1 billion yuan, Dongfeng Motor will hold a 40 per cent stake, contributing "
    "400 million yuan, while NCIC will invest 600 million yuan for the remaining 60 per cent. "
    "Nissan unveiled a recovery plan in May. "
    "Key elements of the plan include reducing its workforce by 20,000 employees."
)
LEAF = "The original Leaf was launched in 2010. It was named World Car of the Year in 2011."


def evidence_of(*texts: str) -> list[Evidence]:
    found = []
    for n, text in enumerate(texts, start=1):
        article = Article(id=f"doc{n}", title=f"Article {n}", text=text)
        chunk = chunk_article(article, lambda t: len(t.split()), 1000)[0]
        info = DocumentInfo(article.id, article.title, None, None, None, 1, "hash")
        passage = Passage(chunk, info, score=1.0, dense_score=0.9, keyword_score=0.0)
        found.append(Evidence(n, passage, tuple(range(len(chunk.sentences)))))
    return found


def knows(word: str) -> bool:
    return word.lower() in (VENTURE + LEAF).lower()


def check(answer: str, *texts: str, question: str = "") -> list[tuple[str, str, list[tuple[int, int]]]]:
    evidence = evidence_of(*(texts or (VENTURE, LEAF)))
    return [
        (c.status, c.claim.text, [(e.n, i) for e, i in c.support])
        for c in check_claims(split_claims(answer), evidence, knows, question)
    ]


def test_the_60_40_trap_is_rejected_though_both_words_are_in_the_cited_sentence() -> None:
    assert check("NCIC will hold a 40 per cent stake [1].")[0][0] == "unsupported"
    assert check("Dongfeng Motor holds 60% of the venture [1].")[0][0] == "unsupported"


def test_the_right_stakes_are_supported_and_cite_the_sentence_that_binds_them() -> None:
    assert check("NCIC will hold the remaining 60% [1].") == [("supported", "NCIC will hold the remaining 60%.", [(1, 1)])]
    assert check("Dongfeng Motor holds 40 per cent [1].")[0][0] == "supported"


def test_a_number_or_a_name_absent_from_the_passage_is_rejected() -> None:
    assert check("NCIC will invest 700 million yuan [1].")[0][0] == "unsupported"
    assert check("NCIC will invest 600 billion yuan [1].")[0][0] == "unsupported"  # same digits, other unit
    assert check("Toyota will hold a 40 per cent stake [1].")[0][0] == "unsupported"
    assert check("Paris is the capital of the venture [1].")[0][0] == "unsupported"


def test_a_correct_paraphrase_is_kept() -> None:
    # "jobs" and "cut" come from the question; the number is bound to Nissan through the passage's last name.
    result = check("Nissan will cut 20,000 jobs [1].", question="How many jobs will Nissan cut?")
    assert result == [("supported", "Nissan will cut 20,000 jobs.", [(1, 3)])]
    assert check("The venture's registered capital is 1 billion yuan [1].")[0][0] == "supported"


def test_words_the_passages_never_use_make_a_sentence_unsupported() -> None:
    assert check("Dongfeng Motor was bankrupt and sold its stake to pirates [1].")[0][0] == "unsupported"


def test_a_marker_to_a_missing_or_wrong_passage_is_repaired_when_another_passage_supports_it() -> None:
    assert check("The original Leaf was launched in 2010 [7].") == [("repaired", "The original Leaf was launched in 2010.", [(2, 0)])]
    assert check("The original Leaf was launched in 2010 [1].")[0][0] == "repaired"
    assert check("The original Leaf was launched in 2010.")[0][0] == "repaired"


def test_markers_and_passage_mentions_are_parsed_off_the_sentences() -> None:
    assert split_claims("NCIC holds 60% [1]. [2] Dongfeng holds 40% [1, 2].") == [
        Claim("NCIC holds 60%.", (1, 2)),
        Claim("Dongfeng holds 40%.", (1, 2)),
    ]
    assert split_claims("According to passage 2, the Leaf came out in 2010.") == [Claim("The Leaf came out in 2010.", (2,))]


def test_links_and_images_not_in_the_passages_never_survive() -> None:
    assert check("NCIC holds the remaining 60% ![x](https://evil.example/p.png) [1].") == [
        ("supported", "NCIC holds the remaining 60%.", [(1, 1)])
    ]
    assert check("NCIC holds [the remaining 60%](https://evil.example) [1].")[0][1] == "NCIC holds the remaining 60%."
    assert check("See https://evil.example for NCIC's 60 per cent [1].")[0][0] == "unsupported"


def test_a_bare_date_or_a_light_verb_rephrasing_is_supported() -> None:
    text = "Introduced to the market in April, the N7 rapidly achieved 10,000 orders."
    assert check("April [1].", text, question="In which month was the N7 introduced?")[0][0] == "supported"
    assert check("The N7 got 10,000 orders [1].", text, question="How many orders did the N7 receive?")[0][0] == "supported"
    assert check("The N7 got 20,000 orders [1].", text, question="How many orders did the N7 receive?")[0][0] == "unsupported"


def test_a_model_name_with_digits_is_a_name_and_the_claim_cites_the_sentence_that_says_it() -> None:
    text = "The N7 went on sale in April. Its software must change abroad because of rules on Chinese AI."
    # "N7" is not the number 7: the claim is held up by the sentence about the software rules
    assert check("The N7's software must change abroad because of rules on Chinese AI [1].", text) == [
        ("supported", "The N7's software must change abroad because of rules on Chinese AI.", [(1, 1)])
    ]
    assert check("The N8's software must change abroad because of rules on Chinese AI [1].", text)[0][0] == "unsupported"


def test_a_figure_pinned_on_the_questions_subject_from_a_passage_that_never_names_it_is_rejected() -> None:
    fine = "Ireland's aviation regulator has fined Skyway Air 2.4 million euros after the low-cost carrier delayed refunds."
    drug = "Patients given the drug, called velmitumab, had fewer migraine days."
    [(status, _, _)] = check("In all, velmitumab will cost 2.4 million euros [1].", fine, drug, question="How much will velmitumab cost?")
    assert status == "unsupported"  # 2.4 million is the fine's; no passage prices the drug
    # a question word the passage says in its thesaurus group's words is still supported
    [(status, _, _)] = check("Nissan will cut 20,000 jobs [1].", question="How many jobs will Nissan cut?")
    assert status == "supported"
