"""Static flags: reasons for an instructor to look at a submission, found by reading its source (never run).

The sandbox already stops these tricks from changing a grade; the flags make attempts visible in the report.
A flag is not a penalty: the submission is graded as usual and the reasons are shown next to its score.

>>> [f.code for f in static_flags("import numpy as np\\nnp.allclose = lambda *a, **k: True\\n")]
['patches_module']
>>> static_flags("def f(x):\\n    return x + 1\\n")
[]
"""

from __future__ import annotations

import ast
from typing import NamedTuple


class Flag(NamedTuple):
    """One reason: a short ``code`` (stable id) and a plain-words ``message`` that starts with the line."""

    code: str
    message: str


# Modules that give access to the process, the file system, the network or the interpreter's machinery.
SYSTEM_MODULES = frozenset({
    "os", "posix", "subprocess", "ctypes", "cffi", "socket", "ssl", "http", "urllib", "requests",
    "multiprocessing", "threading", "_thread", "signal", "shutil", "pathlib", "tempfile", "importlib", "pickle",
    "marshal", "shelve", "dill", "inspect", "gc", "resource", "pty", "fcntl", "mmap", "sys", "atexit",
})
FORBIDDEN_MODULES = frozenset({"rnngrad", "autograder", "nbgrader"})
IPYTHON_NAMES = frozenset({"get_ipython", "__IPYTHON__", "input_transformers_cleanup", "input_transformers_post",
                           "input_transformer_manager", "ast_transformers", "run_cell", "user_ns"})
INTROSPECTION_ATTRS = frozenset({"f_back", "f_globals", "f_locals", "f_builtins", "f_code", "__globals__",
                                 "__code__", "__subclasses__", "__closure__", "_getframe", "tb_frame",
                                 "gi_frame", "cr_frame", "__builtins__"})
DYNAMIC_CALLS = frozenset({"exec", "eval", "compile", "__import__", "globals", "breakpoint"})
#: Attributes of an allowed module that lead to the system (``np.ctypeslib`` gives ctypes).
GATEWAY_ATTRS = frozenset({"ctypeslib", "f2py"})
#: Calls that read an attribute or an item by name (``getattr(np, 'os')``, ``vars(np).get('os')``).
NAMED_LOOKUPS = frozenset({"getattr", "attrgetter", "__getattribute__", "__getattr__"})
NAMESPACE_CALLS = frozenset({"vars", "globals", "locals", "getattr"})
#: An attribute chain longer than this is not walked to its root (keeps the analysis linear).
MAX_CHAIN = 64
WRITE_CALLS = frozenset({"save", "savez", "savez_compressed", "savetxt", "tofile", "write_text", "write_bytes",
                         "remove", "unlink", "rmdir", "rename", "replace", "makedirs", "mkdir", "rmtree",
                         "copy", "copyfile", "copytree", "move", "chmod", "symlink", "link", "truncate"})


def _root_name(node: ast.AST) -> str | None:
    """The name an attribute/subscript chain starts from (None past MAX_CHAIN links)."""
    for _ in range(MAX_CHAIN):
        if not isinstance(node, (ast.Attribute, ast.Subscript)):
            break
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _dotted(node: ast.AST) -> str:
    """``a.b.c`` for an attribute chain on a name ("" past MAX_CHAIN links or not on a name)."""
    parts = []
    for _ in range(MAX_CHAIN):
        if not isinstance(node, ast.Attribute):
            break
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return ""
    parts.append(node.id)
    return ".".join(reversed(parts))


def _text(node: ast.AST | None) -> str | None:
    """The value of a string constant, else None."""
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _system_part(dotted: str) -> str | None:
    """The first part of a dotted name that is a system module or a gateway to one, else None."""
    for part in dotted.split(".")[:MAX_CHAIN]:
        if part in SYSTEM_MODULES or part in GATEWAY_ATTRS:
            return part
    return None


