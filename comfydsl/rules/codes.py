"""Every rule code, in one table: code, name, family and the class that implements it.

This table is the registry: a rule exists for `comfydsl lint`, `comfydsl rules`, SARIF and
`--select`/`--ignore` when, and only when, it has a row here. Codes are `CD` and three
digits; the hundreds digit is the family (`FAMILIES`). Retired codes stay retired: never
reuse a code that has been released.

The workflow checks (`CheckRule`) run in table order over every workflow; the reading
rules are reported by `comfydsl.workflow.document`, the recipe rules by `comfydsl.dsl`
and the worker rule by `comfydsl.backends.worker_errors`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import lru_cache

from ..diagnostics import Rule
from ..workflow import document as reading
from . import classes, inputs, links, models, recipe, references, structure, syntax, ui, values, worker
from .base import CheckRule


class Family(str, enum.Enum):
    """What a rule is about; the hundreds digit of its code."""

    SYNTAX = "syntax"
    REFERENCES = "references"
    INPUTS = "inputs"
    LINKS = "links"
    VALUES = "values"
    MODELS = "models"
    STRUCTURE = "structure"
    WORKER = "worker"


#: the family of each hundreds digit
FAMILIES: dict[int, Family] = {
    0: Family.SYNTAX, 1: Family.REFERENCES, 2: Family.INPUTS, 3: Family.LINKS, 4: Family.VALUES,
    5: Family.MODELS, 6: Family.STRUCTURE, 9: Family.WORKER,
}


@dataclass(frozen=True)
class RuleCode:
    """One row of the table."""

    code: str
    name: str
    family: Family
    rule: type[Rule]


_S, _R, _I, _L, _V, _M, _T, _W = (Family.SYNTAX, Family.REFERENCES, Family.INPUTS, Family.LINKS, Family.VALUES,
                                  Family.MODELS, Family.STRUCTURE, Family.WORKER)

CODES: tuple[RuleCode, ...] = (
    # reading a document (comfydsl.workflow.document)
    RuleCode("CD001", "invalid-json", _S, reading.InvalidJson),
    RuleCode("CD002", "not-a-workflow", _S, reading.NotAWorkflow),
    RuleCode("CD003", "ui-format-workflow", _S, reading.UiFormatWorkflow),
    RuleCode("CD004", "duplicate-node-id", _S, reading.DuplicateNodeId),
    # the shape of nodes, inputs and links
    RuleCode("CD005", "malformed-node", _S, syntax.MalformedNode),
    RuleCode("CD006", "malformed-inputs", _S, syntax.MalformedInputs),
    RuleCode("CD007", "malformed-link", _S, syntax.MalformedLink),
    RuleCode("CD008", "empty-node-id", _S, syntax.EmptyNodeId),
    # recipe syntax
    RuleCode("CD010", "syntax-error", _S, recipe.InvalidSyntax),
    RuleCode("CD011", "invalid-decorator", _S, recipe.InvalidDecorator),
    # converting a UI-format workflow (comfydsl.ui)
    RuleCode("CD020", "ui-unknown-class", _S, ui.UiUnknownClass),
    RuleCode("CD021", "ui-widget-count-mismatch", _S, ui.UiWidgetCountMismatch),
    RuleCode("CD022", "ui-malformed-workflow", _S, ui.UiMalformedWorkflow),
    RuleCode("CD023", "ui-missing-link", _S, ui.UiMissingLink),
    RuleCode("CD024", "ui-link-loop", _S, ui.UiLinkLoop),
    RuleCode("CD025", "ui-virtual-node-unsupported", _S, ui.UiVirtualNodeUnsupported),
    RuleCode("CD026", "ui-not-representable", _S, ui.UiNotRepresentable),
    # references in a workflow
    RuleCode("CD101", "unknown-class-type", _R, references.UnknownClassType),
    RuleCode("CD102", "missing-class-type", _R, references.MissingClassType),
    RuleCode("CD103", "dangling-link", _R, references.DanglingLink),
    RuleCode("CD104", "output-index-out-of-range", _R, references.OutputIndexOutOfRange),
    RuleCode("CD105", "negative-output-index", _R, references.NegativeOutputIndex),
    RuleCode("CD106", "deprecated-node", _R, classes.DeprecatedNode),
    RuleCode("CD107", "experimental-node", _R, classes.ExperimentalNode),
    RuleCode("CD108", "api-node", _R, classes.ApiNode),
    # names, imports, parameters and expressions in a recipe
    RuleCode("CD110", "undefined-name", _R, recipe.UndefinedName),
    RuleCode("CD111", "redefined-name", _R, recipe.RedefinedName),
    RuleCode("CD112", "name-used-before-definition", _R, recipe.NameUsedBeforeDefinition),
    RuleCode("CD113", "unknown-output", _R, recipe.UnknownOutput),
    RuleCode("CD114", "ambiguous-output", _R, recipe.AmbiguousOutput),
    RuleCode("CD115", "wrong-fragment-arguments", _R, recipe.WrongFragmentArguments),
    RuleCode("CD116", "bad-import", _R, recipe.BadImport),
    RuleCode("CD117", "path-outside-tree", _R, recipe.PathOutsideTree),
    RuleCode("CD118", "import-cycle", _R, recipe.ImportCycle),
    RuleCode("CD119", "attachment-not-found", _R, recipe.AttachmentNotFound),
    RuleCode("CD120", "unused-parameter", _R, recipe.UnusedParameter),
    RuleCode("CD121", "unused-variable", _R, recipe.UnusedVariable),
    RuleCode("CD122", "request-body-too-large", _R, recipe.RequestBodyTooLarge),
    RuleCode("CD130", "unknown-parameter", _R, recipe.UnknownParameter),
    RuleCode("CD131", "missing-required-parameter", _R, recipe.MissingRequiredParameter),
    RuleCode("CD132", "invalid-parameter-value", _R, recipe.InvalidParameterValue),
    RuleCode("CD140", "invalid-expression", _R, recipe.InvalidExpression),
    RuleCode("CD141", "recursive-fragment", _R, recipe.RecursiveFragment),
    # inputs
    RuleCode("CD201", "missing-required-input", _I, inputs.MissingRequiredInput),
    RuleCode("CD202", "unknown-input", _I, inputs.UnknownInput),
    RuleCode("CD203", "literal-for-link-input", _I, inputs.LiteralForLinkInput),
    RuleCode("CD204", "invalid-dynamic-input", _I, inputs.InvalidDynamicInput),
    # link types
    RuleCode("CD301", "link-type-mismatch", _L, links.LinkTypeMismatch),
    RuleCode("CD302", "match-type-mismatch", _L, links.MatchTypeMismatch),
    # values
    RuleCode("CD401", "invalid-value-type", _V, values.InvalidValueType),
    RuleCode("CD402", "coerced-value", _V, values.CoercedValue),
    RuleCode("CD403", "value-below-min", _V, values.ValueBelowMin),
    RuleCode("CD404", "value-above-max", _V, values.ValueAboveMax),
    RuleCode("CD405", "value-not-in-options", _V, values.ValueNotInOptions),
    # model and input files
    RuleCode("CD501", "model-file-not-found", _M, models.ModelFileNotFound),
    RuleCode("CD502", "input-file-not-uploaded", _M, models.InputFileNotUploaded),
    RuleCode("CD503", "model-in-unread-folder", _M, models.ModelInUnreadFolder),
    # the graph as a whole
    RuleCode("CD601", "dependency-cycle", _T, structure.DependencyCycle),
    RuleCode("CD602", "no-output-node", _T, structure.NoOutputNode),
    RuleCode("CD603", "unused-node", _T, structure.UnusedNode),
    # what a worker answered
    RuleCode("CD901", "worker-rejected-workflow", _W, worker.WorkerRejectedWorkflow),
)


@lru_cache(maxsize=None)
def _instances() -> tuple[Rule, ...]:
    return tuple(row.rule() for row in CODES)


def all_rules() -> list[Rule]:
    """One instance of every rule, in code order."""
    return list(_instances())


@lru_cache(maxsize=None)
def workflow_rules() -> tuple[CheckRule, ...]:
    """The rules that check a workflow graph (what `checks.run_checks` runs), in code order."""
    return tuple(rule for rule in _instances() if isinstance(rule, CheckRule))


def by_code() -> dict[str, Rule]:
    """Every rule instance keyed by its code."""
    return {rule.code: rule for rule in _instances()}
