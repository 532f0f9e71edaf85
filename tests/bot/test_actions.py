"""Custom actions with real Tracker/CollectingDispatcher objects and a fake app transport."""

from __future__ import annotations

import asyncio

import httpx
from rasa_sdk.events import ConversationPaused, FollowupAction, SlotSet

from bot.actions.fallback import ActionHandleFallback
from bot.actions.handoff import ActionHandoff, reason_for
from bot.actions.kb import ActionAnswerFromKb
from tests.bot.conftest import (
    FakeApp,
    action_event,
    make_tracker,
    result,
    search_response,
    user_event,
)


def run(action, dispatcher, tracker):
    return asyncio.run(action.run(dispatcher, tracker, {}))


# ---- action_answer_from_kb ---------------------------------------------------------------


def test_answers_with_best_passage_and_cites_article(dispatcher):
    app = FakeApp(
        lambda r: search_response(
            [result("return-policy", 0.71, "You have 60 days."), result("exchanges", 0.52)]
        )
    )
    tracker = make_tracker([user_event("how long do i have to return boots", "returns_refunds")])

    events = run(ActionAnswerFromKb(app.client()), dispatcher, tracker)

    request = app.requests[0]
    assert request.url.path == "/api/kb/search"
    assert request.url.params["q"] == "how long do i have to return boots"
    text_message = dispatcher.messages[0]
    assert "You have 60 days." in text_message["text"]
    # The citation is data for the channel to render, not words in the answer.
    assert "Return Policy" not in text_message["text"]
    assert [b["payload"] for b in text_message["buttons"]] == ["/affirm", "/deny"]
    assert text_message["custom"]["articles"] == [
        {
            "slug": "return-policy",
            "title": "Return Policy",
            "url": "http://app.test/help/return-policy",
        }
    ]
    tried = events[0]
    assert tried == SlotSet(
        "kb_articles_tried",
        [
            {
                "slug": "return-policy",
                "title": "Return Policy",
                "score": 0.71,
                "intent": "returns_refunds",
                "shown": True,
            }
        ],
    )


def test_close_second_article_is_offered_as_related(dispatcher):
    app = FakeApp(
        lambda r: search_response([result("refund-timing", 0.70), result("return-policy", 0.68)])
    )
    tracker = make_tracker([user_event("when do i get my money back", "returns_refunds")])
    run(ActionAnswerFromKb(app.client()), dispatcher, tracker)
    slugs = [a["slug"] for a in dispatcher.messages[0]["custom"]["articles"]]
    assert slugs == ["refund-timing", "return-policy"]


def test_below_threshold_hands_off_with_no_kb_answer(dispatcher):
    app = FakeApp(lambda r: search_response([result("rentals", 0.31)], threshold=0.45))
    tracker = make_tracker([user_event("do you sponsor climbers", "store_info")])

    events = run(ActionAnswerFromKb(app.client()), dispatcher, tracker)

    assert dispatcher.messages == []
    assert SlotSet("handoff_reason", "no_kb_answer") in events
    assert FollowupAction("action_handoff") in events
    tried = next(e for e in events if e["name"] == "kb_articles_tried")["value"]
    assert tried[0]["slug"] == "rentals" and tried[0]["shown"] is False


def test_same_article_again_hands_off_as_repeated(dispatcher):
    app = FakeApp(lambda r: search_response([result("track-order", 0.8)]))
    shown = [
        {
            "slug": "track-order",
            "title": "Track Order",
            "score": 0.8,
            "intent": "order_tracking",
            "shown": True,
        }
    ]
    tracker = make_tracker(
        [user_event("where is my order", "order_tracking")], slots={"kb_articles_tried": shown}
    )

    events = run(ActionAnswerFromKb(app.client()), dispatcher, tracker)

    assert SlotSet("handoff_reason", "repeated") in events
    assert FollowupAction("action_handoff") in events


def test_app_down_tells_customer_and_offers_a_person(dispatcher, caplog):
    def down(request):
        raise httpx.ConnectError("connection refused", request=request)

    tracker = make_tracker([user_event("where is my order", "order_tracking")])
    events = run(ActionAnswerFromKb(FakeApp(down).client()), dispatcher, tracker)

    assert events == []
    assert "can't reach our help center" in dispatcher.messages[0]["text"]
    assert dispatcher.messages[0]["buttons"][0]["payload"] == "/request_human"
    assert "app unreachable" in caplog.text


def test_app_error_status_is_handled_like_an_outage(dispatcher):
    app = FakeApp(lambda r: httpx.Response(500, text="boom"))
    tracker = make_tracker([user_event("where is my order", "order_tracking")])
    run(ActionAnswerFromKb(app.client()), dispatcher, tracker)
    assert "can't reach our help center" in dispatcher.messages[0]["text"]


