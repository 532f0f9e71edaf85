"""A site that already runs the community rasa-webchat widget (npm rasa-webchat 1.0.1, the
real package, installed by the test, never committed) points it at supportbot: it gets bot
answers, a person on request, and the agent's reply in the same window."""

from __future__ import annotations

import json
import shutil

import httpx
import pytest

from tests.e2e.browser import npm_package, screenshot, static_site

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def say(page, text: str) -> None:
    box = page.locator(".rw-new-message")
    box.fill(text)
    box.press("Enter")


def test_rasa_webchat_gets_answers_and_a_person_in_the_same_window(stack, browser, maya, tmp_path):
    package = npm_package("rasa-webchat", "1.0.1")
    shutil.copy(package / "lib" / "index.js", tmp_path / "webchat.js")
    (tmp_path / "index.html").write_text(
        f"""<!doctype html><html lang="en"><head><title>Shop with rasa-webchat</title></head>
<body><h1>A shop that already uses rasa-webchat</h1>
<script src="webchat.js"></script>
<script>
WebChat.default({{
  socketUrl: "{stack.app_url}",
  socketPath: "/socket.io/",
  title: "Northpeak",
  customData: {{ language: "en" }},
  initPayload: null
}}, null);
</script></body></html>"""
    )
    with static_site(tmp_path) as site:
        context = browser.new_context()
        page = context.new_page()
        page.goto(site + "/")
        page.locator(".rw-launcher").click()
        page.locator(".rw-new-message").wait_for()

        say(page, "how many days do I have to return something?")
        page.locator(".rw-response", has_text="60 days").first.wait_for()
        page.locator(".rw-response a", has_text="return policy").first.wait_for()

        say(page, "I want to talk to a real person please")
        page.locator(".rw-response", has_text="queue").first.wait_for()
        session = json.loads(page.evaluate("localStorage.getItem('chat_session')"))
        cid = session["session_id"].split(".")[0]

        with httpx.Client(base_url=stack.app_url, headers=maya.headers, timeout=30) as agent:
            detail = agent.get(f"/api/handoff/conversations/{cid}").json()
            assert detail["status"] == "queued" and detail["reason"] == "requested"
            agent.post(f"/api/handoff/conversations/{cid}/claim").raise_for_status()
            reply = "Hi, this is Maya from Northpeak. Which item is it?"
            agent.post(
                f"/api/handoff/conversations/{cid}/messages", json={"text": reply}
            ).raise_for_status()
            page.locator(".rw-response", has_text=reply).wait_for()

            # The customer answers the agent in the same window; the bot stays out of it.
            say(page, "the blue tent from last week")
            transcript = []
            for _ in range(50):
                transcript = agent.get(f"/api/handoff/conversations/{cid}").json()["messages"]
                if any(m["text"] == "the blue tent from last week" for m in transcript):
                    break
                page.wait_for_timeout(100)
            assert transcript[-1]["sender"] == "customer"

            agent.post(f"/api/handoff/conversations/{cid}/resolve").raise_for_status()
            page.locator(".rw-reply", has_text="5").first.click()
            page.locator(".rw-response", has_text="Thanks for rating").wait_for()
            screenshot(page, "rasa-webchat-handoff")
            assert agent.get(f"/api/handoff/conversations/{cid}").json()["csat_score"] == 5
        context.close()
