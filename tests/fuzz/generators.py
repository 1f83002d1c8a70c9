"""Input generators for the fuzzing suite (issue 11).

Each generator is a plain function of a `random.Random`, so that `benchmarks/fuzz.py` can run
them for minutes (a seed names every input) and the test suite can turn them into hypothesis
strategies (`strategy(gen)`: hypothesis draws the seed and shrinks it toward 0).

* `recipe`: a random derivation of the recipe grammar (`grammars/comfy.lark`, read from the
  parser itself), names drawn from the catalogue's classes and a few variables, strings
  with escapes and lone surrogates, comments anywhere a space may go; then, sometimes, a few
  characters mutated.
* `workflow`: a compiled example recipe, its JSON mutated (keys dropped, values retyped,
  links bent, surrogates, huge numbers), sometimes wrapped as a RunPod or /prompt body with
  odd `images`; or the text itself mutated.
* `long`: a workflow text of over a megabyte (read in parts, see `workflow.document`): strings
  that look like the place between two nodes, now and then an id written twice, a node that is
  no object or an object keyed by digits below a node, any blanks; sometimes in an envelope,
  sometimes with a few characters mutated.
* `catalogue`: an object_info fragment of real classes with entries mutated (wrong types for
  `input`, `output`, ranges, unhashable options).
* `api_call`: a short program against the Python graph API (`Graph`, `node`, `out`, `check`),
  with arguments of the wrong types now and then.
"""

from __future__ import annotations

import copy
import functools
import json
import random
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "recipes").glob("*.comfy"))

#: Strings worth trying anywhere a string goes.
NASTY_STRINGS = ["", "a", "x\\ud800y", "\\udc00", "\\u0000", "\\n", "é", "😀", "\\\\", "\\\"", "  ", "%s",
                 "../../etc/passwd", "a" * 300, "sd_xl_base_1.0.safetensors", "euler", "normal"]
NAMES = ["ckpt", "x", "y", "img", "latent", "prompt", "seed", "f", "g", "MODEL", "CLIP", "VAE", "true", "param",
         "fragment", "_"]


@functools.lru_cache(maxsize=1)
def _grammar():
    from comfydsl.dsl.parser import _parser

    parser = _parser()
    rules: dict[str, list[list[tuple[str, bool]]]] = {}
    for rule in parser.rules:
        rules.setdefault(rule.origin.name, []).append([(s.name, s.is_term) for s in rule.expansion])
    literal = {t.name: t.pattern.value for t in parser.terminals if type(t.pattern).__name__ == "PatternStr"}
    return rules, literal


@functools.lru_cache(maxsize=1)
def _classes() -> tuple[str, ...]:
    from comfydsl.catalog import builtin_catalog

    return tuple(sorted(builtin_catalog()))


def _string(rng: random.Random) -> str:
    body = rng.choice(NASTY_STRINGS) if rng.random() < 0.7 else "".join(
        rng.choice("ab\\\"'( )#{}\n\t") for _ in range(rng.randint(0, 8)))
    if rng.random() < 0.1:
        return '"""' + body.replace('"', "'") + '"""'
    body = body.replace("\n", "\\n").replace("\t", " ")
    # keep it a valid literal most of the time: escape what the lexer would reject
    if rng.random() < 0.9:
        out, i = [], 0
        while i < len(body):
            ch = body[i]
            if ch == "\\" and i + 1 < len(body) and body[i + 1] in "\\\"'nrtbf0/":
                out.append(body[i:i + 2])
                i += 2
                continue
            if ch == "\\" and body[i + 1:i + 2] == "u" and len(body) >= i + 6:
                out.append(body[i:i + 6])
                i += 6
                continue
            out.append("\\\\" if ch == "\\" else '\\"' if ch == '"' else ch)
            i += 1
        body = "".join(out)
    return '"' + body + '"'


