"""The ``supportbot`` command-line tool."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from api.config import settings


def _sessions():  # noqa: ANN202
    """The app's database, migrated, with the demo articles imported on first use."""
    from sqlalchemy.orm import sessionmaker

    from api.db import make_engine, migrate
    from api.kb_sync import seed_demo_articles

    settings.var_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.sqlalchemy_url)
    migrate(engine)
    sessions = sessionmaker(engine, expire_on_commit=False)
    seed_demo_articles(sessions, settings.kb_dir)
    return sessions


def _published() -> list:
    from api.db import unit_of_work
    from knowledge_base.store import ArticleService

    with unit_of_work(_sessions()) as session:
        return ArticleService(session).published()


def _engine(args: argparse.Namespace):  # noqa: ANN202
    """Search over a Markdown folder (--kb-dir, any corpus) or the app's published articles."""
    from knowledge_base.articles import load_dir
    from knowledge_base.index import PassageIndex
    from knowledge_base.onnx_embedder import load_embedder
    from knowledge_base.search import SearchEngine

    if args.kb_dir:
        articles = load_dir(Path(args.kb_dir))
        index_dir = Path(args.index_dir or Path(args.kb_dir).resolve().parent / ".supportbot-index")
    else:
        articles = _published()
        index_dir = Path(args.index_dir or settings.index_path)
    embedder = load_embedder(settings.embedder_onnx_dir, settings.embedder_backend)
    index = PassageIndex(index_dir, embedder, kind=args.index_kind or settings.index_kind)
    report = index.open(articles)
    if report.changed or report.rebuilt:
        print(
            f"index {index_dir}: {len(report.added)} added, {len(report.updated)} updated, "
            f"{len(report.removed)} removed, {report.embedded_passages} passages embedded",
            file=sys.stderr,
        )
    return SearchEngine(
        index,
        embedder,
        out_of_scope_weight=settings.kb_out_of_scope_weight,
        uncovered_weight=settings.kb_uncovered_weight,
        margin_weight=settings.kb_margin_weight,
    )


def cmd_kb_index(args: argparse.Namespace) -> int:
    engine = _engine(args)
    print(f"{len(engine.index.hashes)} articles, {len(engine.index)} passages indexed")
    return 0


def cmd_kb_import(args: argparse.Namespace) -> int:
    from api.db import unit_of_work
    from knowledge_base.articles import load_dir
    from knowledge_base.store import ArticleService

    articles = load_dir(Path(args.dir))  # every file is checked before anything is written
    with unit_of_work(_sessions()) as session:
        report = ArticleService(session).import_articles(articles=articles, author=args.author)
    print(
        f"{len(report['created'])} created, {len(report['updated'])} updated, "
        f"{len(report['unchanged'])} unchanged (published); run `supportbot kb index` or restart "
        "the app to refresh search"
    )
    return 0


def cmd_kb_export(args: argparse.Namespace) -> int:
    from api.db import unit_of_work
    from knowledge_base.store import ArticleService

    out = Path(args.dir)
    out.mkdir(parents=True, exist_ok=True)
    with unit_of_work(_sessions()) as session:
        service = ArticleService(session)
        articles = [v.article for v in service.list()] if args.drafts else service.published()
    for article in articles:
        (out / f"{article.slug}.md").write_text(article.to_markdown(), encoding="utf-8")
    print(f"exported {len(articles)} articles to {out}")
    return 0


def cmd_kb_search(args: argparse.Namespace) -> int:
    from knowledge_base.search import QueryError

    engine = _engine(args)
    try:
        results = engine.search(args.query, args.k)
    except QueryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    threshold = settings.kb_answer_threshold
    for r in results:
        mark = "" if r.score >= threshold else "  (below answer threshold)"
        print(f"{r.score:.3f}  {r.slug}  [{r.section}]{mark}\n       {r.snippet[:160]}")
    if not results:
        print("no results")
    return 0


def cmd_kb_eval(args: argparse.Namespace) -> int:
    from knowledge_base.evaluation import load_eval, metrics, rank

    try:
        evalset = load_eval(Path(args.file)).split(args.split)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    engine = _engine(args)
    threshold = settings.kb_answer_threshold if args.threshold is None else args.threshold
    result = metrics(rank(engine, evalset), threshold)
    for key, value in result.items():
        print(f"{key:28s} {value}", file=sys.stderr)
    print(json.dumps(result))
    return 0


def cmd_agents_create(args: argparse.Namespace) -> int:
    import getpass

    from api.db import unit_of_work
    from handoff.agents import AgentError, AgentService

    password = args.password or os.environ.get("SUPPORTBOT_AGENT_PASSWORD")
    if not password:
        if not sys.stdin.isatty():
            print(
                "error: give --password or SUPPORTBOT_AGENT_PASSWORD (no terminal to ask)",
                file=sys.stderr,
            )
            return 2
        password = getpass.getpass("password (10+ characters): ")
    try:
        with unit_of_work(_sessions()) as session:
            agent = AgentService(session).create(
                email=args.email, name=args.name, role=args.role, password=password
            )
            print(f"created {agent.role} {agent.email} (id {agent.id})")
    except AgentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def cmd_agents_list(args: argparse.Namespace) -> int:
    from api.db import unit_of_work
    from handoff.agents import AgentService

    with unit_of_work(_sessions()) as session:
        for agent in AgentService(session).list():
            state = "active" if agent.is_active else "disabled"
            print(f"{agent.id:4d}  {agent.role:7s}  {state:8s}  {agent.email}  ({agent.name})")
    return 0