# ---- action_handoff ------------------------------------------------------------------------


def queued(position=2, wait=240, online=True):
    return lambda r: httpx.Response(
        201,
        json={
            "reason": "requested",
            "position": position,
            "expected_wait_s": wait,
            "agents_online": online,
        },
    )


def test_handoff_sends_transcript_context_and_pauses(dispatcher):
    app = FakeApp(queued())
    events = [
        user_event(
            "my order NP-1234567 never came",
            "order_tracking",
            0.88,
            entities=[{"entity": "order_number", "value": "NP-1234567"}],
        ),
        action_event("action_answer_from_kb"),
        action_event("action_listen"),
        user_event("let me talk to a human", "request_human", 0.97),
    ]
    slots = {
        "order_number": "NP-1234567",
        "kb_articles_tried": [{"slug": "track-order", "score": 0.7, "shown": True}],
    }
    tracker = make_tracker(events, slots)

    result_events = run(ActionHandoff(app.client()), dispatcher, tracker)

    request = app.requests[0]
    assert request.url.path == "/api/handoff/escalations"
    assert request.headers["authorization"] == "Bearer svc-token-for-tests"
    payload = app.json_of(0)
    assert payload["conversation_id"] == "conv-123"
    assert payload["reason"] == "requested"
    assert payload["topic_intent"] == "order_tracking"
    assert [t["intent"] for t in payload["nlu_history"]] == ["order_tracking", "request_human"]
    assert payload["nlu_history"][0]["confidence"] == 0.88
    assert payload["articles_tried"][0]["slug"] == "track-order"
    assert payload["entities"] == {"order_number": "NP-1234567"}
    assert "number 2 in the queue" in dispatcher.messages[0]["text"]
    assert "about 4 min" in dispatcher.messages[0]["text"]
    assert "won't need to repeat yourself" in dispatcher.messages[0]["text"]
    assert ConversationPaused() in result_events


def test_handoff_when_nobody_is_online_offers_email(dispatcher):
    app = FakeApp(queued(online=False))
    tracker = make_tracker([user_event("agent please", "request_human")])
    run(ActionHandoff(app.client()), dispatcher, tracker)
    assert "offline right now" in dispatcher.messages[0]["text"]
    assert "email" in dispatcher.messages[0]["text"]


def test_handoff_failure_keeps_bot_listening(dispatcher):
    app = FakeApp(lambda r: httpx.Response(503, json={"detail": "down"}))
    tracker = make_tracker([user_event("agent please", "request_human")])
    events = run(ActionHandoff(app.client()), dispatcher, tracker)
    assert ConversationPaused() not in events
    assert "couldn't reach our support team" in dispatcher.messages[0]["text"]


def test_reason_codes_follow_the_contract():
    def reason(intent, slots=None, before=None):
        events = ([action_event(before), action_event("action_listen")] if before else []) + [
            user_event("x", intent)
        ]
        return reason_for(make_tracker(events, slots))

    assert reason("request_human") == "requested"
    assert reason("billing_dispute") == "sensitive_topic"
    assert reason("account_security") == "sensitive_topic"
    assert reason("complain") == "frustration"
    assert reason("nlu_fallback") == "low_confidence"
    assert reason("deny", before="action_answer_from_kb") == "negative_feedback"
    assert reason("deny") == "requested"
    assert reason("store_info", slots={"handoff_reason": "no_kb_answer"}) == "no_kb_answer"
    assert reason("store_info", slots={"handoff_reason": "bogus"}) == "requested"


# ---- action_handle_fallback ----------------------------------------------------------------


def test_first_short_fallback_asks_to_rephrase(dispatcher):
    tracker = make_tracker([user_event("hmm blue thing", "nlu_fallback", 0.3)])
    events = run(ActionHandleFallback(), dispatcher, tracker)
    assert events == []
    assert "say it another way" in dispatcher.messages[0]["text"]


def test_second_fallback_in_a_row_hands_off(dispatcher):
    tracker = make_tracker(
        [
            user_event("hmm blue thing", "nlu_fallback", 0.3),
            action_event("action_handle_fallback"),
            action_event("action_listen"),
            user_event("the blue one", "nlu_fallback", 0.2),
        ]
    )
    events = run(ActionHandleFallback(), dispatcher, tracker)
    assert events == [SlotSet("handoff_reason", "low_confidence"), FollowupAction("action_handoff")]


def test_long_message_not_understood_hands_off_at_once(dispatcher):
    text = (
        "so the thing I got from you last month has this weird issue with the strap and the buckle"
    )
    tracker = make_tracker([user_event(text, "nlu_fallback", 0.3)])
    events = run(ActionHandleFallback(), dispatcher, tracker)
    assert FollowupAction("action_handoff") in events
