"""The `query` tool's expression language: DataJoint query expressions written as in Python
(`Subject & 'sex="F"'`, `Session * Subject`, `Subject.aggr(Session, n='count(*)')`), parsed with
`ast` and evaluated node by node against a whitelist, never with `eval`.

Allowed:
- names of the schema's table classes, their parts (`Master.Part`) and `schema.Class`;
- literals: strings, numbers, True/False/None, `...`, and dicts, lists and tuples of them;
- the operators `&` and `-` (restriction: by a query, a string, a dict, a list, `dj.AndList`,
  `dj.Not`, `dj.Top`), `*` (join) and `+` (union) between queries;
- the query operators `.proj()`, `.aggr()`, `.join()`, `.extend()`, `.restrict()`, with
  positional arguments as above and keyword arguments that are literals;
- `dj.U(...)`, `dj.Top(...)`, `dj.AndList([...])` and `dj.Not(...)`.

Everything else (other attributes and methods such as `.delete()`, other names, dunder names,
calls of anything else, subscripts, lambdas, comprehensions, f-strings) is refused with
ExpressionRefused naming what was refused and what is allowed.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

import pipejoint as dj

QUERY_METHODS = ("proj", "aggr", "join", "extend", "restrict")
DJ_NAMES = ("U", "Top", "AndList", "Not")
ALLOWED = (
    "allowed are the schema's table classes (Master.Part for parts), literals (strings, numbers, True, False, "
    "None, ..., and dicts, lists and tuples of them), the operators & - * +, the methods "
    + ", ".join(f".{m}()" for m in QUERY_METHODS)
    + " with literal keyword arguments, and "
    + ", ".join(f"dj.{n}()" for n in DJ_NAMES)
)
MAX_LENGTH = 4000


class ExpressionRefused(dj.DataJointError):
    """A query expression uses something outside the query language of the `query` tool."""


class Namespace:
    """A name that stands for more names: `dj`, or a schema (`lab.Subject`)."""

    def __init__(self, label: str, lookup: Callable[[str], Any]):
        self.label = label
        self.lookup = lookup


Resolver = Callable[[str], Any]  # name -> table class, a schema's lookup, or None


def parse_query(text: str, resolve: Resolver) -> Any:
    """The query expression written in `text`, its names found with `resolve(name)`: a table class
    for a class name (`Subject`, `Session.Trial`), a function of class names for a schema's name, or
    None for an unknown name. Refuses anything outside the language (see the module docstring)."""
    if not isinstance(text, str) or not text.strip():
        raise ExpressionRefused(f"Give a query expression such as `Subject & {{'sex': 'F'}}`; {ALLOWED}.")
    if len(text) > MAX_LENGTH:
        raise ExpressionRefused(f"The query expression is longer than {MAX_LENGTH} characters; write a shorter one.")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as error:
        raise ExpressionRefused(f"Cannot parse the query expression {text!r}: {error.msg}.") from None
    result = _Evaluator(text, resolve).value(tree.body)
    result = _as_query(result)
    if result is None:
        raise ExpressionRefused(f"The expression {text!r} is not a query: write one that starts from a table class.")
    return result


def _as_query(value: Any) -> Any:
    """A query expression for a table class or query, else None."""
    if isinstance(value, type) and issubclass(value, dj.Table):
        return value()
    if isinstance(value, dj.QueryExpression):
        return value
    return None


def _is_query(value: Any) -> bool:
    return _as_query(value) is not None or isinstance(value, dj.U)


class _Evaluator:
    def __init__(self, text: str, resolve: Resolver):
        self.text = text
        self.resolve = resolve

    def refuse(self, node: ast.AST, what: str) -> ExpressionRefused:
        source = ast.get_source_segment(self.text.strip(), node) or type(node).__name__
        return ExpressionRefused(f"Cannot use {what} (`{source}`) in a query expression: {ALLOWED}.")

    def value(self, node: ast.AST) -> Any:
        handler = getattr(self, "_" + type(node).__name__, None)
        if handler is None:
            raise self.refuse(node, _describe(node))
        return handler(node)

    # --- literals ---
    def _Constant(self, node: ast.Constant) -> Any:
        if node.value is Ellipsis or node.value is None or isinstance(node.value, (str, int, float, bool)):
            return node.value
        raise self.refuse(node, f"a {type(node.value).__name__} literal")

    def _UnaryOp(self, node: ast.UnaryOp) -> Any:
        if isinstance(node.op, (ast.USub, ast.UAdd)) and isinstance(node.operand, ast.Constant):
            number = node.operand.value
            if isinstance(number, (int, float)) and not isinstance(number, bool):
                return -number if isinstance(node.op, ast.USub) else number
        raise self.refuse(node, "this unary operator (only a sign before a number is allowed)")

    def _Dict(self, node: ast.Dict) -> dict:
        result = {}
        for key, item in zip(node.keys, node.values):
            if key is None:
                raise self.refuse(node, "`**` in a dict")
            name = self.value(key)
            if not isinstance(name, str):
                raise self.refuse(key, "a dict key that is not a string")
            result[name] = self.literal(item)
        return result

    def _List(self, node: ast.List) -> list:
        return [self.value(item) for item in node.elts]

    def _Tuple(self, node: ast.Tuple) -> tuple:
        return tuple(self.value(item) for item in node.elts)

    def literal(self, node: ast.AST) -> Any:
        """A plain value: a constant, or a list, tuple or dict of them (no queries)."""
        value = self.value(node)
        if _contains_query(value):
            raise self.refuse(node, "a query where a plain value belongs")
        return value

    # --- names ---
    def _Name(self, node: ast.Name) -> Any:
        name = node.id
        if name.startswith("_"):
            raise self.refuse(node, f"the name {name!r}")
        if name == "dj":
            return Namespace("dj", _dj_name)
        found = self.resolve(name)
        if found is None:
            raise self.refuse(node, f"the unknown name {name!r} (not a table class of the schema)")
        return found

    def _Attribute(self, node: ast.Attribute) -> Any:
        owner = self.value(node.value)
        attr = node.attr
        if attr.startswith("_"):
            raise self.refuse(node, f"the attribute {attr!r}")
        if isinstance(owner, Namespace):
            found = owner.lookup(attr)
            if found is None:
                raise self.refuse(node, f"{owner.label}.{attr}")
            return found
        if isinstance(owner, type) and issubclass(owner, dj.Table) and attr[:1].isupper():
            part = self.resolve(f"{owner.__name__}.{attr}")
            if part is not None:
                return part
        if attr in QUERY_METHODS and _is_query(owner):
            raise self.refuse(node, f"the method .{attr} without calling it")
        raise self.refuse(node, f"the attribute .{attr}")

    # --- calls ---
    def _Call(self, node: ast.Call) -> Any:
        function = node.func
        if isinstance(function, ast.Attribute) and function.attr in QUERY_METHODS:
            owner = self.value(function.value)
            if not _is_query(owner):
                raise self.refuse(function, f"the method .{function.attr} on something that is not a query")
            args = [self.operand(arg) for arg in node.args]
            kwargs = self.keywords(node)
            return self.apply(node, getattr(owner, function.attr), args, kwargs)
        if isinstance(function, ast.Attribute) and isinstance(function.value, ast.Name) and function.value.id == "dj":
            constructor = _dj_name(function.attr)
            if constructor is None:
                raise self.refuse(function, f"dj.{function.attr}")
            if constructor is dj.U:
                args = [self._string(arg) for arg in node.args]
            elif constructor is dj.Top:
                args = [self.literal(arg) for arg in node.args]
            else:
                args = [self.operand(arg) for arg in node.args]
            return self.apply(node, constructor, args, self.keywords(node))
        if isinstance(function, ast.Attribute):
            raise self.refuse(node, f"a call of .{function.attr}() (not a query operator)")
        if isinstance(function, ast.Name):
            raise self.refuse(node, f"a call of {function.id}()")
        raise self.refuse(node, "this call")

    def apply(self, node: ast.Call, function: Callable, args: list, kwargs: dict) -> Any:
        """Call a query operator; wrong arguments (a Python TypeError) are the writer's error."""
        try:
            return function(*args, **kwargs)
        except TypeError as error:
            source = ast.get_source_segment(self.text.strip(), node) or ""
            raise ExpressionRefused(f"Cannot evaluate `{source}`: {error}.") from None

    def _string(self, node: ast.AST) -> str:
        value = self.value(node)
        if not isinstance(value, str):
            raise self.refuse(node, "an argument of dj.U that is not an attribute name")
        return value

    def keywords(self, node: ast.Call) -> dict:
        result = {}
        for keyword in node.keywords:
            if keyword.arg is None:
                raise self.refuse(keyword, "`**` arguments")
            if keyword.arg.startswith("_"):
                raise self.refuse(keyword, f"the keyword {keyword.arg!r}")
            result[keyword.arg] = self.literal(keyword.value)
        return result

    def operand(self, node: ast.AST) -> Any:
        """An argument of a query operator: a query (class or expression) or a restriction."""
        value = self.value(node)
        if isinstance(value, Namespace):
            raise self.refuse(node, f"{value.label} on its own")
        return _as_query(value) if isinstance(value, type) else value

    # --- operators ---
    def _BinOp(self, node: ast.BinOp) -> Any:
        symbols = {ast.BitAnd: "&", ast.Sub: "-", ast.Mult: "*", ast.Add: "+"}
        symbol = symbols.get(type(node.op))
        if symbol is None:
            raise self.refuse(node, "this operator")
        left = self.operand(node.left)
        right = self.operand(node.right)
        if not _is_query(left):
            raise self.refuse(node.left, f"a left operand of {symbol} that is not a query")
        if symbol in "*+" and not _is_query(right):
            raise self.refuse(node.right, f"a right operand of {symbol} that is not a query")
        if symbol == "&":
            return left & right
        if symbol == "-":
            return left - right
        if symbol == "*":
            return left * right
        return left + right


