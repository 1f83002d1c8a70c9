"""Near-miss suggestions for unknown names ("a node class with a similar name exists").

The suggestions are exactly those of `difflib.get_close_matches` (same scores, same
order, same cut-off), found faster:

- the candidates are grouped by length, and a whole group is skipped when two names of
  those lengths cannot reach the cut-off (difflib's own first test, `real_quick_ratio`,
  depends on the lengths alone);
- one `SequenceMatcher` is set to the unknown name once and compared with each remaining
  candidate;
- answers are remembered per name, so an unknown name met again costs a dict lookup;
- a rule searches at most `SEARCH_LIMIT` distinct names per workflow (`suggest_within`).

`near_miss_index(catalog)` gives the index of a node catalogue (class names, display
names, and the input names of each class), built on first use and kept while the
catalogue lives; `NearMiss` alone indexes any list of names (node ids, rule names).
"""

from __future__ import annotations

import heapq
import weakref
from difflib import SequenceMatcher
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:
    from .nodes import NodeCatalog, NodeSpec

#: Searches one rule makes in one workflow at most. Answers already known are free; past
#: the limit an unknown name gets the help without a suggestion, so a file with a great
#: many distinct unknown names costs time in proportion to its size, with a small factor.
SEARCH_LIMIT = 200
#: Answers remembered per index at most; past this the memo starts over (bounded memory
#: for files with very many distinct unknown names).
MEMO_LIMIT = 65_536


def _ratio(matches: int, length: int) -> float:
    # difflib's `_calculate_ratio`, so that bounds compare exactly as difflib's do
    return 2.0 * matches / length if length else 1.0


class NearMiss:
    """The names of one list that are close to a given name, as `get_close_matches` finds them."""

    def __init__(self, names: Iterable[str], *, n: int = 3, cutoff: float = 0.6) -> None:
        if n <= 0:
            raise ValueError(f"n must be > 0: {n!r}")
        if not 0.0 <= cutoff <= 1.0:
            raise ValueError(f"cutoff must be in [0.0, 1.0]: {cutoff!r}")
        self.n = n
        self.cutoff = cutoff
        self.names = list(names)
        self._by_length: dict[int, list[str]] = {}
        for name in self.names:
            self._by_length.setdefault(len(name), []).append(name)
        self._memo: dict[str, tuple[str, ...]] = {}

    def __len__(self) -> int:
        return len(self.names)

    def suggest(self, word: str) -> list[str]:
        """At most `n` names close to `word`, best first (`difflib.get_close_matches`)."""
        found = self._memo.get(word)
        if found is None:
            if len(self._memo) >= MEMO_LIMIT:
                self._memo.clear()
            found = self._memo[word] = self._search(word)
        return list(found)

    def suggest_within(self, word: str, budget: list[int]) -> list[str]:
        """`suggest(word)`, searching only while `budget[0]` (searches left) is positive;
        a search spends one. Remembered answers cost nothing."""
        found = self._memo.get(word)
        if found is not None:
            return list(found)
        if budget[0] <= 0:
            return []
        budget[0] -= 1
        return self.suggest(word)

    def _search(self, word: str) -> tuple[str, ...]:
        cutoff = self.cutoff
        size = len(word)
        matcher = SequenceMatcher()
        matcher.set_seq2(word)
        scored: list[tuple[float, str]] = []
        for length, group in self._by_length.items():
            if _ratio(min(size, length), size + length) < cutoff:
                continue  # real_quick_ratio: no name of this length can be close enough
            for name in group:
                matcher.set_seq1(name)
                if matcher.quick_ratio() >= cutoff:
                    score = matcher.ratio()
                    if score >= cutoff:
                        scored.append((score, name))
        return tuple(name for _, name in heapq.nlargest(self.n, scored))


class CatalogNames:
    """The near-miss index of one node catalogue."""

    def __init__(self, catalog: NodeCatalog) -> None:
        self._catalog = weakref.ref(catalog)
        self.stamp = _stamp(catalog)
        names = list(catalog)
        self.classes = NearMiss(names, n=2, cutoff=0.75)
        #: lower-cased class name -> class name (the last one wins, as a dict built in order does)
        self.lowered = {name.lower(): name for name in names}
        self._display: dict[str, str] | None = None
        self._inputs: dict[int, tuple[NodeSpec, NearMiss, str]] = {}

    @property
    def display(self) -> dict[str, str]:
        """Display name -> class name."""
        if self._display is None:
            catalog = self._catalog()
            self._display = catalog.display_names() if catalog is not None else {}
        return self._display

    def inputs(self, spec: NodeSpec) -> NearMiss:
        """The index of the input names a node of class `spec` may be given (hidden ones left out)."""
        return self._input_entry(spec)[1]

    def input_listing(self, spec: NodeSpec) -> str:
        """The visible inputs of `spec`, as the help text lists them: `` `a`, `b` ``."""
        return self._input_entry(spec)[2]

    def _input_entry(self, spec: NodeSpec) -> tuple[NodeSpec, NearMiss, str]:
        entry = self._inputs.get(id(spec))
        if entry is None or entry[0] is not spec:
            visible = [name for name, input_spec in spec.inputs.items() if not input_spec.hidden]
            entry = (spec, NearMiss(visible, n=1), ", ".join(f"`{name}`" for name in visible))
            self._inputs[id(spec)] = entry
        return entry


def _stamp(catalog: NodeCatalog) -> tuple[int, int]:
    return len(catalog), len(catalog.sources)


# Catalogues are mappings, so not hashable: their indexes are kept by identity, and dropped
# when the catalogue is freed.
_INDEXES: dict[int, tuple[weakref.ref[NodeCatalog], CatalogNames]] = {}


def near_miss_index(catalog: NodeCatalog) -> CatalogNames:
    """The near-miss index of `catalog`, built on first use and rebuilt if classes were added since."""
    key = id(catalog)
    entry = _INDEXES.get(key)
    if entry is not None and entry[0]() is catalog and entry[1].stamp == _stamp(catalog):
        return entry[1]
    index = CatalogNames(catalog)
    if entry is None or entry[0]() is not catalog:
        weakref.finalize(catalog, _INDEXES.pop, key, None)
    _INDEXES[key] = (weakref.ref(catalog), index)
    return index
