"""The snntorch-ext program backs large CPU tensors with transparent huge pages, unless told not
to; a library import changes nothing."""

import os

import pytest

from snntorch_ext import cli


def test_the_program_turns_huge_pages_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(cli.HUGE_PAGES, raising=False)
    monkeypatch.setattr(cli, "main", lambda: 0)
    with pytest.raises(SystemExit) as exit_info:
        cli.run()
    assert exit_info.value.code == 0
    assert os.environ[cli.HUGE_PAGES] == "1"


def test_a_setting_of_the_user_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cli.HUGE_PAGES, "0")
    cli.huge_pages()
    assert os.environ[cli.HUGE_PAGES] == "0"


def test_main_alone_leaves_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(cli.HUGE_PAGES, raising=False)
    assert cli.main(["list"]) == 0
    assert cli.HUGE_PAGES not in os.environ
