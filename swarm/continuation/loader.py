"""What the continuation runtime needs from the compiler, injected by it.

The compiler depends on the runtime (compiled code calls `__swarm_support__`); the runtime must not
import the compiler back. `swarm.compiler.registry` installs these when it is imported:

    new_module_instance(name, source_hash) -> module   a fresh compiled module object
    is_compiled_code(code) -> bool                     code the compiler produced
    is_root_code(code) -> bool                         a module's top level or its resumer
"""

from __future__ import annotations

from types import CodeType, ModuleType
from typing import Callable


def _missing(*args):
    raise LookupError("no compiler loaded: import swarm.compiler before decoding continuations")


new_module_instance: Callable[[str, str], ModuleType] = _missing
is_compiled_code: Callable[[CodeType], bool] = lambda code: False  # noqa: E731
is_root_code: Callable[[CodeType], bool] = lambda code: False  # noqa: E731


def install(new_module: Callable[[str, str], ModuleType], is_compiled: Callable[[CodeType], bool],
            is_root: Callable[[CodeType], bool]) -> None:
    """Install the compiler's functions (called once, by swarm.compiler.registry)."""
    global new_module_instance, is_compiled_code, is_root_code
    new_module_instance, is_compiled_code, is_root_code = new_module, is_compiled, is_root
