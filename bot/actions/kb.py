"""The turn policy's action: every customer message comes here (see nlu_data/rules).

It reads what NLU understood and what happened before (slots), asks ``policy.decide``, and
carries the decision out: answers from the help center (the app's KB search), asks to
rephrase, declines, offers a person, ends a conversation the bot resolved, or hands over
through ``action_handoff`` with the reason code the policy chose.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import policy
from bot.actions.clients.app import AppClient, AppUnavailable, SearchResponse, SearchResult
from bot.actions.messages import APP_UNREACHABLE, ASK_REPHRASE, NO_KB_ANSWER, TALK_TO_PERSON

logger = logging.getLogger(__name__)

# A second article is offered when it scores within this margin of the best one.
RELATED_MARGIN = 0.05
MAX_SHOWN = 50
MAX_TRIED = 20
MAX_QUESTION_CHARS = 300

HELPFUL_BUTTONS = [
    {"title": "Yes, thanks", "payload": "/affirm"},
    {"title": "No, talk to a person", "payload": "/deny"},
]
OFFER_BUTTONS = [
    {"title": "Yes, get me a person", "payload": "/affirm"},
    {"title": "No, I'll ask another way", "payload": "/deny"},
]


def understood(tracker: Tracker) -> policy.Understood:
    return policy.Understood.from_parse(tracker.latest_message or {})


def memory(tracker: Tracker) -> policy.Memory:
    shown = [str(s) for s in tracker.get_slot("kb_shown") or []]
    return policy.Memory(
        bot_move=tracker.get_slot("bot_move"),
        last_question=tracker.get_slot("last_question"),
        last_passage=shown[-1] if shown and tracker.get_slot("bot_move") else None,
        shown=frozenset(shown),
        unclear_in_row=int(tracker.get_slot("unclear_in_row") or 0),
        answered=bool(shown),
        bot_spoke=_bot_spoke(tracker),
    )


def _bot_spoke(tracker: Tracker) -> bool:
    """Whether the bot said anything since the session started."""
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "bot":
            return True
        if kind == "session_started":
            return False
    return False


def _as_dict(r: SearchResult) -> dict[str, Any]:
    return {"slug": r.slug, "section": r.section, "score": r.score, "answer": r.answer_score}


def _article(result: SearchResult) -> dict[str, str]:
    return {"slug": result.slug, "title": result.title, "url": result.url}


def _related(results: list[SearchResult]) -> SearchResult | None:
    best = results[0]
    for other in results[1:]:
        if other.slug != best.slug and best.score - other.score <= RELATED_MARGIN:
            return other
    return None


def _then(events: list[EventType]) -> list[EventType]:
    """The turn's events, ending with what comes next: the handoff when there is one, else
    listening. Naming ``action_listen`` spares Rasa a second policy prediction per turn (the
    rules would predict it anyway: 2-3 ms of the Rasa server's CPU)."""
    if any(e.get("event") == "followup" for e in events):
        return events
    return [*events, FollowupAction("action_listen")]


class ActionAnswerFromKb(Action):
    """Answers from the help center, or decides this turn needs something else."""

    def __init__(self, client: AppClient | None = None) -> None:
        self._client = client

    def name(self) -> str:
        return "action_answer_from_kb"

    @property
    def client(self) -> AppClient:
        if self._client is None:
            self._client = AppClient()
        return self._client

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        cfg = policy.load_config()
        u = understood(tracker)
        mem = memory(tracker)
        decision = policy.decide(u, mem, cfg)
        tried = list(tracker.get_slot("kb_articles_tried") or [])
        if decision.action != "search":
            return _then(self._carry_out(dispatcher, decision, u, mem, tried, None, []))

        query = u.text[:4000]
        # NLU's vector of the message (the featurizer's): the app searches with it instead of
        # embedding the message again. Only for the message itself, not for a context query.
        embedding = (tracker.latest_message or {}).get("text_embedding") or None
        # NLU's topic probabilities favour the articles of likely topics; its out-of-scope
        # probability lowers the answer scores (the app weighs both).
        ranking = {
            r.get("name"): float(r.get("confidence") or 0.0)
            for r in (tracker.latest_message or {}).get("intent_ranking") or []
            if r.get("name") in policy.TOPICS or r.get("name") == "out_of_scope"
        }
        try:
            response = await self.client.search(
                query, exclude=(), intents=ranking, embedding=embedding
            )
            results = response.results
            read_after = False
            alone = [_as_dict(r) for r in results]
            if policy.is_rephrase(u, mem, alone, cfg):
                decision = policy.Decision("handoff", reason="repeated")
            else:
                context = policy.context_query(u, mem, cfg, searching=True)
                short = policy.ambiguous_alone(u, mem, cfg, searching=True)
                if context and policy.needs_after_reading(alone, response.threshold, short):
                    # A follow-up may mean little on its own: read it after the last question
                    # too (policy.read_follow_up decides which reading answers it).
                    # NLU judged the message alone: read after the question, it is not its
                    # out-of-scope doubt ("ok, how do I make a claim?" after a warranty answer)
                    topics = {k: v for k, v in ranking.items() if k != "out_of_scope"}
                    after = await self.client.search(
                        context[:4000], k=5, exclude=(), intents=topics
                    )
                    reading, confirmed = policy.read_follow_up(
                        alone,
                        [_as_dict(r) for r in after.results],
                        response.threshold,
                        short,
                        within=cfg.follow_up_confirm_within,
                        alone_margin=cfg.follow_up_alone_margin,
                        points_back=policy.refers_back(u.text),
                    )
                    if reading == "after":
                        query, response, results = context[:4000], after, after.results
                        ranking = topics
                        read_after = True
                    elif reading == "confirmed":
                        best = replace(
                            results[0],
                            score=confirmed["score"],
                            answer_score=confirmed["answer"],
                        )
                        results = [best, *results[1:]]
                if results and policy.passage(_as_dict(results[0])) in mem.shown:
                    # Never the same passage twice: the best one not shown yet.
                    response = await self.client.search(
                        query,
                        exclude=sorted(mem.shown),
                        intents=ranking,
                        embedding=embedding if query == u.text[:4000] else None,
                    )
                    results = response.results
                ranked = [_as_dict(r) for r in results]
                threshold = response.threshold
                if read_after:
                    threshold = policy.follow_up_threshold(mem, ranked, threshold, cfg)
                decision = policy.after_search(mem, decision, ranked, threshold, cfg)
                if decision.action != "answer":
                    found = await self._answer_a_question_clause(u, mem, ranking, cfg)
                    if found is not None:
                        query, response = found
                        results = response.results
                        decision = policy.Decision("answer")
        except AppUnavailable:
            dispatcher.utter_message(text=APP_UNREACHABLE, buttons=[TALK_TO_PERSON])
            return _then([SlotSet("bot_move", policy.REPLY)])
        intent = u.intent
        tried += [
            {
                "slug": r.slug,
                "title": r.title,
                "section": r.section,
                "score": r.score,
                "intent": intent,
                "shown": decision.action == "answer" and i == 0,
            }
            for i, r in enumerate(results[:3])
        ]
        return _then(
            self._carry_out(dispatcher, decision, u, mem, tried[-MAX_TRIED:], query, results)
        )

    async def _answer_a_question_clause(
        self,
        u: policy.Understood,
        mem: policy.Memory,
        ranking: dict[str, float],
        cfg: policy.Config,
    ) -> tuple[str, SearchResponse] | None:
        """A long message the help center does not answer as a whole: the question sentence
        that it answers best, at the answer threshold plus ``clause_answer_margin``."""
        found = []
        for clause in policy.question_clauses(u, cfg):
            response = await self.client.search(
                clause[:4000], exclude=sorted(mem.shown), intents=ranking
            )
            if response.results:
                found.append((clause, response))
        if not found:
            return None
        clause, response = max(found, key=lambda cr: cr[1].results[0].answer_score)
        bar = response.threshold + cfg.clause_answer_margin
        return (clause, response) if policy.answers(_as_dict(response.results[0]), bar) else None

    def _carry_out(
        self,
        dispatcher: CollectingDispatcher,
        decision: policy.Decision,
        u: policy.Understood,
        mem: policy.Memory,
        tried: list[dict[str, Any]],
        query: str | None,
        results: list[SearchResult],
    ) -> list[EventType]:
        events: list[EventType] = [SlotSet("kb_articles_tried", tried)]
        unclear = mem.unclear_in_row + 1 if decision.action == "rephrase" else 0
        events.append(SlotSet("unclear_in_row", float(unclear)))
        if decision.action == "handoff":
            return events + [
                SlotSet("handoff_reason", decision.reason),
                FollowupAction("action_handoff"),
            ]
        if decision.action == "answer":
            best = results[0]
            articles = [_article(best)]
            related = _related(results)
            if related is not None:
                articles.append(_article(related))
            dispatcher.utter_message(
                text=f"{best.snippet}\n\nDid this answer your question?",
                buttons=HELPFUL_BUTTONS,
                json_message={"articles": articles},
            )
            shown = [*sorted(mem.shown), f"{best.slug}#{best.section}"][-MAX_SHOWN:]
            return events + [
                SlotSet("bot_move", policy.ANSWER),
                SlotSet("last_question", (query or u.text)[-MAX_QUESTION_CHARS:]),
                SlotSet("kb_shown", shown),
            ]
        if decision.action == "offer":
            # The app lists the question for editors ("what customers asked that the help
            # center could not answer") whether or not the customer takes the offer.
            unanswered = (
                {"unanswered": decision.reason} if decision.reason == "no_kb_answer" else None
            )
            if decision.response:
                dispatcher.utter_message(response=decision.response, json_message=unanswered)
            else:
                dispatcher.utter_message(
                    text=NO_KB_ANSWER, buttons=OFFER_BUTTONS, json_message=unanswered
                )
            return events + [SlotSet("bot_move", policy.OFFER + str(decision.reason))]
        if decision.action == "rephrase":
            dispatcher.utter_message(
                text=ASK_REPHRASE,
                buttons=[TALK_TO_PERSON],
                json_message={"unanswered": "low_confidence"},
            )
            return events + [SlotSet("bot_move", policy.REPHRASE)]
        if decision.action == "end":
            # The customer is done and the bot handled it: the app closes the conversation
            # as resolved_by_bot and asks for a rating.
            dispatcher.utter_message(
                response=decision.response, json_message={"end": "resolved_by_bot"}
            )
            return events + [SlotSet("bot_move", None)]
        dispatcher.utter_message(response=decision.response)
        move = policy.REPLY if mem.bot_move in (policy.ANSWER, policy.REPLY) else None
        return events + [SlotSet("bot_move", move)]
