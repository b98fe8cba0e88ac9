"""The render stage on its own: strict about WeasyPrint's complaints, contained, atomic."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import pytest

from reportkit.cli import main
from reportkit.errors import RenderError
from reportkit.render.pdf import render_pdf

from .conftest import ROOT

FONTS = ROOT / 'templates' / 'fonts'


def page(body: str, css: str = '') -> str:
    return ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>T</title>'
            '<style>@font-face { font-family: "Noto Sans"; src: url(NotoSans-Regular.ttf); }'
            f'html {{ font-family: "Noto Sans"; }} {css}</style></head><body>{body}</body></html>')


@pytest.fixture
def doc(tmp_path):
    folder = tmp_path / 'doc'
    folder.mkdir()
    (folder / 'NotoSans-Regular.ttf').write_bytes((FONTS / 'NotoSans-Regular.ttf').read_bytes())
    (tmp_path / 'outside.png').write_bytes(b'not really a png')
    return folder


def render(folder, tmp_path):
    return render_pdf(folder / 'index.html', tmp_path / 'out.pdf', allowed=[folder],
                      fonts_dir=FONTS, scratch=tmp_path / 'scratch')


def test_a_clean_page_renders(doc, tmp_path):
    (doc / 'index.html').write_text(page('<h1>Greeting</h1><p>Hello</p>'))
    result = render(doc, tmp_path)
    assert result.pages == 1 and (tmp_path / 'out.pdf').read_bytes().startswith(b'%PDF')


@pytest.mark.parametrize('src', ['http://example.org/x.png', 'https://example.org/x.png',
                                 'file:///etc/hostname', '../outside.png'])
def test_resources_outside_the_document_are_refused(doc, tmp_path, src):
    (doc / 'index.html').write_text(page(f'<p>Hi</p><img src="{src}" alt="x">'))
    with pytest.raises(RenderError) as error:
        render(doc, tmp_path)
    assert 'refused to load' in str(error.value)
    assert not (tmp_path / 'out.pdf').exists()


def test_a_weasyprint_warning_fails_the_build_with_its_message(doc, tmp_path):
    (doc / 'index.html').write_text(page('<p>Hi</p>', css='p { colour: red; }'))
    (tmp_path / 'out.pdf').write_bytes(b'previous')
    with pytest.raises(RenderError) as error:
        render(doc, tmp_path)
    assert "warning: Ignored `colour: red` at 1:" in str(error.value)
    assert (tmp_path / 'out.pdf').read_bytes() == b'previous'


def test_an_image_without_alt_text_fails_the_build(doc, tmp_path):
    (doc / 'pic.svg').write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>')
    (doc / 'index.html').write_text(page('<p>Hi</p><img src="pic.svg">'))
    with pytest.raises(RenderError) as error:
        render(doc, tmp_path)
    assert 'no required alt description' in str(error.value)


def test_same_inputs_same_bytes_even_without_system_fonts(built_2015_en, tmp_path):
    """A second build in a fresh process that can see no system font at all."""
    out = tmp_path / 'again.pdf'
    env = {**os.environ, 'FONTCONFIG_PATH': str(tmp_path / 'no-fonts'),
           'XDG_DATA_HOME': str(tmp_path), 'HOME': str(tmp_path)}
    env.pop('FONTCONFIG_FILE', None)
    subprocess.run([sys.executable, str(ROOT / 'make_report.py'), 'build', '2015',
                    '--lang', 'en', '--out', str(out), '--no-cache'], check=True, env=env,
                   capture_output=True)
    first = hashlib.sha256(built_2015_en[0].read_bytes()).hexdigest()
    assert hashlib.sha256(out.read_bytes()).hexdigest() == first


def test_a_stylesheet_warning_names_the_project_file(project_copy, tmp_path, capsys):
    """WeasyPrint names a CSS line but no file: the build says which of our files."""
    with (project_copy / 'templates/print.css').open('a', encoding='utf-8') as stream:
        stream.write('\np { colr: red; }\n')
    status = main(['--project', str(project_copy), 'build', '2015', '--lang', 'en', '--out',
                   str(tmp_path / 'x.pdf')])
    err = capsys.readouterr().err
    assert status == 1
    assert 'templates/print.css: warning: Ignored `colr: red` at ' in err
    assert str(project_copy / 'build') not in err and '.staging' not in err


def test_a_long_word_is_broken_inside_the_margins(project_copy, tmp_path, capsys):
    """An unbroken run of 190 characters (a long address, say) is set on several lines,
    never past the right margin."""
    import pdfplumber
    word = 'x' * 190
    with (project_copy / 'reports/beyond-the-border/2015/en/threats.md').open('a', encoding='utf-8') as stream:
        stream.write(f'\nSee {word} for more.\n')
    out = tmp_path / 'long.pdf'
    assert main(['--project', str(project_copy), 'build', '2015', '--lang', 'en', '--out',
                 str(out), '-j', '1']) == 0, capsys.readouterr().err[-2000:]
    points = 72 / 25.4
    found = 0
    with pdfplumber.open(out) as document:
        for page in document.pages[1:]:
            for char in page.chars:
                assert char['x1'] <= page.width - 22 * points + 1, char
            found += sum(1 for char in page.chars if char['text'] == 'x')
    assert found >= 190


def _fonts_held() -> tuple[str, int]:
    """(In a renderer.) The key of the fonts it holds, and which configuration it is."""
    from reportkit.render import pdf

    key, configuration = pdf._FONTS[0]
    return key, id(configuration)


def test_a_warm_renderer_loads_the_fonts_once_for_documents_that_share_them(project_copy):
    """Documents one after another in one renderer give the bytes each gives alone; those
    with the same fonts and font declarations share one font configuration (a profile in
    either language, the report), and a stylesheet that declares another font gets its
    own. The renderer's folder goes with it."""
    from reportkit.project import Project
    from reportkit.render.pdf import start_renderer
    from reportkit.run.prepare import BuildRequest, prepare
    from reportkit.run.render import render_language

    project = Project.at(project_copy)

    def documents():
        yield prepare(project, BuildRequest('state-trade/2016', ['en'], item='MI')), 'en'
        yield prepare(project, BuildRequest('state-trade/2016', ['fr'], item='TX')), 'fr'
        yield prepare(project, BuildRequest('2015', ['en'])), 'en'
        with (project_copy / 'templates' / 'print.css').open('a') as css:
            css.write('@font-face { font-family: "Headline"; src: url(fonts/Lato-Bold.ttf); }\n')
        yield prepare(project, BuildRequest('state-trade/2016', ['en'], item='MI')), 'en'

    renderer = start_renderer(project.templates / 'fonts', project.build)
    held = []
    try:
        for prepared, lang in documents():
            warm, _ = render_language(project, prepared, lang, None, renderer=renderer,
                                      keep=True)
            alone, _ = render_language(project, prepared, lang, None)
            assert warm.data == alone.data, (prepared.request, lang)
            held.append(renderer.submit(_fonts_held).result(timeout=30))
        folder = renderer.folder
        assert folder.is_dir()
    finally:
        renderer.stop()
    assert held[0] == held[1] == held[2]      # loaded once for all three
    assert held[3][0] != held[2][0] and held[3][1] != held[2][1]
    assert not folder.exists()
