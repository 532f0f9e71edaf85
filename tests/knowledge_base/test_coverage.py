"""knowledge_base/coverage.py: how much of a question an article speaks to."""

from __future__ import annotations

import pytest

from knowledge_base.coverage import Vocabulary, stem, words

ARTICLES = [
    ("return-policy", "Return policy. Return unused items within 60 days for a refund."),
    ("return-policy", "Can I return boots I wore outside?"),  # a stored question, pooled
    ("membership-benefits", "Northpeak Club benefits: free shipping, member prices, rentals."),
    ("store-hours", "Store hours and locations. Stores open 9 to 9, Sundays 10 to 6."),
]


def test_words_are_informative_stems():
    assert words("How do I return my boots?") == {"return", "boot"}
    assert words("Returning, returned, returns") == {"return"}
    assert words("is it ok?") == set()  # nothing but stopwords and short words
    for forms in (["shipping", "shipped", "ship", "ships"], ["stores", "store", "stored"],
                  ["battery", "batteries"], ["shoes", "shoe"], ["price", "prices", "priced"]):
        assert len({stem(f) for f in forms}) == 1, forms
    assert stem("address") == "address"  # "ss" is not a plural


def test_what_an_article_lacks_is_weighed_by_rarity():
    vocabulary = Vocabulary.from_texts(ARTICLES)
    assert vocabulary.uncovered("can I return boots within 60 days", "return-policy") == 0.0
    assert vocabulary.uncovered("can I return boots", "store-hours") == 1.0
    # A word no article uses weighs more than one some other article uses.
    assert vocabulary.weight(stem("embroidery")) > vocabulary.weight(stem("shipping"))
    partly = vocabulary.uncovered("student discount on club benefits", "membership-benefits")
    assert 0.5 < partly < 1.0  # "club" and "benefit" are there, "student" and "discount" not
    assert vocabulary.uncovered("?", "return-policy") == 0.0
    assert vocabulary.uncovered("return", "no-such-article") == 1.0


@pytest.mark.parametrize("question", ["returns", "RETURN", "return!!"])
def test_case_punctuation_and_plurals_do_not_matter(question):
    assert Vocabulary.from_texts(ARTICLES).uncovered(question, "return-policy") == 0.0
