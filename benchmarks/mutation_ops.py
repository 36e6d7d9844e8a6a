"""Single mechanical mutations of a Python function's source: the operators of the mutation audit.

Each operator looks at one AST node and proposes replacements for it, knowing nothing of the graded
functions or of the autograder's diagnoses: transpose a weight or forget a transpose, swap the operands of a
product, shift a time index by one, drop a term or a factor, flip a difference, change a reduction, overwrite
instead of accumulate, swap the derivative of tanh and of the sigmoid, take the derivative from the
pre-activation, run a loop the other way, delete an accumulating statement.

    >>> sorted({m.operator for m in mutants("def f(a, W):\\n    return a @ W.T\\n")})
    ['drop_factor', 'drop_transpose', 'swap_operands']
"""
from __future__ import annotations

import ast
import copy
from dataclasses import dataclass

__all__ = ["Mutant", "mutants", "OPERATORS"]

#: every operator, in the order they are tried on a node
OPERATORS = ("drop_transpose", "add_transpose", "swap_operands", "time_shift", "drop_term", "drop_factor",
             "flip_sign", "reduction", "overwrite", "swap_derivative", "preactivation_derivative", "loop",
             "drop_statement")


@dataclass(frozen=True)
class Mutant:
    """One mutated function: the operator, a short description of the site, and the new source."""
    operator: str
    site: str
    source: str


def _one(node) -> bool:
    return isinstance(node, ast.Constant) and node.value in (1, 1.0)


def _dump(node) -> str:
    """The text of an expression (the same for a target and for a later read of it)."""
    return ast.unparse(node)


