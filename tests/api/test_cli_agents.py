"""`supportbot agents ...`: create, list, disable, enable, set-role, set-password."""

from __future__ import annotations

import uuid

from api.cli import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_account_lifecycle_from_the_command_line(capsys):
    email = f"cli-{uuid.uuid4().hex[:6]}@example.com"
    assert run(capsys, "agents", "create", "--email", email, "--name", "Cli", "--role", "agent",
               "--password", "cli-password-1")[0] == 0  # fmt: skip
    code, out, _ = run(capsys, "agents", "list")
    assert code == 0 and email in out and "active" in out

    assert run(capsys, "agents", "disable", "--email", email)[0] == 0
    assert f"disabled  {email}" in run(capsys, "agents", "list")[1]
    assert run(capsys, "agents", "enable", "--email", email)[0] == 0
    code, out, _ = run(capsys, "agents", "set-role", "--email", email, "--role", "editor")
    assert code == 0 and "is now editor" in out
    assert f"editor   active    {email}" in run(capsys, "agents", "list")[1]

    code, _, err = run(capsys, "agents", "set-password", "--email", email, "--password", "short")
    assert code == 2 and "at least 10 characters" in err
    assert (
        run(capsys, "agents", "set-password", "--email", email, "--password", "long-enough-1")[0]
        == 0
    )
    code, _, err = run(capsys, "agents", "disable", "--email", "nobody@example.com")
    assert code == 2 and "no account nobody@example.com" in err
