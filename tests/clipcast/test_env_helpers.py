from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from clipcast.env import database_from_url, env_bool, env_choice, env_float, env_int, env_list, env_secret


def test_env_bool_reads_common_spellings_and_refuses_others(monkeypatch):
    monkeypatch.setenv("FLAG", "yes")
    assert env_bool("FLAG") is True
    monkeypatch.setenv("FLAG", "off")
    assert env_bool("FLAG", True) is False
    monkeypatch.setenv("FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="FLAG='maybe' is not a boolean"):
        env_bool("FLAG")


def test_env_int_checks_type_and_bounds(monkeypatch):
    monkeypatch.setenv("N", "12")
    assert env_int("N", 1, maximum=20) == 12
    monkeypatch.setenv("N", "twelve")
    with pytest.raises(ImproperlyConfigured, match="not an integer"):
        env_int("N", 1)
    monkeypatch.setenv("N", "0")
    with pytest.raises(ImproperlyConfigured, match="below the minimum"):
        env_int("N", 1, minimum=1)


@pytest.mark.parametrize(("raw", "words"), [("nan", "not a finite number"), ("inf", "not a finite number"),
                                            ("-1", "below the minimum 0.1"), ("1e309", "not a finite number"),
                                            ("soon", "not a number")])
def test_env_float_refuses_non_finite_and_out_of_range_values(monkeypatch, raw, words):
    monkeypatch.setenv("RENDER_DEFAULT_ESTIMATE_SECONDS", raw)
    with pytest.raises(ImproperlyConfigured) as refused:
        env_float("RENDER_DEFAULT_ESTIMATE_SECONDS", 60.0, minimum=0.1)
    assert words in str(refused.value)
    monkeypatch.setenv("RENDER_DEFAULT_ESTIMATE_SECONDS", "2.5")
    assert env_float("RENDER_DEFAULT_ESTIMATE_SECONDS", 60.0, minimum=0.1) == 2.5


def test_env_choice_accepts_any_case_and_names_the_choices_otherwise(monkeypatch):
    assert env_choice("MODE", "off", ("off", "on")) == "off"
    monkeypatch.setenv("MODE", " On ")
    assert env_choice("MODE", "off", ("off", "on")) == "on"
    monkeypatch.setenv("MODE", "sideways")
    with pytest.raises(ImproperlyConfigured, match="is not allowed: use one of off, on"):
        env_choice("MODE", "off", ("off", "on"))


def test_env_secret_reads_a_file(monkeypatch, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("s3cr3t\n")
    monkeypatch.setenv("TOKEN_FILE", str(secret))
    assert env_secret("TOKEN") == "s3cr3t"
    monkeypatch.setenv("TOKEN_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="cannot be read"):
        env_secret("TOKEN")


def test_env_list_splits_on_commas(monkeypatch):
    monkeypatch.setenv("HOSTS", "a.example, b.example,,")
    assert env_list("HOSTS") == ["a.example", "b.example"]


def test_database_urls():
    pg = database_from_url("postgres://bob:p%40ss@db.internal:6543/clipcast?sslmode=require")
    assert pg["ENGINE"] == "django.db.backends.postgresql"
    assert (pg["USER"], pg["PASSWORD"], pg["HOST"], pg["PORT"], pg["NAME"]) == (
        "bob", "p@ss", "db.internal", "6543", "clipcast"
    )
    assert pg["OPTIONS"] == {"sslmode": "require"}
    assert database_from_url("sqlite:////abs/path/db.sqlite3")["NAME"] == "/abs/path/db.sqlite3"
    lite = database_from_url("sqlite:///var/db.sqlite3")
    assert lite["NAME"] == "var/db.sqlite3"
    assert "journal_mode=WAL" in lite["OPTIONS"]["init_command"]
    with pytest.raises(ImproperlyConfigured, match="not supported"):
        database_from_url("mysql://x/y")