def _square_of(node):
    """X when ``node`` is ``X ** 2`` or ``X * X``, else None."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow) and isinstance(node.right, ast.Constant) \
            and node.right.value == 2:
        return node.left
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult) and _dump(node.left) == _dump(node.right):
        return node.left
    return None


def _is_np(node, name) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == name
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "np")


def _activation_inputs(fn) -> dict:
    """dump(target) -> pre-activation expression, for ``target = np.tanh(E)`` and ``target = 1 / (1 + np.exp(-E))``."""
    found = {}
    for node in ast.walk(fn):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            value = node.value
            if _is_np(value, "tanh"):
                found[_dump(node.targets[0])] = value.args[0]
            elif (isinstance(value, ast.BinOp) and isinstance(value.op, ast.Div) and _one(value.left)
                  and isinstance(value.right, ast.BinOp) and _is_np(value.right.right, "exp")):
                arg = value.right.right.args[0]
                found[_dump(node.targets[0])] = arg.operand if isinstance(arg, ast.UnaryOp) else arg
    return found


def _loop_names(fn) -> set:
    return {n.target.id for n in ast.walk(fn) if isinstance(n, ast.For) and isinstance(n.target, ast.Name)}


def _assigned_names(fn) -> set:
    names = {a.arg for a in fn.args.args}
    for n in ast.walk(fn):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            names.add(n.id)
    return names


def _shift(name: str, delta: int):
    op = ast.Sub() if delta < 0 else ast.Add()
    return ast.BinOp(ast.Name(name, ast.Load()), op, ast.Constant(abs(delta)))


def _proposals(node, parent, fn, ctx) -> list[tuple[str, str, object]]:
    """(operator, site, replacement) for one node; a replacement of None for a statement deletes it."""
    out = []
    seg = ast.unparse(node)[:60]
    if isinstance(node, ast.Attribute) and node.attr == "T":
        out.append(("drop_transpose", seg, node.value))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
        for side in ("left", "right"):
            operand = getattr(node, side)
            if isinstance(operand, ast.Name) and operand.id.startswith("W"):
                new = copy.deepcopy(node)
                setattr(new, side, ast.Attribute(copy.deepcopy(operand), "T", ast.Load()))
                out.append(("add_transpose", seg, new))
        out.append(("swap_operands", seg, ast.BinOp(node.right, ast.MatMult(), node.left)))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("einsum", "outer") \
            and len(node.args) >= 2:
        new = copy.deepcopy(node)
        new.args[-1], new.args[-2] = new.args[-2], new.args[-1]
        out.append(("swap_operands", seg, new))
    if isinstance(node, ast.Subscript):
        index = node.slice
        if isinstance(index, ast.Name) and index.id in ctx["loops"]:
            new = copy.deepcopy(node)
            new.slice = _shift(index.id, -1)
            out.append(("time_shift", seg, new))
        if isinstance(index, ast.BinOp) and isinstance(index.left, ast.Name) and index.left.id in ctx["loops"] \
                and isinstance(index.right, ast.Constant) and index.right.value == 1:
            new = copy.deepcopy(node)
            new.slice = ast.Name(index.left.id, ast.Load())
            out.append(("time_shift", seg, new))
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id.endswith("_prev") \
            and node.id[:-5] in ctx["names"]:
        out.append(("time_shift", seg, ast.Name(node.id[:-5], ast.Load())))
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, (ast.Add, ast.Sub)):
            out.append(("drop_term", seg, node.left))
            if isinstance(node.op, ast.Add):
                out.append(("drop_term", seg, node.right))
        if isinstance(node.op, (ast.Mult, ast.MatMult, ast.Div)):
            out.append(("drop_factor", seg, node.left))
            if not isinstance(node.op, ast.Div):
                out.append(("drop_factor", seg, node.right))
        if isinstance(node.op, ast.Sub):
            out.append(("flip_sign", seg, ast.BinOp(node.right, ast.Sub(), node.left)))
        x = _square_of(node.right) if isinstance(node.op, ast.Sub) and _one(node.left) else None
        if x is not None:  # 1 - X**2 (tanh') -> X * (1 - X) (sigmoid')
            out.append(("swap_derivative", seg,
                        ast.BinOp(x, ast.Mult(), ast.BinOp(ast.Constant(1.0), ast.Sub(), copy.deepcopy(x)))))
            pre = ctx["activations"].get(_dump(x))
            if pre is not None:
                out.append(("preactivation_derivative", seg,
                            ast.BinOp(ast.Constant(1.0), ast.Sub(), ast.BinOp(pre, ast.Pow(), ast.Constant(2)))))
        if isinstance(node.op, ast.Sub) and _one(node.left) and _square_of(node.right) is None \
                and isinstance(parent, ast.BinOp) and isinstance(parent.op, ast.Mult):
            x = node.right  # X (1 - X) (sigmoid') -> (1 - X**2) / X times X (tanh')
            out.append(("swap_derivative", seg, ast.BinOp(
                ast.BinOp(ast.Constant(1.0), ast.Sub(), ast.BinOp(x, ast.Pow(), ast.Constant(2))), ast.Div(),
                copy.deepcopy(x))))
            pre = ctx["activations"].get(_dump(x))
            if pre is not None and _dump(parent.left) == _dump(x):
                out.append(("preactivation_derivative", ast.unparse(parent)[:60], ("parent", ast.BinOp(
                    pre, ast.Mult(), ast.BinOp(ast.Constant(1.0), ast.Sub(), copy.deepcopy(pre))))))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("sum", "mean"):
        new = copy.deepcopy(node)
        new.func.attr = "mean" if node.func.attr == "sum" else "sum"
        out.append(("reduction", seg, new))
    if isinstance(node, ast.keyword) and node.arg == "axis":
        value = node.value
        if isinstance(value, ast.Constant) and isinstance(value.value, int):
            out.append(("reduction", seg, ast.keyword("axis", ast.Constant(1 if value.value == 0 else 0))))
        if isinstance(value, ast.Tuple) and value.elts:
            out.append(("reduction", seg, ast.keyword("axis", value.elts[0])))
    if isinstance(node, ast.AugAssign) and isinstance(node.op, (ast.Add, ast.Sub)):
        out.append(("overwrite", seg, ast.Assign([node.target], node.value)))
        out.append(("drop_statement", seg, None))
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Attribute) \
            and node.value.func.attr == "at" and len(node.value.args) == 3:
        a, i, v = node.value.args
        out.append(("overwrite", seg, ast.Assign([ast.Subscript(a, i, ast.Store())], v)))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "reversed" and node.args:
        out.append(("loop", seg, node.args[0]))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range" \
            and len(node.args) == 1:
        out.append(("loop", seg, ast.Call(node.func, [ast.BinOp(node.args[0], ast.Sub(), ast.Constant(1))], [])))
    return out


def _parents(tree) -> dict:
    parents = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
    return parents


def _replace(parent, old, new) -> None:
    for field, value in ast.iter_fields(parent):
        if value is old:
            setattr(parent, field, new)
            return
        if isinstance(value, list) and any(v is old for v in value):
            i = next(i for i, v in enumerate(value) if v is old)
            if new is None:
                value[i] = ast.Pass()
            else:
                value[i] = new
            return
    raise LookupError("node not found in its parent")


def mutants(source: str) -> list[Mutant]:
    """Every single mutation of the one function defined in ``source`` (equal sources are kept once)."""
    tree = ast.parse(source)
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef))
    ctx = {"loops": _loop_names(fn), "names": _assigned_names(fn), "activations": _activation_inputs(fn)}
    nodes = list(ast.walk(fn))
    parents = _parents(fn)
    plan = []
    for i, node in enumerate(nodes):
        if node is fn or (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):
            continue
        for k, (op, site, _) in enumerate(_proposals(node, parents.get(node), fn, ctx)):
            plan.append((i, k, op, site))
    out, seen = [], {ast.unparse(tree)}
    for i, k, op, site in plan:
        copy_tree = copy.deepcopy(tree)
        copy_fn = next(n for n in copy_tree.body if isinstance(n, ast.FunctionDef))
        copy_nodes = list(ast.walk(copy_fn))
        copy_parents = _parents(copy_fn)
        node = copy_nodes[i]
        ctx_copy = {"loops": ctx["loops"], "names": ctx["names"], "activations": _activation_inputs(copy_fn)}
        replacement = _proposals(node, copy_parents.get(node), copy_fn, ctx_copy)[k][2]
        if isinstance(replacement, tuple) and replacement[0] == "parent":
            node, replacement = copy_parents[node], replacement[1]
        _replace(copy_parents[node], node, replacement)
        ast.fix_missing_locations(copy_tree)
        text = ast.unparse(copy_tree)
        if text not in seen:
            seen.add(text)
            out.append(Mutant(op, site, text))
    return out