def _terminal(name: str, rng: random.Random, literal: dict[str, str]) -> str:
    if name in literal:
        return literal[name]
    if name == "NAME":
        return rng.choice(_classes()) if rng.random() < 0.35 else rng.choice(NAMES)
    if name == "TYPE":
        return rng.choice(("str", "int", "float", "bool"))
    if name == "INT":
        return rng.choice(("0", "1", "7", "42", "1024", "99999999999999999999", "00"))
    if name == "FLOAT":
        return rng.choice(("1.0", ".5", "1e308", "1e999", "0.0", "7.5"))
    if name in ("STRING", "LONG_STRING"):
        return _string(rng)
    return ""


#: Rules after which a statement ends (the grammar does not see lines; recipes do).
_LINE_ENDS = {"_statement", "_body_statement", "return_stmt", "import_all", "import_from", "param", "assign",
              "call_stmt", "decorator"}


def grammar_text(rng: random.Random, max_depth: int = 9) -> str:
    """A random derivation of the recipe grammar, one statement per line."""
    rules, literal = _grammar()
    out: list[str] = []

    def expand(symbol: str, depth: int) -> None:
        options = rules[symbol]
        if depth > max_depth:  # head for the shortest way out
            fewest = min(sum(not term for _, term in o) for o in options)
            options = [o for o in options if sum(not term for _, term in o) == fewest]
        expansion = rng.choice(options)
        for name, is_term in expansion:
            if is_term:
                out.append(_terminal(name, rng, literal))
                if name == "LBRACE" and symbol == "body":
                    out.append("\n")
                if rng.random() < 0.02:
                    out.append("  # c" + rng.choice(("", "(", "}", "\\")) + "\n")
            else:
                expand(name, depth + 1)
        if symbol in _LINE_ENDS:
            out.append("\n")

    statements = rng.randint(0, 8)
    for _ in range(statements):
        expand("_statement", 0)
    text = ""
    for piece in out:  # a space between tokens, none around line ends
        if text and not text.endswith("\n") and piece != "\n":
            text += " "
        text += piece
    return text


def mutate_text(text: str, rng: random.Random, edits: int | None = None) -> str:
    """A few random edits: characters inserted, dropped, duplicated or swapped."""
    chars = list(text)
    for _ in range(edits if edits is not None else rng.randint(1, 4)):
        at = rng.randint(0, len(chars))
        op = rng.random()
        if op < 0.4:
            chars.insert(at, rng.choice('()[]{}"\'\\#,:=.@\n \t0aZ\ud800\x00é-+*/'))
        elif op < 0.7 and chars:
            del chars[min(at, len(chars) - 1)]
        elif op < 0.85 and chars:
            j = rng.randint(0, len(chars) - 1)
            chars[j:j] = chars[j:j + rng.randint(1, 20)]
        elif len(chars) > 1:
            j = rng.randint(0, len(chars) - 2)
            chars[j], chars[j + 1] = chars[j + 1], chars[j]
    return "".join(chars)


def recipe(rng: random.Random) -> str:
    """Recipe text: a grammar derivation, an example recipe, or either mutated."""
    roll = rng.random()
    if roll < 0.5:
        text = grammar_text(rng)
    else:
        text = rng.choice(EXAMPLES).read_text(encoding="utf-8") if EXAMPLES else grammar_text(rng)
    if rng.random() < 0.4:
        text = mutate_text(text, rng)
    return text


@functools.lru_cache(maxsize=None)
def _compiled(path: str) -> dict:
    from comfydsl.dsl import Recipe
    from comfydsl.target import load_target

    graph, _ = Recipe(path, target=load_target([], None)).build({})
    return graph.to_workflow() if graph is not None else {}


def _odd_value(rng: random.Random) -> Any:
    return rng.choice([None, True, 0, -1, 1.5, float("inf"), 10 ** 30, "", "x\ud800", [], {}, ["1"], ["1", 0],
                       ["999", 0], ["1", -1], ["1", "0"], [1, 0], {"__value__": [1]}, "a" * 500, [[["1", 0]]]])


