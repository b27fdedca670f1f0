"""The continuation compiler: Python source -> resumable Python.

    pipeline.py   the passes in order (mangle, desugar, scopes, anf, lower, resumers), and
                  the translators of other languages by file suffix
    compiled.py   CompiledModule: what compiling one source produces; the index of its code
    registry.py   compiled modules by source hash, module instances, load_module
    hook.py       the import hook (the user's own modules are compiled)
    check.py      `swarm check`: where a program may suspend

The compiled code calls the continuation runtime (swarm.continuation.support); the compiler
knows no other language (swarm.skywriting registers its translator here).
"""

from __future__ import annotations

from swarm.compiler.compiled import CompiledModule
from swarm.compiler.errors import CompileError
from swarm.compiler.pipeline import register_translator
from swarm.compiler.registry import compile_file, compile_source, load_module

__all__ = ["CompileError", "CompiledModule", "compile_file", "compile_source", "load_module",
           "register_translator"]
