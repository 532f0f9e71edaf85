"""knowledge_base/coverage.py: how much of a question an article speaks to."""

from __future__ import annotations

import pytest

from knowledge_base.coverage import Vocabulary, asked_words, asking_part, stem, words

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


def test_stopwords_count_after_the_stem_and_numbers_never():
    # "whats" stems to "what", "uses" to "us": still no subject ("whats ur phone number" found
    # the contact article but lacked "what", the rarest word of all, and was not answered)
    assert words("whats ur phone number") == {"phon", "number"}
    assert words("wats that worth, can i use it") == {"worth"}
    # an amount, a count or an order number names no subject; a word with digits does
    assert words("got 460 points on order 4410728") == {"point", "order"}
    assert words("my 11pm order") == {"11pm", "order"}


def test_an_apostrophe_inside_a_word_joins_it():
    # the promo-codes article names "Arc'teryx"; customers type "arcteryx" (and "it’s")
    assert words("Brands like Arc'teryx are excluded") == words("brands like arcteryx excluded")
    assert "arcteryx" in words("Arc\u2019teryx jackets")
    assert words("it’s the customer's order") == words("its the customers order")
    assert words("'quoted' jackets") == {"quot", "jacket"}  # quotes are not inside a word


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


def test_a_long_word_one_typo_away_counts_as_the_article_word():
    vocabulary = Vocabulary.from_texts(
        [("return-label", "Print the prepaid return label and attach it to the package.")]
    )
    # one letter added, changed, swapped with the next, left out
    for typo in ("labell", "packege", "pakcage", "prepad"):
        assert vocabulary.uncovered(f"{typo} printed", "return-label") == 0.0, typo
    # short words have too many real neighbours: "lable" stems to 4 letters and is not
    # matched; nor is a long word two typos away
    assert vocabulary.uncovered("lable", "return-label") == 1.0
    assert vocabulary.uncovered("packeeges", "return-label") == 1.0
    assert not vocabulary.covers("return-label", "attachment")


@pytest.mark.parametrize("question", ["returns", "RETURN", "return!!"])
def test_case_punctuation_and_plurals_do_not_matter(question):
    assert Vocabulary.from_texts(ARTICLES).uncovered(question, "return-policy") == 0.0


STORY = (
    "My fiancée Ingrid and I are doing a little elopement hike in the Dolomites in June. "
    "We fly out soon. Can I return boots I wore outside?"
)


def test_in_a_long_message_only_the_sentences_that_ask_count():
    assert asking_part(STORY) == "Can I return boots I wore outside?"
    vocabulary = Vocabulary.from_texts(ARTICLES)
    assert vocabulary.uncovered(STORY, "return-policy") < 0.2  # the story does not count
    # what the question asks still counts
    assert vocabulary.uncovered(STORY.replace("return boots", "rent skis"), "return-policy") > 0.5


@pytest.mark.parametrize(
    "text",
    [
        "Please, how I can track my parcel? I did not receive any link.",  # short: all of it
        "we are going on a long trip with the whole family to the mountains in June and my "
        "boots are falling apart after one season of light use on easy trails",  # no question
    ],
)
def test_a_short_message_or_a_story_without_a_question_counts_whole(text):
    assert asking_part(text) == text


def test_an_asking_sentence_that_names_too_little_leaves_the_question_whole():
    text = ("my brother is picking up my order at the denver store but i didnt put his name on "
            "the order when i placed it. is that a problem")  # fmt: skip
    assert asking_part(text) == "is that a problem"
    assert asked_words(text) == words(text)  # "problem" alone is not what is asked
    assert asked_words(STORY) == words("Can I return boots I wore outside?")


def test_a_question_word_after_fillers_starts_an_asking_sentence():
    text = ("sorry cat on keyboard lol. returned boots at the portland store on saturday and "
            "paid with paypal. ok so when does the money show up")  # fmt: skip
    assert asking_part(text) == "ok so when does the money show up"
