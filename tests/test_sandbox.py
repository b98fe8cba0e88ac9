"""The bounded sandbox (reportkit/safety/sandbox.py): every hostile expression ends in its own
one-line error, within a time and memory budget; ordinary expressions print what Jinja's
plain immutable sandbox prints. ``pytest -s`` shows the seconds and MB of each case."""

from __future__ import annotations

import datetime as dt
import signal
import threading
import time
import tracemalloc
from pathlib import Path

import jinja2
import pytest
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from reportkit.data.values import Values, narrative_context
from reportkit.numbers import Quantity
from reportkit.safety.sandbox import (LABEL, SECTION, ExpressionError, LimitExceeded, Limits,
                               Sandbox, format_text, render, template_line)

ROOT = Path(__file__).resolve().parent.parent
SECONDS = 6.0
MEGABYTES = 200.0


def _context() -> dict:
    """A small context shaped like the real one (values.declared_values)."""
    def usd(value: float) -> Quantity:
        return Quantity(value, 'usd', 'en')

    published = dt.date(2016, 4, 27)
    values = {'year': 2015, 'cutoff': 2015,
              'goods_trade': Values('goods_trade', {2014: usd(658.1e9), 2015: usd(577.2e9)},
                                    'data/trade.csv', published),
              'fact': Values('fact', {'ports': Quantity(119, 'plain', 'en')},
                             'data/headline.csv', published)}
    # 'ratio' divides as pct_change did before it checked its values itself.
    return {**narrative_context(values, 'en'), 'zero': usd(0.0),
            'ratio': lambda new, old: Quantity(new.value / old.value * 100, 'percent', 'en')}


