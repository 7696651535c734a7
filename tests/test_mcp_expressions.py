"""The `query` tool's expression parser (no MCP server): it accepts every query form the README's
"AI assistants (MCP)" section lists, building the same query as the Python would, and refuses
everything else, naming what it refused, before any SQL runs."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import pipejoint as dj
from helpers import connect, server_settings, unique_name
from pipejoint.assistants.expressions import ExpressionRefused, Namespace, _Evaluator, parse_query

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_forms():
    section = README.read_text().split("## AI assistants (MCP)", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```text\n(.*?)```", section, re.S).group(1)
    return [line for line in block.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def classes(tmp_path_factory):
    """The README pipeline's tables (on SQLite: the parser does not depend on the backend), a few rows."""
    connection = connect(server_settings("sqlite", str(tmp_path_factory.mktemp("mcp"))))
    schema = dj.Schema(unique_name("mcpexpr"), connection=connection)

    @schema
    class Species(dj.Lookup):
        definition = "species : varchar(24)"
        contents = [("mouse",), ("rat",)]

    @schema
    class Subject(dj.Manual):
        definition = """
        subject_id : uint16
        ---
        -> Species
        sex : enum('F', 'M', 'U')
        date_of_birth = null : date
        """

    @schema
    class Session(dj.Manual):
        definition = """
        -> Subject
        session : uint8
        ---
        session_date : date
        """

    @schema
    class Recording(dj.Imported):
        definition = """
        -> Session
        ---
        sampling_rate : float64
        """

        def make(self, key):
            self.insert1(dict(key, sampling_rate=1.0))

    @schema
    class SpikeStats(dj.Computed):
        definition = """
        -> Recording
        ---
        total_spikes : uint32
        """

        class Channel(dj.Part):
            definition = """
            -> master
            channel : uint16
            ---
            spike_count : uint32
            """

        def make(self, key):
            self.insert1(dict(key, total_spikes=7))
            self.Channel.insert1(dict(key, channel=0, spike_count=7))

    Subject.insert([(1, "mouse", "F", "2025-01-02"), (2, "rat", "M", None)])
    Session.insert([(1, 1, "2026-01-10"), (2, 1, "2025-12-01")])
    Recording.populate()
    SpikeStats.populate()
    found = {c.__name__: c for c in (Species, Subject, Session, Recording, SpikeStats)}
    found["SpikeStats.Channel"] = SpikeStats.Channel
    yield found
    schema.drop(prompt=False)
    connection.close()


def resolver(classes):
    return classes.get


def test_readme_lists_query_forms():
    forms = readme_forms()
    assert len(forms) >= 20 and "Session * Subject" in forms


@pytest.mark.parametrize("text", readme_forms())
def test_accepts_every_readme_form(classes, text):
    query = parse_query(text, resolver(classes))
    # the same query as the Python would build (names bound to the same classes)
    expected = eval(text, {"dj": dj, **{name: cls for name, cls in classes.items() if "." not in name}})
    expected = expected() if isinstance(expected, type) else expected
    assert query.make_sql() == expected.make_sql()
    assert sorted(map(repr, query.fetch(as_dict=True))) == sorted(map(repr, expected.fetch(as_dict=True)))


def test_issue_examples_and_schema_qualified_names(classes):
    schema_lookup = {"lab": None}

    def resolve(name):
        if name in schema_lookup:
            return Namespace("lab", classes.get)
        return classes.get(name)

    query = parse_query("lab.Session * lab.Subject & {'sex': 'F'}", resolve)
    assert len(query) == 1
    assert len(parse_query("Subject.aggr(Session, n='count(*)') & 'n > 0'", resolve)) == 2
    assert len(parse_query("Subject.aggr(Session, n='count(*)') - {'subject_id': 1}", resolve)) == 1
    assert len(parse_query("Session & {'session_date': '2026-01-10'}", resolve)) == 1


