"""Digests from what was read: a PDF's cache key and an archive manifest's inputs cover
every file the build opened for it (an image, a font, a listing of a folder), not a list
of folders; a change to any of them is seen."""

from __future__ import annotations

import io
import json

from PIL import Image

from reportkit.cli import main

from .conftest import copy_project

TRADE = 'reports/beyond-the-border/2015/en/trade.md'


def png(colour: str) -> bytes:
    stream = io.BytesIO()
    Image.new('RGB', (60, 40), colour).save(stream, 'PNG')
    return stream.getvalue()


def with_image(tmp_path):
    project = copy_project(tmp_path / 'project')
    (project / 'reports/beyond-the-border/2015/en/map.png').write_bytes(png('navy'))
    with (project / TRADE).open('a', encoding='utf-8') as stream:
        stream.write('\n![Map of the main border crossings](map.png)\n')
    # The French is taken to be brought up to date too: a final is published only then.
    assert main(['--project', str(project), 'translations', '2015', '--done', 'trade']) == 0
    return project


def build(project, out, capsys) -> str:
    status = main(['--project', str(project), 'build', '2015', '--lang', 'en', '--out',
                   str(out), '-j', '1'])
    err = capsys.readouterr().err
    assert status == 0, err[-2000:]
    return err


def test_a_replaced_image_is_seen_by_the_cache(tmp_path, capsys):
    project = with_image(tmp_path)
    out = tmp_path / 'report.pdf'
    build(project, out, capsys)
    first = out.read_bytes()
    assert 'unchanged' in build(project, out, capsys)       # nothing changed: reused
    (project / 'reports/beyond-the-border/2015/en/map.png').write_bytes(png('firebrick'))
    assert 'unchanged' not in build(project, out, capsys)   # the image changed: rendered
    assert out.read_bytes() != first


def test_a_file_added_to_a_listed_folder_is_seen(tmp_path, capsys):
    """The build lists reports/beyond-the-border/2015/en/*.md (an unlisted section is an error): a new file
    there must not be hidden behind the cache."""
    project = copy_project(tmp_path / 'project')
    out = tmp_path / 'report.pdf'
    build(project, out, capsys)
    (project / 'reports/beyond-the-border/2015/en/extra.md').write_text('---\ntitle: Extra\n---\nText\n')
    status = main(['--project', str(project), 'build', '2015', '--lang', 'en', '--out',
                   str(out), '-j', '1'])
    assert status == 1
    assert "reports/beyond-the-border/2015/en/extra.md: section file is not listed in 'sections'" in \
        capsys.readouterr().err


def test_publish_records_the_image_and_verify_rebuild_names_it(tmp_path, capsys):
    project = with_image(tmp_path)
    archive = tmp_path / 'archive'
    assert main(['--project', str(project), 'publish', '2015', '--archive', str(archive)]) == 0
    manifest = json.loads(next(archive.rglob('manifest.json')).read_text())
    assert 'reports/beyond-the-border/2015/en/map.png' in manifest['inputs']
    assert 'reports/beyond-the-border/2015/en/trade.md' in manifest['inputs']
    assert not any(name.startswith('templates/email') for name in manifest['inputs'])
    capsys.readouterr()
    (project / 'reports/beyond-the-border/2015/en/map.png').write_bytes(png('firebrick'))
    status = main(['--project', str(project), 'archive', 'verify', '--archive', str(archive),
                   '--rebuild', '2015'])
    err = capsys.readouterr().err
    assert status == 1
    assert 'reports/beyond-the-border/2015/en/map.png (changed)' in err
    assert 'comes from the machine' not in err
