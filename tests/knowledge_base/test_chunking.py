from knowledge_base.articles import make_article
from knowledge_base.chunking import MAX_PASSAGE_WORDS, split_passages


def article(body: str):
    return make_article(slug="test-article", title="Test article", body=body)


def test_splits_along_level_two_and_three_headings_keeping_title_and_heading():
    passages = split_passages(
        article(
            "Intro sentence.\n\n## First question?\nFirst answer.\n\n"
            "### Detail\nDetail text.\n\n## Second\nSecond answer."
        )
    )
    assert [(p.section, p.text) for p in passages if p.kind == "text"] == [
        ("Test article", "Intro sentence."),
        ("First question?", "First answer."),
        ("Detail", "Detail text."),
        ("Second", "Second answer."),
    ]
    # Headings are not searched as questions (measured worse in bench-kb-levers).
    assert [p.text for p in passages if p.kind == "question"] == []
    assert passages[1].embed_text == "Test article. First question? First answer."
    assert passages[0].embed_text == "Test article. Intro sentence."


def test_empty_sections_are_dropped_and_h1_is_not_a_section():
    passages = split_passages(article("# Test article\n\n## Empty\n\n## Full\nText here."))
    assert [p.section for p in passages] == ["Full"]


def test_long_sections_split_at_paragraphs():
    para = " ".join(["word"] * 100)
    passages = split_passages(article("## Long\n" + "\n\n".join([para] * 4)))
    assert len(passages) == 4
    assert all(len(p.text.split()) <= MAX_PASSAGE_WORDS for p in passages)
    assert {p.section for p in passages} == {"Long"}


def test_embed_text_drops_markdown_but_keeps_link_words():
    p = split_passages(
        article("## Steps\n1. Go to **account** > [Orders](/help/order-history).\n- Click `Start`")
    )[0]
    assert p.embed_text == "Test article. Steps. Go to account > Orders. Click Start"


def test_demo_articles_all_split_into_passages():
    from api.config import settings
    from knowledge_base.articles import load_dir

    articles = load_dir(settings.kb_dir)
    assert len(articles) >= 41
    for a in articles:
        passages = split_passages(a)
        assert len(passages) >= 3, a.slug
        assert all(p.text.strip() for p in passages)