REFUSED = [
    # methods other than the query operators
    ("Subject.delete()", "a call of .delete()"),
    ("Subject.delete_quick()", "a call of .delete_quick()"),
    ("(Subject & 'sex=\"F\"').delete()", "a call of .delete()"),
    ("Subject.drop()", "a call of .drop()"),
    ("Subject.insert1({'subject_id': 5})", "a call of .insert1()"),
    ("Subject.insert([])", "a call of .insert()"),
    ("Subject.update1({'subject_id': 1})", "a call of .update1()"),
    ("Subject.alter()", "a call of .alter()"),
    ("Recording.populate()", "a call of .populate()"),
    ("Subject.fetch()", "a call of .fetch()"),
    ("Subject.to_pandas()", "a call of .to_pandas()"),
    ("Subject.describe()", "a call of .describe()"),
    ("Subject.proj().cursor()", "a call of .cursor()"),
    ("Subject.make_sql()", "a call of .make_sql()"),
    # attributes and escapes
    ("Subject.connection", "the attribute .connection"),
    ("Subject.connection.query('DROP TABLE x')", "a call of .query()"),
    ("Subject.__class__", "the attribute '__class__'"),
    ("Subject.__class__.__mro__", "the attribute '__class__'"),
    ("Subject._connection", "the attribute '_connection'"),
    ("Subject.proj.__globals__", "the method .proj without calling it"),
    ("Subject.aggr.__self__", "the method .aggr without calling it"),
    ("Subject.heading", "the attribute .heading"),
    ("Subject.full_table_name", "the attribute .full_table_name"),
    ("Subject.proj", "the method .proj without calling it"),
    ("Subject.Nothing", "the attribute .Nothing"),
    # names and calls of anything else
    ("__import__('os')", "a call of __import__()"),
    ("__import__('os').system('rm -rf /')", "a call of .system()"),
    ("__builtins__", "the name '__builtins__'"),
    ("eval('1')", "a call of eval()"),
    ("exec('x = 1')", "a call of exec()"),
    ("open('/etc/passwd')", "a call of open()"),
    ("getattr(Subject, 'delete')()", "this call"),
    ("os", "the unknown name 'os'"),
    ("Subject & os.environ", "the unknown name 'os'"),
    ("Nothing & Subject", "the unknown name 'Nothing'"),
    ("dj.conn()", "dj.conn"),
    ("dj.config", "dj.config"),
    ("dj.Schema('x')", "dj.Schema"),
    ("dj.FreeTable(None, 'x')", "dj.FreeTable"),
    ("dj", "is not a query"),
    ("dj.U", "not a query"),
    ("dj.U(Subject)", "an argument of dj.U"),
    ("Subject.proj(x=Session)", "a query where a plain value belongs"),
    ("Subject.proj(**{'x': 'sex'})", "`**` arguments"),
    ("Subject.aggr(Session, __class__='x')", "the keyword '__class__'"),
    ("Subject & dj.Top(Session)", "a query where a plain value belongs"),
    # query operators called wrongly
    ("Subject.join(Session, nonsense=True)", "Cannot evaluate `Subject.join(Session, nonsense=True)`"),
    ("dj.Not()", "Cannot evaluate `dj.Not()`"),
    # syntax outside the language
    ("[s for s in Subject]", "a comprehension"),
    ("(s for s in Subject)", "a generator expression"),
    ("{s: 1 for s in 'ab'}", "a comprehension"),
    ("Subject & (lambda: 1)", "a lambda"),
    ("Subject[0]", "a subscript"),
    ("Subject & f'sex={1}'", "an f-string"),
    ("(x := Subject)", "an assignment expression"),
    ("Subject if True else Session", "a conditional expression"),
    ("Subject and Session", "`and`/`or`"),
    ("Subject == Session", "a comparison"),
    ("Subject & {1, 2}", "a set"),
    ("Subject & b'x'", "a bytes literal"),
    ("Subject & {**{'a': 1}}", "`**` in a dict"),
    ("Subject & {1: 'a'}", "a dict key that is not a string"),
    ("Subject | Session", "this operator"),
    ("Subject @ Session", "this operator"),
    ("Subject / Session", "this operator"),
    ("Subject ** 2", "this operator"),
    ("~Subject", "this unary operator"),
    ("-Subject", "this unary operator"),
    ("Subject * 'sex=\"F\"'", "a right operand of * that is not a query"),
    ("'sex' & Subject", "a left operand of & that is not a query"),
    # not a query at all
    ("1", "is not a query"),
    ("'sex = \"F\"'", "is not a query"),
    ("{'subject_id': 1}", "is not a query"),
    ("Subject &", "Cannot parse"),
    ("Subject; import os", "Cannot parse"),
    ("", "Give a query expression"),
    ("Subject & '" + "x" * 5000 + "'", "longer than"),
]


@pytest.mark.parametrize("text, named", REFUSED, ids=[t[:40] for t, _ in REFUSED])
def test_refuses_everything_else(classes, text, named):
    with pytest.raises(ExpressionRefused) as refused:
        parse_query(text, resolver(classes))
    assert isinstance(refused.value, dj.DataJointError)
    assert named in str(refused.value)


def test_refused_message_says_what_is_allowed(classes):
    with pytest.raises(ExpressionRefused, match=r"allowed are .*\.proj\(\), \.aggr\(\).*dj\.U\(\)"):
        parse_query("Subject.delete()", resolver(classes))


def test_only_the_whitelisted_syntax_has_a_handler():
    """Every node type without a handler is refused: this list is the whole language."""
    nodes = {
        name for name in dir(ast) if isinstance(getattr(ast, name), type) and issubclass(getattr(ast, name), ast.AST)
    }
    handled = {name[1:] for name in vars(_Evaluator) if name.startswith("_") and name[1:] in nodes}
    assert handled == {"Constant", "UnaryOp", "Dict", "List", "Tuple", "Name", "Attribute", "Call", "BinOp"}
