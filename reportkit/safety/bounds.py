"""How much the sandbox's operations would do and build, known before they run.

The counting machinery of :class:`.sandbox.Sandbox`: the size of what an operator, a str,
bytes or int method, or a filter would make, estimated before it is made (:func:`weight`,
:func:`binop_size`, :func:`method_size`, :data:`FILTER_SIZES`); the filters and
``str.format`` that would build before they could be counted, in bounded versions; the
rewrite that routes ``{% for %}`` loops and ``~`` joins through the counts (:class:`Hooks`);
and the wall clock (:func:`alarm`). What is counted, against which :class:`.sandbox.Limits`,
is the sandbox's: the functions here call its ``_spend``, ``_check`` and ``_charge``.
"""

from __future__ import annotations

import math
import re
import signal
import threading
import time
from contextlib import contextmanager
from functools import update_wrapper

import jinja2
from jinja2 import filters as jinja_filters
from jinja2 import nodes
from jinja2.sandbox import SandboxedFormatter
from jinja2.utils import Namespace, _PassArg, pass_environment, pass_eval_context
from jinja2.visitor import NodeTransformer


class ExpressionError(ValueError):
    """A writer's expression or chart text cannot be evaluated; the message says why."""

    lineno: int | None = None
    """The line of the evaluated text, when known."""


class LimitExceeded(ExpressionError):
    """An evaluation would do more work, or build more, than its limits
    (:class:`.sandbox.Limits`) allow."""


ITEM_WEIGHT = 10
"""An item of a list, tuple, set or dict weighs 10 characters (its separator prints 2):
weighing a collection takes time for each item, and so does every copy of it."""
TEXT = (str, bytes, bytearray)
"""Values whose size is their length, and whose methods can make long ones."""
_SEQUENCES = (*TEXT, list, tuple)
_PERCENT = re.compile(r'%(?:\([^)]*\))?[-#0 +]*([\d*]*(?:\.[\d*]*)?)')
def weight(value, cap: int) -> int:
    """About how many characters ``value`` prints as (:data:`ITEM_WEIGHT` for each item of
    a collection), counted only until past ``cap``: a list of a thousand references to one
    long string weighs what printing it would make."""
    total, todo = 0, [value]
    while todo and total <= cap:
        item = todo.pop()
        if isinstance(item, TEXT):
            total += len(item)
        elif isinstance(item, int):
            total += item.bit_length() * 30103 // 100000 + 1
        elif isinstance(item, (list, tuple, set, frozenset, dict)):
            total += 2 + ITEM_WEIGHT * len(item)
            if total <= cap:
                todo.extend(item.items() if isinstance(item, dict) else item)
        elif isinstance(item, Namespace):  # prints its attributes
            todo.append(item._Namespace__attrs)
        else:
            total += 1
    return total


def _replace_size(s, old, new, count=None) -> int:
    hits = s.count(old) if isinstance(old, type(s)) else 0
    if isinstance(count, int) and count >= 0:
        hits = min(hits, count)
    return len(s) + hits * max(0, len(new) - len(old))


def _percent_size(template, args, cap: int) -> int:
    """Characters ``template % args`` makes at most: its text, its values, and each width
    and precision (for a ``*`` one: every number among the values, to be safe)."""
    text = template if isinstance(template, str) else template.decode('latin-1')
    size, values = len(text) + weight(args, cap), args if isinstance(args, tuple) else (args,)
    for spec in _PERCENT.findall(text):
        size += sum(int(n) if len(n) < 10 else cap + 1 for n in re.findall(r'\d+', spec))
        if '*' in spec:
            size += sum(abs(v) for v in values if isinstance(v, int))
    return size


def binop_size(operator: str, left, right, cap: int) -> int:
    """Size of ``left <operator> right``, known before it is computed (0: small, or, for
    ``+``, at most twice a value already allowed)."""
    if operator == '*':
        for items, times in ((left, right), (right, left)):
            if isinstance(times, int) and isinstance(items, _SEQUENCES):
                return weight(items, cap) * max(times, 0)
        if isinstance(left, int) and isinstance(right, int):
            return weight(left, cap) + weight(right, cap)
    elif operator == '**' and isinstance(left, int) and isinstance(right, int):
        return int(right * math.log10(abs(left))) + 1 if abs(left) > 1 and right > 0 else 0
    elif operator == '%' and isinstance(left, TEXT):
        return _percent_size(left, right, cap)
    return 0


def method_size(owner, name: str, args: tuple, cap: int) -> int:
    """Size of what a str, bytes or int method would return (0: small), before it runs."""
    first = args[0] if args else None
    if name in ('center', 'ljust', 'rjust', 'zfill', 'to_bytes'):
        return first if isinstance(first, int) else 0
    if not isinstance(owner, TEXT):
        return 0
    if name == 'expandtabs':
        tabsize = 8 if first is None else first
        tabs = owner.count('\t' if isinstance(owner, str) else b'\t')
        return len(owner) + tabs * tabsize if isinstance(tabsize, int) else 0
    if name == 'replace' and len(args) >= 2:
        return _replace_size(owner, *args[:3])
    if name == 'join' and isinstance(first, list):
        return weight(first, cap) + len(owner) * max(len(first) - 1, 0)
    if name == 'translate' and isinstance(first, dict):
        return len(owner) * max([len(v) for v in first.values() if isinstance(v, TEXT)] + [1])
    return 0


