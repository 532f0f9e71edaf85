"""Article store on SQLite and PostgreSQL: revisions, publishing, import, deletion."""

from __future__ import annotations

import pytest

from knowledge_base.articles import ArticleError, make_article
from knowledge_base.store import ArticleConflict, ArticleNotFound, ArticleService


def create_article(
    service: ArticleService,
    slug: str = "tent-care",
    body: str = "## Drying\nDry tents before storing.",
    **kw,
):
    return service.create(
        article=make_article(slug=slug, title=kw.pop("title", "Tent care"), body=body, **kw),
        author=kw.pop("author", "ana"),
    )


def test_create_is_a_draft_not_published(session):
    service = ArticleService(session)
    view = create_article(service)
    assert (view.status, view.revision, view.author) == ("draft", 1, "ana")
    assert service.published() == []


def test_publish_then_edit_keeps_live_version_until_republished(session):
    service = ArticleService(session)
    create_article(service)
    service.publish(slug="tent-care")
    service.update(slug="tent-care", changes={"body": "## Drying\nAlways dry tents."}, author="ben")
    view = service.get(slug="tent-care")
    assert (view.status, view.revision, view.published_revision) == ("changed", 2, 1)
    assert service.published()[0].body.startswith("## Drying\nDry tents")
    service.publish(slug="tent-care")
    assert service.published()[0].body.startswith("## Drying\nAlways dry")
    assert [(r.number, r.author) for r in service.revisions(slug="tent-care")] == [
        (2, "ben"),
        (1, "ana"),
    ]


def test_stale_base_revision_conflicts(session):
    service = ArticleService(session)
    create_article(service)
    service.update(
        slug="tent-care", changes={"title": "Tent care 101"}, author="ana", base_revision=1
    )
    with pytest.raises(ArticleConflict, match="ana saved revision 2") as conflict:
        service.update(slug="tent-care", changes={"title": "Other"}, author="ben", base_revision=1)
    changes = conflict.value.details["changes"]
    assert changes["fields"]["title"] == {"from": "Tent care", "to": "Tent care 101"}


def test_invalid_edit_changes_nothing(session):
    service = ArticleService(session)
    create_article(service)
    with pytest.raises(ArticleError):
        service.update(slug="tent-care", changes={"body": "   "}, author="ana")
    assert service.get(slug="tent-care").revision == 1


def test_delete_hides_and_unpublishes_but_slug_can_come_back(session):
    service = ArticleService(session)
    create_article(service)
    service.publish(slug="tent-care")
    service.delete(slug="tent-care")
    assert service.published() == [] and service.list() == []
    with pytest.raises(ArticleNotFound):
        service.get(slug="tent-care")
    again = create_article(service, body="## New\nNew content.")
    assert again.status == "draft" and again.revision == 2  # history kept


def test_duplicate_create_conflicts(session):
    service = ArticleService(session)
    create_article(service)
    with pytest.raises(ArticleConflict):
        create_article(service)


def test_import_creates_updates_and_skips_unchanged(session):
    service = ArticleService(session)
    a = make_article(slug="a-one", title="One", body="Body one.")
    b = make_article(slug="b-two", title="Two", body="Body two.")
    assert service.import_articles(articles=[a, b], author="import")["created"] == [
        "a-one",
        "b-two",
    ]
    b2 = make_article(slug="b-two", title="Two", body="Body two, revised.")
    report = service.import_articles(articles=[a, b2], author="import")
    assert report == {"created": [], "updated": ["b-two"], "unchanged": ["a-one"]}
    assert {x.slug: x.body for x in service.published()}["b-two"] == "Body two, revised.\n"
