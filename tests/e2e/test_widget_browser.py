"""The chat bubble in a real browser (Debian's chromium) against the real stack: Rasa,
action server and app. What a customer does, step by step, and what an agent sees."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from tests.e2e.browser import screenshot, serious_violations, static_site

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

QUESTION = "how long do I have to return boots?"


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 820})
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.dialogs = dialogs
    yield page
    context.close()


def widget(page):
    return page.locator("supportbot-widget")


def open_bubble(page):
    w = widget(page)
    w.locator("button.bubble").click()
    w.locator("textarea").wait_for()
    return w


def ask(w, text: str) -> None:
    w.locator("textarea").fill(text)
    w.locator("textarea").press("Enter")


def conversation(page, app_url: str) -> dict:
    """What the widget stored for this site: {id, token}."""
    return json.loads(page.evaluate(f"localStorage.getItem('supportbot:{app_url}')"))


def agent_api(stack, maya):
    return httpx.Client(base_url=stack.app_url, headers=maya.headers, timeout=30)


def test_customer_gets_answer_takes_a_person_and_rates_the_agent(stack, page, maya):
    page.goto(stack.app_url + "/")
    screenshot(page, "widget-closed")
    assert widget(page).locator(".panel").is_hidden()
    w = open_bubble(page)
    ask(w, QUESTION)

    answer = w.locator(".msg.bot").filter(has=page.locator(".sources")).first
    answer.wait_for()
    link = answer.locator(".sources a").first
    assert re.search(r"/help/return-policy$", link.get_attribute("href"))
    assert "60 days" in answer.inner_text()
    screenshot(page, "widget-answering")
    assert serious_violations(page) == []

    # Thumbs-down: the widget offers a person, and taking it hands over with that reason.
    answer.locator("button[aria-label='This answer did not help']").click()
    w.locator(".replies button", has_text="Talk to a person").click()
    banner = w.locator(".banner")
    banner.filter(has_text="in the queue").wait_for()
    screenshot(page, "widget-handoff")
    assert serious_violations(page) == []

    cid = conversation(page, stack.app_url)["id"]
    with agent_api(stack, maya) as agent:
        detail = agent.get(f"/api/handoff/conversations/{cid}").json()
        assert detail["reason"] == "negative_feedback"
        assert [m["text"] for m in detail["messages"] if m["sender"] == "customer"][0] == QUESTION

        assert agent.post(f"/api/handoff/conversations/{cid}/claim").status_code == 200
        w.locator(".msg.system", has_text="Maya joined the conversation").wait_for()
        banner.filter(has_text="Maya from our support team is with you").wait_for()

        # Closed panel: the reply raises the unread badge, live.
        w.locator("button.close").click()
        reply = "Hi, I'm Maya. Which boots would you like to return?"
        agent.post(f"/api/handoff/conversations/{cid}/messages", json={"text": reply})
        w.locator(".badge", has_text="1").wait_for()
        w.locator("button.bubble").click()
        w.locator(".msg.agent", has_text=reply).wait_for()
        assert "Maya" in w.locator(".msg.agent .who").last.inner_text()
        assert w.locator(".badge").is_hidden()

        # A reload keeps the conversation (token in localStorage).
        page.reload()
        w = open_bubble(page)
        w.locator(".msg.agent", has_text=reply).wait_for()
        assert w.locator(".msg.customer", has_text=QUESTION).count() == 1

        agent.post(f"/api/handoff/conversations/{cid}/resolve").raise_for_status()
        w.locator(".card", has_text="How did we do?").wait_for()
        w.locator("button[aria-label='5 - Great']").click()
        w.locator(".card", has_text="Thanks for rating this conversation 5/5").wait_for()
        screenshot(page, "widget-resolved")
        assert agent.get(f"/api/handoff/conversations/{cid}").json()["csat_score"] == 5

    # A new conversation starts clean.
    w.locator("button", has_text="Start a new conversation").click()
    assert w.locator(".msg.agent").count() == 0
    assert page.evaluate(f"localStorage.getItem('supportbot:{stack.app_url}')") is None
    assert page.dialogs == []


def test_markup_in_messages_is_shown_as_text(stack, page, maya):
    page.goto(stack.app_url + "/")
    w = open_bubble(page)
    attacks = [
        '<img src=x onerror="window.__pwned=1;alert(1)">',
        "<script>window.__pwned=2;alert(2)</script>",
    ]
    for text in attacks:
        ask(w, text)
        w.locator(".msg.customer:not(.pending)", has_text=text).wait_for()
    w.locator("button.hbtn", has_text="Talk to a person").click()
    w.locator(".banner", has_text="in the queue").wait_for()
    cid = conversation(page, stack.app_url)["id"]
    with agent_api(stack, maya) as agent:
        agent.post(f"/api/handoff/conversations/{cid}/claim").raise_for_status()
        agent.post(
            f"/api/handoff/conversations/{cid}/messages",
            json={"text": "<b onmouseover=alert(3)>bold?</b> <a href=javascript:alert(4)>x</a>"},
        ).raise_for_status()
        agent_msg = w.locator(".msg.agent", has_text="<b onmouseover=alert(3)>bold?</b>")
        agent_msg.wait_for()
        agent.post(f"/api/handoff/conversations/{cid}/resolve").raise_for_status()
    assert w.locator(".log img, .log script, .log b").count() == 0
    assert agent_msg.locator("a").count() == 0
    assert page.evaluate("window.__pwned") is None
    assert page.dialogs == []


def test_widget_on_another_website(stack, browser, tmp_path):
    (tmp_path / "index.html").write_text(
        f"""<!doctype html><html lang="en"><head><title>Partner shop</title>
