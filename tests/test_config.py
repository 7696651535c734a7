"""Configuration sources and precedence, and a light `import pipejoint`."""

import json
import os
import subprocess
import sys

import pytest

from pipejoint.settings import Config


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for var in list(os.environ):
        if var.startswith("DJ_"):
            monkeypatch.delenv(var)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_defaults_are_sqlite_in_the_working_directory(clean_env):
    config = Config()
    assert config["database.backend"] == "sqlite"
    assert config["database.name"] is None  # the backend then uses ./pipejoint.db
    assert config["safemode"] is True and config["display.limit"] == 12


def test_file_then_environment_then_code(clean_env, monkeypatch):
    (clean_env / "pipejoint.json").write_text(
        json.dumps(
            {
                "database": {"backend": "postgresql", "host": "db.example", "user": "alice"},
                "display.limit": 5,
                "stores": {"main": {"protocol": "file", "location": "/data"}},
            }
        )
    )
    config = Config()
    assert config["database.backend"] == "postgresql" and config["database.host"] == "db.example"
    assert config.display.limit == 5 and config["stores"]["main"]["location"] == "/data"
    monkeypatch.setenv("DJ_HOST", "other.example:6543")
    monkeypatch.setenv("DJ_USER", "bob")
    monkeypatch.setenv("DJ_BACKEND", "mariadb")
    config = Config()
    assert config["database.host"] == "other.example" and config["database.port"] == 6543
    assert config["database.user"] == "bob" and config["database.backend"] == "mysql"
    config["database.user"] = "carol"
    config.database.host = "third.example"
    assert config["database.user"] == "carol" and config["database.host"] == "third.example"


def test_toml_file(clean_env):
    (clean_env / "pipejoint.toml").write_text('[database]\nbackend = "mysql"\nport = 3307\n\nsafemode = false\n')
    config = Config()
    assert config["database.backend"] == "mysql" and config["database.port"] == 3307


def test_datajoint_json_is_read_too(clean_env):
    (clean_env / "datajoint.json").write_text(json.dumps({"database.host": "legacy.example", "safemode": False}))
    config = Config()
    assert config["database.host"] == "legacy.example" and config["safemode"] is False


def test_unknown_keys_and_bad_backends(clean_env):
    config = Config()
    with pytest.raises(KeyError, match="not found"):
        config["database.hots"] = "x"
    with pytest.raises(Exception, match="choose one of"):
        config["database.backend"] = "oracle"


def test_override_restores_on_exit(clean_env):
    config = Config()
    with config.override(safemode=False, display__limit=3):
        assert config["safemode"] is False and config["display.limit"] == 3
    assert config["safemode"] is True and config["display.limit"] == 12


def test_save_and_load(clean_env):
    config = Config()
    config["database.host"] = "saved.example"
    config["database.password"] = "secret"
    config.save("saved.json")
    assert "secret" not in (clean_env / "saved.json").read_text()
    other = Config(load_files=False)
    other.load("saved.json")
    assert other["database.host"] == "saved.example"


def test_import_is_light():
    """`import pipejoint` loads no server driver, pandas, numpy, sqlglot or plotting library."""
    code = "import sys, pipejoint; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, check=True)
    loaded = set(out.stdout.split())
    for heavy in ("psycopg", "pymysql", "pandas", "numpy", "sqlglot", "networkx", "matplotlib", "tqdm"):
        assert heavy not in loaded, f"{heavy} is imported by `import pipejoint`"
    assert "pipejoint" in out.stderr  # -X importtime wrote its report
