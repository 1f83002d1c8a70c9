"""Which widgets the editor builds for a node class, in which order: the key to `widgets_values`.

`widgets_values` is a positional dump of a node's widget list, and the editor rebuilds that list
from the class definition when it loads a file. This module rebuilds it the same way: the inputs
in definition order, the widget types only, `forceInput` inputs left out, the values the editor
adds itself (`control_after_generate`, `control_filter_list`, the `upload` button) in their places,
and the sub-widgets of a dynamic combo (dotted names) right after it, for the option it holds.
Two widget kinds need more than the definition: a widget the current editor sends but does not
save (`IMAGECOMPARE`, kind `unsaved`), and the option widgets the editor grows on `CustomCombo`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

from ..catalog.nodes import InputSpec, NodeSpec, parse_input

#: Input types the editor draws as widgets (the first part of a comma-joined multi-type counts).
WIDGET_TYPES = frozenset({
    "INT", "FLOAT", "STRING", "BOOLEAN", "COMBO", "COLOR", "COLORS", "CURVE", "BOUNDING_BOX",
    "BOUNDING_BOXES", "RANGE", "VIDEO_EDIT", "IMAGECOMPARE", "WEBCAM", "AUDIO_RECORD", "MARKDOWN",
    "IMAGEUPLOAD", "RESOLUTION_PREVIEW", "COMFY_DYNAMICCOMBO_V3", "LOAD_3D", "LOAD_3D_ANIMATION",
})
DYNAMIC_COMBO = "COMFY_DYNAMICCOMBO_V3"
#: Widget names that only the editor uses; they never reach the prompt.
UI_ONLY_NAMES = frozenset({"control_after_generate", "control_filter_list", "upload"})
#: Widgets that core frontend extensions add to some classes, stored in `widgets_values` but never
#: sent: class -> {widget after which they sit (None: at the end): how many}.
FRONTEND_EXTRAS: Mapping[str, Mapping[str | None, int]] = {
    "PreviewAny": {None: 3},            # the preview text widgets
    "SaveGLB": {None: 1},               # the 3D preview
    "Preview3D": {None: 1},
    "Preview3DAnimation": {None: 1},
    "GetImageSize": {None: 1},          # the size read-out
    "LoadAudio": {None: 1},             # the audio player
    "Load3D": {"model_file": 3},        # upload model, upload extra resources, clear
    "Load3DAnimation": {"model_file": 3},
}
#: Widget types the current editor sends in the prompt but leaves out of `widgets_values`
#: (`widget.serialize = false`, `options.serialize` kept), with the value such a widget holds when a
#: file is loaded. Editors before that change saved them, so a stored value is read when present.
UNSAVED_WIDGETS: Mapping[str, Any] = {
    "IMAGECOMPARE": ("", ""),  # (a list in the prompt) the before/after preview pair; empty until the node runs
}
#: `CustomCombo`: the editor adds an `index` widget (the chosen option's position) after `choice`,
#: then one text widget per option the user wrote (`option1`, `option2`, ...), and one empty
#: `optionN` at the end to type the next one; all of them are saved and sent.
CUSTOM_COMBO = "CustomCombo"
#: Upload flags for which the editor adds an `upload` button widget after the declared inputs.
UPLOAD_BUTTON_KINDS = frozenset({"image", "video", "audio"})
#: Names that get a control value after them even without `control_after_generate` in the spec.
SEED_NAMES = frozenset({"seed", "noise_seed"})


@dataclass(frozen=True, slots=True)
class Widget:
    """One widget of a node: `kind` is `value` (reaches the prompt), `unsaved` (reaches the prompt
    but the current editor does not save it; `default` is its value after loading), or one that does
    not reach the prompt: `control`, `filter`, `upload`, `ui` (added by a frontend extension),
    `forced` (a pre-1.16 forceInput dummy)."""

    name: str
    kind: str = "value"
    spec: InputSpec | None = None
    default: Any = None

    @property
    def in_prompt(self) -> bool:
        return self.kind in ("value", "unsaved")

    @property
    def saved(self) -> bool:
        """Whether the current editor stores this widget in `widgets_values`."""
        return self.kind != "unsaved"


def is_widget(spec: InputSpec, *, legacy: bool = False) -> bool:
    """Whether the editor makes a widget of this input (`legacy`: count `forceInput` ones too)."""
    if spec.hidden:
        return False
    if spec.force_input and not legacy:
        return False
    if spec.is_combo:
        return True
    return spec.type.split(",")[0].strip() in WIDGET_TYPES


def _extras(spec: InputSpec, name: str) -> list[Widget]:
    control = spec.config.get("control_after_generate")
    if spec.type == "INT" and (control or spec.name in SEED_NAMES):
        return [Widget(name + "#control", "control")]
    if spec.type == "FLOAT" and control:
        return [Widget(name + "#control", "control")]
    if spec.is_combo and control:
        return [Widget(name + "#control", "control"), Widget(name + "#filter", "filter")]
    return []


def option_inputs(spec: InputSpec, key: Any) -> list[InputSpec]:
    """The sub-inputs of a dynamic combo for the option `key` (none if no option has that key)."""
    for option in spec.config.get("options") or ():
        if isinstance(option, Mapping) and option.get("key") == key:
            sections = option.get("inputs") or {}
            out = []
            for section in ("required", "optional"):
                for sub, raw in (sections.get(section) or {}).items() if isinstance(sections, Mapping) else ():
                    try:
                        out.append(parse_input(sub, raw, section))
                    except Exception:  # an unreadable sub-input is no widget
                        continue
            return out
    return []


def widget_plan(spec: NodeSpec, value_at: Callable[[int, Widget], Any], *, legacy: bool = False,
                saved_only: bool = False) -> list[Widget]:
    """The widget list of a node of class `spec`.

    `value_at(index, widget)` gives the value the node holds for the widget at `index` (used to
    pick the option of a dynamic combo, whose sub-widgets follow it, and to count the options of a
    `CustomCombo`). `saved_only` leaves out the widgets the current editor does not save, so that
    indexes are positions in its `widgets_values`.
    """
    out: list[Widget] = []
    extras = FRONTEND_EXTRAS.get(spec.name, {})
    _add(spec.inputs.values(), "", value_at, out, legacy, extras, saved_only)
    if spec.name == CUSTOM_COMBO and any(w.name == "choice" for w in out):
        out.append(Widget("index"))
        number = 1
        while value_at(len(out), candidate := Widget(f"option{number}")) is not None:
            out.append(candidate)
            number += 1
    if any(s.upload in UPLOAD_BUTTON_KINDS and s.required for s in spec.inputs.values()) and "upload" not in spec.inputs:
        out.append(Widget("upload", "upload"))
    out.extend(Widget(f"#ui{i}", "ui") for i in range(extras.get(None, 0)))
    return out


def _add(inputs: Iterable[InputSpec], prefix: str, value_at, out: list[Widget], legacy: bool,
         extras: Mapping[str | None, int] = {}, saved_only: bool = False) -> None:
    for spec in inputs:
        if not is_widget(spec, legacy=legacy):
            continue
        name = prefix + spec.name
        kind = "forced" if spec.force_input else "value"
        default = None
        if kind == "value" and spec.type in UNSAVED_WIDGETS:
            kind, default = "unsaved", UNSAVED_WIDGETS[spec.type]
        widget = Widget(name, kind, spec, default)
        if saved_only and not widget.saved:
            continue
        out.append(widget)
        if spec.type == DYNAMIC_COMBO:
            chosen = value_at(len(out) - 1, widget)
            if chosen is None:
                chosen = spec.default
            _add(option_inputs(spec, chosen), name + ".", value_at, out, legacy, saved_only=saved_only)
        out.extend(_extras(spec, name))
        out.extend(Widget(f"{name}#ui{i}", "ui") for i in range(extras.get(name, 0)))
