"""`comfydsl.diagnostics`: what every finding is made of."""

from __future__ import annotations

import dataclasses
import inspect
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from comfydsl.diagnostics import Location, Span, show

_leaves = (st.none() | st.booleans() | st.integers(min_value=-(10**30), max_value=10**30) | st.floats()
           | st.text() | st.sampled_from([math.nan, -math.inf, object(), {1, 2}, b"\xff"]))
_values = st.recursive(
    _leaves,
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=100, deadline=None)
@given(_values)
def test_values_in_messages_are_their_json_text(value: object) -> None:
    """`show` writes `json.dumps`'s text (shortened), or the repr of what JSON cannot hold."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    assert show(value) == (text if len(text) <= 60 else text[:59] + "…")
    assert show(value, limit=5) == (text if len(text) <= 5 else text[:4] + "…")


def test_an_int_subclass_is_written_as_an_int() -> None:
    import enum

    class Level(enum.IntEnum):
        HIGH = 3

    assert show(Level.HIGH) == json.dumps(Level.HIGH) == "3"
    assert show(True) == "true" and show(2**70) == str(2**70)


@pytest.mark.parametrize("cls", [Span, Location])
def test_hand_written_initialisers_follow_the_fields(cls: type) -> None:
    """Span and Location store their fields themselves (for speed): every field declared, in
    order, with its default, and the object is as frozen and comparable as a dataclass's."""
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    declared = dataclasses.fields(cls)
    assert [(p.name, p.default) for p in params] == [
        (f.name, inspect.Parameter.empty if f.default is dataclasses.MISSING else f.default) for f in declared]
    values = [object() for _ in params]
    made = cls(*values)
    assert [getattr(made, f.name) for f in declared] == values
    assert cls(**{p.name: v for p, v in zip(params, values)}) == made and hash(made) == hash(cls(*values))
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(made, declared[0].name, None)
