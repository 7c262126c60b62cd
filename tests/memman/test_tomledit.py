"""Codex's config.toml is edited line by line: memman's key and table go in,
and come out again even after the user changed the file, leaving every one
of the user's lines, comments and blanks as they were."""

from __future__ import annotations

import tomllib

from memman.install import tomledit

USER = '# mine\nmodel = "o4"\n\n[features]\nweb_search = true # keep\n\n[profiles.fast]\nmodel = "o4-mini"\n'


def test_a_key_and_a_table_go_in_and_come_out_after_the_user_edited_the_file() -> None:
    created: list[list[str]] = []
    text = tomledit.set_key(USER, "features", "codex_hooks", "true", created)
    text = tomledit.set_table(text, "mcp_servers.memman", ['command = "/py"', 'args = ["-m", "memman", "mcp"]'], created)
    parsed = tomllib.loads(text)
    assert parsed["features"] == {"web_search": True, "codex_hooks": True}
    assert parsed["mcp_servers"]["memman"]["args"] == ["-m", "memman", "mcp"]
    assert tomledit.set_key(text, "features", "codex_hooks", "true", list(created)) == text  # idempotent
    edited = text.replace('model = "o4-mini"', 'model = "o5"')  # the user's own change after install
    assert tomledit.unset(edited, created) == USER.replace('model = "o4-mini"', 'model = "o5"')


def test_a_key_the_user_already_set_is_theirs() -> None:
    created: list[list[str]] = []
    text = "[features]\ncodex_hooks = false\n"
    assert tomledit.set_key(text, "features", "codex_hooks", "true", created) == text and created == []
    assert tomledit.unset(text, created) == text


def test_a_table_memman_created_in_an_empty_file_leaves_an_empty_file() -> None:
    created: list[list[str]] = []
    text = tomledit.set_key("", "features", "codex_hooks", "true", created)
    assert text == "[features]\ncodex_hooks = true\n"
    assert tomledit.unset(text, created) == ""