<style>button {{ background: red !important; font-size: 40px !important; }}</style></head>
<body><h1>A partner shop</h1>
<script src="{stack.app_url}/widget.js" data-title="Partner shop" data-color="#ffd000"
 async></script>
</body></html>"""
    )
    with static_site(tmp_path) as site, static_site(tmp_path, host="127.0.0.2") as stranger:
        context = browser.new_context()
        page = context.new_page()
        page.goto(site + "/")
        w = open_bubble(page)
        # The host page's CSS does not reach into the widget.
        assert w.locator("button.send").evaluate("b => getComputedStyle(b).fontSize") != "40px"
        ask(w, "do you ship to canada?")
        answer = w.locator(".msg.bot").filter(has=page.locator(".sources")).first
        answer.wait_for()
        assert answer.locator(".sources a").first.get_attribute("href").startswith(stack.app_url)
        # A light brand colour still gets readable (AA) text.
        header = w.locator("header").evaluate("h => getComputedStyle(h).color")
        assert header in ("rgb(17, 24, 28)", "rgb(255, 255, 255)")

        # A site that is not allowed is told so; nothing is created for it.
        other = context.new_page()
        other.goto(stranger + "/")
        w2 = open_bubble(other)
        ask(w2, "hello")
        w2.locator(".msg.customer .note", has_text="may not use this assistant").wait_for()
        assert other.evaluate(f"localStorage.getItem('supportbot:{stack.app_url}')") is None
        context.close()


def test_messages_typed_offline_are_sent_once_when_back(stack, page):
    page.goto(stack.app_url + "/")
    w = open_bubble(page)
    ask(w, "hi")
    w.locator(".msg.bot >> nth=1").wait_for()  # greeting + the bot's reply
    conv = conversation(page, stack.app_url)

    page.context.set_offline(True)
    w.locator(".banner.offline").wait_for()
    ask(w, "can I pay with paypal?")
    w.locator(".msg.customer .note", has_text="will retry").wait_for()
    page.context.set_offline(False)
    # The reply to the question sent once back online: it cites the payment-methods article.
    w.locator(".msg.bot .sources a[href$='/help/payment-methods']").first.wait_for(timeout=60_000)
    assert w.locator(".banner.offline").count() == 0

    transcript = httpx.get(
        f"{stack.app_url}/api/conversations/{conv['id']}",
        headers={"Authorization": f"Bearer {conv['token']}"},
        timeout=30,
    ).json()["messages"]
    assert [m["text"] for m in transcript].count("can I pay with paypal?") == 1


def test_keyboard_only_and_a_small_screen(stack, browser):
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.goto(stack.app_url + "/")
    w = widget(page)
    w.locator("button.bubble").focus()
    page.keyboard.press("Enter")
    textarea = w.locator("textarea")
    assert textarea.evaluate("t => t.getRootNode().activeElement === t")
    for _ in range(12):  # focus stays inside the open panel
        page.keyboard.press("Tab")
        assert w.evaluate("h => h.shadowRoot.activeElement.closest('.panel') !== null")
    textarea.focus()
    page.keyboard.type("where is my order")
    page.keyboard.press("Enter")
    w.locator(".msg.bot .sources").first.wait_for()
    box = w.locator(".panel").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360
    screenshot(page, "widget-360px")
    page.keyboard.press("Escape")
    assert w.locator(".panel").is_hidden()
    assert w.evaluate("h => h.shadowRoot.activeElement.classList.contains('bubble')")
    context.close()


def test_signed_in_shopper_is_recognised_and_a_forged_one_is_not(stack, page, maya, tmp_path):
    page.goto(stack.app_url + "/?as=demo")
    w = open_bubble(page)
    ask(w, "hello")
    w.locator(".msg.bot >> nth=1").wait_for()
    cid = conversation(page, stack.app_url)["id"]

    (tmp_path / "index.html").write_text(
        f"""<!doctype html><html lang="en"><head><title>Forged</title></head><body>
<script src="{stack.app_url}/widget.js" data-user-id="demo-shopper-1" data-user-name="Alex Rivera"
 data-user-hash="{"0" * 64}" async></script></body></html>"""
    )
    with static_site(tmp_path) as site, agent_api(stack, maya) as agent:
        forged_page = page.context.new_page()
        forged_page.goto(site + "/")
        w2 = open_bubble(forged_page)
        ask(w2, "hello")
        w2.locator(".msg.bot >> nth=1").wait_for()
        forged = conversation(forged_page, stack.app_url)["id"]
        real = agent.get(f"/api/handoff/conversations/{cid}").json()
        fake = agent.get(f"/api/handoff/conversations/{forged}").json()
    assert (real["customer_user_id"], real["customer_name"]) == ("demo-shopper-1", "Alex Rivera")
    assert fake["customer_user_id"] is None and fake["customer_name"] is None
