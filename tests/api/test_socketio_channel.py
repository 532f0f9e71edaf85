"""Our messages as Rasa socket.io ``bot_uttered`` payloads."""

from __future__ import annotations

from api.socketio_channel import text_parts


def test_text_splits_on_blank_lines_and_buttons_go_on_the_last_part():
    parts = text_parts(
        {
            "sender": "bot",
            "text": "You have 60 days.\n\nDid this answer your question?",
            "buttons": [{"title": "Yes, thanks", "payload": "/affirm"}],
            "articles": [{"slug": "return-policy", "title": "Return policy", "url": "/help/r"}],
        },
        "https://help.example",
    )
    assert [p["text"] for p in parts] == [
        "You have 60 days.",
        "Did this answer your question?",
        "From our help center: [Return policy](https://help.example/help/r)",
    ]
    assert parts[-1]["quick_replies"] == [
        {"content_type": "text", "title": "Yes, thanks", "payload": "/affirm"}
    ]
    assert "quick_replies" not in parts[0]


def test_agent_replies_carry_the_agent_name_and_csat_prompt_gets_score_buttons():
    [agent] = text_parts({"sender": "agent", "agent_name": "Maya", "text": "Hi!"}, "http://x")
    assert agent["text"] == "**Maya:** Hi!"
    [prompt] = text_parts({"sender": "system", "kind": "csat_prompt", "text": "Rate us"}, "")
    assert [b["payload"] for b in prompt["quick_replies"]] == [f"/csat_{n}" for n in range(1, 6)]
    assert text_parts({"sender": "bot", "text": "  "}, "") == []
