"""Writers' expressions and chart texts, evaluated within fixed limits.

The narrative's ``{{ ... }}`` expressions and the charts' ``{first_x}`` texts are written by
people trusted to write, not to reach into the machine. Jinja's immutable sandbox keeps
them away from Python's internals; this module also keeps them from making unbounded
work. Calls, lookups, operators, filters and loop iterations are counted against a
budget; no value may grow past a fixed size (checked before it is built wherever the size
can be known); the output is capped; macros nest only so deep; a wall clock stops what
the counts cannot see. A limit ends the evaluation with :class:`LimitExceeded`, any other
mistake with :class:`ExpressionError` or Jinja's ``TemplateSyntaxError``, ``UndefinedError``
or ``SecurityError``: a one-line message, never a traceback (:func:`template_line`: where).
The sizes known before a value is built, the counted filters, the rewrite of loops and
joins and the clock are :mod:`.bounds`; this module applies them to every evaluation.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from functools import update_wrapper

import jinja2
from jinja2 import nodes
from jinja2.runtime import BlockReference, LoopContext, Macro
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from jinja2.utils import pass_context

from reportkit.compiled import CompiledOnce
from reportkit.safety.bounds import (FILTER_SIZES, FILTERS, HOOKS, ITEM_WEIGHT, TEXT, ExpressionError,
                     Formatter, Hooks, LimitExceeded, alarm, binop_size, counted, method_size,
                     weight)


@dataclass(frozen=True)
class Limits:
    """How much one evaluation may do (the numbers and why: :data:`SECTION`, :data:`LABEL`)."""

    max_operations: int
    """Calls, lookups, operators, filters, loop iterations; see :data:`CHARS_PER_OPERATION`
    and :data:`CALL_OPERATIONS`."""
    max_output: int
    """Characters of the whole result."""
    max_size: int
    """Characters of any one value an operation builds or prints (see
    :data:`.bounds.ITEM_WEIGHT`)."""
    max_depth: int
    """Nested calls of macros, blocks and recursive loops."""
    seconds: float
    """Wall-clock time: the backstop for work the counts do not see."""


CHARS_PER_OPERATION = 100
"""A value built costs one more operation per 100 characters, so that the budget bounds
memory as well as time: 100,000 operations build at most 10 MB."""
MAX_DIGITS = 4300
"""Digits of a whole number: Python prints no longer ones (``sys.get_int_max_str_digits``),
so ``10 ** 5000`` is refused before it is computed."""
CALL_OPERATIONS = 10
"""A call of a macro or block costs 10 operations: it takes about 5 µs, an operation 0.5
to 1.5 µs, so that a macro calling itself twice uses the budget up as fast as a loop."""

SECTION = Limits(max_operations=100_000, max_output=300_000, max_size=100_000,
                 max_depth=30, seconds=5.0)
"""Limits for one narrative section.

- 100,000 operations: the largest real sections (reports/2015/{en,fr}/trade.md) use 81; the
  hostile cases of tests/test_sandbox.py use the budget up in 0.02 to 0.12 s.
- 300,000 characters of output: a section file is at most 256 KB (``load.MAX_SECTION_BYTES``)
  and a chapter's values print a few hundred characters; a little more than the largest
  file keeps what markdown-it must parse (16 µs a character at worst, for a run of '[')
  and WeasyPrint lay out near the size ``load`` already accepts.
