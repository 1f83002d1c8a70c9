"""The node catalogue: what node classes exist, their inputs and their outputs.

A catalogue is read from ComfyUI's `GET /object_info` answer (a file or a live server) or
from the compact built-in copy shipped in the package. Node specs are built lazily, on
first use of a class, so loading the catalogue costs little more than reading JSON.

A pickled catalogue (what `catalog.cache` keeps on disk) stores each class entry as its own
`marshal` blob, decoded on first use of the class: a new process that loads a 2 MB catalogue
from the cache decodes the few classes a workflow names, not all of them.
"""

from __future__ import annotations

import json
import marshal
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Mapping

from ..errors import CatalogError

#: The top-level entry comfydsl reserves in a catalogue file for facts about the catalogue itself
#: (`{"comfyui_version": "0.19.0", "source": "http://host:8188", ...}`); it is not a node class.
META_KEY = "__comfydsl__"
#: Literal value types ComfyUI converts before checking; every other type is a link type.
PRIMITIVE_TYPES = frozenset({"INT", "FLOAT", "STRING", "BOOLEAN"})
#: Keys of an input's config that say it takes an uploaded file from ComfyUI's input folder.
UPLOAD_KEYS = {"image_upload": "image", "video_upload": "video", "audio_upload": "audio",
               "file_upload": "file"}
#: V3 input types whose keys in a prompt depend on the node's values (see `catalog.dynamic`).
DYNAMIC_COMBO = "COMFY_DYNAMICCOMBO_V3"
AUTOGROW = "COMFY_AUTOGROW_V3"
DYNAMIC_GROUP = "COMFY_DYNAMICGROUP_V3"
DYNAMIC_SLOT = "COMFY_DYNAMICSLOT_V3"
DYNAMIC_TYPES = frozenset({DYNAMIC_COMBO, AUTOGROW, DYNAMIC_GROUP, DYNAMIC_SLOT})
#: A V3 input (or output) whose type is whatever is linked to the inputs of its template.
MATCH_TYPE = "COMFY_MATCHTYPE_V3"
#: Widget types whose value is a literal (a colour, a box, a curve, a webcam still, ...) that ComfyUI
#: passes to the node unchecked; they look like socket types but take no link in practice.
LITERAL_WIDGET_TYPES = frozenset({
    "COLOR", "COLORS", "BOUNDING_BOX", "BOUNDING_BOXES", "CURVE", "RANGE", "VIDEO_EDIT", "RESOLUTION_PREVIEW",
    "IMAGECOMPARE", "WEBCAM", "AUDIO_RECORD", "LOAD_3D", "LOAD_3D_ANIMATION", "PAINTER",
})