class _Visitor(ast.NodeVisitor):
    def __init__(self, reserved_names: frozenset[str], modules: dict[str, str] | None = None):
        self.flags: list[Flag] = []
        self.seen: set[Flag] = set()
        self.modules: dict[str, str] = dict(modules or {})  # local alias -> module imported under it
        self.reserved = reserved_names

    def add(self, node: ast.AST, code: str, text: str) -> None:
        flag = Flag(code, f"line {getattr(node, 'lineno', '?')}: {text}")
        if flag not in self.seen:
            self.seen.add(flag)
            self.flags.append(flag)

    def _module_of(self, node: ast.AST) -> str | None:
        """The module a chain like ``np.lib.format`` starts from, when its root is an imported name."""
        for _ in range(MAX_CHAIN):
            if isinstance(node, (ast.Attribute, ast.Subscript)):
                node = node.value
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr" \
                    and node.args:
                node = node.args[0]
            else:
                break
        return self.modules.get(node.id) if isinstance(node, ast.Name) else None

    def _reaches(self, node: ast.AST, name: str, how: str) -> None:
        """Flag reaching the system module (or gateway) ``name`` through another module."""
        self.add(node, "system_module", f"reaches {name!r} through {how}")

    # -- imports
    def _imported(self, node: ast.AST, module: str) -> None:
        top = module.split(".")[0]
        if top in FORBIDDEN_MODULES:
            self.add(node, "imports_course_code", f"imports {module!r}, the course's own code")
        elif top == "IPython" or top == "ipykernel":
            self.add(node, "ipython_internals", f"imports {module!r} (the notebook's machinery)")
        elif top == "builtins":
            self.add(node, "builtins", "imports the builtins module")
        elif top in SYSTEM_MODULES or _system_part(module):
            self.add(node, "system_module", f"imports {module!r}")

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._imported(node, alias.name)
            self.modules[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else alias.name.split(".")[0]
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level:
            self.add(node, "relative_import", "uses a relative import (files beside the notebook)")
        self._imported(node, module)
        for alias in node.names:
            if alias.name == "*":
                self.add(node, "star_import", f"imports everything from {module!r}")
            else:
                if not module or _system_part(alias.name):
                    self._imported(node, f"{module}.{alias.name}" if module else alias.name)
                self.modules[alias.asname or alias.name] = f"{module}.{alias.name}"
        self.generic_visit(node)

    # -- names and attributes
    def visit_Name(self, node: ast.Name) -> None:
        if node.id in IPYTHON_NAMES:
            self.add(node, "ipython_internals", f"uses {node.id!r} (the notebook's machinery)")
        if node.id == "__builtins__":
            self.add(node, "builtins", "uses __builtins__")
        if node.id in DYNAMIC_CALLS and isinstance(node.ctx, ast.Load):
            self.add(node, "dynamic_code", f"uses {node.id}()")
        if node.id in self.reserved and isinstance(node.ctx, (ast.Store, ast.Del)):
            self.add(node, "redefines_checker", f"assigns {node.id!r}, a name the notebook's checks use")
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        dotted = _dotted(node)
        if node.attr in IPYTHON_NAMES:
            self.add(node, "ipython_internals", f"uses {dotted or node.attr!r}")
        if node.attr == "modules" and _root_name(node) in self.modules and self.modules[_root_name(node)] == "sys":
            self.add(node, "sys_modules", "uses sys.modules")
        if node.attr in INTROSPECTION_ATTRS:
            self.add(node, "introspection", f"reaches into interpreter internals ({node.attr})")
        if node.attr == "environ" or dotted.endswith("getenv"):
            self.add(node, "environment", "reads environment variables")
        if (node.attr in SYSTEM_MODULES or node.attr in GATEWAY_ATTRS) and self._module_of(node.value):
            self._reaches(node, node.attr, f"the attribute {(dotted or node.attr)!r}")
        if isinstance(node.ctx, (ast.Store, ast.Del)):
            root = _root_name(node)
            if root in self.modules:
                self.add(node, "patches_module",
                         f"assigns the attribute {dotted!r} of the module {self.modules[root]!r}")
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if isinstance(node.ctx, (ast.Store, ast.Del)):
            target = node.value
            if isinstance(target, ast.Attribute) and target.attr == "__dict__" and _root_name(target) in self.modules:
                self.add(node, "patches_module", f"writes into the namespace of {_dotted(target.value)!r}")
            if isinstance(target, ast.Call) and isinstance(target.func, ast.Name) and target.func.id == "vars":
                self.add(node, "patches_module", "writes into a namespace through vars()")
        key = _text(node.slice)
        if key is not None and _system_part(key) and self._is_namespace(node.value):
            self._reaches(node, _system_part(key), "a module's namespace")
        self.generic_visit(node)

    def _is_namespace(self, node: ast.AST) -> bool:
        """``vars(x)``, ``globals()``, ``x.__dict__``, ``sys.modules`` or anything rooted in a module."""
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in NAMESPACE_CALLS:
            return True
        if isinstance(node, ast.Attribute) and node.attr in ("__dict__", "modules"):
            return True
        return self._module_of(node) is not None

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and "NBGRADER" in node.value.upper():
            self.add(node, "nbgrader_environment", "mentions NBGRADER (the grader's environment)")
        self.generic_visit(node)

    def visit_Global(self, node: ast.Global) -> None:
        for name in node.names:
            if name in self.reserved:
                self.add(node, "redefines_checker", f"declares {name!r} global, a name the notebook's checks use")
        self.generic_visit(node)

    def visit_FunctionDef(self, node) -> None:
        if node.name in self.reserved:
            self.add(node, "redefines_checker", f"defines {node.name!r}, a name the notebook's checks use")
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for base in node.bases:
            if _dotted(base) in ("np.ndarray", "numpy.ndarray", "ndarray", "float", "int"):
                self.add(node, "custom_number_type", f"subclasses {_dotted(base)!r}")
        self.visit_FunctionDef(node)

    def _named_lookup(self, node: ast.Call, func: ast.AST) -> None:
        """``getattr(np, 'os')``, ``np.__getattribute__('os')``, ``attrgetter('os.system')``."""
        args = node.args
        if isinstance(func, ast.Attribute) and func.attr in ("__getattribute__", "__getattr__"):
            target, key = func.value, (args[0] if args else None)
        elif isinstance(func, ast.Name) and func.id == "attrgetter" or \
                isinstance(func, ast.Attribute) and func.attr == "attrgetter":
            target, key = None, (args[0] if args else None)
        else:
            target, key = (args[0] if args else None), (args[1] if len(args) > 1 else None)
        name = _text(key)
        if name is not None:
            part = _system_part(name)
            if part and (target is None or self._module_of(target) or isinstance(target, ast.Call)):
                self._reaches(node, part, f"a look-up by name ({name!r})")
        elif key is not None and target is not None and self._module_of(target):
            self.add(node, "dynamic_attribute",
                     f"reads an attribute of the module {self._module_of(target)!r} by a computed name")

    # -- calls
    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if name == "setattr" and node.args:
            root = _root_name(node.args[0])
            if root in self.modules or isinstance(node.args[0], ast.Call):
                self.add(node, "patches_module", f"calls setattr on {(_dotted(node.args[0]) or 'a module')!r}")
        if name in ("setattr", "delattr") and isinstance(func, ast.Name) and node.args:
            if isinstance(node.args[0], ast.Name) and node.args[0].id in ("__builtins__", "builtins"):
                self.add(node, "builtins", "changes the builtins")
        if name == "import_module" or (name == "__import__"):
            self.add(node, "dynamic_code", "imports a module by name at run time")
            wanted = _text(node.args[0]) if node.args else None
            if wanted is not None:
                self._imported(node, wanted)
        if name in NAMED_LOOKUPS:
            self._named_lookup(node, func)
        if name in ("get", "__getitem__", "pop", "setdefault") and isinstance(func, ast.Attribute) and node.args:
            key = _text(node.args[0])
            if key is not None and _system_part(key) and self._is_namespace(func.value):
                self._reaches(node, _system_part(key), "a module's namespace")
        if name == "open" and isinstance(func, ast.Name):
            mode = node.args[1] if len(node.args) > 1 else next((k.value for k in node.keywords if k.arg == "mode"), None)
            if isinstance(mode, ast.Constant) and isinstance(mode.value, str) and set(mode.value) & set("wax+"):
                self.add(node, "writes_files", f"opens a file for writing (mode {mode.value!r})")
            elif mode is not None and not isinstance(mode, ast.Constant):
                self.add(node, "writes_files", "opens a file with a computed mode")
            else:
                self.add(node, "reads_files", "opens a file")
        if isinstance(func, ast.Attribute) and func.attr in WRITE_CALLS:
            root = _root_name(func)
            if root in self.modules or func.attr in ("write_text", "write_bytes", "tofile", "rmtree"):
                self.add(node, "writes_files", f"calls {_dotted(func)!r}")
        if name in ("system", "popen", "fork", "spawnv", "execv", "execve", "kill", "setsid", "daemon"):
            self.add(node, "starts_processes", f"calls {_dotted(func) or name!r}")
        self.generic_visit(node)


def module_aliases(source: str) -> dict[str, str]:
    """local name -> module for the top-level imports of ``source`` (trusted code: the release's
    set-up cells), to analyse later cells as if they followed it; {} when it does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return {}
    visitor = _Visitor(frozenset())
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            visitor.visit(node)
    return visitor.modules


def static_flags(source: str, *, reserved_names: tuple[str, ...] = ("check",),
                 modules: dict[str, str] | None = None) -> list[Flag]:
    """Reasons to look at ``source``, in order of appearance; an empty list for ordinary code.

    Args:
        source: the student's Python source (never executed here).
        reserved_names: names that the notebook's own checks use; (re)defining them is flagged.
        modules: local name -> module already imported before ``source`` (see :func:`module_aliases`).

    Returns:
        A list of :class:`Flag` ``(code, message)`` pairs, each message starting with ``line N:``.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        return [Flag("syntax_error", f"line {exc.lineno}: the code cannot be parsed ({exc.msg})")]
    except (ValueError, RecursionError, MemoryError) as exc:
        return [Flag("syntax_error", f"line ?: the code cannot be parsed ({type(exc).__name__})")]
    visitor = _Visitor(frozenset(reserved_names), modules)
    try:
        visitor.visit(tree)
    except RecursionError:
        visitor.flags.append(Flag("too_deep", "line ?: the code is nested too deeply to analyse"))
    return visitor.flags
