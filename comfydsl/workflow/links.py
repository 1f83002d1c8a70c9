"""Links and node ids: what a link is in an API workflow, and the order node ids sort in."""

from __future__ import annotations

from typing import Any, Iterable, Iterator, Mapping, TypeGuard

#: The keys of a node object in API JSON, in the order ComfyUI's server writes them
#: (its editor's "Export (API)" writes `inputs` first).
NODE_KEYS = ("class_type", "inputs", "_meta")


def is_link(value: Any) -> TypeGuard[list[Any]]:
    """Whether an input value is a well-formed link `["<node id>", <output index>]`.

    ComfyUI reads every list in `inputs` as a link; only a two-element list of a string
    node id and an integer (not a boolean) output index is a well-formed one. Whether the
    index is in range, or the node exists, is for the checks to say.
    """
    return type(value) is list and len(value) == 2 and isinstance(value[0], str) and type(value[1]) is int


def iter_links(inputs: Mapping[str, Any]) -> Iterator[tuple[str, str, int]]:
    """`(input name, source node id, output index)` for every well-formed link in `inputs`."""
    for name, value in inputs.items():
        if is_link(value):
            yield name, value[0], value[1]


def node_id_key(node_id: str) -> tuple[int, int, str]:
    """Sort key for node ids: decimal ids in numeric order first, then the others by text."""
    return (0, int(node_id), "") if node_id.isdigit() else (1, 0, node_id)


def sorted_ids(node_ids: Iterable[str]) -> list[str]:
    """Node ids in the order workflows are written: `2` before `10`, numbers before names."""
    return sorted(node_ids, key=node_id_key)
