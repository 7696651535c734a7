"""Configuration sources and precedence, the backend they choose, and a light `import pipejoint`."""

import json
import os
import subprocess
import sys

import pytest

from pipejoint.errors import DataJointError
from pipejoint.settings import Config, find_config_file, split_host_port


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """A process started in an empty folder, with no DJ_* variables and no per-user config file."""
    for var in list(os.environ):
        if var.startswith("DJ_"):
            monkeypatch.delenv(var)
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / ".git").mkdir()  # the project's root: the search for config files stops here
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path / "project")
    return tmp_path / "project"


def test_defaults_are_sqlite_in_the_working_directory(clean_env):
    config = Config()
    assert config["database.backend"] == "sqlite"
    assert config["database.name"] is None  # the backend then uses ./pipejoint.db
    assert config["safemode"] is True and config["display.limit"] == 12


def test_nothing_configured_chooses_sqlite(clean_env):
    config = Config()
    backend, why = config.choose_backend()
    assert backend == "sqlite" and "no database server" in why
    assert config["database.port"] is None
    config["database.backend"] = "postgresql"
    assert config["database.port"] == 5432 and config["database.host"] == "localhost"  # reported as DataJoint does
    config["database.backend"] = "mysql"
    assert config["database.port"] == 3306


@pytest.mark.parametrize(
    "key, value", [("host", "db.lab.org"), ("host", "localhost"), ("user", "alice"), ("password", "x"), ("port", 3306)]
)
def test_a_configured_server_without_backend_means_mysql(clean_env, key, value):
    """As in DataJoint: any server setting, even the host "localhost", means MySQL."""
    config = Config()
    config[f"database.{key}"] = value
    assert config["database.backend"] == "mysql" and config.database.backend == "mysql"
    backend, why = config.choose_backend()
    assert backend == "mysql" and f"database.{key}" in why and "set in code" in why
    del config[f"database.{key}"]
    assert config["database.backend"] == "sqlite"  # back to the default


@pytest.mark.parametrize("name", ["datajoint.json", "dj_local_conf.json", "pipejoint.json"])
def test_a_config_file_with_a_host_means_mysql(clean_env, name):
    (clean_env / name).write_text(
        json.dumps({"database.host": "db.lab.org", "database.user": "alice", "database.password": "pw"})
    )
    config = Config()
    backend, why = config.choose_backend()
    assert backend == "mysql" and name in why
    assert (config["database.host"], config["database.user"], config["database.password"]) == (
        "db.lab.org",
        "alice",
        "pw",
    )


def test_the_environment_host_means_mysql(clean_env, monkeypatch):
    monkeypatch.setenv("DJ_HOST", "db.lab.org:3307")
    monkeypatch.setenv("DJ_PORT", "3399")  # a port written in the host wins, as in DataJoint
    config = Config()
    assert config["database.host"] == "db.lab.org" and config["database.port"] == 3307
    backend, why = config.choose_backend()
    assert backend == "mysql" and "DJ_HOST" in why


def test_database_backend_wins_when_set(clean_env, monkeypatch):
    config = Config()
    config["database.host"] = "127.0.0.1"
    config["database.backend"] = "postgresql"
    assert config.choose_backend()[0] == "postgresql"
    config["database.backend"] = "sqlite"  # chosen explicitly: the configured host is not used
    assert config.choose_backend()[0] == "sqlite"
    monkeypatch.setenv("DJ_BACKEND", "postgres")
    monkeypatch.setenv("DJ_HOST", "pg.lab.org")
    assert Config().choose_backend()[0] == "postgresql"


def test_connection_arguments_outrank_the_configuration(clean_env):
    config = Config()
    assert config.choose_backend(None, ["host"])[0] == "mysql"
    assert config.choose_backend("postgresql", ["host"])[0] == "postgresql"
    config["database.backend"] = "postgresql"
    assert config.choose_backend(None, ["host", "user"])[0] == "postgresql"
    config["database.backend"] = "sqlite"
    with pytest.raises(DataJointError, match="host, user.*database.backend is 'sqlite'.*'mysql'"):
        config.choose_backend(None, ["host", "user"])
    assert config.choose_backend("mysql", ["host"])[0] == "mysql"


def test_datajoint_json_is_found_in_the_project_above(clean_env, monkeypatch):
    """DataJoint 2.x looks for datajoint.json up to the project's root; 0.14's dj_local_conf.json only here."""
    (clean_env / "datajoint.json").write_text(json.dumps({"database": {"host": "db.lab.org"}}))
    (clean_env / "notebooks" / "deep").mkdir(parents=True)
    monkeypatch.chdir(clean_env / "notebooks" / "deep")
    assert find_config_file() == clean_env / "datajoint.json"
    assert Config().choose_backend()[0] == "mysql"
    (clean_env / "datajoint.json").unlink()
    (clean_env / "dj_local_conf.json").write_text(json.dumps({"database.host": "db.lab.org"}))
    assert find_config_file() is None and Config().choose_backend()[0] == "sqlite"
    above = clean_env.parent / "datajoint.json"  # beyond the project's root (.git): not read
    above.write_text(json.dumps({"database.host": "elsewhere"}))
    try:
        assert find_config_file() is None
    finally:
        above.unlink()


