"""Recipe-level rules: problems found while parsing and lowering a `.comfy` file.

Codes: `CD01x` syntax, `CD11x` names and references, `CD12x` warnings, `CD13x` recipe
parameters, `CD14x` expressions. Once a recipe is lowered to a graph, the workflow rules
(`CD1xx`-`CD6xx`) run on it too, located at recipe spans. The rules are listed in `rules.codes`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ..diagnostics import Diagnostic, Rule, Severity, Span


class RecipeRule(Rule):
    """A rule reported while reading a `.comfy` recipe; every finding carries a span.

    The rule class lives here; the code that finds the problem is in `comfydsl.dsl`
    (parsing and lowering walk the recipe's syntax tree), which reports through `at`.
    """

    lenient_when_unused: ClassVar[bool] = False

    def at(self, span: Span | None, message: str, **kwargs: Any) -> Diagnostic:
        """A diagnostic of this rule at a recipe span."""
        return self.report(message, span=span, **kwargs)


class InvalidSyntax(RecipeRule):
    """The recipe is not valid syntax.

    **Why is this bad?** Nothing can be compiled until the file parses.

    **Example:** `ckpt = CheckpointLoaderSimple(ckpt_name="x.safetensors"` (no closing `)`),
    or two statements on one line.

    **Use instead:** what the message says is expected at that point; one statement per line.
    """

    code = "CD010"
    name = "syntax-error"


class InvalidDecorator(RecipeRule):
    """A decorator is unknown, has the wrong arguments, sits on a statement that is not a
    node call, or pins a node id twice.

    Only `@id("9")` (pins the node id) and `@title("text")` (sets `_meta.title`) exist.

    **Why is this bad?** Two nodes with one id would overwrite each other in the workflow.

    **Example:** `@id(3)` on two statements; `@colour("red")`; `@id("1")` on a fragment call.

    **Use instead:** one `@id` per id, only `@id` and `@title`, and only on node calls.
    """

    code = "CD011"
    name = "invalid-decorator"


class UndefinedName(RecipeRule):
    """A name is used that no parameter, variable, fragment or import defines.

    **Why is this bad?** The value of the input is unknown, so the workflow cannot be built.

    **Example:** `pos = CLIPTextEncode(text=promt, clip=ckpt.CLIP)`.

    **Use instead:** the defined name; the help names close matches.
    """

    code = "CD110"
    name = "undefined-name"


class RedefinedName(RecipeRule):
    """A name is defined twice: two assignments, a variable with a parameter's or a
    fragment's name, two fragments of one name, a fragment clashing with an imported one.

    **Why is this bad?** Every use of the name would be ambiguous; variables are assigned
    once so that a recipe reads top to bottom as a graph.

    **Example:** `img = VAEDecode(...)` and later `img = ImageScale(image=img, ...)`.

    **Use instead:** a new name for the new value (`scaled = ImageScale(image=img, ...)`).
    """

    code = "CD111"
    name = "redefined-name"


class NameUsedBeforeDefinition(RecipeRule):
    """A parameter or variable is used above the statement that defines it.

    Fragments may be used anywhere in their file; parameters and variables only below
    their definition, so that node ids follow the order of the file.

    **Why is this bad?** The value does not exist yet at that point of the recipe.

    **Example:** `pos = CLIPTextEncode(clip=ckpt.CLIP, text="x")` above `ckpt = ...`.

    **Use instead:** move the definition up.
    """

    code = "CD112"
    name = "name-used-before-definition"


class UnknownOutput(RecipeRule):
    """An output is picked by a name or index that the node class does not have.

    **Why is this bad?** ComfyUI would reject the link (or feed the wrong output).

    **Example:** `ckpt.MODLE` or `ckpt[3]` on `CheckpointLoaderSimple` (outputs MODEL, CLIP, VAE).

    **Use instead:** one of the outputs the help lists.
    """

    code = "CD113"
    name = "unknown-output"
    comfy_error = "bad_linked_input"


class AmbiguousOutput(RecipeRule):
    """A node with several outputs is used as a value without picking one.

    **Why is this bad?** It is unclear which output is meant; guessing would wire the
    graph wrongly.

    **Example:** `model=ckpt` where `ckpt` is a `CheckpointLoaderSimple`.

    **Use instead:** `ckpt.MODEL` or `ckpt[0]`.
    """

    code = "CD114"
    name = "ambiguous-output"


class WrongFragmentArguments(RecipeRule):
    """A fragment is called with too many, too few, unknown, duplicated or mistyped
    arguments, or its results are unpacked into the wrong number of names.

    **Why is this bad?** The fragment's body cannot be expanded with those values.

    **Example:** `lora(ckpt.MODEL)` when `lora(model, clip, name: str)` also needs `clip`
    and `name`; `a = two_results(...)`.

    **Use instead:** the fragment's parameters, as the help's signature shows.
    """

    code = "CD115"
    name = "wrong-fragment-arguments"


class BadImport(RecipeRule):
    """An import names a file that does not exist or cannot be read, a name that the file
    does not define as a fragment, or a file that holds more than fragments and imports.

    **Why is this bad?** The imported fragments cannot be found, and parameters or nodes in
    an imported file would silently be left out.

    **Example:** `from "parts/lora.comfy" import lroa`.

    **Use instead:** a `.comfy` file below the recipe's folder, and the names of its fragments.
    """

    code = "CD116"
    name = "bad-import"


class PathOutsideTree(RecipeRule):
    """An import or an attachment (`file(...)`) points outside the folder of the recipe
    being compiled: an absolute path, `..` climbing above it, or a symlink leading out.

    **Why is this bad?** A recipe should not read files it does not ship with; CI and the
    worker see only the recipe's tree.

    **Example:** `import "../../shared/parts.comfy"`, `file("/home/me/face.jpg")`.

    **Use instead:** copy the file below the recipe's folder.
    """

    code = "CD117"
    name = "path-outside-tree"


class ImportCycle(RecipeRule):
    """Recipe files import each other in a circle.

    **Why is this bad?** The files' fragments would depend on themselves.

    **Example:** `a.comfy` imports `b.comfy`, which imports `a.comfy`.

    **Use instead:** move the shared fragments into a third file both import.
    """

    code = "CD118"
    name = "import-cycle"


class AttachmentNotFound(RecipeRule):
    """A `file("...")` attachment names a file that does not exist or cannot be read.

    **Why is this bad?** The file is uploaded with the job; without it ComfyUI fails with
    "Invalid image file".

    **Example:** `LoadImage(image=file("faces/mee.jpg"))`.

    **Use instead:** a path relative to the recipe file that holds the call.
    """

    code = "CD119"
    name = "attachment-not-found"
    comfy_error = "custom_validation_failed"


class UnusedParameter(RecipeRule):
    """A recipe or fragment parameter is never used.

    **Why is this bad?** `--set` on it changes nothing, which usually means a typo or a
    forgotten wire.

    **Example:** `param steps: int = 20` and a sampler with `steps=30`.

    **Use instead:** use it, remove it, or start its name with `_`.
    """

    code = "CD120"
    name = "unused-parameter"
    severity = Severity.WARNING


class UnusedVariable(RecipeRule):
    """A variable is assigned but never used (output nodes and `_` names are exempt).

    **Why is this bad?** The node it holds feeds nothing, so ComfyUI never runs it.

    **Example:** `neg = CLIPTextEncode(...)` and a sampler with `negative=pos`.

    **Use instead:** use it, remove it, or start its name with `_`.
    """

    code = "CD121"
    name = "unused-variable"
    severity = Severity.WARNING


class RequestBodyTooLarge(RecipeRule):
    """The RunPod request body, attachments base64-encoded, nears or passes the hosted
    API's size limits: over 10 MB (`/run`) it is a warning, over the limit (20 MB,
    `/runsync`, unless set otherwise) an error.

    **Why is this bad?** RunPod refuses bodies over its limits.

    **Example:** `LoadImage(image=file("scan.tiff"))` with a 16 MB file.

    **Use instead:** smaller (or fewer) attachments, e.g. JPEG instead of PNG or TIFF.
    """

    code = "CD122"
    name = "request-body-too-large"
    severity = Severity.WARNING


class UnknownParameter(RecipeRule):
    """A value is given (`--set name=...`, or a keyword of `compile`) for a parameter the
    recipe does not declare.

    **Why is this bad?** The value would be ignored; usually the name is misspelt.

    **Example:** `--set sede=7` for `param seed: int`.

    **Use instead:** one of the parameters `comfydsl params` lists.
    """

    code = "CD130"
    name = "unknown-parameter"


class MissingRequiredParameter(RecipeRule):
    """A parameter without a default is not given a value.

    **Why is this bad?** The inputs it feeds have no value.

    **Example:** `param face: str` compiled without `--set face=...`.

    **Use instead:** `--set name=value`, or give the parameter a default.
    """

    code = "CD131"
    name = "missing-required-parameter"


class InvalidParameterValue(RecipeRule):
    """A parameter's value (from `--set`, `compile` or its default) does not fit its type.

    `int` takes whole numbers, `float` numbers, `bool` `true` or `false`, `str` anything.

    **Why is this bad?** Nodes would receive values of the wrong type.

    **Example:** `--set steps=many`; `param strength: float = "high"`.

    **Use instead:** a value of the declared type.
    """

    code = "CD132"
    name = "invalid-parameter-value"


class InvalidExpression(RecipeRule):
    """An expression cannot be evaluated at compile time: arithmetic on node outputs or on
    mismatched types, division by zero, calling a variable, using a fragment without
    calling it, picking an output of something that is not a node, links inside lists,
    or positional arguments to a node class.

    **Why is this bad?** The recipe has no meaning at that point; ComfyUI workflows hold
    only literal values and links.

    **Example:** `steps = sampler.LATENT * 2`; `"seed " + 3`; `ImageInvert(img)`.

    **Use instead:** arithmetic on literals and parameters only; keyword arguments for nodes.
    """

    code = "CD140"
    name = "invalid-expression"


class RecursiveFragment(RecipeRule):
    """A fragment calls itself, directly or through other fragments.

    **Why is this bad?** Expansion would never end.

    **Example:** `fragment up(x) { return up(ImageInvert(image=x)) }`.

    **Use instead:** call the fragment several times from the recipe, or chain fragments.
    """

    code = "CD141"
    name = "recursive-fragment"


# What the recipe front end (`comfydsl.dsl`) reports through, e.g. `R.UNDEFINED_NAME.at(span, ...)`.
# Registering is `rules.codes`' job alone.
SYNTAX_ERROR = InvalidSyntax()
INVALID_DECORATOR = InvalidDecorator()
UNDEFINED_NAME = UndefinedName()
REDEFINED_NAME = RedefinedName()
USED_BEFORE_DEFINITION = NameUsedBeforeDefinition()
UNKNOWN_OUTPUT = UnknownOutput()
AMBIGUOUS_OUTPUT = AmbiguousOutput()
WRONG_FRAGMENT_ARGUMENTS = WrongFragmentArguments()
BAD_IMPORT = BadImport()
PATH_OUTSIDE_TREE = PathOutsideTree()
IMPORT_CYCLE = ImportCycle()
ATTACHMENT_NOT_FOUND = AttachmentNotFound()
UNUSED_PARAMETER = UnusedParameter()
UNUSED_VARIABLE = UnusedVariable()
REQUEST_BODY_TOO_LARGE = RequestBodyTooLarge()
UNKNOWN_PARAMETER = UnknownParameter()
MISSING_REQUIRED_PARAMETER = MissingRequiredParameter()
INVALID_PARAMETER_VALUE = InvalidParameterValue()
INVALID_EXPRESSION = InvalidExpression()
RECURSIVE_FRAGMENT = RecursiveFragment()

