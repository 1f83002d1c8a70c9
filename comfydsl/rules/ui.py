"""The rules of UI-format conversion: what keeps a UI workflow from becoming an API prompt.

Each rule says what it finds, why it
matters and what to do instead, like every other rule (`comfydsl rules CD020`).
"""

from __future__ import annotations

from ..diagnostics import Rule, Severity


class UiUnknownClass(Rule):
    """A UI node's class is not in the node catalogue, and it stores widget values by position.

    A UI file keeps a node's widget values as a bare list (`widgets_values`), in the order in
    which the editor built the node's widgets from the class definition. Without the definition
    nobody can tell which value belongs to which input.

    **Why is this bad?** Converting anyway would mean guessing input names; ComfyUI would get a
    prompt with wrong or missing inputs.

    **Example:** a `KSampler (Efficient)` node from a custom pack, linted with the built-in catalogue.

    **Use instead:** give the catalogue of the server that has the pack (`--catalog URL|FILE`).
    """

    code = "CD020"
    name = "ui-unknown-class"
    lenient_when_unused = False


class UiWidgetCountMismatch(Rule):
    """A UI node stores a different number of widget values than its class definition has widgets.

    The editor rebuilds a node's widgets from the class definition (plus the values it adds itself:
    `control_after_generate` after a seed, the `upload` button of image loaders) and assigns the
    stored values to them in order. When the counts differ, the class changed since the file was
    saved, or the catalogue is not the one the file was made with.

    **Why is this bad?** Values would land on the wrong inputs: a seed becomes a step count.

    **Example:** `"widgets_values": [42, "fixed", 20]` on a `KSampler`, which has 7 widgets and one
    control value.

    **Use instead:** convert with the catalogue of the ComfyUI version that saved the file, or open
    and save the file again in the current editor.
    """

    code = "CD021"
    name = "ui-widget-count-mismatch"
    lenient_when_unused = False


class UiMalformedWorkflow(Rule):
    """A UI-format file breaks the structure the editor writes.

    A node without an id or a type, `nodes` or `links` that are not lists, a link that is not a
    six-element array or a link object, a subgraph instance or definition that cannot be read.

    **Why is this bad?** The editor refuses to load it, so there is no prompt it would send.

    **Example:** `"links": [[1, 4, 0, 3]]` (a link with four elements).

    **Use instead:** the file as the editor saved it.
    """

    code = "CD022"
    name = "ui-malformed-workflow"
    lenient_when_unused = False


class UiMissingLink(Rule):
    """A node input refers to a link id that the file's `links` do not hold.

    **Why is this bad?** The editor drops such an input on load; the input is left out of the
    prompt, which fails validation if it is required.

    **Example:** `{"name": "model", "type": "MODEL", "link": 17}` with no link 17 in `links`.

    **Use instead:** reconnect the input in the editor and save again.
    """

    code = "CD023"
    name = "ui-missing-link"
    severity = Severity.WARNING


class UiLinkLoop(Rule):
    """Links through reroutes, bypassed nodes or subgraph boundaries lead back to where they started.

    **Why is this bad?** The editor throws a recursion error when it builds the prompt.

    **Example:** two Reroute nodes feeding each other.

    **Use instead:** break the loop in the editor.
    """

    code = "CD024"
    name = "ui-link-loop"
    lenient_when_unused = False


class UiVirtualNodeUnsupported(Rule):
    """A node from a custom pack that only rewires links in the browser (GetNode/SetNode, relays).

    Such nodes exist only in the editor: their JavaScript decides at queue time where the link
    really comes from. A converter outside the browser cannot run that code.

    **Why is this bad?** Inputs fed through such a node are left out of the converted prompt.

    **Example:** KJNodes `SetNode` and `GetNode`, rgthree `Context` relays, "Anything Everywhere".

    **Use instead:** wire the inputs directly, or convert in the editor with "Export (API)".
    """

    code = "CD025"
    name = "ui-virtual-node-unsupported"
    severity = Severity.WARNING


class UiNotRepresentable(Rule):
    """An API input cannot be written into a UI-format file (the other way: API to UI).

    A UI file stores literal values only for the widgets its class definition declares, in their
    order; a literal on an input that is no widget (an undeclared key, a `forceInput` input) has
    no place in it, and a class the catalogue lacks has no widget order.

    **Why is this bad?** The value would be lost when the file is opened and queued in the editor.

    **Example:** `"inputs": {"seed": 1, "my_note": "x"}` where `my_note` is not an input of the class.

    **Use instead:** drop the input, or link it from a node that outputs the value.
    """

    code = "CD026"
    name = "ui-not-representable"
    severity = Severity.WARNING


UI_RULES = (UiUnknownClass(), UiWidgetCountMismatch(), UiMalformedWorkflow(), UiMissingLink(), UiLinkLoop(),
            UiVirtualNodeUnsupported(), UiNotRepresentable())