def _account_change(args: argparse.Namespace, change) -> int:  # noqa: ANN001
    """Runs ``change(service, agent)`` on the account with ``--email``; ends its sessions."""
    from api.db import unit_of_work
    from handoff.agents import AgentError, AgentService

    try:
        with unit_of_work(_sessions()) as session:
            service = AgentService(session)
            agent = service.by_email(args.email)
            if agent is None:
                print(f"error: no account {args.email}", file=sys.stderr)
                return 2
            message = change(service, agent)
            agent_id = agent.id
    except AgentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    _announce_revoked(agent_id)
    print(message)
    return 0


def _announce_revoked(agent_id: int) -> None:
    """With Redis, open consoles of that account close now; without, within a few seconds
    (every console re-checks its session)."""
    if not settings.redis_url:
        return
    from handoff.events import AGENTS, RedisEventBus

    bus = RedisEventBus(settings.redis_url)
    try:
        bus.publish(AGENTS, {"type": "agent.revoked", "agent_id": agent_id})
    finally:
        bus._redis.close()


def cmd_agents_disable(args: argparse.Namespace) -> int:
    def change(service, agent) -> str:  # noqa: ANN001
        service.set_active(agent, False)
        return f"disabled {agent.email}; every session of this account has ended"

    return _account_change(args, change)


def cmd_agents_enable(args: argparse.Namespace) -> int:
    def change(service, agent) -> str:  # noqa: ANN001
        service.set_active(agent, True)
        return f"enabled {agent.email}"

    return _account_change(args, change)


def cmd_agents_set_role(args: argparse.Namespace) -> int:
    def change(service, agent) -> str:  # noqa: ANN001
        service.set_role(agent, args.role)
        return f"{agent.email} is now {args.role}"

    return _account_change(args, change)


def cmd_agents_set_password(args: argparse.Namespace) -> int:
    import getpass

    password = args.password or os.environ.get("SUPPORTBOT_AGENT_PASSWORD")
    if not password:
        if not sys.stdin.isatty():
            print(
                "error: give --password or SUPPORTBOT_AGENT_PASSWORD (no terminal to ask)",
                file=sys.stderr,
            )
            return 2
        password = getpass.getpass("new password (10+ characters): ")

    def change(service, agent) -> str:  # noqa: ANN001
        service.set_password(agent, password)
        return f"new password set for {agent.email}; their sessions have ended"

    return _account_change(args, change)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="supportbot", description="supportbot tools")
    sub = parser.add_subparsers(dest="command", required=True)

    kb = sub.add_parser("kb", help="knowledge base: index, search, evaluate").add_subparsers(
        dest="kb_command", required=True
    )

    def corpus_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--kb-dir", help="folder of Markdown articles (default: configured)")
        p.add_argument("--index-dir", help="index folder (default: configured)")
        p.add_argument("--index-kind", choices=["flat", "hnsw"], help="FAISS index type")

    p = kb.add_parser("index", help="build or update the search index")
    corpus_options(p)
    p.set_defaults(func=cmd_kb_index)

    p = kb.add_parser(
        "import", help="import a folder of Markdown articles (creates/updates, publishes)"
    )
    p.add_argument("dir")
    p.add_argument("--author", default="cli import")
    p.set_defaults(func=cmd_kb_import)

    p = kb.add_parser("export", help="export published articles as Markdown files")
    p.add_argument("dir")
    p.add_argument("--drafts", action="store_true", help="export the latest revisions instead")
    p.set_defaults(func=cmd_kb_export)

    p = kb.add_parser("search", help="search the knowledge base")
    p.add_argument("query")
    p.add_argument("-k", type=int, default=5)
    corpus_options(p)
    p.set_defaults(func=cmd_kb_search)

    p = kb.add_parser("eval", help="score retrieval on a questions file (JSON on the last line)")
    p.add_argument("file")
    p.add_argument("--split", choices=["dev", "test"], help="only this split of the questions")
    p.add_argument("--threshold", type=float, help="answer threshold (default: configured)")
    corpus_options(p)
    p.set_defaults(func=cmd_kb_eval)

    agents = sub.add_parser("agents", help="agent accounts").add_subparsers(
        dest="agents_command", required=True
    )
    p = agents.add_parser("create", help="add an agent, editor or admin")
    p.add_argument("--email", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--role", choices=["agent", "editor", "admin"], default="agent")
    p.add_argument("--password", help="or SUPPORTBOT_AGENT_PASSWORD, or asked on the terminal")
    p.set_defaults(func=cmd_agents_create)
    p = agents.add_parser("list", help="list accounts")
    p.set_defaults(func=cmd_agents_list)
    for name, func, help_text in (
        ("disable", cmd_agents_disable, "disable an account (ends its sessions)"),
        ("enable", cmd_agents_enable, "enable a disabled account"),
    ):
        p = agents.add_parser(name, help=help_text)
        p.add_argument("--email", required=True)
        p.set_defaults(func=func)
    p = agents.add_parser("set-role", help="change an account's role (ends its sessions)")
    p.add_argument("--email", required=True)
    p.add_argument("--role", choices=["agent", "editor", "admin"], required=True)
    p.set_defaults(func=cmd_agents_set_role)
    p = agents.add_parser("set-password", help="reset a password (ends its sessions)")
    p.add_argument("--email", required=True)
    p.add_argument("--password", help="or SUPPORTBOT_AGENT_PASSWORD, or asked on the terminal")
    p.set_defaults(func=cmd_agents_set_password)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except Exception as exc:  # a clear message instead of a traceback for expected failures
        from knowledge_base.articles import ArticleError

        if isinstance(exc, ArticleError):
            print(f"error: {exc}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    raise SystemExit(main())