def _dj_name(name: str) -> Any:
    return getattr(dj, name) if name in DJ_NAMES else None


def _contains_query(value: Any) -> bool:
    if isinstance(value, (list, tuple)):
        return any(_contains_query(v) for v in value)
    if isinstance(value, dict):
        return any(_contains_query(v) for v in value.values())
    return _is_query(value) or isinstance(value, (Namespace, dj.AndList, dj.Not, dj.Top, type))


def _describe(node: ast.AST) -> str:
    """What a refused node is, in words."""
    kinds = {
        ast.Lambda: "a lambda",
        ast.ListComp: "a comprehension",
        ast.SetComp: "a comprehension",
        ast.DictComp: "a comprehension",
        ast.GeneratorExp: "a generator expression",
        ast.Subscript: "a subscript",
        ast.JoinedStr: "an f-string",
        ast.NamedExpr: "an assignment expression",
        ast.Compare: "a comparison (write it inside a restriction string)",
        ast.BoolOp: "`and`/`or` (use & and a list of restrictions)",
        ast.IfExp: "a conditional expression",
        ast.Await: "await",
        ast.Yield: "yield",
        ast.Starred: "`*` unpacking",
        ast.Set: "a set",
    }
    return kinds.get(type(node), f"a {type(node).__name__} node")


__all__ = ["ALLOWED", "QUERY_METHODS", "ExpressionRefused", "Namespace", "parse_query"]