- 100,000 characters for one value: the longest a real section prints has 37 ("616,9
  milliards de dollars américains"); three values that long already pass the output cap.
- 30 nested macro calls: real sections define none; one level takes 8 Python frames, so
  this message comes well before Python's recursion limit (1,000 frames).
- 5 s: a real section expands in 1 to 15 ms; the clock only stops work the counts do not
  see (comparing or searching long values inside a loop), within a build of seconds.
"""

LABEL = Limits(max_operations=100, max_output=1_000, max_size=1_000, max_depth=0,
               seconds=1.0)
"""Limits for one chart title, alt text or source line: the longest real one (an alt text)
has 10 placeholders and 250 characters. A screen reader reads all of it, so 1,000
characters, or a field wider than that, is a mistake."""

_NESTING = (Macro, BlockReference, LoopContext)
_REMOVED_FILTERS = ('urlize', 'xmlattr', 'tojson', 'random', 'center', 'indent', 'wordwrap')
"""HTML, which the narrative refuses anyway; a different text on every build; and layout
for plain text, meaningless in Markdown. (Each of urlize, center, indent and wordwrap can
also make a long value from a short one.)"""


class StrictUndefined(jinja2.StrictUndefined):
    """Strict also inside the values filters build (``map(attribute=...)``, ``attr``,
    ``default``, ``first``): printing a list of them fails, where Jinja shows "[Undefined]".
    Objects with ``_missing(key)`` (``values.Values``) say why a key is absent."""

    __slots__ = ()
    __repr__ = __format__ = __abs__ = __round__ = \
        jinja2.StrictUndefined._fail_with_undefined_error

    @property
    def _undefined_message(self) -> str:
        missing = getattr(self._undefined_obj, '_missing', None)
        if callable(missing) and self._undefined_name is not None and \
                self._undefined_hint is None:
            return missing(self._undefined_name)
        return super()._undefined_message


@pass_context
def _finalize(context, value) -> str:
    return context.environment._printed(value)


class _LabelFormatter(Formatter):
    """Chart texts name values, nothing more: ``{first_x}``, ``{count:d}``."""

    def get_value(self, key, args, kwargs):
        known = ', '.join(sorted(kwargs))
        if isinstance(key, int):
            raise ExpressionError(f'a numbered placeholder ({{}} or {{{key}}}): name a value '
                                  f'instead (known: {known})')
        if key not in kwargs:
            raise ExpressionError(f'unknown placeholder {{{key}}} (known: {known})')
        return kwargs[key]

    def get_field(self, field_name, args, kwargs):
        value, first = super().get_field(field_name, args, kwargs)
        if isinstance(value, jinja2.Undefined):
            value._fail_with_undefined_error()  # the sandbox's SecurityError for '_' names
        if str(first) != field_name:
            raise ExpressionError(f'{{{field_name}}}: a placeholder names a value, like '
                                  f'{{{first}}}, without attributes or indexes')
        return value, first


class Sandbox(CompiledOnce, ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, with strict undefined values everywhere, that counts and
    caps the work of an evaluation (``operations`` is the count of the last one)."""

    intercepted_binops = frozenset(ImmutableSandboxedEnvironment.default_binop_table)

    def __init__(self, limits: Limits = SECTION, **options) -> None:
        # Not optimized: no writer's expression is evaluated while compiling, uncounted.
        # ``options``: Jinja's whitespace options (an email template trims its blocks).
        super().__init__(undefined=StrictUndefined, autoescape=False, optimized=False,
                         keep_trailing_newline=True, finalize=_finalize, **options)
        self.limits, self.operations, self._depth = limits, 0, 0
        self._deadline = float('inf')
        self.globals.pop('lipsum', None)  # random text, of any length
        self.globals['range'] = self._range
        for name in _REMOVED_FILTERS:
            del self.filters[name]
        self.filters.update(FILTERS)
        self.filters.update({name: counted(self, func, name, FILTER_SIZES.get(name))
                             for name, func in self.filters.items()})
        self.tests.update({name: counted(self, func, name, None)
                           for name, func in self.tests.items()})

    def render(self, source: str, context: dict) -> str:
        """``source`` evaluated with ``context``, within the limits."""
        self.operations, self._depth = 0, 0
        self._deadline = time.monotonic() + self.limits.seconds
        try:
            with alarm(self.limits.seconds):
                return self._collect(self.from_string(source).generate(context))
        except (ExpressionError, jinja2.TemplateSyntaxError, jinja2.UndefinedError,
                SecurityError):
            raise
        except (RecursionError, MemoryError, ArithmeticError, SyntaxError, TypeError,
                ValueError, LookupError, AttributeError, jinja2.TemplateError) as error:
            raise _plain(error) from None
        finally:
            self._deadline = float('inf')

    def _collect(self, pieces) -> str:
        out, size = [], 0
        try:
            for piece in pieces:
                size += len(piece)
                if size > self.limits.max_output:
                    raise LimitExceeded(f'the text expands to more than '
                                        f'{self.limits.max_output:,} characters')
                out.append(piece)
        finally:
            pieces.close()
        return ''.join(out)

    def _parse(self, source, name, filename) -> nodes.Template:
        return Hooks().visit(super()._parse(source, name, filename))

    def _spend(self, operations: int = 1) -> None:
        self.operations += operations
        if self.operations > self.limits.max_operations:
            raise LimitExceeded(f'the expressions need more than '
                                f'{self.limits.max_operations:,} operations (a loop or a '
                                'macro that does too much?)')
        if time.monotonic() > self._deadline:
            raise LimitExceeded(f'the expressions take more than {self.limits.seconds:g} s')

    def _check(self, size: int, what: str) -> None:
        if size > self.limits.max_size:
            raise LimitExceeded(f'{what} would make a value of {size:,} characters; one '
                                f'value may have at most {self.limits.max_size:,} (an item '
                                f'of a list counts {ITEM_WEIGHT})')

    def _charge(self, value, what: str) -> None:
        """Count a value built by its size, and refuse it when it is too large."""
        size = weight(value, self.limits.max_size)
        self._check(size, what)
        self._spend(size // CHARS_PER_OPERATION)

    # The sandbox's hooks.

    def getattr(self, obj, attribute):
        self._spend()
        return super().getattr(obj, attribute)

    def getitem(self, obj, argument):
        self._spend()
        value = super().getitem(obj, argument)
        if isinstance(argument, slice):
            self._charge(value, 'a slice')
        return value

    def call_binop(self, context, operator, left, right):
        self._spend()
        size = binop_size(operator, left, right, self.limits.max_size)
        if isinstance(left, int) and isinstance(right, int) and size > MAX_DIGITS:
            raise LimitExceeded(f"'{operator}' would make a number of {size:,} digits; a "
                                f'number may have at most {MAX_DIGITS:,}')
        self._check(size, f"'{operator}'")
        value = super().call_binop(context, operator, left, right)
        self._charge(value, f"'{operator}'")
        return value

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 (as Jinja's)
        owner, name = getattr(__obj, '__self__', None), getattr(__obj, '__name__', '')
        if owner is __self and name in HOOKS:
            return __obj(*args)
        if isinstance(__obj, _NESTING):
            return __self._nested(__context, __obj, args, kwargs)
        __self._spend()
        if isinstance(owner, TEXT) and name == 'join' and args:
            args = (list(args[0]), *args[1:])
            __self._spend(len(args[0]))
        __self._check(method_size(owner, name, args, __self.limits.max_size)
                      if isinstance(owner, (*TEXT, int)) else 0, f'{name}()')
        value = super().call(__context, __obj, *args, **kwargs)
        __self._charge(value, f'{name or "the call"}()')
        return value

    def _nested(self, context, obj, args: tuple, kwargs: dict):
        """A macro, a block or a recursive loop: one level deeper, and costlier."""
        self._spend(CALL_OPERATIONS)
        if isinstance(obj, LoopContext) and args:
            args = (self._loop(args[0]), *args[1:])
        if self._depth >= self.limits.max_depth:
            raise LimitExceeded(f'macros, blocks or recursive loops nested more than '
                                f'{self.limits.max_depth} deep (one that calls itself?)')
        self._depth += 1
        try:
            return super().call(context, obj, *args, **kwargs)
        finally:
            self._depth -= 1

    def wrap_str_format(self, value):
        if super().wrap_str_format(value) is None:
            return None
        text, is_map, formatter = value.__self__, value.__name__ == 'format_map', \
            Formatter(self)

        def bounded(*args, **kwargs):
            if is_map:
                if kwargs or len(args) != 1:
                    raise TypeError('format_map() takes exactly one argument')
                args, kwargs = (), args[0]
            return type(text)(formatter.vformat(text, args, kwargs))

        return update_wrapper(bounded, value)

    # What Hooks and the output route through, and the globals.

    def _loop(self, iterable):
        for item in iterable:
            self._spend()
            yield item

    def _concat(self, *values) -> str:
        self._spend()
        parts = [str(value) for value in values]
        self._check(sum(map(len, parts)), "'~'")
        return self._printed(''.join(parts))

    def _printed(self, value) -> str:
        text = str(value)
        self._check(len(text), 'printing it')
        self._spend(1 + len(text) // CHARS_PER_OPERATION)
        return text

    def _range(self, *args: int) -> range:
        numbers = range(*args)
        low, high, step = (numbers.start, numbers.stop, numbers.step) if numbers.step > 0 \
            else (numbers.stop, numbers.start, -numbers.step)
        count = max(0, (high - low - 1) // step + 1)  # len() overflows past 2**63
        if count > self.limits.max_operations:
            shown = f'{count:,}' if count < 10**12 else f'about {count:.0e}'
            raise LimitExceeded(f'range() of {shown} numbers; at most '
                                f'{self.limits.max_operations:,} can ever be used')
        return numbers


def _plain(error: BaseException) -> ExpressionError:
    """An error from inside an evaluation as one of ours, with a plain message."""
    if isinstance(error, RecursionError):
        plain = LimitExceeded('the expressions are nested too deeply (parentheses, or a '
                              'macro that calls itself?)')
    elif isinstance(error, MemoryError):
        plain = LimitExceeded('the expressions need more memory than there is')
    elif isinstance(error, ZeroDivisionError):
        plain = ExpressionError('division by zero')
    elif isinstance(error, OverflowError):
        plain = ExpressionError(f'a number is too large ({error.args[-1]})')
    elif isinstance(error, ArithmeticError):
        plain = ExpressionError(f'the value cannot be computed ({type(error).__name__})')
    elif isinstance(error, SyntaxError):
        plain = ExpressionError(f'the expressions cannot be compiled ({error.msg})')
    elif isinstance(error, KeyError):
        plain = ExpressionError(f'no such key: {error}')
    else:
        plain = ExpressionError(str(error).split('; use sys.')[0] or type(error).__name__)
    plain.lineno = None if isinstance(error, SyntaxError) else template_line(error)
    return plain


def template_line(error: BaseException) -> int | None:
    """The line of the evaluated text (1: its first) where ``error`` happened, if known:
    Jinja shows template lines as frames of the file '<template>'."""
    if isinstance(error, (jinja2.TemplateSyntaxError, ExpressionError)) and error.lineno:
        return error.lineno
    line, tb = None, error.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == '<template>':
            line = tb.tb_lineno  # the innermost template frame: the line that failed
        tb = tb.tb_next
    return line


def render(source: str, context: dict, limits: Limits = SECTION) -> str:
    """``source`` (a section's body) with its ``{{ ... }}`` evaluated in the bounded sandbox.

    Raises ``TemplateSyntaxError``, ``UndefinedError``, ``SecurityError``,
    :class:`LimitExceeded` or :class:`ExpressionError`, each with a one-line message."""
    with _borrowed(limits) as sandbox:
        return sandbox.render(source, context)


_FREE = threading.local()
"""Per thread, per limits: the sandboxes not in use (making one wraps every filter)."""


@contextmanager
def _borrowed(limits: Limits):
    """A sandbox with these limits, for one evaluation: a free one of this thread's, or a
    new one (an evaluation inside another gets its own)."""
    free = _FREE.__dict__.setdefault(limits, [])
    sandbox = free.pop() if free else Sandbox(limits)
    try:
        yield sandbox
    finally:
        sandbox.operations, sandbox._depth = 0, 0
        free.append(sandbox)


def _unclosed(template: str) -> int:
    """Where the first '{' that no '}' closes stands (before the next '{')."""
    index = 0
    while (index := template.find('{', index)) != -1:
        if template.startswith('{{', index):
            index += 2
            continue
        close, reopen = template.find('}', index), template.find('{', index + 1)
        if close == -1 or -1 < reopen < close:
            return index
        index = close + 1
    return max(template.rfind('{'), 0)


def format_text(template: str, values: dict, limits: Limits = LABEL) -> str:
    """A chart text: its ``{name}`` placeholders (optionally with a format spec:
    ``{count:d}``) replaced by ``values``. Only names; widths and the result are capped.

    Raises ``SecurityError`` (a name starting with '_'), :class:`LimitExceeded` or
    :class:`ExpressionError`."""
    try:
        with _borrowed(limits) as sandbox:
            text = _LabelFormatter(sandbox).vformat(template, (), values)
    except (ExpressionError, SecurityError):
        raise
    except (ValueError, TypeError, LookupError, AttributeError) as error:
        message = str(error)
        if ("expected '}'" in message or "Single '{'" in message
                or "unexpected '{'" in message):
            start = _unclosed(template)
            message = (f'{template[start:start + 40]!r} is not closed: write {{{{ for a '
                       'literal brace')
        elif "Single '}'" in message:
            message = "a '}' that closes nothing: write }} for a literal brace"
        raise ExpressionError(message) from None
    if len(text) > limits.max_output:
        raise LimitExceeded(f'the text would have {len(text):,} characters; at most '
                            f'{limits.max_output:,}')
    return text
