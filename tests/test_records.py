"""release_hook.records.NamedTuple against typing's: the same class statement gives classes that
behave alike, and the tool's modules declare their values with it."""
from __future__ import annotations

import copy
import pickle
import re
import typing
from pathlib import Path
from typing import Any

import pytest

from release_hook import records

BUILDERS = pytest.mark.parametrize("base", [typing.NamedTuple, records.NamedTuple], ids=["typing", "records"])


def pin_class(base: Any) -> Any:
    class Pin(base):
        """A pin."""
        name: str
        version: str = "0.4.1"
        lines: tuple[int, ...] = ()
        KIND = "pin"

        def shown(self) -> str:
            return f"{self.name}=={self.version}"

    # where pickle finds it again: a module-level name of its own per builder
    Pin.__qualname__ = f"Pin_{base.__module__.replace('.', '_')}"
    globals()[Pin.__qualname__] = Pin
    return Pin


def what_it_does(cls: Any) -> list[object]:
    p = cls("jax", lines=(3,))
    seen: list[object] = [repr(p), p == ("jax", "0.4.1", (3,)), hash(p) == hash(("jax", "0.4.1", (3,))),
                          tuple(p), p.name, p[1], p.shown(), cls.KIND, cls._fields, cls._field_defaults,
                          p._replace(version="0.4.2"), p._asdict(), cls._make(["a", "b", ()]),
                          pickle.loads(pickle.dumps(p)) == p, copy.deepcopy(p) == p, copy.copy(p) is not None,
                          isinstance(p, tuple), cls.__mro__[1:], cls.__name__,
                          cls.__module__, cls.__doc__, cls.__match_args__, cls("a", "b") < cls("a", "c")]
    match p:
        case cls(name, version):
            seen.append((name, version))
    for bad in (lambda: cls(), lambda: cls("a", bogus=1), lambda: cls("a", "b", (), "d"),
                lambda: p._replace(bogus=1), lambda: cls._make(["a"])):
        with pytest.raises((TypeError, ValueError)) as e:
            bad()
        seen.append((e.type, re.sub(r"\S+\.__new__", "__new__", str(e.value))))
    return seen


def test_a_class_built_by_records_behaves_as_typings() -> None:
    assert what_it_does(pin_class(records.NamedTuple)) == what_it_does(pin_class(typing.NamedTuple))


@BUILDERS
def test_a_subclass_adds_methods_and_keeps_the_fields(base: Any) -> None:
    class Tagged(pin_class(base)):  # type: ignore[misc]
        def tagged(self) -> str:
            return self.shown() + "!"

    assert Tagged("jax").tagged() == "jax==0.4.1!" and Tagged._fields == ("name", "version", "lines")


@BUILDERS
def test_a_class_statement_that_namedtuple_refuses_is_refused(base: Any) -> None:
    with pytest.raises(TypeError):
        class Defaults(base):  # a field without a default after one with a default
            a: int = 1
            b: int
    with pytest.raises((ValueError, AttributeError)):
        class Private(base):
            _hidden: int


def test_every_module_of_the_tool_declares_its_values_with_records() -> None:
    """Not typing's builder: each class of it a run imports costs that run its type checks."""
    package = Path(records.__file__).parent
    typing_ones = [str(p.relative_to(package)) for p in sorted(package.rglob("*.py"))
                   if p.name != "records.py" and re.search(r"^from typing import .*\bNamedTuple\b|typing\.NamedTuple",
                                                           p.read_text(encoding="utf-8"), re.M)]
    assert typing_ones == []
    users = [p for p in package.rglob("*.py") if "from release_hook.records import NamedTuple" in p.read_text()]
    assert len(users) > 20
