from rag.terms import terms


def test_rates_keep_their_unit_but_not_per() -> None:
    # "per" weighed as the rarest word of "How much does a subscription cost per month?" (no article says it) and
    # let a sentence on another cost through the coverage gate
    assert terms("How much does a subscription cost per month?") == ("subscript", "cost", "month")
    assert terms("a 40 per cent stake") == ("40", "percent", "stake")


def test_a_name_typed_without_its_accents_finds_it() -> None:
    assert terms("Andújar Özdemir Kovač") == terms("Andujar Ozdemir Kovac")
