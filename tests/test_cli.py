"""The command line."""

from __future__ import annotations

import pytest

from myelin import cli


def test_help_lists_commands(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--help"])
    assert exit_info.value.code == 0
    assert "demo" in capsys.readouterr().out


def test_demo_help_is_complete(capsys):
    with pytest.raises(SystemExit):
        cli.main(["demo", "--help"])
    out = capsys.readouterr().out
    for option in ("--epochs", "--batch-size", "--seed", "--verbose"):
        assert option in out


def test_no_command_prints_help(capsys):
    assert cli.main([]) == 2
    assert "usage: myelin" in capsys.readouterr().out


def test_version(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--version"])
    assert capsys.readouterr().out.startswith("myelin ")


def test_demo_without_the_data_package_says_how_to_install(monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "palmerpenguins" else real(name, *a))
    assert cli.main(["demo"]) == 1
    assert "pip install 'myelin[demo]'" in capsys.readouterr().err