@dataclass(frozen=True, slots=True)
class InputSpec:
    """One input of a node class.

    `type` is the socket type (`INT`, `MODEL`, `IMAGE,MASK`, `*`), or `COMBO` for a combo
    input of either form; `combo_form` says which form (`list` for `[["a", "b"], {...}]`,
    `combo` for `["COMBO", {"options": [...]}]`). `options` is `None` when the options are
    not a fixed list (a model file input of the built-in catalogue, whose real list depends
    on the worker: see `model_folder`).
    """

    name: str
    type: str
    section: str = "required"
    options: tuple[Any, ...] | None = None
    combo_form: str | None = None
    model_folder: str | None = None
    upload: str | None = None
    config: Mapping[str, Any] = field(default_factory=dict)

    @property
    def required(self) -> bool:
        return self.section == "required"

    @property
    def hidden(self) -> bool:
        return self.section == "hidden"

    @property
    def is_combo(self) -> bool:
        return self.combo_form is not None

    @property
    def is_primitive(self) -> bool:
        return self.type in PRIMITIVE_TYPES

    @property
    def takes_link_only(self) -> bool:
        """True for socket types that can only be fed by a link (MODEL, IMAGE, ...).

        Not for literal widget types (`COLOR`, `WEBCAM`, `BOUNDING_BOX`, ...), inputs marked
        `socketless` or with a `widgetType`, MatchType inputs (a literal is accepted) and the
        V3 dynamic containers.
        """
        if self.is_primitive or self.is_combo or self.type == "*" or self.is_literal_widget:
            return False
        if "," in self.type and any(t in PRIMITIVE_TYPES for t in iter_types(self.type)):
            return False  # a V3 MultiType led by a widget type (`FLOAT,INT,BOOLEAN`) takes literals
        return self.type != MATCH_TYPE and self.type not in DYNAMIC_TYPES

    @property
    def is_literal_widget(self) -> bool:
        """A widget whose value is a literal ComfyUI does not check (COLOR, CURVE, WEBCAM, ...)."""
        return (self.type in LITERAL_WIDGET_TYPES or bool(self.config.get("socketless"))
                or bool(self.config.get("widgetType")))

    @property
    def multiselect(self) -> bool:
        """A combo whose value is a list of options, written `{"__value__": [...]}`."""
        return bool(self.config.get("multiselect"))

    @property
    def remote(self) -> bool:
        """A combo whose options the browser fetches (`remote` or `remote_combo`): unknown here."""
        return bool(self.config.get("remote") or self.config.get("remote_combo"))

    @property
    def match_template(self) -> tuple[str, str] | None:
        """`(template_id, allowed_types)` of a MatchType input, else None."""
        if self.type != MATCH_TYPE:
            return None
        template = self.config.get("template") or {}
        return str(template.get("template_id") or ""), str(template.get("allowed_types") or "*")

    @property
    def minimum(self) -> float | None:
        return self.config.get("min")

    @property
    def maximum(self) -> float | None:
        return self.config.get("max")

    @property
    def default(self) -> Any:
        return self.config.get("default")

    @property
    def force_input(self) -> bool:
        return bool(self.config.get("forceInput"))


@dataclass(frozen=True, slots=True)
class OutputSpec:
    """One output slot of a node class."""

    index: int
    name: str
    type: str
    is_list: bool = False
    #: the MatchType template whose resolved type this output carries (`output_matchtypes`)
    matchtype: str | None = None


@dataclass(frozen=True, slots=True)
class NodeSpec:
    """A node class: its inputs (in ComfyUI's order), outputs and flags."""

    name: str
    inputs: Mapping[str, InputSpec]
    outputs: tuple[OutputSpec, ...]
    output_node: bool = False
    display_name: str | None = None
    category: str | None = None
    python_module: str | None = None
    deprecated: bool = False
    experimental: bool = False
    api_node: bool = False
    source: str | None = None
    #: whether any input is a V3 dynamic input (DynamicCombo, Autogrow, DynamicGroup, DynamicSlot)
    dynamic: bool = False

    @property
    def required_inputs(self) -> list[InputSpec]:
        return [spec for spec in self.inputs.values() if spec.section == "required"]

    def output(self, key: int | str) -> OutputSpec:
        """An output by index (negative counts from the end) or by name; KeyError if absent."""
        if isinstance(key, int):
            try:
                return self.outputs[key]
            except IndexError:
                raise KeyError(key) from None
        for out in self.outputs:
            if out.name == key:
                return out
        upper = key.upper()
        for out in self.outputs:
            if out.name.upper() == upper:
                return out
        raise KeyError(key)


