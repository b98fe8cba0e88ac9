"""Templates are compiled once per process (reportkit.compiled), and an edited template or
section is still what the next document shows."""

from __future__ import annotations

import jinja2
import pytest

from reportkit.compiled import CompiledOnce
from reportkit.safety.sandbox import SECTION, Sandbox, render


@pytest.fixture
def compiles(monkeypatch) -> list[str]:
    """The sources Jinja really compiles (below the memo)."""
    seen: list[str] = []
    original = jinja2.Environment.compile

    def counting(self, source, *args, **kwargs):
        if isinstance(source, str):
            seen.append(source)
        return original(self, source, *args, **kwargs)

    monkeypatch.setattr(jinja2.Environment, 'compile', counting)
    return seen


def test_a_section_compiles_once_however_many_documents_use_it(compiles):
    source = 'Exports: {{ value }} (document {{ n }}).'
    texts = [render(source, {'value': 7, 'n': n}) for n in range(5)]
    assert texts == [f'Exports: 7 (document {n}).' for n in range(5)]
    assert compiles.count(source) == 1


def test_an_edited_text_is_compiled_anew(compiles):
    first = render('Before {{ a }}.', {'a': 1})
    second = render('After {{ a }}.', {'a': 1})
    assert (first, second) == ('Before 1.', 'After 1.')
    assert compiles == ['Before {{ a }}.', 'After {{ a }}.']


def test_environments_with_other_settings_do_not_share_code(compiles):
    source = '{% if true %}\n  x\n{% endif %}\n'
    plain = Sandbox(SECTION).render(source, {})
    trimmed = Sandbox(SECTION, trim_blocks=True, lstrip_blocks=True).render(source, {})
    assert plain != trimmed
    assert (plain, trimmed) == ('\n  x\n\n', '  x\n')
    assert compiles.count(source) == 2


def test_a_template_with_an_error_says_so_each_time():
    for _ in range(2):
        with pytest.raises(jinja2.TemplateSyntaxError) as raised:
            Sandbox(SECTION).render('fine\n{{ broken ', {})
        assert raised.value.lineno == 2


def test_a_file_template_edited_on_disk_is_read_again(tmp_path, compiles):
    (tmp_path / 'page.j2').write_text('one {{ x }}', encoding='utf-8')

    def page() -> str:
        env = CompiledOnce(loader=jinja2.FileSystemLoader(tmp_path), autoescape=True)
        return env.get_template('page.j2').render(x='<b>')

    assert page() == page() == 'one &lt;b&gt;'
    (tmp_path / 'page.j2').write_text('two {{ x }}', encoding='utf-8')
    assert page() == 'two &lt;b&gt;'
    assert compiles == ['one {{ x }}', 'two {{ x }}']
