"""Templates compiled once per process, not once per document.

Every document of a batch is composed from the same templates and narrative sections,
each in its own Jinja environment (its messages, its context). Compiling a template is
most of what composing costs, so :class:`CompiledOnce` keeps the compiled code of each
source text, keyed by everything Jinja bakes into it (the environment's class and its
syntax settings). The sources are still read from their files each time, through the
containment rule and the journal of what a build read: only the compiling is shared.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import jinja2

MAX_COMPILED = 512
"""Compiled templates kept (the least recently used go first): a batch uses a few dozen."""

_COMPILED: OrderedDict[tuple, object] = OrderedDict()
_LOCK = threading.Lock()


def _settings(env: jinja2.Environment) -> tuple:
    """What Jinja's code generator reads from the environment."""
    autoescape = env.autoescape if isinstance(env.autoescape, bool) else id(env.autoescape)
    return (type(env), env.block_start_string, env.block_end_string,
            env.variable_start_string, env.variable_end_string, env.comment_start_string,
            env.comment_end_string, env.line_statement_prefix, env.line_comment_prefix,
            env.trim_blocks, env.lstrip_blocks, env.newline_sequence,
            env.keep_trailing_newline, tuple(sorted(env.extensions)), env.optimized,
            env.finalize is not None, autoescape, env.is_async)


class CompiledOnce(jinja2.Environment):
    """A Jinja environment (mixed in first) that compiles each source text once per
    process. A template with an error is compiled again each time, so that its error is
    raised, with its line, each time."""

    def compile(self, source, name=None, filename=None, raw=False, defer_init=False):
        if not isinstance(source, str):
            return super().compile(source, name, filename, raw, defer_init)
        key = (_settings(self), source, name, filename, raw, defer_init)
        with _LOCK:
            code = _COMPILED.get(key)
            if code is not None:
                _COMPILED.move_to_end(key)
                return code
        code = super().compile(source, name, filename, raw, defer_init)
        with _LOCK:
            _COMPILED[key] = code
            while len(_COMPILED) > MAX_COMPILED:
                _COMPILED.popitem(last=False)
        return code

