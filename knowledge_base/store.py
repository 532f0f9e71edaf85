"""Article repository and editing service: drafts, revisions, publishing (flush only).

Callers own the transaction: the API's request session, or ``unit_of_work`` in the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from knowledge_base.articles import Article, ArticleError, make_article
from knowledge_base.diff import revision_diff
from knowledge_base.models import ArticleRow, RevisionRow, utcnow


class ArticleNotFound(LookupError):
    pass


class ArticleConflict(Exception):
    """The slug exists already, or the edit was based on an older revision (``details``
    then says who changed what since)."""

    def __init__(self, message: str, details: dict | None = None) -> None:
        super().__init__(message)
        self.details = details


@dataclass(frozen=True)
class ArticleView:
    """An article as editors see it: latest revision plus publication state."""

    slug: str
    article: Article  # the latest revision's content
    revision: int
    status: str  # draft | published | changed (published, with newer unpublished revision)
    published_revision: int | None
    published_at: datetime | None
    updated_at: datetime
    author: str


def _utc(moment: datetime) -> datetime:
    # SQLite hands stored UTC times back without their offset.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _article_of(slug: str, rev: RevisionRow) -> Article:
    return Article(
        slug=slug,
        title=rev.title,
        body=rev.body,
        category=rev.category,
        intent=rev.intent,
        tags=tuple(rev.tags or ()),
        updated=rev.created_at.date().isoformat(),
        questions=tuple(rev.questions or ()),
    )


def _view(row: ArticleRow) -> ArticleView:
    latest = row.revisions[-1]
    published = row.published_revision
    if published is None:
        status = "draft"
    elif published.id == latest.id:
        status = "published"
    else:
        status = "changed"
    return ArticleView(
        slug=row.slug,
        article=_article_of(row.slug, latest),
        revision=latest.number,
        status=status,
        published_revision=published.number if published else None,
        published_at=row.published_at,
        updated_at=latest.created_at,
        author=latest.author,
    )


class ArticleRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    @classmethod
    def from_session(cls, session: Session) -> ArticleRepository:
        return cls(session)

    def _query(self):  # noqa: ANN202
        return (
            select(ArticleRow)
            .where(ArticleRow.deleted_at.is_(None))
            .options(
                selectinload(ArticleRow.revisions), selectinload(ArticleRow.published_revision)
            )
        )

    def get(self, slug: str) -> ArticleRow | None:
        return self.session.scalars(self._query().where(ArticleRow.slug == slug)).first()

    def get_any(self, slug: str) -> ArticleRow | None:
        """Including deleted articles (slugs stay reserved so links never change meaning)."""
        return self.session.scalars(select(ArticleRow).where(ArticleRow.slug == slug)).first()

    def list(self) -> list[ArticleRow]:
        return list(self.session.scalars(self._query().order_by(ArticleRow.slug)))

    def count(self) -> int:
        return len(self.session.scalars(select(ArticleRow.id)).all())


class ArticleService:
    """What editors and imports do to articles. Never commits."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.repo = ArticleRepository.from_session(session)

    def _require(self, slug: str) -> ArticleRow:
        row = self.repo.get(slug)
        if row is None:
            raise ArticleNotFound(f"no article {slug!r}")
        return row

    def list(self) -> list[ArticleView]:
        """Every live article with its publication state."""
        return [_view(r) for r in self.repo.list()]

    def get(self, *, slug: str) -> ArticleView:
        return _view(self._require(slug))

    def revisions(self, *, slug: str) -> list[RevisionRow]:
        """Revision history, newest first."""
        return list(reversed(self._require(slug).revisions))

    def create(self, *, article: Article, author: str, note: str = "") -> ArticleView:
        """A new draft article (revision 1)."""
        existing = self.repo.get_any(article.slug)
        if existing is not None and existing.deleted_at is None:
            raise ArticleConflict(f"article {article.slug!r} already exists")
        row = existing or ArticleRow(slug=article.slug)
        if existing is not None:  # re-creating a deleted slug keeps its history
            row.deleted_at = None
            row.published_revision_id = None
            row.published_at = None
        self.session.add(row)
        self._add_revision(row, article, author=author, note=note or "created")
        self.session.flush()
        return _view(row)

    def update(
        self,
        *,
        slug: str,
        changes: dict,
        author: str,
        base_revision: int | None = None,
        note: str = "",
    ) -> ArticleView:
        """A new revision with ``changes`` applied to the latest one (stays unpublished)."""
        row = self._require(slug)
        latest = row.revisions[-1]
        if base_revision is not None and base_revision != latest.number:
            base = next((r for r in row.revisions if r.number == base_revision), None)
            raise ArticleConflict(
                f"{latest.author} saved revision {latest.number} of {slug!r} after the revision "
                f"{base_revision} you edited; reload and reapply your edit",
                details={
                    "latest_revision": latest.number,
                    "author": latest.author,
                    "created_at": _utc(latest.created_at).isoformat(),
                    "note": latest.note,
                    "changes": revision_diff(base, latest) if base is not None else None,
                },
            )
        current = _article_of(slug, latest)
        merged = make_article(
            slug=slug,
            title=changes.get("title", current.title),
            body=changes.get("body", current.body),
            category=changes.get("category", current.category),
            intent=changes.get("intent", current.intent),
            tags=changes.get("tags", list(current.tags)),
            questions=changes.get("questions", list(current.questions)),
        )
        if merged.content_hash() == current.content_hash() and (
            merged.category,
            merged.intent,
            merged.tags,
        ) == (current.category, current.intent, current.tags):  # questions are in the hash
            return _view(row)  # nothing changed: no empty revision
        self._add_revision(row, merged, author=author, note=note)
        self.session.flush()
        return _view(row)

    def publish(self, *, slug: str) -> ArticleView:
        """Makes the latest revision the live one."""
        row = self._require(slug)
        row.published_revision = row.revisions[-1]
        row.published_at = utcnow()
        self.session.flush()
        return _view(row)

    def unpublish(self, *, slug: str) -> ArticleView:
        """Takes the article out of the help center and search; it stays as a draft."""
        row = self._require(slug)
        row.published_revision = None
        row.published_at = None
        self.session.flush()
        return _view(row)

    def revision(self, *, slug: str, number: int) -> RevisionRow:
        for rev in self._require(slug).revisions:
            if rev.number == number:
                return rev
        raise ArticleNotFound(f"{slug!r} has no revision {number}")

    def restore(self, *, slug: str, number: int, author: str) -> ArticleView:
        """A new revision with the content of revision ``number`` (publish to make it live)."""
        old = self.revision(slug=slug, number=number)
        return self.update(
            slug=slug,
            changes={
                "title": old.title,
                "body": old.body,
                "category": old.category,
                "intent": old.intent,
                "tags": list(old.tags or []),
                "questions": list(old.questions or []),
            },
            author=author,
            note=f"restored revision {number}",
        )

    def delete(self, *, slug: str) -> None:
        """Removes the article from the help center and search (history is kept)."""
        row = self._require(slug)
        row.deleted_at = utcnow()
        row.published_revision = None
        row.published_at = None
        self.session.flush()

    def published(self) -> list[Article]:
        """The content customers and the search index see."""
        return [
            _article_of(r.slug, r.published_revision)
            for r in self.repo.list()
            if r.published_revision is not None
        ]

    def published_one(self, *, slug: str) -> Article | None:
        """One live article (None if unknown, deleted or never published)."""
        row = self.repo.get(slug)
        if row is None or row.published_revision is None:
            return None
        return _article_of(row.slug, row.published_revision)

    def import_articles(self, *, articles: list[Article], author: str) -> dict[str, list[str]]:
        """Creates or updates each article and publishes it; unchanged ones are left alone."""
        report: dict[str, list[str]] = {"created": [], "updated": [], "unchanged": []}
        for article in articles:
            row = self.repo.get(article.slug)
            if row is None:
                self.create(article=article, author=author, note="imported")
                report["created"].append(article.slug)
            else:
                before = row.revisions[-1].number
                self.update(
                    slug=article.slug,
                    changes={
                        "title": article.title,
                        "body": article.body,
                        "category": article.category,
                        "intent": article.intent,
                        "tags": list(article.tags),
                        "questions": list(article.questions),
                    },
                    author=author,
                    note="imported",
                )
                changed = row.revisions[-1].number != before
                published_current = row.published_revision_id == row.revisions[-1].id
                if not changed and published_current:
                    report["unchanged"].append(article.slug)
                    continue
                report["updated"].append(article.slug)
            self.publish(slug=article.slug)
        return report

    def _add_revision(self, row: ArticleRow, article: Article, *, author: str, note: str) -> None:
        if not author or len(author) > 120:
            raise ArticleError("author is required (at most 120 characters)")
        number = (row.revisions[-1].number + 1) if row.revisions else 1
        row.revisions.append(
            RevisionRow(
                number=number,
                title=article.title,
                body=article.body,
                category=article.category,
                intent=article.intent,
                tags=list(article.tags),
                questions=list(article.questions),
                author=author,
                note=note[:500],
            )
        )
