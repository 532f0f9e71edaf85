"""Identity verification for signed-in shoppers (widget data-user-id + data-user-hash)."""

from __future__ import annotations

from handoff.identity import sign, verify

SECRET = "identity-secret-for-tests"


def test_a_valid_hash_verifies_and_keeps_name_and_email():
    identity = verify(
        user_id="u-42", user_hash=sign("u-42", SECRET), secret=SECRET, name=" Ana ", email="a@x.io"
    )
    assert identity is not None
    assert (identity.user_id, identity.name, identity.email) == ("u-42", "Ana", "a@x.io")


def test_anything_else_is_ignored():
    good = sign("u-42", SECRET)
    assert verify(user_id="u-43", user_hash=good, secret=SECRET) is None  # someone else's hash
    assert verify(user_id="u-42", user_hash="0" * 64, secret=SECRET) is None
    assert verify(user_id="u-42", user_hash=good, secret="") is None  # verification off
    assert verify(user_id="u-42", user_hash=None, secret=SECRET) is None
    assert verify(user_id="x" * 300, user_hash=sign("x" * 300, SECRET), secret=SECRET) is None
    assert verify(user_id="u-42", user_hash=good.upper(), secret=SECRET) is not None


def test_conversation_keeps_only_a_verified_identity(handoff):
    state = handoff.client.app.state.supportbot
    state.settings.identity_secret = SECRET
    try:
        user = {"id": "u-7", "name": "Sam", "email": "sam@example.com"}
        good = handoff.client.post(
            "/api/conversations", json={"user": {**user, "hash": sign("u-7", SECRET)}}
        ).json()
        bad = handoff.client.post(
            "/api/conversations", json={"user": {**user, "hash": sign("u-8", SECRET)}}
        ).json()
    finally:
        state.settings.identity_secret = ""
    assert good["identified"] is True and bad["identified"] is False
    agent = handoff.agent("ana@example.com")
    seen = {
        c["conversation_id"]: handoff.client.get(
            f"/api/handoff/conversations/{c['conversation_id']}", headers=agent
        ).json()
        for c in (good, bad)
    }
    assert seen[good["conversation_id"]]["customer_user_id"] == "u-7"
    assert seen[good["conversation_id"]]["customer_name"] == "Sam"
    assert seen[good["conversation_id"]]["customer_email"] == "sam@example.com"
    assert seen[bad["conversation_id"]]["customer_user_id"] is None
    assert seen[bad["conversation_id"]]["customer_email"] is None
