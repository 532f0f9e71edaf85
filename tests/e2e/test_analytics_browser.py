"""The analytics dashboard in a real browser after a scripted day of conversations on the
real stack (Rasa, action server, app): the plots are drawn, the numbers add up, nothing in the
console, and a screenshot under tests/artifacts/."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.browser import ARTIFACTS, serious_violations
from tests.e2e.conftest import create_staff

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

PASSWORD = "analytics-password-123"
CHARTS = ["chart-volume", "chart-rates", "chart-csat", "chart-reasons", "chart-waits"]


class Customer:
    def __init__(self, http: httpx.Client) -> None:
        self.http = http
        conv = http.post("/api/conversations", json={}).json()
        self.id, self.auth = conv["conversation_id"], {"Authorization": f"Bearer {conv['token']}"}

    def say(self, text: str) -> dict:
        response = self.http.post(
            f"/api/conversations/{self.id}/messages", json={"text": text}, headers=self.auth
        )
        response.raise_for_status()
        return response.json()

    def answered(self, text: str) -> dict:
        """The bot's answer (citing an article) to ``text``."""
        reply = self.say(text)
        cited = [m for m in reply["messages"] if m.get("articles")]
        assert cited, reply
        return cited[0]

    def thumbs(self, message_id: int, helpful: bool) -> None:
        self.http.post(
            f"/api/conversations/{self.id}/feedback",
            json={"message_id": message_id, "helpful": helpful},
            headers=self.auth,
        ).raise_for_status()

    def rate(self, score: int) -> None:
        self.http.post(
            f"/api/conversations/{self.id}/csat", json={"score": score}, headers=self.auth
        ).raise_for_status()

    def person(self) -> None:
        response = self.http.post(f"/api/conversations/{self.id}/handoff", headers=self.auth)
        response.raise_for_status()
        assert response.json()["status"] == "queued"


def a_day_of_conversations(http: httpx.Client, maya, root) -> None:  # noqa: ANN001
    """Contained and rated, thumbs up and down, handed over and resolved, transferred,
    still waiting, abandoned."""

    def agent(path: str, who, **body) -> dict:  # noqa: ANN001
        response = http.post(f"/api/handoff/conversations/{path}", headers=who.headers, **body)
        assert response.status_code < 300, response.text
        return response.json()

    happy = Customer(http)
    answer = happy.answered("how long do I have to return boots?")
    happy.thumbs(answer["id"], True)
    assert happy.say("thanks, that's all")["status"] == "resolved_by_bot"
    happy.rate(5)

    unhappy = Customer(http)
    answer = unhappy.answered("how much does shipping cost?")
    unhappy.thumbs(answer["id"], False)
    unhappy.person()
    agent(f"{unhappy.id}/claim", maya)
    agent(
        f"{unhappy.id}/messages", maya, json={"text": "Hi, Maya here. Shipping is free over $50."}
    )
    agent(f"{unhappy.id}/resolve", maya)
    unhappy.rate(4)

    moved = Customer(http)
    moved.person()
    maya_id = http.get("/api/auth/me", headers=maya.headers).json()["id"]
    agent(f"{moved.id}/claim", root)
    agent(f"{moved.id}/messages", root, json={"text": "Let me pass you to Maya."})
    agent(f"{moved.id}/release", root, json={"to_agent_id": maya_id})
    agent(f"{moved.id}/resolve", maya)
    moved.rate(2)

    Customer(http).person()  # still waiting
    Customer(http).say("do you have the trail runner in size 44?")  # asked once, gone


def test_dashboard_draws_the_day(stack, browser, maya):
    root = create_staff(stack, "root@northpeak.example", "Root", "admin", PASSWORD)
    with httpx.Client(base_url=stack.app_url, timeout=60) as http:
        a_day_of_conversations(http, maya, root)
        summary = http.get("/api/analytics/summary", headers=root.headers).json()
    values = {r["metric"]: r["value"] for r in summary["rows"]}
    assert values["conversations"] >= 5 and values["handoffs"] >= 3
    assert values["csat_bot_avg"] is not None and values["queue_wait_p50_s"] is not None

    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(stack.app_url + "/analytics")
    page.fill("#email", root.email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(stack.app_url + "/analytics")
    page.wait_for_selector("body[data-loaded=true]", timeout=30_000)

    for chart in CHARTS:
        canvas = page.locator(f"#{chart} canvas")
        assert canvas.count() == 1, chart
        box = canvas.bounding_box()
        assert box and box["width"] > 200 and box["height"] > 100, (chart, box)
        # Something was drawn: the canvas is not blank.
        drawn = page.evaluate(
            """(id) => { const c = document.querySelector('#' + id + ' canvas');
                const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n; }""",
            chart,
        )
        assert drawn > 500, (chart, drawn)
    kpi = page.locator("li.kpi[data-metric=conversations] .kpi-value").inner_text()
    assert int(kpi.replace(",", "")) == values["conversations"]
    assert page.locator("#table-reasons tbody tr", has_text="requested").count() == 1
    assert page.locator("#table-agents tbody tr", has_text="Maya").count() == 1
    assert page.locator("#table-articles tbody tr").count() >= 2
    csv_link = page.locator("a.csv[data-table=agents]").first.get_attribute("href")
    assert csv_link.startswith("/api/analytics/agents.csv?from=")
    assert page.request.get(stack.app_url + csv_link).text().startswith("agent_id,name,resolved")

    assert problems == []  # (the 422 below is logged by the browser on purpose)

    # A bad range is explained, not a blank page.
    page.fill("#from", "2020-01-01")
    page.click("#range-form button[type=submit]")
    page.locator("#range-error", has_text="at most 400").wait_for()
    page.click(".quick button[data-days='30']")
    page.wait_for_function("document.querySelector('#range-error').hidden")

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_selector("body[data-loaded=true]")
    # The page scrolls inside <main>: a tall window shows all of it in one picture.
    page.set_viewport_size({"width": 1440, "height": 2300})
    page.wait_for_timeout(400)  # the plots follow the resize
    page.screenshot(path=str(ARTIFACTS / "analytics.png"))
    assert serious_violations(page) == []
    context.close()
