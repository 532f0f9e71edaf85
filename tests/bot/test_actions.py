"""Custom actions with real Tracker/CollectingDispatcher objects and a fake app transport."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from rasa_sdk.events import ConversationPaused, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.context import user_turns
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


# ---- action_answer_from_kb (the turn policy's action) ------------------------------------


def slot(events, name):
    return next(
        (e["value"] for e in events if e.get("event") == "slot" and e["name"] == name), None
    )


def test_answers_with_best_passage_and_cites_article(dispatcher):
    app = FakeApp(
        lambda r: search_response(
            [result("return-policy", 0.71, "You have 60 days."), result("exchanges", 0.52)]
        )
    )
    tracker = make_tracker([user_event("how long do i have to return boots", "returns_refunds")])

    events = run(ActionAnswerFromKb(app.client()), dispatcher, tracker)

    request = app.requests[0]
    assert request.url.path == "/api/kb/search" and request.method == "POST"
    assert app.json_of(0)["q"] == "how long do i have to return boots"
    assert "embedding" not in app.json_of(0)  # no vector from NLU: the app embeds the text
    assert "boots" not in str(request.url)  # the question stays out of URLs and logs
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
    assert slot(events, "bot_move") == "answer"
    assert slot(events, "kb_shown") == ["return-policy#Section"]
    assert slot(events, "last_question") == "how long do i have to return boots"
    tried = slot(events, "kb_articles_tried")
    assert tried[0]["slug"] == "return-policy" and tried[0]["shown"] is True
    assert tried[1]["shown"] is False
    # the turn is over: listen next, without another policy prediction
    assert events[-1] == FollowupAction("action_listen")


def test_close_second_article_is_offered_as_related(dispatcher):
    app = FakeApp(
        lambda r: search_response([result("refund-timing", 0.70), result("return-policy", 0.68)])
    )
    tracker = make_tracker([user_event("when do i get my money back", "returns_refunds")])
    run(ActionAnswerFromKb(app.client()), dispatcher, tracker)
    slugs = [a["slug"] for a in dispatcher.messages[0]["custom"]["articles"]]
    assert slugs == ["refund-timing", "return-policy"]


def test_below_threshold_offers_a_person(dispatcher):
    app = FakeApp(lambda r: search_response([result("rentals", 0.31)], threshold=0.45))
    tracker = make_tracker([user_event("do you sponsor climbers", "store_info")])

    events = run(ActionAnswerFromKb(app.client()), dispatcher, tracker)

    assert "couldn't find an answer" in dispatcher.messages[0]["text"]
    assert dispatcher.messages[0]["buttons"][0]["payload"] == "/affirm"
    assert slot(events, "bot_move") == "offer:no_kb_answer"
    assert FollowupAction("action_handoff") not in events


def test_taking_the_offer_hands_over_as_no_kb_answer(dispatcher):
    app = FakeApp(lambda r: search_response([]))
    tracker = make_tracker(
        [user_event("yes please", "affirm")], slots={"bot_move": "offer:no_kb_answer"}
    )
    events = run(ActionAnswerFromKb(app.client()), dispatcher, tracker)
    assert SlotSet("handoff_reason", "no_kb_answer") in events
    assert [e for e in events if e["event"] == "followup"] == [FollowupAction("action_handoff")]
    assert app.requests == []  # nothing to search


def test_asked_again_right_after_the_same_answer_is_repeated(dispatcher):
    app = FakeApp(lambda r: search_response([result("track-order", 0.8)]))
    tracker = make_tracker(
        [user_event("where's my order then", "order_tracking")],
        slots={
            "bot_move": "answer",
            "kb_shown": ["track-order#Section"],
            "last_question": "where is my order",
        },  # fmt: skip
    )
    events = run(ActionAnswerFromKb(app.client()), dispatcher, tracker)
    assert SlotSet("handoff_reason", "repeated") in events
    assert FollowupAction("action_handoff") in events


def test_a_follow_up_after_yes_gets_the_next_passage_never_the_same(dispatcher):
    def search(request):
        body = json.loads(request.content)
        if body["exclude"]:
            return search_response([result("return-shipping-label", 0.62, "Labels are free.")])
        if body["q"].startswith("how do I return boots?"):  # read after the last question
            return search_response(
                [result("return-policy", 0.7), result("return-shipping-label", 0.6)]
            )
        return search_response([result("shipping-costs", 0.5)])

    app = FakeApp(search)
    vector = {"model": "export-id", "vector": "AAAA"}
    tracker = make_tracker(
        [
            user_event(
                "and is return shipping free?", "returns_refunds", embedding=vector,
                others=[("out_of_scope", 0.3), ("greet", 0.01)],
            )
        ],  # fmt: skip
        slots={
            "bot_move": "reply",
            "kb_shown": ["return-policy#Section"],
            "last_question": "how do I return boots?",
        },  # fmt: skip
    )
    events = run(ActionAnswerFromKb(app.client()), dispatcher, tracker)
    plain, with_context, next_best = app.json_of(0), app.json_of(1), app.json_of(2)
    assert plain["q"] == "and is return shipping free?"
    assert plain["embedding"] == vector  # NLU's vector of the message: not embedded again
    assert with_context["q"] == "how do I return boots? and is return shipping free?"
    assert next_best["exclude"] == ["return-policy#Section"]
    assert next_best["q"] == with_context["q"]  # short and ambiguous alone: read after it
    # the vector is of the message alone, never sent for another text
    assert "embedding" not in with_context and "embedding" not in next_best
    # NLU's doubts are about the message alone too: not about it read after the question
    assert plain["intents"] == {"returns_refunds": 0.9, "out_of_scope": 0.3}
    assert with_context["intents"] == next_best["intents"] == {"returns_refunds": 0.9}
    assert "Labels are free." in dispatcher.messages[0]["text"]
    assert slot(events, "kb_shown") == ["return-policy#Section", "return-shipping-label#Section"]


def test_thanks_after_an_answer_ends_the_conversation(dispatcher):
    tracker = make_tracker(
        [user_event("thanks!", "thank")], slots={"bot_move": "answer", "kb_shown": ["x#y"]}
    )
    events = run(
        ActionAnswerFromKb(FakeApp(lambda r: search_response([])).client()), dispatcher, tracker
    )
    assert dispatcher.messages[0]["response"] == "utter_you_are_welcome"
    assert dispatcher.messages[0]["custom"] == {"end": "resolved_by_bot"}
    assert slot(events, "bot_move") is None


def test_not_understood_asks_to_rephrase_then_hands_over(dispatcher):
    app = FakeApp(lambda r: search_response([]))
    first = run(
        ActionAnswerFromKb(app.client()),
        dispatcher,
        make_tracker([user_event("hmm blue thing", "nlu_fallback", 0.3)]),
    )
    assert "say it another way" in dispatcher.messages[0]["text"]
    assert slot(first, "unclear_in_row") == 1.0
    second = run(
        ActionAnswerFromKb(app.client()),
        CollectingDispatcher(),
        make_tracker(
            [user_event("the blue one", "nlu_fallback", 0.2)],
            slots={"bot_move": "rephrase", "unclear_in_row": 1.0},
        ),
    )
    assert SlotSet("handoff_reason", "low_confidence") in second


def test_app_down_tells_customer_and_offers_a_person(dispatcher, caplog):
    def down(request):
        raise httpx.ConnectError("connection refused", request=request)

    tracker = make_tracker([user_event("where is my order", "order_tracking")])
    events = run(ActionAnswerFromKb(FakeApp(down).client()), dispatcher, tracker)

    assert FollowupAction("action_handoff") not in events
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
    assert [t["angry"] for t in payload["nlu_history"]] == [False, False]
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


def test_reason_code_comes_from_the_policy():
    def reason(intent, slots=None, clauses=None):
        event = user_event("x", intent)
        if clauses:
            event["parse_data"]["sentence_intents"] = clauses
        return reason_for(make_tracker([event], slots))

    assert reason("request_human") == "requested"
    assert reason("billing_dispute") == "sensitive_topic"
    assert reason("account_security") == "sensitive_topic"
    assert reason("complain") == "frustration"
    assert reason("store_info", slots={"handoff_reason": "no_kb_answer"}) == "no_kb_answer"
    assert reason("store_info", slots={"handoff_reason": "bogus"}) == "requested"
    buried = [{"text": "you charged me twice", "intent": "billing_dispute", "confidence": 0.9}]
    assert reason("request_human", clauses=buried) == "sensitive_topic"


def test_an_unsure_no_is_not_understood_only_as_the_sessions_first_message(dispatcher):
    app = FakeApp(lambda r: search_response([]))
    unsure = user_event("I was wondering if maybe", "deny", 0.55)
    run(ActionAnswerFromKb(app.client()), dispatcher, make_tracker([unsure]))
    assert "say it another way" in dispatcher.messages[0]["text"]
    # after the bot asked "what else can I help you with?" it answers that question
    after_reply = [
        {"event": "session_started"},
        user_event("no thanks", "deny"),
        {"event": "bot", "text": "Okay. What else can I help you with?"},
        user_event("no, that's everything", "deny", 0.64),
    ]
    later = CollectingDispatcher()
    run(ActionAnswerFromKb(app.client()), later, make_tracker(after_reply))
    assert later.messages[0]["response"] == "utter_anything_else"
    # a bot line from an earlier session does not count
    new_session = [after_reply[2], {"event": "session_started"}, unsure]
    again = CollectingDispatcher()
    run(ActionAnswerFromKb(app.client()), again, make_tracker(new_session))
    assert "say it another way" in again.messages[0]["text"]


STORY = (
    "We rented a cabin for the holidays and I ordered snow pants for both kids in November. "
    "The younger one wore hers for an afternoon and decided she hates skiing, and the tags "
    "went out with the wrapping paper. Can I still send hers back?"
)
QUESTION = "Can I still send hers back?"


def story_event():
    event = user_event(STORY, "delivery_problem", 0.41)
    event["parse_data"]["sentence_intents"] = [
        {"text": "We rented a cabin for the holidays and I ordered snow pants for both kids "
                 "in November.", "intent": "order_tracking", "confidence": 0.4},
        {"text": "The younger one wore hers for an afternoon and decided she hates skiing, "
                 "and the tags went out with the wrapping paper.", "intent": "out_of_scope",
         "confidence": 0.5},
        {"text": QUESTION, "intent": "returns_refunds", "confidence": 0.8},
    ]  # fmt: skip
    return event


def story_app(clause_score: float) -> FakeApp:
    def handler(request):
        q = json.loads(request.content)["q"]
        if q == QUESTION:
            return search_response([result("return-policy", clause_score, "60 days.")])
        return search_response([result("size-guide", 0.30)])  # the whole story: a miss

    return FakeApp(handler)


def test_a_long_story_not_answered_whole_is_answered_from_its_question(dispatcher):
    app = story_app(0.60)  # threshold 0.45 + margin 0.1 cleared
    events = run(ActionAnswerFromKb(app.client()), dispatcher, make_tracker([story_event()]))
    assert [app.json_of(i)["q"] for i in range(len(app.requests))] == [STORY, QUESTION]
    assert "60 days." in dispatcher.messages[0]["text"]
    assert dispatcher.messages[0]["custom"]["articles"][0]["slug"] == "return-policy"
    assert slot(events, "bot_move") == "answer"
    assert slot(events, "last_question") == QUESTION


def test_a_question_sentence_must_clear_the_threshold_by_the_margin(dispatcher):
    app = story_app(0.50)  # above the threshold, below threshold + margin: a part matches easily
    events = run(ActionAnswerFromKb(app.client()), dispatcher, make_tracker([story_event()]))
    assert "couldn't find an answer" in dispatcher.messages[0]["text"]
    assert slot(events, "bot_move") == "offer:no_kb_answer"


def test_a_short_message_is_not_searched_by_sentence(dispatcher):
    event = user_event("ok so. can I still send hers back?", "returns_refunds", 0.4)
    event["parse_data"]["sentence_intents"] = [
        {"text": "ok so.", "intent": "affirm", "confidence": 0.5},
        {"text": "can I still send hers back?", "intent": "returns_refunds", "confidence": 0.8},
    ]
    app = FakeApp(lambda r: search_response([result("size-guide", 0.30)]))
    run(ActionAnswerFromKb(app.client()), dispatcher, make_tracker([event]))
    assert len(app.requests) == 1


def test_the_handoff_context_marks_messages_in_angry_words():
    tracker = make_tracker(
        [
            user_event("when will my refund show up?", "returns_refunds", 0.9),
            user_event("Unbelievable. a month and still no money", "order_tracking", 0.4),
            user_event("the city towed my car, I'm furious", "out_of_scope", 0.9),
        ],
        {},
    )
    assert [t["angry"] for t in user_turns(tracker)] == [False, True, False]


@pytest.mark.parametrize(("slug", "answered"), [("store-pickup", True), ("rentals", False)])
def test_a_follow_up_read_after_the_question_keeps_to_the_answered_article_below_the_bar(
    dispatcher, slug, answered
):
    previous = "I put my brother's name in as the pickup person, what does he need to show?"

    def search(request):
        body = json.loads(request.content)
        if body["exclude"]:  # the next passage of the best article read after the question
            return search_response([{**result(slug, 0.35, "We hold it 7 days."), "section": "B"}])
        if body["q"].startswith(previous):
            return search_response([result("store-pickup", 0.38), result("rentals", 0.3)])
        return search_response([result("shipping-options", 0.05)])

    app = FakeApp(search)
    tracker = make_tracker(
        [user_event("And how many days does he have to get over there?", "store_info", 0.4)],
        slots={"bot_move": "answer", "kb_shown": ["store-pickup#Section"],
               "last_question": previous},  # fmt: skip
    )
    run(ActionAnswerFromKb(app.client()), dispatcher, tracker)
    assert app.json_of(1)["q"].startswith(previous)  # read after the question
    assert app.json_of(2)["exclude"] == ["store-pickup#Section"]
    # 0.35 is below the answer threshold (0.45) but within the relief (0.15) of it only for the
    # article just answered from
    assert ("We hold it 7 days." in dispatcher.messages[0]["text"]) == answered
