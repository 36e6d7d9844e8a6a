"""How the demo's copiers work: code pasted from the course package, and a classmate's code in disguise.

:func:`pasted_reference` gives the cell a student writes by pasting a graded function's counterpart from rnngrad
(its input validation and docstrings left out); :func:`disguise` gives what a copier makes of a classmate's cells
(every local name and helper renamed, reformatted, docstrings changed, comments added). The similarity check
(:mod:`autograder.similarity`) must flag both.
"""
from __future__ import annotations

__all__ = ["pasted_reference", "disguise"]

import ast


def _uses_validation(node: ast.AST, names: set[str]) -> bool:
    """True for a statement that touches the package's input validation (its error classes, ``Dims``)."""
    return any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(node))


def _free_names(func: ast.FunctionDef) -> set[str]:
    """Names a function reads but neither binds nor receives (module-level names it relies on)."""
    bound = {n.id for n in ast.walk(func) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    bound |= {a.arg for n in ast.walk(func) if isinstance(n, ast.arguments)
              for a in n.posonlyargs + n.args + n.kwonlyargs + [n.vararg, n.kwarg] if a}
    return {n.id for n in ast.walk(func) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)} - bound


def pasted_reference(assignment: str) -> tuple[str, str] | None:
    """(function, cell text): the first graded function of the set whose rnngrad counterpart has the same name
    and, pasted with the helpers it calls and without its input validation and docstrings, runs on numpy
    alone, as a student who copies the course package's code would paste it. None when no function fits."""
    import builtins
    import inspect

    from . import similarity
    from .specs import specs_for

    for spec in specs_for(assignment):
        for target in similarity._rnngrad_targets(spec.reference):
            if target.__name__ != spec.function:
                continue
            tree = ast.parse(inspect.getsource(inspect.getmodule(target)))
            validation = {"dims"} | {a.asname or a.name for n in tree.body if isinstance(n, ast.ImportFrom)
                                     and (n.module or "").endswith("_validate") for a in n.names}
            defs = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
            unit = [defs[target.__name__]] + similarity._called_helpers(defs[target.__name__], defs)
            for func in unit:
                body = [st for st in func.body if not _uses_validation(st, validation)]
                if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                    body = body[1:]
                func.body = body or [ast.Pass()]
            module = ast.Module(body=list(reversed(unit)), type_ignores=[])
            defined = {f.name for f in unit} | set(dir(builtins)) | {"np"}
            if any(_free_names(func) - defined for func in unit):
                continue   # it needs more of the package than one cell can hold
            text = ast.unparse(module)
            if len(similarity.function_units(text, [spec.function]).get(spec.function, ())) \
                    < similarity.REFERENCE_MIN_TOKENS:
                continue
            return spec.function, "# found this in the course package\n" + text + "\n"
    return None


# -- disguising a copy ---------------------------------------------------------------------

_WORDS = ["acc", "tmp", "val", "buf", "res", "mat", "cur", "aux", "part", "store", "item", "work"]


def disguise(cells: dict[str, str], keep: set[str]) -> dict[str, str]:
    """What a copier does: rename every local name and helper (not the graded functions ``keep`` nor the
    arguments, which callers may pass by name), reformat, change the docstrings and add comments."""
    mapping: dict[str, str] = {}

    def new_name(name: str) -> str:
        if name not in mapping:
            mapping[name] = f"{_WORDS[len(mapping) % len(_WORDS)]}{len(mapping)}"
        return mapping[name]

    trees = {gid: ast.parse(text) for gid, text in cells.items()}
    # arguments keep their names everywhere (a local of one function may be an argument of another)
    protected = set(keep) | {a.arg for t in trees.values() for n in ast.walk(t) if isinstance(n, ast.arguments)
                             for a in n.posonlyargs + n.args + n.kwonlyargs + [n.vararg, n.kwarg] if a}
    helpers = {n.name for t in trees.values() for n in t.body if isinstance(n, ast.FunctionDef)} - protected
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                for sub in ast.walk(node):
                    if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store) and sub.id not in protected:
                        new_name(sub.id)
    for name in sorted(helpers):
        new_name(name)
    out = {}
    for gid, tree in trees.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id in mapping:
                node.id = mapping[node.id]
            elif isinstance(node, ast.FunctionDef):
                if node.name in mapping:
                    node.name = mapping[node.name]
                body = node.body
                if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                    body[0].value.value = "My own implementation."
        lines = []
        for line in ast.unparse(tree).splitlines():
            stripped = line.strip()
            if stripped.startswith(("return", "for ", "while ")):
                pad = line[: len(line) - len(stripped)]
                lines.append(f"{pad}# {'result' if stripped.startswith('return') else 'loop'} (see lecture notes)")
            lines.append(line)
        out[gid] = "\n".join(lines) + "\n"
    return out
