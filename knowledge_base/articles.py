"""Help articles: Markdown with YAML front matter (the import/export format)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_SLUG = 80
MAX_BODY_CHARS = 100_000
MAX_QUESTIONS = 200
MAX_QUESTION_CHARS = 500
_FRONT = re.compile(r"\A---\s*\n(.*?)\n---\s*\n?(.*)\Z", re.S)


class ArticleError(ValueError):
    """An article file or payload is malformed (message says what and where)."""


@dataclass(frozen=True)
class Article:
    slug: str
    title: str
    body: str
    category: str = ""
    intent: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)
    updated: str = ""
    # Customer questions this article answers, in customers' words (searched as well).
    questions: tuple[str, ...] = field(default_factory=tuple)

    @property
    def url(self) -> str:
        return f"/help/{self.slug}"

    def content_hash(self) -> str:
        """Hash of everything that is embedded; unchanged hash = no re-embedding."""
        digest = hashlib.sha256()
        for part in (self.slug, self.title, self.intent, self.body, *self.questions):
            digest.update(part.encode())
            digest.update(b"\0")
        return digest.hexdigest()

    def to_markdown(self) -> str:
        front = {
            "slug": self.slug,
            "title": self.title,
            "category": self.category,
            "intent": self.intent,
            "tags": list(self.tags),
            "updated": self.updated,
        }
        if self.questions:
            front["questions"] = list(self.questions)
        head = yaml.safe_dump(front, sort_keys=False, allow_unicode=True, default_flow_style=None)
        return f"---\n{head}---\n{self.body.strip()}\n"


def validate_slug(slug: str) -> str:
    if not (isinstance(slug, str) and 0 < len(slug) <= MAX_SLUG and SLUG_RE.match(slug)):
        raise ArticleError(
            f"invalid slug {slug!r}: use lowercase letters, digits and single hyphens "
            f"(at most {MAX_SLUG} characters)"
        )
    return slug


def make_article(
    *,
    slug: str,
    title: str,
    body: str,
    category: str = "",
    intent: str = "",
    tags: list[str] | tuple[str, ...] = (),
    updated: str = "",
    questions: list[str] | tuple[str, ...] = (),
) -> Article:
    """Builds a validated article (the one constructor used by import and the editor)."""
    validate_slug(slug)
    title = (title or "").strip()
    if not title or len(title) > 200:
        raise ArticleError(f"{slug}: title is required (at most 200 characters)")
    if not (body or "").strip():
        raise ArticleError(f"{slug}: body is empty")
    if len(body) > MAX_BODY_CHARS:
        raise ArticleError(f"{slug}: body is longer than {MAX_BODY_CHARS} characters")
    clean_tags = tuple(str(t).strip() for t in tags if str(t).strip())
    clean_questions = tuple(
        dict.fromkeys(" ".join(str(q).split()) for q in questions if str(q).strip())
    )
    if len(clean_questions) > MAX_QUESTIONS:
        raise ArticleError(f"{slug}: at most {MAX_QUESTIONS} questions")
    if any(len(q) > MAX_QUESTION_CHARS for q in clean_questions):
        raise ArticleError(f"{slug}: a question is longer than {MAX_QUESTION_CHARS} characters")
    return Article(
        slug=slug,
        title=title,
        body=body.strip() + "\n",
        category=str(category or "").strip(),
        intent=str(intent or "").strip(),
        tags=clean_tags,
        updated=str(updated or date.today().isoformat()),
        questions=clean_questions,
    )


def parse_markdown(text: str, *, source: str = "<text>") -> Article:
    """Parses one article file; raises ArticleError naming the source on any problem."""
    match = _FRONT.match(text.replace("\r\n", "\n"))
    if not match:
        raise ArticleError(f"{source}: missing '---' front matter block")
    try:
        front = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise ArticleError(f"{source}: front matter is not valid YAML: {exc}") from exc
    if not isinstance(front, dict):
        raise ArticleError(f"{source}: front matter must be a mapping")
    try:
        return make_article(
            slug=front.get("slug") or Path(source).stem,
            title=front.get("title", ""),
            body=match.group(2),
            category=front.get("category", ""),
            intent=front.get("intent", ""),
            tags=front.get("tags") or [],
            updated=str(front.get("updated") or ""),
            questions=front.get("questions") or [],
        )
    except ArticleError as exc:
        raise ArticleError(f"{source}: {exc}") from exc


def load_dir(directory: Path) -> list[Article]:
    """Loads every ``*.md`` article in a folder (sorted by slug); duplicate slugs are an error."""
    if not directory.is_dir():
        raise ArticleError(f"{directory}: not a directory")
    articles: dict[str, Article] = {}
    for path in sorted(directory.glob("*.md")):
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise ArticleError(f"{path}: not UTF-8 text") from exc
        article = parse_markdown(text, source=str(path))
        if article.slug in articles:
            raise ArticleError(f"{path}: duplicate slug {article.slug!r}")
        articles[article.slug] = article
    return [articles[s] for s in sorted(articles)]