def parse_input(name: str, raw: Any, section: str, model_folder: str | None = None) -> InputSpec:
    """Read one input entry of object_info (`["INT", {...}]`, `[["a", "b"], {...}]`, `"PROMPT"`)."""
    if section == "hidden" or isinstance(raw, str):
        # V1 hidden inputs are strings ("PROMPT"), V3 ones one-element lists (["PROMPT"])
        kind = raw[0] if isinstance(raw, list) and raw else raw
        return InputSpec(name=name, type=str(kind), section=section)
    if not isinstance(raw, (list, tuple)) or not raw:
        raise CatalogError(f"input `{name}` has an unreadable spec: {raw!r}")
    head = raw[0]
    config = raw[1] if len(raw) > 1 and isinstance(raw[1], dict) else {}
    folder = model_folder or config.get("model_folder")
    upload = next((kind for key, kind in UPLOAD_KEYS.items() if config.get(key)), None)
    if isinstance(head, list):
        options = None if folder or upload else tuple(head)
        return InputSpec(name, "COMBO", section, options, "list", folder, upload, config)
    if head == "COMBO":
        opts = config.get("options")
        remote = config.get("remote") or config.get("remote_combo")
        options = None if folder or upload or remote or opts is None else tuple(opts)
        return InputSpec(name, "COMBO", section, options, "combo", folder, upload, config)
    if isinstance(head, str):
        return InputSpec(name, head, section, None, None, None, None, config)
    raise CatalogError(f"input `{name}` has an unreadable type: {head!r}")


def parse_node(name: str, raw: Mapping[str, Any], source: str | None = None,
               folders: Mapping[str, str] | None = None) -> NodeSpec:
    """Build a NodeSpec from one class entry of object_info.

    `folders` maps `Class.input` to a model folder, for inputs whose options are model files.
    """
    if not isinstance(raw, Mapping):
        raise CatalogError(f"node class `{name}` is not an object")
    sections = raw.get("input") or {}
    order = raw.get("input_order") or {}
    inputs: dict[str, InputSpec] = {}
    for section in ("required", "optional", "hidden"):
        entries = sections.get(section) or {}
        names = list(order.get(section) or []) + [n for n in entries if n not in (order.get(section) or [])]
        for input_name in names:
            if input_name in entries and input_name not in inputs:
                folder = folders.get(f"{name}.{input_name}") if folders else None
                inputs[input_name] = parse_input(input_name, entries[input_name], section, folder)
    types = list(raw.get("output") or [])
    names_out = list(raw.get("output_name") or [])
    is_list = list(raw.get("output_is_list") or [])
    matchtypes = list(raw.get("output_matchtypes") or [])
    outputs = tuple(
        OutputSpec(
            index=i,
            name=str(names_out[i]) if i < len(names_out) and names_out[i] else _type_name(t),
            type=_type_name(t),
            is_list=bool(is_list[i]) if i < len(is_list) else False,
            matchtype=matchtypes[i] if i < len(matchtypes) and isinstance(matchtypes[i], str) else None,
        )
        for i, t in enumerate(types)
    )
    return NodeSpec(
        name=name,
        inputs=inputs,
        outputs=outputs,
        output_node=bool(raw.get("output_node")),
        display_name=raw.get("display_name"),
        category=raw.get("category"),
        python_module=raw.get("python_module"),
        deprecated=bool(raw.get("deprecated")),
        experimental=bool(raw.get("experimental")),
        api_node=bool(raw.get("api_node")),
        source=source,
        dynamic=any(spec.type in DYNAMIC_TYPES for spec in inputs.values()),
    )


def _type_name(t: Any) -> str:
    # An output whose type is a list of strings is a combo output.
    return "COMBO" if isinstance(t, list) else str(t)


