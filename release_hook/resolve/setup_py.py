"""A release's name, install_requires and python_requires from its setup.py, read as text: the
`setup()` call's keywords, with module-level string constants, lists, f-strings and `+` of
them resolved. Nothing in the file is run."""
from __future__ import annotations

import ast

from release_hook.errors import UserError


def read(text: str, where: str) -> tuple[str | None, list[str], str | None]:
    """`setup(name=..., install_requires=[...])`, with module-level string constants resolved."""
    try:
        tree = ast.parse(text, where)
    except SyntaxError as e:
        raise UserError(f"cannot parse: {e.msg}", where, e.lineno) from None
    constants: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                constants[node.targets[0].id] = _value(node.value, constants, where)
            except UserError:
                pass  # only constants that setup() actually uses must be readable
    for call in ast.walk(tree):
        if isinstance(call, ast.Call) and _is_setup(call.func):
            kwargs = {k.arg: k.value for k in call.keywords if k.arg}
            name = _value(kwargs["name"], constants, where) if "name" in kwargs else None
            python = _value(kwargs["python_requires"], constants, where) \
                if "python_requires" in kwargs else None
            python = python if isinstance(python, str) else None
            if "install_requires" not in kwargs:
                return (str(name) if name else None), [], python
            value = _value(kwargs["install_requires"], constants, where)
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise UserError("install_requires is not a list of strings", where,
                                kwargs["install_requires"].lineno)
            return (str(name) if name else None), value, python
    return None, [], None


def _is_setup(func: ast.expr) -> bool:
    return (isinstance(func, ast.Name) and func.id == "setup") or (
        isinstance(func, ast.Attribute) and func.attr == "setup")


def _value(node: ast.expr, constants: dict[str, object], where: str) -> object:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name) and node.id in constants:
        return constants[node.id]
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_value(e, constants, where) for e in node.elts]
    if isinstance(node, ast.JoinedStr):
        parts = []
        for v in node.values:
            if isinstance(v, ast.FormattedValue) and v.conversion == -1 and v.format_spec is None:
                parts.append(str(_value(v.value, constants, where)))
            else:
                parts.append(str(_value(v, constants, where)))  # type: ignore[arg-type]
        return "".join(parts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _value(node.left, constants, where), _value(node.right, constants, where)
        if isinstance(left, type(right)):
            return left + right  # type: ignore[operator]
    raise UserError("a value is computed; read statically only constants, lists, f-strings and +",
                    where, getattr(node, "lineno", None))
