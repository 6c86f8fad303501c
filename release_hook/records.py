"""`NamedTuple`, as the tool's value classes declare it: typing's own for mypy and for readers,
and at run time a lighter builder of the same classes.

typing's builder type-checks each annotation and compiles a `__new__` for every class: the 57
classes a bump's hook imports took 9.8 ms of it. Here the classes are built as namedtuple builds
them (tuple subclasses, C field getters, `_make`, `_replace`, `_asdict`, the same repr), with one
compiled `__new__` per number of fields whose argument names are swapped in, not compiled again.
tests/test_records.py holds these classes to typing's, side by side.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing import NamedTuple as NamedTuple
else:
    from operator import itemgetter

    try:
        from _collections import _tuplegetter  # what namedtuple's fields are: a getter in C
    except ImportError:  # another Python than CPython
        def _tuplegetter(index: int, doc: str) -> property:
            return property(itemgetter(index), doc=doc)

    _new_by_arity: dict[int, Any] = {}

    def _new_code(arity: int) -> Any:
        """`__new__` taking `arity` arguments, compiled once per arity."""
        code = _new_by_arity.get(arity)
        if code is None:
            names = "".join(f", a{i}" for i in range(arity))
            source = f"def __new__(_cls{names}):\n    return _tuple_new(_cls, ({names[2:]}{',' if arity else ''}))\n"
            space: dict[str, Any] = {}
            exec(compile(source, "<release_hook.records>", "exec"), space)
            code = _new_by_arity[arity] = space["__new__"].__code__
        return code

    def _make(cls: type, iterable: Any) -> Any:
        result = tuple.__new__(cls, iterable)
        if len(result) != len(cls._fields):
            raise TypeError(f"Expected {len(cls._fields)} arguments, got {len(result)}")
        return result

    def _replace(self: Any, /, **changes: Any) -> Any:
        result = self._make(map(changes.pop, self._fields, self))
        if changes:
            raise ValueError(f"Got unexpected field names: {list(changes)!r}")
        return result

    def _repr(self: Any) -> str:
        return f"{type(self).__name__}({', '.join(f'{n}={v!r}' for n, v in zip(self._fields, self))})"

    def _asdict(self: Any) -> dict[str, Any]:
        return dict(zip(self._fields, self))

    def _getnewargs(self: Any) -> tuple[Any, ...]:
        return tuple(self)

    class _Builder(type):
        def __new__(mcls, name: str, bases: tuple[type, ...], namespace: dict[str, Any]) -> Any:
            if namespace.get("_builder_root"):
                return super().__new__(mcls, name, bases, namespace)
            fields = tuple(namespace.get("__annotations__", {}))
            for field in fields:
                if field.startswith("_"):
                    raise ValueError(f"{name}: a field name cannot start with an underscore: {field!r}")
            given = [f for f in fields if f in namespace]
            if given != list(fields[len(fields) - len(given):]):
                raise TypeError(f"{name}: a field without a default follows one with a default")
            defaults = tuple(namespace[f] for f in given)
            new = type(_make)(_new_code(len(fields)).replace(co_varnames=("_cls", *fields)),
                              {"_tuple_new": tuple.__new__}, "__new__", defaults or None)
            new.__qualname__ = f"{namespace.get('__qualname__', name)}.__new__"
            body = {"__doc__": f"{name}({', '.join(fields)})", "__repr__": _repr}
            body.update((k, v) for k, v in namespace.items() if k not in fields)
            body.update(__slots__=(), __new__=new, _fields=fields, _field_defaults=dict(zip(given, defaults)),
                        _make=classmethod(_make), _replace=_replace, _asdict=_asdict,
                        __getnewargs__=_getnewargs, __match_args__=fields)
            for index, field in enumerate(fields):
                body[field] = _tuplegetter(index, f"Alias for field number {index}")
            return type.__new__(type, name, (tuple,), body)

    class _Root(metaclass=_Builder):
        _builder_root = True

    def NamedTuple(*args: Any, **kwargs: Any) -> Any:
        raise TypeError("release_hook.records.NamedTuple is for class statements (class X(NamedTuple): ...)")

    NamedTuple.__mro_entries__ = lambda bases: (_Root,)