def measured(case: str, run):
    """What ``run()`` returns or raises, after checking that it took less than SECONDS and
    MEGABYTES (tracemalloc's peak) and printing both."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        outcome = run()
    except Exception as error:  # noqa: BLE001 (the outcome is checked by the caller)
        outcome = error
    finally:
        seconds = time.perf_counter() - start
        megabytes = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
    print(f'{case}: {seconds:.2f} s, {megabytes:.1f} MB')
    assert seconds < SECONDS, f'{case} took {seconds:.1f} s'
    assert megabytes < MEGABYTES, f'{case} needed {megabytes:.0f} MB'
    return outcome


LONG = 'x' * 250_000
HOSTILE = [
    # (case, source, the exception's class, part of its message)
    ("'a' * 10**7 printed", "{{ 'a' * 10**7 }}", LimitExceeded,
     "'*' would make a value of 10,000,000 characters"),
    ("'a' * 10**12", "{{ 'a' * 10**12 }}", LimitExceeded, "'*' would make a value of 1,000,0"),
    ("'%0*d' % (10**8, 1)", "{{ '%0*d' % (10**8, 1) }}", LimitExceeded,
     "'%' would make a value of 100,000,0"),
    ("'%0100000000d' % 1", "{{ '%0100000000d' % 1 }}", LimitExceeded, "'%' would make"),
    ("'%0*d'|format(10**8, 1)", "{{ '%0*d'|format(10**8, 1) }}", LimitExceeded,
     "'%' would make"),
    ("'{:>999999999}'.format(1)", "{{ '{:>999999999}'.format(1) }}", LimitExceeded,
     'a format width or precision of 999999999 characters; at most 100,000'),
    ("'{x:>9999999}'.format_map(...)", "{{ '{x:>9999999}'.format_map({'x': 1}) }}",
     LimitExceeded, 'a format width or precision of 9999999'),
    ("'{0}{0}{0}'.format(long)", "{{ '{0}{0}{0}'.format('x' * 50000) }}", LimitExceeded,
     "'format' would make a value of 150,000"),
    ("'a'.ljust(10**9)", "{{ 'a'.ljust(10**9) }}", LimitExceeded,
     'ljust() would make a value of 1,000,000,000'),
    ("'ab'.center(10**9)", "{{ 'ab'.center(10**9) }}", LimitExceeded, 'center() would make'),
    ("'1'.zfill(10**9)", "{{ '1'.zfill(10**9) }}", LimitExceeded, 'zfill() would make'),
    ('expandtabs(10**6)', "{{ ('\t' * 1000).expandtabs(10**6) }}", LimitExceeded,
     'expandtabs() would make a value of 1,000,001,000'),
    ('replace() growing', "{{ ('a' * 1000).replace('a', 'b' * 1000) }}", LimitExceeded,
     'replace() would make a value of 1,000,000'),
    ('|replace growing', "{{ ('a' * 1000)|replace('a', 'b' * 1000) }}", LimitExceeded,
     "'replace' would make a value of 1,000,000"),
    ('join() with a long separator', "{{ ('x' * 1000).join(range(1000)|map('string')) }}",
     LimitExceeded, 'join() would make a value of 1,01'),
    ('|join with a long separator', "{{ range(1000)|join('x' * 1000) }}", LimitExceeded,
     "'join' would make a value of 1,01"),
    ('translate() growing', "{{ ('a' * 1000).translate({97: 'b' * 1000}) }}", LimitExceeded,
     'translate() would make a value of 1,000,000'),
    ('to_bytes(10**9)', "{{ (1).to_bytes(10**9, 'big') }}", LimitExceeded,
     'to_bytes() would make a value of 1,000,000,000'),
    ('10 ** (10 ** 10)', '{{ 10 ** (10 ** 10) }}', LimitExceeded,
     "'**' would make a number of 10,000,000,001 digits; a number may have at most 4,300"),
    ('10 ** 10 ** 10 ** 10 ** 10', '{{ 10 ** 10 ** 10 ** 10 ** 10 }}', LimitExceeded,
     "'**' would make a number of"),  # Jinja's ** groups to the left: ((10**10)**10)**10...
    ('10 ** 5000', '{{ 10 ** 5000 }}', LimitExceeded,
     "'**' would make a number of 5,001 digits"),
    ('10 ** 4000 * 10 ** 1000', '{{ 10 ** 4000 * 10 ** 1000 }}', LimitExceeded,
     "'*' would make a number of 5,00"),
    ('10.0 ** 400', '{{ 10.0 ** 400 }}', ExpressionError, 'a number is too large'),
    ('[1] * 10**9', '{{ [1] * 10**9 }}', LimitExceeded,
     "'*' would make a value of 13,000,000,000"),
    ('[list of long strings] * 1000', "{% set a = ['x' * 1000] * 90 %}{{ [a] * 1000 }}",
     LimitExceeded, "'*' would make a value of 90,914,000"),
    ('~ doubling in a loop', "{% set ns = namespace(s='a') %}{% for i in range(30) %}"
     '{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}', LimitExceeded,
     "'~' would make a value of 131,072"),
    ('+ doubling in a loop', "{% set ns = namespace(s='a') %}{% for i in range(30) %}"
     '{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s }}', LimitExceeded,
     "'+' would make a value of 131,072"),
    ('|sum of lists', '{{ ([[1]] * 3000)|sum(start=[]) }}', LimitExceeded,
     'more than 100,000 operations'),
    ('|batch filling 10**9', "{{ [1]|batch(10**9, 'x')|list }}", LimitExceeded,
     "'batch' would make a value of 1,000,000,000"),
    ('two nested loops of 100,000', '{% for i in range(100000) %}{% for j in range(100000) %}'
     '{% endfor %}{% endfor %}', LimitExceeded, 'more than 100,000 operations'),
    ('nested loops over a long string', "{% set s = 'x' * 100000 %}{% for c in s %}"
     '{% for d in s %}{% endfor %}{% endfor %}', LimitExceeded,
     'more than 100,000 operations'),
    ('loops over a 250 KB literal', f"{{% for c in '{LONG}' %}}{{% for d in '{LONG}' %}}"
     '{% endfor %}{% endfor %}', LimitExceeded, 'more than 100,000 operations'),
    ('a loop with a false test', '{% for i in range(100000) %}{% for j in range(100000) '
     'if false %}{% endfor %}{% endfor %}', LimitExceeded, 'more than 100,000 operations'),
    ('a 250 KB string literal printed', f"{{{{ '{LONG}' }}}}", LimitExceeded,
     'printing it would make a value of 250,000 characters'),
    ('output past the cap', "{% set s = 'x' * 99999 %}{% for i in range(20) %}{{ s }}"
     '{% endfor %}', LimitExceeded, 'the text expands to more than 300,000 characters'),
    ('output into a macro buffer', "{% macro m() %}{% for i in range(100000) %}"
     "{{ 'x' * 99999 }}{% endfor %}{% endmacro %}{{ m()|length }}", LimitExceeded,
     'more than 100,000 operations'),
    ('range(10**9)', '{{ range(10**9) }}', LimitExceeded,
     'range() of 1,000,000,000 numbers; at most 100,000 can ever be used'),
    ('range(10**100)', '{% for i in range(10**100) %}{% endfor %}', LimitExceeded,
     'range() of about 1e+100 numbers'),
    ('a macro calling itself', '{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}',
     LimitExceeded, 'nested more than 30 deep (one that calls itself?)'),
    ('a macro calling itself twice', '{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}'
     '{% endif %}{% endmacro %}{{ f(25) }}', LimitExceeded, 'more than 100,000 operations'),
    ('a recursive loop', '{% for x in [1] recursive %}{{ loop([1]) }}{% endfor %}',
     LimitExceeded, 'nested more than 30 deep'),
    ('a block calling itself', '{% block a %}{{ self.a() }}{% endblock %}', LimitExceeded,
     'nested more than 30 deep'),
    ('parentheses 300 deep', '{{ ' + '(' * 300 + '1' + ')' * 300 + ' }}', LimitExceeded,
     'the expressions are nested too deeply'),
    ('25 nested loops', '{% for i in [1] %}' * 25 + '{% endfor %}' * 25, ExpressionError,
     'the expressions cannot be compiled (too many statically nested blocks)'),
    ('map(attribute=) of a missing attribute', "{{ [1, 2]|map(attribute='x')|list }}",
     jinja2.UndefinedError, "'int object' has no attribute 'x'"),
    ('attr() of a missing attribute', "{{ [1|attr('nope')] }}", jinja2.UndefinedError,
     "has no attribute 'nope'"),
    ('default() of an undefined', '{{ nope|default(nope_too) }}', jinja2.UndefinedError,
     "'nope_too' is undefined"),
    ('first of nothing, in a list', '{{ [[]|first] }}', jinja2.UndefinedError,
     'No first item, sequence was empty.'),
    ('a missing year', '{{ goods_trade[2030] }}', jinja2.UndefinedError,
     'goods_trade[2030]: no value for 2030 in data/trade.csv; this edition has 2014–2015 '
     '(this edition is dated April 27, 2016)'),
    ('__class__', '{{ year.__class__ }}', SecurityError,
     "access to attribute '__class__' of 'int' object is unsafe"),
    ('lipsum(10**6)', '{{ lipsum(10**6) }}', jinja2.UndefinedError, "'lipsum' is undefined"),
    ('|urlize', "{{ 'a.b'|urlize }}", jinja2.TemplateAssertionError,
     "No filter named 'urlize'"),
    ('1 / 0', '{{ 1 / 0 }}', ExpressionError, 'division by zero'),
    ('a helper dividing by 0', '{{ ratio(goods_trade[year], zero) }}', ExpressionError,
     'division by zero'),
    ('a helper given a number', '{{ ratio(goods_trade[year], 0) }}', ExpressionError,
     "'int' object has no attribute 'value'"),
    ('a helper asked for 100 digits', '{{ goods_trade[year].rounded(100) }}', ExpressionError,
     'the value cannot be computed (InvalidOperation)'),
    ("'%(a)s' % {}", "{{ '%(a)s' % {} }}", ExpressionError, "no such key: 'a'"),
    ('include', "{% include 'x' %}", ExpressionError, 'no loader for this environment'),
]


@pytest.mark.parametrize('case, source, kind, message', HOSTILE, ids=[c[0] for c in HOSTILE])
def test_hostile_expressions_end_in_their_message(case, source, kind, message):
    context = _context()
    error = measured(case, lambda: render(source, context))
    assert type(error) is kind, f'{case}: {error!r}'
    assert message in str(error)


def test_the_wall_clock_stops_one_long_step_on_the_main_thread():
    # 'unique' loops in Python over 20 million characters without a counted operation:
    # only the alarm can stop it (the size cap is lifted so that the value can be built).
    limits = Limits(max_operations=10**9, max_output=10**9, max_size=10**8, max_depth=30,
                    seconds=0.5)
    error = measured('one long step', lambda: render(
        "{{ ('ab' * 10**7)|unique|list|length }}", {}, limits))
    assert type(error) is LimitExceeded
    assert 'the expressions take more than 0.5 s' in str(error)


def test_the_wall_clock_stops_a_loop_on_another_thread():
    limits = Limits(max_operations=10**9, max_output=10**9, max_size=10**5, max_depth=30,
                    seconds=0.5)
    outcome = []

    def run():
        outcome.append(measured('a long loop on a thread', lambda: render(
            '{% for i in range(10**8) %}{% endfor %}', {}, limits)))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(SECONDS)
    assert outcome, f'still running after {SECONDS} s'
    assert type(outcome[0]) is LimitExceeded
    assert 'the expressions take more than 0.5 s' in str(outcome[0])


def test_the_previous_alarm_is_restored():
    def previous(signum, frame):  # pragma: no cover (never rings within the test)
        raise AssertionError('the previous alarm rang')

    old = signal.signal(signal.SIGALRM, previous)
    signal.setitimer(signal.ITIMER_REAL, 100)
    try:
        assert render('{{ year }}', {'year': 2015}) == '2015'
        assert signal.getsignal(signal.SIGALRM) is previous
        assert 99 < signal.getitimer(signal.ITIMER_REAL)[0] <= 100
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert signal.getitimer(signal.ITIMER_REAL)[0] == 0


def test_the_error_says_its_line():
    with pytest.raises(LimitExceeded) as caught:
        render("one\ntwo {{ year }}\nthree {{ 'a' * 10**7 }}\n", {'year': 2015})
    assert template_line(caught.value) == 3
    with pytest.raises(ExpressionError) as caught:
        render('one\n\n{{ 1 / 0 }}', {})
    assert template_line(caught.value) == 3 and caught.value.lineno == 3
    with pytest.raises(jinja2.UndefinedError) as caught:
        render('one\n{{ nope }}', {})
    assert template_line(caught.value) == 2


ORDINARY = [
    'Trade was {{ goods_trade[year] }} in {{ year }}, {{ goods_trade[year - 1] }} before.',
    'Down {{ pct_change(goods_trade[year], goods_trade[year - 1]) | abs }}; '
    '{{ per_minute(goods_trade[year]) }} a minute; {{ fact.ports }} ports.',
    '{{ (year - 2000) * 2 + 1 }} {{ 7 // 2 }} {{ 7 % 3 }} {{ 2 ** 10 }} {{ 7 / 2 }} '
    '{{ -3|abs }}',
    '{{ 2.567|round(1) }} {{ 2.5|round }} {{ 1234.5|int }} {{ (3.14159 * 2)|round(2) }}',
    '{% for y in [2013, 2014, 2015] %}{{ y }}{% if not loop.last %}, {% endif %}{% endfor %}',
    "{{ [3, 1, 2]|sort|join(', ') }} {{ [1, 2, 3]|sum }} {{ 'Abc'|upper }} "
    "{{ 'a' ~ 1 ~ 'b' }}",
    "{{ '%05.1f' % 3.14159 }} {{ '{:,.1f}'.format(12345.678) }} {{ '%s-%s'|format(1, 2) }}",
    "{{ nope|default('n/a') }} {{ [goods_trade[2014], goods_trade[2015]]|map(attribute="
    "'value')|map('int')|join(' / ') }} {{ 'a-b'|replace('-', ' to ') }}",
    '{% macro pair(a, b) %}{{ a }} and {{ b }}{% endmacro %}{{ pair(year, cutoff) }}\n',
    "{% set s = 'x' * 50 %}{{ s|length }} {{ s[:3] }} {{ 'a b c'.split()|list }}",
    "{{ '{:>8}'.format(year) }} {{ '%8d' % year }} {{ 'ab'.center(6, '*') }}",
]


@pytest.mark.parametrize('source', ORDINARY)
def test_ordinary_expressions_print_what_the_plain_sandbox_prints(source):
    plain = ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False,
                                          keep_trailing_newline=True)
    context = _context()
    expected = plain.from_string(source).render(context)
    assert render(source, context) == expected
    assert 'Undefined' not in expected


def test_the_budget_counts_operations():
    sandbox = Sandbox()
    assert sandbox.render('{% for i in range(10) %}{{ i }}{% endfor %}', {}) == '0123456789'
    assert 20 <= sandbox.operations <= 30  # the range, ten iterations, ten printed values
    small = Limits(max_operations=25, max_output=100, max_size=100, max_depth=1, seconds=1)
    with pytest.raises(LimitExceeded, match='more than 25 operations'):
        render('{% for i in range(20) %}{{ i }}{% endfor %}', {}, small)


def test_each_evaluation_has_the_whole_budget_after_one_that_overran():
    """The sandboxes are reused (one per thread and limits): an evaluation that overran
    leaves nothing counted against the next."""
    small = Limits(max_operations=25, max_output=100, max_size=100, max_depth=1, seconds=1)
    loop = '{% for i in range(8) %}{{ i }}{% endfor %}'   # some 20 operations
    for _ in range(3):
        with pytest.raises(LimitExceeded):
            render('{% for i in range(20) %}{{ i }}{% endfor %}', {}, small)
        assert render(loop, {}, small) == '01234567'
        assert format_text('{n} of {m}', {'n': 1, 'm': 2}, small) == '1 of 2'


def test_every_real_section_expands_as_before_with_room_to_spare():
    """Every section of reports/ gives the same text as the plain sandbox, using few of
    the operations the budget allows (the largest is printed with -s)."""
    from reportkit.charts.specs import load_chart_specs
    from reportkit.data.view import data_view
    from reportkit.load.edition import load_edition
    from reportkit.project import Project

    project = Project.at(ROOT)
    plain = ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False,
                                          keep_trailing_newline=True)
    largest, count = (0, ''), 0
    for name in project.editions():
        edition = load_edition(project, name)
        config = edition.config
        view, problems = data_view(project, edition, list(config.languages),
                                   load_chart_specs(project, edition))
        assert view is not None, problems
        # A batch edition: its first document and the District of Columbia's.
        items = [view.items[0], 'DC'] if view.items else [None]
        for item, lang in ((item, lang) for item in items for lang in config.languages):
            context = narrative_context(view.values[lang], lang, {
                'year': config.year, 'published': str(config.publication_date),
                **view.document(item, lang)})
            for section in edition.sections[lang]:
                body = section.body
                sandbox = Sandbox()
                assert sandbox.render(body, context) == plain.from_string(body).render(context)
                largest = max(largest, (sandbox.operations, section.shown))
                count += 1
    print(f'{count} sections; the largest uses {largest[0]} operations ({largest[1]})')
    assert count >= 40
    assert 0 < largest[0] < SECTION.max_operations // 100


VALUES = {'first_x': '2002', 'first_y': '371.3', 'last_x': '2015', 'last_y': '577.2',
          'max_x': '2014', 'max_y': '658.1', 'min_x': '2002', 'min_y': '371.3', 'count': 14}


def test_chart_texts_format_their_values():
    assert format_text('Trade, {first_x}–{last_x}: US${last_y} billion', VALUES) == \
        'Trade, 2002–2015: US$577.2 billion'
    assert format_text('The {count:d} years; {count:>4}|{first_x!s}', VALUES) == \
        'The 14 years;   14|2002'
    assert format_text('{{literal}} braces', VALUES) == '{literal} braces'


CHART_HOSTILE = [
    ('{first_x.__class__.__mro__}', SecurityError,
     "access to attribute '__class__' of 'str' object is unsafe"),
    ('{first_x.upper}', ExpressionError, 'a placeholder names a value, like {first_x}'),
    ('{first_x[0]}', ExpressionError, 'without attributes or indexes'),
    ('{first_x:>5000000}', LimitExceeded, 'a format width or precision of 5000000'),
    ('{count:.999999999999}', LimitExceeded, 'a format width or precision of 999999999999'),
    ('{first_x:>900}{first_x:>900}', LimitExceeded, "'format' would make a value of 1,800"),
    ('x' * 1001, LimitExceeded, 'the text would have 1,001 characters; at most 1,000'),
    ('Trade in {first_x', ExpressionError,
     "'{first_x' is not closed: write {{ for a literal brace"),
    ('Trade in first_x}', ExpressionError, "a '}' that closes nothing: write }}"),
    ('Trade in {0}', ExpressionError, 'a numbered placeholder ({} or {0})'),
    ('Trade in {}', ExpressionError, 'a numbered placeholder'),
    ('Trade in {first_z}', ExpressionError, 'unknown placeholder {first_z} (known: count, '
     'first_x, first_y, last_x, last_y, max_x, max_y, min_x, min_y)'),
    ('{first_x:d}', ExpressionError, "Unknown format code 'd' for object of type 'str'"),
]


@pytest.mark.parametrize('template, kind, message', CHART_HOSTILE,
                         ids=[c[0][:30] for c in CHART_HOSTILE])
def test_hostile_chart_texts_end_in_their_message(template, kind, message):
    error = measured(f'chart text {template[:30]!r}', lambda: format_text(template, VALUES))
    assert type(error) is kind, repr(error)
    assert message in str(error)


def test_chart_text_limits_can_be_chosen():
    title = Limits(max_operations=10, max_output=200, max_size=200, max_depth=0, seconds=1)
    with pytest.raises(LimitExceeded, match='at most 200'):
        format_text('{first_x}' + 'y' * 200, VALUES, title)
    assert LABEL.max_output == 1_000 and format_text('y' * 1000, VALUES) == 'y' * 1000