class NodeCatalog(Mapping[str, NodeSpec]):
    """A read-only mapping of class name to NodeSpec, built lazily from object_info data.

    Several catalogues merge with `merged()`: later sources win, class by class.
    """

    def __init__(self, raw: Mapping[str, Any] | None = None, *, source: str | None = None,
                 folders: Mapping[str, str] | None = None, trusted: bool = False) -> None:
        #: class name -> (its object_info entry, or that entry packed by `marshal`; source; folders)
        self._raw: dict[str, tuple[Any, str | None, Mapping[str, str] | None]] = {}
        self._specs: dict[str, NodeSpec] = {}
        #: class name -> display name, for the classes whose entry is still packed
        self._display: dict[str, str] = {}
        self.sources: list[str] = []
        #: what each source says about itself (its `__comfydsl__` entry), by source
        self.meta: dict[str, dict[str, Any]] = {}
        if raw is not None:
            self.add(raw, source=source, folders=folders, trusted=trusted)

    def add(self, raw: Mapping[str, Any], *, source: str | None = None,
            folders: Mapping[str, str] | None = None, trusted: bool = False) -> None:
        """Add (or replace) the classes of one object_info document.

        The document is first checked against the `/object_info` schema (`catalog.schema`), so a
        malformed one raises a located `CatalogError`; `trusted` skips that (the built-in catalogue).
        Its `__comfydsl__` entry, if any, is kept in `meta` rather than read as a class.
        """
        if not isinstance(raw, Mapping):
            raise CatalogError(f"{source or 'catalogue'}: expected a JSON object of node classes")
        if not trusted:  # the schema module is imported only for catalogues that need checking
            from .schema import validate_object_info

            validate_object_info(raw, source)
        where = source or "catalogue"
        for name, entry in raw.items():
            if name == META_KEY:
                if isinstance(entry, Mapping):
                    self.meta[source or "catalogue"] = dict(entry)
                continue
            if not isinstance(entry, Mapping):
                raise CatalogError(f"{where}: class `{name}` is not an object")
            if "class_type" in entry or not ("input" in entry or "output" in entry):
                raise CatalogError(
                    f"{where}: entry `{name}` is not a node class of an /object_info answer (no `input` or "
                    "`output`); is this a workflow file rather than a catalogue?")
            self._raw[name] = (entry, source, folders)
            self._specs.pop(name, None)
            self._display.pop(name, None)
        if source:
            self.sources.append(source)

    def merged(self, other: NodeCatalog) -> NodeCatalog:
        """A new catalogue with this one's classes, then `other`'s over them."""
        result = NodeCatalog()
        result._raw = {**self._raw, **other._raw}
        result._specs = {k: v for k, v in self._specs.items() if k not in other._raw}
        result._specs.update(other._specs)
        result._display = {**self._display, **other._display}
        result.sources = self.sources + other.sources
        result.meta = {**self.meta, **other.meta}
        return result

    def __getstate__(self) -> dict[str, Any]:
        # Each entry is packed on its own, so that unpickling costs one bytes object per class
        # rather than the whole object_info tree; lookups unpack what they use (`_entry`).
        raw: dict[str, tuple[Any, str | None, Mapping[str, str] | None]] = {}
        display: dict[str, str] = {}
        for name, (entry, source, folders) in self._raw.items():
            if isinstance(entry, bytes):
                if name in self._display:
                    display[name] = self._display[name]
            else:
                title = entry.get("display_name")
                if isinstance(title, str) and title:
                    display[name] = title
                entry = _pack(entry)
            raw[name] = (entry, source, folders)
        return {"format": _STATE_FORMAT, "raw": raw, "display": display, "sources": self.sources,
                "meta": self.meta}

    def __setstate__(self, state: dict[str, Any]) -> None:
        if not isinstance(state, dict) or state.get("format") != _STATE_FORMAT:
            raise ValueError("a pickled NodeCatalog of another format")
        self._raw = state["raw"]
        self._specs = {}
        self._display = state["display"]
        self.sources = state["sources"]
        self.meta = state["meta"]

    def _entry(self, name: str) -> tuple[Any, str | None, Mapping[str, str] | None]:
        """The `(entry, source, folders)` of a class, its entry unpacked; KeyError if absent."""
        item = self._raw[name]
        if isinstance(item[0], bytes):
            item = self._raw[name] = (marshal.loads(item[0]), item[1], item[2])
        return item

    @property
    def comfyui_version(self) -> str | None:
        """The ComfyUI release of the last source that recorded one (`__comfydsl__.comfyui_version`)."""
        for meta in reversed(list(self.meta.values())):
            version = meta.get("comfyui_version")
            if isinstance(version, str) and version:
                return version
        return None

    def __getitem__(self, name: str) -> NodeSpec:
        spec = self._specs.get(name)
        if spec is None:
            entry, source, folders = self._entry(name)
            spec = self._specs[name] = parse_node(name, entry, source, folders)
        return spec

    def get(self, name: str, default: NodeSpec | None = None) -> NodeSpec | None:  # type: ignore[override]
        """The spec of a class, or `default` when the catalogue has none (Mapping's `get`,
        without its exception for every unknown name: checks look up each class they meet)."""
        spec = self._specs.get(name)
        if spec is not None:
            return spec
        if name not in self._raw:
            return default
        return self[name]

    def __contains__(self, name: object) -> bool:
        return name in self._raw

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)

    def raw(self, name: str) -> Mapping[str, Any]:
        """The object_info entry a class was read from."""
        return self._entry(name)[0]

    def display_names(self) -> dict[str, str]:
        """Display name -> class name, for suggestions."""
        out = {}
        for name, (entry, _, _) in self._raw.items():
            display = self._display.get(name) if isinstance(entry, bytes) else entry.get("display_name")
            if isinstance(display, str) and display:
                out[display] = name
        return out

    @classmethod
    def from_file(cls, path: str, *, folders: Mapping[str, str] | None = None) -> NodeCatalog:
        """Load an object_info JSON file (ComfyUI's answer, or a fragment for custom nodes)."""
        return cls(read_object_info(path), source=path, folders=folders)