def mutate_json(data: Any, rng: random.Random, edits: int | None = None) -> Any:
    """Random structural edits of decoded JSON: keys dropped or added, values replaced."""
    data = copy.deepcopy(data)
    for _ in range(edits if edits is not None else rng.randint(1, 4)):
        path: list = []
        node = data
        while isinstance(node, (dict, list)) and node and rng.random() < 0.75:
            key = rng.choice(list(node)) if isinstance(node, dict) else rng.randrange(len(node))
            path.append((node, key))
            node = node[key]
        if not path:
            continue
        parent, key = path[-1]
        op = rng.random()
        if op < 0.3 and isinstance(parent, dict):
            del parent[key]
        elif op < 0.4 and isinstance(parent, dict):
            parent[rng.choice(["inputs", "class_type", "_meta", "x\ud800", "", "1"])] = _odd_value(rng)
        else:
            parent[key] = _odd_value(rng)
    return data


def workflow(rng: random.Random) -> str:
    """Workflow JSON text: a compiled example, mutated, maybe in an envelope, maybe broken text."""
    base = _compiled(str(rng.choice(EXAMPLES))) if EXAMPLES else {}
    data: Any = mutate_json(base, rng) if rng.random() < 0.8 else base
    roll = rng.random()
    if roll < 0.25:
        body: dict[str, Any] = {"workflow": data}
        if rng.random() < 0.7:
            body["images"] = rng.choice([5, True, {"a": 1}, "x", [5], [{"name": 5}], [{"name": "a.png", "image": ""}],
                                         [{"name": "a.png", "image": "aGk="}], None, [[]]])
        data = {"input": body}
    elif roll < 0.35:
        data = {"prompt": data, "client_id": rng.choice(["x", 5])}
    elif roll < 0.4:
        data = rng.choice([[], 5, "x", None, {"nodes": [], "links": []}])
    text = json.dumps(data, ensure_ascii=rng.random() < 0.5, allow_nan=True)
    if rng.random() < 0.2:
        text = mutate_text(text, rng)
    return text


#: Strings that look like JSON around a node id.
_TRAPS = ['}, "12": {', '}, "', '", "1":', ',"3":{', ":", "{", "}", ",", '"', "\\", "\u2028", "\ud800", "é"]


def long_workflow(rng: random.Random) -> str:
    """A chain of 12,000-20,000 nodes as JSON text (1-2 MB), written any way, odd now and then."""
    odd = rng.choice([0.0, 0.0, 0.0001, 0.001])  # how often a node is odd: most texts have none
    data: dict[str, Any] = {}
    count = rng.randint(12_000, 20_000)
    for i in range(1, count + 1):
        key = str(i) if rng.random() >= odd else str(rng.randint(1, count))
        if rng.random() < odd:
            data[key] = _odd_value(rng)
            continue
        inputs: dict[str, Any] = {"image": [str(max(1, i - 1)), 0],
                                  "t": "".join(rng.choice(_TRAPS) for _ in range(rng.randint(0, 4)))}
        if rng.random() < odd:
            inputs[str(rng.randint(1, 9))] = {"7": {}, "8": {"y": '}, "9": {'}}
        data[key] = {"class_type": "ImageInvert" if rng.random() >= odd else "NoSuchNode", "inputs": inputs}
    style = rng.randrange(4)
    if style == 0:
        text = json.dumps(data, ensure_ascii=rng.random() < 0.5)
    elif style == 1:
        text = json.dumps(data, indent=rng.choice([0, 1, "\t"]))
    elif style == 2:
        text = json.dumps(data, separators=(",", ":"))
    else:  # members joined by hand, with any blanks, some written twice
        members = [json.dumps(k) + rng.choice([":", " : ", "\n:\n"]) + json.dumps(v) for k, v in data.items()]
        for _ in range(rng.choice([0, 0, 1, 2])):
            members.insert(rng.randrange(len(members) + 1), rng.choice(members))
        text = rng.choice(["", " ", "\n"]) + "{" + rng.choice([",", " , ", ",\n"]).join(members) + "}\n"
    if rng.random() < 0.15:
        text = rng.choice(['{"input": {"workflow": %s}}', '{"prompt": %s}', "[%s]"]) % text
    if rng.random() < 0.3:
        text = mutate_text(text, rng, edits=rng.randint(1, 2))
    return text


