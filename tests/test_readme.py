"""README.md runs as written: its Python examples, its configuration file, its commands.

The Python blocks run in order as one script (as a reader pastes them into one session), on the
embedded SQLite default, in an empty folder, with no DJ_* variables or user config file in the way.
A block right after `<!-- not run: reason -->` is skipped (a server it needs, say); one after
`<!-- run alone: reason -->` runs in its own process (it points dj.config elsewhere).
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
MARK = re.compile(r"<!--\s*(not run|run alone)\s*:\s*(.+?)\s*-->\s*$")


def blocks(language):
    """(line number, code, mark) of each fenced block in that language, in order."""
    found = []
    for match in FENCE.finditer(README):
        if match.group(1) != language:
            continue
        line = README.count("\n", 0, match.start()) + 1
        before = README[: match.start()].rstrip("\n").splitlines()
        mark = MARK.search(before[-1]) if before else None
        found.append((line, match.group(2), mark.group(1) if mark else None))
    return found


def environment(folder):
    """This interpreter and this checkout, and nothing of the user's configuration."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJ_")}
    env["HOME"] = str(folder)  # no ~/.datajoint_config.json
    return env


def run_script(folder, name, code):
    path = folder / name
    path.write_text(code)
    return subprocess.run(
        [sys.executable, str(path)],
        cwd=folder,
        env=environment(folder),
        input="yes\n" * 20,  # a delete asks before it deletes, as it should
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_python_examples_run(tmp_path):
    python = blocks("python")
    assert len(python) >= 4
    together = [(line, code) for line, code, mark in python if mark is None]
    script = "".join(f"# --- README.md line {line} ---\n{code}" for line, code in together)
    done = run_script(tmp_path, "readme_examples.py", script)
    assert done.returncode == 0, f"README's examples failed:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
    for line, code, mark in python:
        if mark == "run alone":
            alone = run_script(tmp_path, f"readme_line_{line}.py", "import pipejoint as dj\n" + code)
            assert alone.returncode == 0, f"README.md line {line}:\n{alone.stderr[-3000:]}"
    marks = [mark for _, _, mark in python if mark]
    assert len(marks) <= 2, "keep the README's unrun blocks rare"


def test_the_small_pipeline_is_the_demo():
    """demo.py defines the README's tables and load_traces, word for word."""
    pipeline = next(code for _, code, _ in blocks("python") if "class SpikeStats" in code)
    demo = (ROOT / "src" / "pipejoint" / "demo.py").read_text()

    def definitions(source):
        tree = ast.parse(source)
        return {
            node.name: ast.dump(node)
            for node in tree.body
            if isinstance(node, (ast.ClassDef, ast.FunctionDef)) and (node.name == "load_traces" or node.decorator_list)
        }

    readme_definitions = definitions(pipeline)
    assert set(readme_definitions) == {"load_traces", "Species", "Subject", "Session", "Recording", "SpikeStats"}
    assert {k: v for k, v in definitions(demo).items() if k in readme_definitions} == readme_definitions
    assert "index (session_date)" in pipeline and "Subject.proj(partner_id='subject_id')" in pipeline


def test_dj_local_conf_json_as_documented(tmp_path):
    """The README's dj_local_conf.json example is read from the working directory as DataJoint 0.14 reads it."""
    example = next(
        code for line, code, _ in blocks("json") if "dj_local_conf.json" in README[: README.find(code)][-600:]
    )
    (tmp_path / "dj_local_conf.json").write_text(example)
    code = (
        "import json, pipejoint as dj\n"
        "keys = ['database.backend', 'database.host', 'database.user', 'database.port', 'display.limit']\n"
        "print(json.dumps({k: dj.config[k] for k in keys} | {'stores': dj.config['stores']}))\n"
        "dj.config.save('saved.json')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=environment(tmp_path), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    settings = json.loads(done.stdout)
    assert settings["database.backend"] == "mysql" and settings["database.host"] == "db.lab.org"
    assert settings["database.user"] == "alice" and settings["database.port"] == 3306
    assert settings["display.limit"] == 20 and settings["stores"]["raw"]["location"] == "/data/raw"
    saved = json.loads((tmp_path / "saved.json").read_text())
    assert "database.password" not in saved and saved["database.host"] == "db.lab.org"


@pytest.mark.parametrize(
    "backend, driver, extra", [("postgresql", "psycopg", "postgres"), ("mysql", "pymysql", "mysql")]
)
def test_a_missing_driver_says_how_to_install_it(tmp_path, backend, driver, extra):
    """The hint names the pip command for a clone of pipejoint, and the README gives the same one."""
    command = f'pip install -e ".[{extra}]"'
    assert command in README
    code = (
        f"import sys; sys.modules[{driver!r}] = None  # as if the driver were not installed\n"
        "import pipejoint as dj\n"
        f"dj.Connection('127.0.0.1', 'nobody', '', backend={backend!r})\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=environment(tmp_path), capture_output=True, text=True
    )
    assert done.returncode != 0 and command in done.stderr and f'pip install "pipejoint[{extra}]"' in done.stderr


def test_the_commands_for_a_new_user():
    """The two commands of the quick start, and CI runs the same test command."""
    assert "pip install . && pipejoint demo" in README
    assert 'python -m pip install -e ".[test]" && python -m pytest' in README
    assert "git clone" in README and "python -m venv" in README
    ci = (ROOT / ".ci" / "run").read_text()
    assert 'pip install -q --disable-pip-version-check -e ".[test]"' in ci
    assert ci.rstrip().splitlines()[-1] == "python -m pytest"