@pass_eval_context
def _join(eval_ctx, value, d: str = '', attribute=None) -> str:
    """``join``, its size checked before it is built."""
    env = eval_ctx.environment
    items = list(value)
    if attribute is not None:
        items = list(map(jinja_filters.make_attrgetter(env, attribute), items))
    env._spend(len(items))
    env._check(weight(items, env.limits.max_size) + len(str(d)) * max(len(items) - 1, 0),
               "'join'")
    return jinja_filters.do_join(eval_ctx, items, d)


@pass_environment
def _sum(env, iterable, attribute=None, start=0):
    """``sum`` as one counted, size-checked ``+`` per item (adding up lists is quadratic)."""
    if isinstance(start, TEXT):
        raise TypeError("sum() can't sum strings [use ''.join(seq) instead]")
    if attribute is not None:
        iterable = map(jinja_filters.make_attrgetter(env, attribute), iterable)
    for item in iterable:
        start = env.call_binop(None, '+', start, item)
    return start


@pass_environment
def _format(env, value, *args, **kwargs) -> str:
    """``format``, which is the ``%`` operator: the same checks."""
    if args and kwargs:
        raise jinja2.FilterArgumentError("can't handle positional and keyword arguments "
                                         'at the same time')
    return env.call_binop(None, '%', str(value), kwargs or args)


FILTER_SIZES = {
    'replace': lambda s, old, new, count=None: _replace_size(str(s), str(old), str(new),
                                                            count),
    'batch': lambda value, linecount, fill_with=None: linecount,
    'slice': lambda value, slices, fill_with=None: slices,
}
"""Filters that can make a long value from a short one: the size of what they would make."""
FILTERS = {'join': _join, 'sum': _sum, 'format': _format}
"""Jinja's filters that build a value before it could be counted, as bounded versions."""


def counted(env, func, name: str, size):
    """A filter or test of ``env`` counted as an operation, its result by its size; ``size``
    gives the size of what it would make, before it runs."""
    skip = 1 if _PassArg.from_obj(func) else 0

    def wrapper(*args, **kwargs):
        env._spend()
        if size is not None and len(args) > skip:
            env._check(size(*args[skip:], **kwargs), f"'{name}'")
        value = func(*args, **kwargs)
        env._charge(value, f"'{name}'")
        return value

    return update_wrapper(wrapper, func)


class Formatter(SandboxedFormatter):
    """``str.format`` with each width and precision, and the result, capped."""

    def vformat(self, format_string, args, kwargs):
        self.size = 0
        return super().vformat(format_string, args, kwargs)

    def format_field(self, value, format_spec: str) -> str:
        cap = self._env.limits.max_size
        for digits in re.findall(r'\d+', format_spec):
            if len(digits) > 9 or int(digits) > cap:
                raise LimitExceeded(f'a format width or precision of {digits} characters; '
                                    f'at most {cap:,}')
        self._env._spend()
        text = super().format_field(value, format_spec)
        self.size += len(text)
        self._env._check(self.size, "'format'")
        return text


HOOKS = ('_loop', '_concat')
"""The sandbox's methods that the rewritten loops and joins call (they count themselves)."""


class Hooks(NodeTransformer):
    """Jinja compiles ``{% for %}`` to a plain Python loop and ``~`` to a plain join: route
    both through the sandbox, to count every iteration and check every join's size."""

    def visit_For(self, node: nodes.For) -> nodes.For:
        self.generic_visit(node)
        node.iter = _hook('_loop', node.iter)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Call:
        self.generic_visit(node)
        return _hook('_concat', *node.nodes)


def _hook(name: str, *args: nodes.Expr) -> nodes.Call:
    line = args[0].lineno
    return nodes.Call(nodes.EnvironmentAttribute(name, lineno=line), list(args), [], None,
                      None, lineno=line)


@contextmanager
def alarm(seconds: float):
    """On the main thread, raise :class:`LimitExceeded` after ``seconds`` even within one
    long step, then restore the previous SIGALRM handler and timer. (On other threads the
    operation counts look at the clock.)"""
    if threading.current_thread() is not threading.main_thread() or \
            not hasattr(signal, 'setitimer'):
        yield
        return
    armed = True

    def ring(signum, frame):
        if armed:
            raise LimitExceeded(f'the expressions take more than {seconds:g} s')

    start = time.monotonic()
    previous = signal.signal(signal.SIGALRM, ring)
    before = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        armed = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL if previous is None else previous)
        if before[0] > 0:
            left = before[0] - (time.monotonic() - start)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-6), before[1])