@functools.lru_cache(maxsize=1)
def _object_info_sample() -> dict:
    data = json.loads((ROOT / "tests" / "data" / "comfyui" / "object_info.json").read_text(encoding="utf-8"))
    keep = ("KSampler", "CheckpointLoaderSimple", "CLIPTextEncode", "VAEDecode", "SaveImage", "EmptyLatentImage",
            "LoadImage", "LoraLoader")
    return {k: data[k] for k in keep if k in data}


def catalogue(rng: random.Random) -> str:
    """An object_info fragment, its entries mutated."""
    data: Any = _object_info_sample()
    data = mutate_json(data, rng, rng.randint(1, 6))
    if rng.random() < 0.1:
        data = rng.choice([[], 5, "x", {"A": 5}, {"A": {"input": []}}])
    text = json.dumps(data)
    if rng.random() < 0.1:
        text = mutate_text(text, rng)
    return text


def _arg(rng: random.Random, good: Any) -> Any:
    return good if rng.random() < 0.75 else rng.choice([None, 5, 1.5, True, [1], b"x", "x\ud800", object(), {}])


def api_call(rng: random.Random) -> Callable[[], Any]:
    """A short program against the Python API, as a callable (and its `repr` says what it does)."""
    steps: list[tuple[str, tuple, dict]] = []
    for _ in range(rng.randint(1, 6)):
        kind = rng.choice(["node", "node", "out", "check", "workflow", "from_workflow", "parse", "attach"])
        if kind == "node":
            steps.append(("node", (_arg(rng, rng.choice(_classes())),),
                          {"id": _arg(rng, str(rng.randint(1, 9))), "title": _arg(rng, "t")}))
        elif kind == "out":
            steps.append(("out", (_arg(rng, rng.choice([0, 1, "MODEL", "CLIP", "LATENT"])),), {}))
        elif kind == "from_workflow":
            steps.append(("from_workflow", (mutate_json(_compiled(str(EXAMPLES[0])), rng) if EXAMPLES else {},), {}))
        elif kind == "parse":
            steps.append(("parse", (_arg(rng, grammar_text(rng, 4)),), {}))
        elif kind == "attach":
            steps.append(("attach", (_arg(rng, "a.png"), _arg(rng, "aGk=")), {}))
        else:
            steps.append((kind, (), {}))
    return ApiProgram(steps)


class ApiProgram:
    """Steps against a fresh Graph; `run()` returns the exception raised, if any."""

    def __init__(self, steps: list[tuple[str, tuple, dict]]) -> None:
        self.steps = steps

    def __repr__(self) -> str:
        return "ApiProgram(" + "; ".join(f"{k}{a!r}{kw!r}" for k, a, kw in self.steps) + ")"

    def run(self) -> BaseException | None:
        from comfydsl.dsl import parse
        from comfydsl.graph import Graph

        graph = Graph()
        nodes: list = []
        try:
            for kind, args, kwargs in self.steps:
                if kind == "node":
                    nodes.append(graph.node(*args, **kwargs))
                elif kind == "out" and nodes:
                    nodes[-1].out(*args)
                elif kind == "check":
                    graph.check()
                elif kind == "workflow":
                    json.dumps(graph.to_workflow())
                elif kind == "from_workflow":
                    Graph.from_workflow(*args)
                elif kind == "parse":
                    parse(*args)
                elif kind == "attach":
                    graph.attach(*args)
        except (TypeError, ValueError, KeyError, LookupError) as exc:  # documented misuse errors
            return exc
        except Exception as exc:  # noqa: BLE001 - the library's own errors are fine too
            from comfydsl.errors import ComfyDSLError

            if isinstance(exc, ComfyDSLError):
                return exc
            raise
        return None


GENERATORS: dict[str, Callable[[random.Random], Any]] = {
    "recipe": recipe, "workflow": workflow, "long": long_workflow, "catalogue": catalogue, "api": api_call,
}


def strategy(generator: Callable[[random.Random], Any]):
    """The generator as a hypothesis strategy (the seed is drawn and shrunk)."""
    from hypothesis import strategies as st

    return st.integers(min_value=0, max_value=2 ** 32 - 1).map(lambda seed: generator(random.Random(seed)))