def test_the_per_user_file_of_datajoint_014(clean_env):
    home = clean_env.parent / "home"
    home.mkdir()
    (home / ".datajoint_config.json").write_text(json.dumps({"database.host": "db.lab.org", "database.user": "alice"}))
    config = Config()
    assert config.choose_backend()[0] == "mysql" and config["database.user"] == "alice"
    (clean_env / "datajoint.json").write_text(json.dumps({"safemode": False}))  # a project file replaces it
    assert Config().choose_backend()[0] == "sqlite"


def test_credentials_from_the_secrets_folder(clean_env, monkeypatch):
    (clean_env / "datajoint.json").write_text(json.dumps({"database": {"host": "db.lab.org", "user": "alice"}}))
    (clean_env / ".secrets").mkdir()
    (clean_env / ".secrets" / "database.password").write_text("s3cret\n")
    (clean_env / ".secrets" / "database.user").write_text("bob\n")
    config = Config()
    assert config["database.password"] == "s3cret" and config["database.user"] == "alice"  # the file's user wins
    monkeypatch.setenv("DJ_IGNORE_CONFIG_FILE", "true")
    config = Config()
    assert config["database.password"] is None and config.choose_backend()[0] == "sqlite"


def test_saving_keeps_the_choice(clean_env):
    """A saved SQLite configuration (which lists the default host) reads back as SQLite."""
    config = Config()
    config.save("sqlite.json")
    config["database.user"] = "alice"
    config.save("server.json")
    assert json.loads((clean_env / "sqlite.json").read_text())["database.backend"] == "sqlite"
    for name, expected in (("sqlite.json", "sqlite"), ("server.json", "mysql")):
        other = Config(load_files=False)
        other.load(name)
        assert other.choose_backend()[0] == expected


def test_override_restores_the_choice(clean_env):
    config = Config()
    with config.override(database__host="db.lab.org"):
        assert config["database.backend"] == "mysql"
    assert config["database.backend"] == "sqlite"


@pytest.mark.parametrize(
    "host, port, expected",
    [
        ("db.lab.org", None, ("db.lab.org", None)),
        ("db.lab.org:3307", None, ("db.lab.org", 3307)),
        ("db.lab.org:3307", 3306, ("db.lab.org", 3307)),
        ("127.0.0.1", 3306, ("127.0.0.1", 3306)),
        ("[::1]:3307", None, ("::1", 3307)),
        ("[::1]", 5432, ("::1", 5432)),
        ("::1", None, ("::1", None)),
        (None, None, (None, None)),
    ],
)
def test_host_and_port(host, port, expected):
    assert split_host_port(host, port) == expected


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


def test_datajoint_2s_job_settings_are_known(clean_env, monkeypatch):
    config = Config()
    # DataJoint 2.x's defaults
    assert config.jobs.allow_new_pk_fields_in_computed_tables is False
    assert config["jobs.auto_refresh"] is True and config["jobs.stale_timeout"] == 3600
    assert config["jobs.version_method"] is None
    # assigned as DataJoint code does, through attributes, and read back either way
    config.jobs.allow_new_pk_fields_in_computed_tables = True
    assert config["jobs.allow_new_pk_fields_in_computed_tables"] is True
    with pytest.raises(KeyError, match="not found"):
        config.jobs.allow_new_pk_fields = True
    # a group given as a dict, as DataJoint's override() takes it, restored afterwards
    with config.override(jobs={"keep_completed": True, "stale_timeout": 60}):
        assert config.jobs.keep_completed is True and config.jobs.stale_timeout == 60
    assert config.jobs.keep_completed is False and config.jobs.stale_timeout == 3600


def test_save_template_writes_a_starting_file_and_a_secrets_folder(clean_env, monkeypatch):
    import pipejoint as dj

    monkeypatch.setenv("DJ_THREAD_SAFE", "true")  # it reads no setting: allowed in thread-safe mode
    written = dj.config.save_template()
    assert written == clean_env / "datajoint.json"
    assert json.loads(written.read_text()) == {"database": {"host": "localhost", "port": 3306}}
    assert (clean_env / ".secrets" / "database.password").is_file()
    assert "*" in (clean_env / ".secrets" / ".gitignore").read_text().split()
    with pytest.raises(FileExistsError, match="exists already"):
        dj.config.save_template()
    full = json.loads(Config.save_template("full.json", minimal=False, create_secrets_dir=False).read_text())
    assert full["display"]["limit"] == 12 and full["stores"]["default"] == "main" and "user" not in full["database"]
    monkeypatch.delenv("DJ_THREAD_SAFE")
    loaded = Config()
    assert loaded.source_file == str(clean_env / "datajoint.json") and loaded["database.port"] == 3306
