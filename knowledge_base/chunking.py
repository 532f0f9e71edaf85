"""Splits articles into passages along headings; each passage keeps its title and heading."""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge_base.articles import Article

# Bump when passage splitting or embed_text changes: existing indexes are then rebuilt.
CHUNKING_VERSION = 5
# Count question headings among the questions an article answers? Measured off in
# `make bench-kb-levers`: generic headings ("Can I cancel?") pull unanswerable questions above
# the answer threshold (dev: 0.54 answered right at <=5% unanswerable vs 0.71 without).
HEADINGS_AS_QUESTIONS = False
# The section name of the entries made from an article's "questions this article answers".
QUESTION_SECTION = "Questions this article answers"
# Sections longer than this are split at paragraph boundaries (MiniLM reads 256 tokens).
MAX_PASSAGE_WORDS = 180
_HEADING = re.compile(r"^(#{1,3})\s+(.+?)\s*#*\s*$")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]+\)")


@dataclass(frozen=True)
class Passage:
    slug: str
    title: str
    section: str
    text: str  # Markdown of the passage (without its heading), or a customer question
    position: int
    kind: str = "text"  # text | question
    intent: str = ""  # the article's topic intent (NLU's ranking can favour it)

    @property
    def intro(self) -> bool:
        """The article's text before its first section heading (its section is the title)."""
        return self.section == self.title

    @property
    def embed_text(self) -> str:
        """What gets embedded: title and heading give a lone passage its context."""
        if self.kind == "question":  # matched question to question, in customers' words
            return self.text
        parts = [self.title] if self.intro else [self.title, self.section]
        parts.append(plain_text(self.text))
        return " ".join(p if p[-1:] in ".?!:" else p + "." for p in parts[:-1]) + " " + parts[-1]


def plain_text(markdown: str) -> str:
    """Markdown to readable plain text (links keep their words, markup dropped)."""
    text = _LINK.sub(r"\1", markdown)
    text = re.sub(r"^\s*(?:>\s?|#+\s+)", "", text, flags=re.M)
    text = re.sub(r"^\s*(?:[-+*]|\d+\.)\s+", "", text, flags=re.M)
    text = re.sub(r"[*_`]+", "", text)
    return re.sub(r"\s+", " ", text).strip()


def _split_long(text: str) -> list[str]:
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    chunks: list[str] = []
    current: list[str] = []
    words = 0
    for para in paragraphs:
        n = len(para.split())
        if current and words + n > MAX_PASSAGE_WORDS:
            chunks.append("\n\n".join(current))
            current, words = [], 0
        current.append(para)
        words += n
    if current:
        chunks.append("\n\n".join(current))
    return chunks


def split_passages(article: Article) -> list[Passage]:
    """The article's intro and each of its sections, as passages in reading order, then the
    questions it answers (``kind="question"``)."""
    sections: list[tuple[str, list[str]]] = [(article.title, [])]
    for line in article.body.splitlines():
        match = _HEADING.match(line)
        if match and len(match.group(1)) >= 2:
            sections.append((match.group(2).strip(), []))
        elif match:  # a single "#" heading repeats the title: not a new section
            continue
        else:
            sections[-1][1].append(line)
    passages: list[Passage] = []
    for heading, lines in sections:
        body = "\n".join(lines).strip()
        if not body:
            continue
        for chunk in _split_long(body):
            passages.append(
                Passage(
                    article.slug,
                    article.title,
                    heading,
                    chunk,
                    position=len(passages),
                    intent=article.intent,
                )
            )
    # Section headings written as questions ("How long do I have to return an item?") are
    # questions the article answers, in the article's own words.
    headings = [h for h, _ in sections[1:] if h.endswith("?")] if HEADINGS_AS_QUESTIONS else []
    for question in dict.fromkeys([*headings, *article.questions]):
        passages.append(
            Passage(
                article.slug,
                article.title,
                QUESTION_SECTION,
                question,
                position=len(passages),
                kind="question",
                intent=article.intent,
            )
        )
    return passages