#: Raised when what `NodeCatalog.__getstate__` keeps changes.
_STATE_FORMAT = 1


def _pack(entry: Any) -> Any:
    """An object_info entry as `marshal` bytes (JSON data always packs), or as it is when it
    holds something else (a catalogue built in Python may)."""
    if type(entry) is dict:
        try:
            return marshal.dumps(entry)
        except ValueError:
            pass
    return entry


def read_object_info(path: str, *, validate: bool = True) -> Any:
    """The decoded JSON of an object_info file (`.json`, or gzipped `.json.gz`), checked against the
    `/object_info` schema unless `validate` is false; CatalogError, located, when it cannot be read
    or is malformed."""
    from ..workflow.files import read_bytes

    try:
        raw = read_bytes(path)
    except OSError as exc:
        raise CatalogError(f"{path}: cannot read catalogue: {exc.strerror or exc}") from None
    return decode_object_info(raw, path, validate=validate)


def decode_object_info(raw: bytes, path: str, *, validate: bool = True) -> Any:
    """`read_object_info` for the bytes already read from the file at `path`."""
    import gzip
    import zlib

    from .schema import validate_object_info

    try:
        if str(path).endswith(".gz"):
            raw = gzip.decompress(raw)
        data = json.loads(raw.decode("utf-8"))
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise CatalogError(f"{path}: cannot read the gzipped catalogue: {exc}") from None
    except OSError as exc:
        raise CatalogError(f"{path}: cannot read catalogue: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise CatalogError(f"{path}: catalogue is not UTF-8 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise CatalogError(f"{path}:{exc.lineno}:{exc.colno}: catalogue is not valid JSON: {exc.msg}") from None
    if validate:
        validate_object_info(data, str(path))
    return data


def iter_types(type_name: str) -> Iterable[str]:
    """The names of a (possibly comma-separated) socket type."""
    return (part.strip() for part in type_name.split(","))


def types_compatible(output_type: str, input_type: str) -> bool:
    """Whether a link from `output_type` may feed `input_type`, as ComfyUI decides it.

    `*` matches anything; comma-separated types match when they share a name.
    """
    if output_type == input_type or output_type == "*" or input_type == "*":
        return True
    outs = set(iter_types(output_type))
    ins = set(iter_types(input_type))
    return "*" in outs or "*" in ins or bool(outs & ins)
