"""What a remote party wrote reaches a terminal or a CI log as one inert line; secrets in URLs never do."""

from __future__ import annotations

import pytest

from pyfamily.redaction import redact_text, remote_text

HOSTILE = [
    ("escape", "\x1b[2J\x1b[31mfake\x1b[0m", "?[2J?[31mfake?[0m"),
    ("workflow-command", "ok\n::error::spoofed", "ok?::error::spoofed"),
    ("carriage-return", "real\rfake", "real?fake"),
    ("bidi-override", "abc\u202edcba", "abc?dcba"),
    ("nul-and-c1", "a\x00b\x9bc", "a?b?c"),
]


@pytest.mark.parametrize(("text", "shown"), [case[1:] for case in HOSTILE], ids=[case[0] for case in HOSTILE])
def test_control_and_format_characters_become_question_marks(text, shown):
    assert remote_text(text) == shown


def test_remote_text_is_capped_and_redacted():
    shown = remote_text("see https://user:token@registry.example/v2/?secret=1 " + "x" * 500, limit=80)
    assert len(shown) == 80
    assert "token" not in shown and "secret" not in shown
    assert shown.endswith("…")


def test_a_cut_never_leaves_part_of_a_secret():
    assert "tok" not in remote_text("https://user:token@registry.example/v2/", limit=16)


def test_redact_text_hides_userinfo_and_query():
    assert redact_text("at https://u:p@h:5000/x?t=1 now") == "at https://***@h:5000/x?*** now"
