"""Keeps the search index in step with the published articles in the database."""

from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from api.db import unit_of_work
from knowledge_base.articles import load_dir
from knowledge_base.index import PassageIndex, SyncReport
from knowledge_base.store import ArticleService

logger = logging.getLogger("supportbot.kb")


def seed_demo_articles(sessions: sessionmaker[Session], kb_dir) -> None:  # noqa: ANN001
    """First start: import the Markdown articles so the help center is not empty."""
    try:
        with unit_of_work(sessions) as session:
            service = ArticleService(session)
            if service.repo.count():
                return
            report = service.import_articles(articles=load_dir(kb_dir), author="initial import")
            logger.info("imported %d articles from %s", len(report["created"]), kb_dir)
    except IntegrityError:
        # Another worker imported them at the same moment: theirs won, nothing to do.
        logger.info("articles were imported by another worker")


def sync_index(sessions: sessionmaker[Session], index: PassageIndex) -> SyncReport:
    """Re-embeds only the published articles whose content changed."""
    with unit_of_work(sessions) as session:
        published = ArticleService(session).published()
    report = index.sync(published)
    if report.changed:
        logger.info(
            "index: +%s ~%s -%s (%d passages embedded)",
            report.added,
            report.updated,
            report.removed,
            report.embedded_passages,
        )
    return report
