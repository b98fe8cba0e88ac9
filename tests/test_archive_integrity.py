"""The archive on a drive others can write: manifests that name files outside, broken
manifests, a changed publications page, hidden files, symbolic links, an archive that is a
file or sits among the inputs, and what a signature adds."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from pathlib import Path

import pytest

from reportkit.publish import archive as archive_mod
from reportkit.publish import pages as pages_mod
from reportkit.publish import place as place_mod
from reportkit.cli import main
from reportkit.errors import ReportError
from reportkit.project import Project

R1 = 'beyond-the-border/2015/r1'
EN = f'{R1}/beyond-the-border-2015-en-r1.pdf'
FR = f'{R1}/beyond-the-border-2015-fr-r1.pdf'
SYMLINK = 'a symbolic link: the archive holds only files'
UNEXPECTED = 'unexpected file (not in any manifest)'


@pytest.fixture
def archive_copy(published, tmp_path) -> Path:
    copy = tmp_path / 'archive'
    shutil.copytree(published[1], copy, symlinks=True)
    return copy


@pytest.fixture(autouse=True)
def no_key(monkeypatch):
    monkeypatch.delenv(archive_mod.KEY_VARIABLE, raising=False)


def run(capsys, *args: str) -> tuple[int, list[str]]:
    """The command's exit status and the lines it wrote (out and err); never a traceback."""
    status = main([str(arg) for arg in args])
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert 'Traceback' not in text and 'internal error' not in text, text
    return status, text.splitlines()


def verify(capsys, archive: Path, project: Path, *more: str) -> tuple[int, list[str]]:
    return run(capsys, '--project', project, 'archive', 'verify', '--archive', archive, *more)


def findings(lines: list[str]) -> list[str]:
    """The findings verify listed, one per line."""
    assert lines and lines[0].startswith('the archive has '), lines
    return [line.strip() for line in lines[1:]]


def edit_manifest(archive: Path, change, folder: str = R1) -> Path:
    path = archive / folder / 'manifest.json'
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data, indent=2))
    return path


def archived_count(archive: Path) -> int:
    """The files the manifests of ``archive`` list: each PDF, each file of its web
    edition, and its review form."""
    return sum(1 + len((item.get('web') or {}).get('files', [])) + bool(item.get('review'))
               for revision in archive_mod.revisions(archive)
               for item in revision.manifest['files'])


def test_an_untouched_copy_verifies(published, archive_copy, capsys):
    status, lines = verify(capsys, archive_copy, published[0])
    assert status == 0
    count = archived_count(archive_copy)
    assert count > 2 * 10    # two PDFs, and two web editions of a page, styles, fonts, charts
    assert lines == [f'all {count} archived files match their manifests; index.html is the '
                     f'page they give ({archive_copy})']


def test_a_changed_byte_in_a_web_page_is_named(published, archive_copy, capsys):
    page = archive_copy / R1 / 'beyond-the-border-2015-fr-r1' / 'index.html'
    data = bytearray(page.read_bytes())
    data[data.index(b'<h1') + 2] = ord('2')            # <h1 -> <h2: one byte
    page.write_bytes(bytes(data))
    chart = next((archive_copy / R1 / 'beyond-the-border-2015-en-r1' / 'charts').iterdir())
    chart.write_bytes(chart.read_bytes() + b' ')
    extra = archive_copy / R1 / 'beyond-the-border-2015-en-r1' / 'fonts' / 'extra.css'
    extra.write_text('body { color: red }')
    status, lines = verify(capsys, archive_copy, published[0])
    assert status == 1
    assert sorted(findings(lines)) == sorted([
        f'{R1}/beyond-the-border-2015-fr-r1/index.html: changed: its SHA-256 differs from '
        'the manifest',
        f'{R1}/beyond-the-border-2015-en-r1/charts/{chart.name}: changed: '
        f'{chart.stat().st_size} bytes, the manifest says {chart.stat().st_size - 1}',
        f'{R1}/beyond-the-border-2015-en-r1/fonts/extra.css: unexpected file (not in any '
        'manifest)'])


@pytest.mark.parametrize('name, problem', [
    ('../etc', "'..' is not a plain file name: it contains .."),
    ('../../../../etc/passwd', "'../../../../etc/passwd' is more than 3 folders deep"),
    ('a/b/c/d.css', "'a/b/c/d.css' is more than 3 folders deep"),
    ('.hidden', "'.hidden' starts with a dot (a hidden file)"),
])
def test_a_web_file_named_outside_its_folder_is_refused(published, archive_copy, capsys,
                                                        name, problem):
    def change(data):
        data['files'][0]['web']['files'][0]['name'] = name
    edit_manifest(archive_copy, change)
    status, lines = verify(capsys, archive_copy, published[0])
    assert status == 1
    assert any(problem in line for line in lines), lines


# --- 1. a manifest names only files of its own folder -------------------------------------

def test_a_manifest_naming_etc_passwd_is_refused(published, archive_copy, capsys):
    secret = Path('/etc/passwd')
    data = secret.read_bytes()

    def point_at_passwd(m):
        m['files'][0].update(name='../../../../etc/passwd', size=len(data),
                             sha256=hashlib.sha256(data).hexdigest())
    manifest = edit_manifest(archive_copy, point_at_passwd)
    problem = ("not a valid archive manifest: files[0].name: '../../../../etc/passwd' is "
               "not a plain file name: it contains a slash or a backslash")

    status, lines = verify(capsys, archive_copy, published[0])
    assert status == 1
    assert findings(lines) == [f'{R1}/manifest.json: {problem}']

    with pytest.raises(ReportError) as refused:
        archive_mod.revisions(archive_copy)
    assert refused.value.path == str(manifest)
    assert refused.value.message == problem

    status, lines = run(capsys, 'archive', 'list', '--archive', archive_copy)
    assert (status, lines) == (1, [f'error: {manifest}: {problem}'])

    status, lines = run(capsys, '--project', published[0], 'distribute', '2015', '--dry-run',
                        '--archive', archive_copy, '--sender', 'Reports <r@example.org>')
    assert status == 1
    assert f'error: {manifest}: {problem}' in lines
    assert not any('would send' in line for line in lines)


@pytest.mark.parametrize('name, problem', [
    ('.hidden.pdf', "'.hidden.pdf' starts with a dot (a hidden file)"),
    ('a\\b.pdf', "'a\\\\b.pdf' is not a plain file name: it contains a slash or a backslash"),
    ('..', "'..' is not a plain file name: it contains .."),
    ('x' * 201, '201 characters long; at most 200 are allowed'),
    ('a\x00b.pdf', 'contains a NUL character'),
    ('manifest.json', "files: 'manifest.json' is not an archived PDF"),
])
def test_every_name_is_a_plain_file_name(published, archive_copy, capsys, name, problem):
    manifest = edit_manifest(archive_copy, lambda m: m['files'][0].update(name=name))
    with pytest.raises(ReportError) as refused:
        archive_mod.revisions(archive_copy)
    assert refused.value.path == str(manifest)
    assert refused.value.message.startswith('not a valid archive manifest: ')
    assert problem in refused.value.message
    status, lines = verify(capsys, archive_copy, published[0])
    assert status == 1 and len(findings(lines)) == 1


def _drop(*keys):
    def change(m):
        target = m
        for k in keys[:-1]:
            target = target[k]
        del target[keys[-1]]
    return change


@pytest.mark.parametrize('change, problem', [
    (_drop('files'), 'files: missing'),
    (_drop('files', 0, 'sha256'), 'files[0].sha256: missing'),
    (_drop('series'), 'series: missing'),
    (lambda m: m.update(revision='1'), 'revision: Input should be a valid integer'),
    (lambda m: m['files'][1].update(size=-1),
     'files[1].size: Input should be greater than or equal to 0'),
    (lambda m: m.update(files=[]), 'files: List should have at least 1 item after '
                                   'validation, not 0'),
    (lambda m: m.update(publication_date='27 April 2016'),
     "publication_date: Invalid isoformat string: '27 April 2016'"),
    (lambda m: [m.pop(k) for k in ('files', 'inputs')],
     'files: missing (and 1 more problem)'),
])
def test_a_manifest_with_a_missing_or_wrong_key_is_one_line(published, archive_copy, capsys,
                                                           change, problem):
    manifest = edit_manifest(archive_copy, change)
    message = f'not a valid archive manifest: {problem}'
    status, lines = run(capsys, 'archive', 'list', '--archive', archive_copy)
    assert (status, lines) == (1, [f'error: {manifest}: {message}'])
    status, lines = verify(capsys, archive_copy, published[0])
    assert status == 1
    assert findings(lines) == [f'{R1}/manifest.json: {message}']


def test_a_manifest_that_is_not_json_or_in_the_wrong_folder(published, archive_copy, capsys):
    shutil.copytree(archive_copy / R1, archive_copy / 'beyond-the-border/2015/r2')
    (archive_copy / R1 / 'manifest.json').write_text('{"format": 1,')
    status, lines = verify(capsys, archive_copy, published[0])
    assert status == 1
    assert findings(lines) == [
        f'{R1}/manifest.json: not valid JSON: Expecting property name enclosed in double '
        'quotes: line 1 column 14 (char 13)',
        'beyond-the-border/2015/r2/manifest.json: not a valid archive manifest: it describes '
        'beyond-the-border 2015 revision 1, which belongs in beyond-the-border/2015/r1/']


# --- 2. verify covers every entry -----------------------------------------------------------

def test_a_changed_publications_page_is_named_and_publish_rewrites_it(
        published, archive_copy, capsys):
    project = published[0]
    index = archive_copy / 'index.html'
    page = index.read_text()
    pages = re.search(r'<td class="num">(\d+)</td>', page)   # a PDF's page count
    assert pages, 'no page count on the publications page'
    index.write_text(page.replace(pages[0], f'<td class="num">{int(pages[1]) + 1}</td>', 1))
    status, lines = verify(capsys, archive_copy, project)
    assert status == 1
    assert findings(lines) == ['index.html: changed: it is not the page the manifests give; '
                               'run publish again, or restore it from a copy']

    before = {p: p.read_bytes() for p in (archive_copy / R1).rglob('*') if p.is_file()}
    status, lines = run(capsys, '--project', project, 'publish', '2015', '--archive',
                        archive_copy)
    assert status == 1
    assert lines[-1].endswith('(index.html was not the page the manifests give: it has been '
                              'rewritten)')
    assert 'is already in the archive' in lines[-1]
    assert {p: p.read_bytes() for p in (archive_copy / R1).rglob('*') if p.is_file()} == before
    assert index.read_text() == page
    assert verify(capsys, archive_copy, project)[0] == 0

    index.unlink()
    status, lines = verify(capsys, archive_copy, project)
    assert findings(lines) == ['index.html: missing: run publish again to write it']


def test_hidden_files_and_folders_are_unexpected(published, archive_copy, capsys):
    (archive_copy / '.hidden').write_text('x')
    (archive_copy / R1 / '.x.pdf').write_bytes(b'%PDF-1.7')
    (archive_copy / '.cache').mkdir()
    (archive_copy / '.cache/notes.txt').write_text('x')
    (archive_copy / 'beyond-the-border/.empty').mkdir()
    (archive_copy / 'beyond-the-border/.r2-abc').mkdir()    # not where staging goes
    status, lines = verify(capsys, archive_copy, published[0])
    assert status == 1
    assert findings(lines) == [
        '.cache: unexpected folder (not an edition or revision of the archive)',
        f'.hidden: {UNEXPECTED}',
        f'.cache/notes.txt: {UNEXPECTED}',
        'beyond-the-border/.empty: unexpected folder (not an edition or revision of the '
        'archive)',
        'beyond-the-border/.r2-abc: unexpected folder (not an edition or revision of the '
        'archive)',
        f'{R1}/.x.pdf: {UNEXPECTED}']


def test_the_lock_and_an_unfinished_publish_are_allowed(published, archive_copy, capsys):
    assert (archive_copy / '.lock').is_file()
    staging = archive_copy / 'beyond-the-border/2015/.r2-k3j9x1'
    staging.mkdir()
    (staging / 'beyond-the-border-2015-en-r2.pdf').write_bytes(b'%PDF-1.7 half')
    (archive_copy / '.index.html.abc123.part').write_text('<!DOCTYPE')
    status, _ = verify(capsys, archive_copy, published[0])
    assert status == 0
    removed = place_mod.remove_unfinished(archive_copy)
    assert sorted(removed) == [archive_copy / '.index.html.abc123.part', staging]
    assert not staging.exists()


def test_symbolic_links_are_findings_and_never_followed(published, archive_copy, tmp_path,
                                                        capsys):
    marker = tmp_path / 'marker.txt'
    marker.write_text('outside')
    outside = tmp_path / 'outside'
    outside.mkdir()
    (outside / 'secret.txt').write_text('secret')
    # The English PDF replaced by a link to an identical copy outside: its bytes match.
    pdf = archive_copy / EN
    copy = tmp_path / 'en.pdf'
    shutil.copyfile(pdf, copy)
    pdf.unlink()
    pdf.symlink_to(copy)
    (archive_copy / R1 / 'extra.pdf').symlink_to(marker)
    (archive_copy / 'beyond-the-border/elsewhere').symlink_to(outside)
    status, lines = verify(capsys, archive_copy, published[0])
    assert status == 1
    assert findings(lines) == [f'{EN}: {SYMLINK}',
                               f'beyond-the-border/elsewhere: {SYMLINK}',
                               f'{R1}/extra.pdf: {SYMLINK}']
    assert not any('secret' in line for line in lines)

    revision, = archive_mod.revisions(archive_copy)
    with pytest.raises(ReportError) as refused:
        revision.file_path(pdf.name)
    assert (refused.value.path, refused.value.message) == (str(pdf), SYMLINK)
    with pytest.raises(ReportError):
        revision.read_file(pdf.name)


def test_a_linked_revision_folder_or_lock_is_a_finding(published, archive_copy, tmp_path,
                                                      capsys):
    moved = tmp_path / 'r1-elsewhere'
    shutil.move(archive_copy / R1, moved)
    (archive_copy / R1).symlink_to(moved)
    (archive_copy / '.lock').unlink()
    (archive_copy / '.lock').symlink_to(tmp_path / 'lock')
    status, lines = verify(capsys, archive_copy, published[0])
    assert status == 1
    assert findings(lines) == [
        'index.html: changed: it is not the page the manifests give; run publish again, '
        'or restore it from a copy',
        f'.lock: {SYMLINK}', f'{R1}: {SYMLINK}']
    assert archive_mod.revisions(archive_copy) == []
    with pytest.raises(ReportError, match='a symbolic link'):
        with place_mod.locked(archive_copy):
            pass
    assert not (tmp_path / 'lock').exists()


def test_an_archived_file_that_is_a_pipe_is_changed(published, archive_copy, capsys):
    (archive_copy / FR).unlink()
    os.mkfifo(archive_copy / FR)
    status, lines = verify(capsys, archive_copy, published[0])
    assert status == 1
    assert findings(lines) == [f'{FR}: changed: not a regular file; the archive holds only '
                               'files']


def test_file_path_and_read_file_give_only_listed_checked_files(archive_copy):
    revision, = archive_mod.revisions(archive_copy)
    path = revision.file_path(Path(EN).name)
    assert path == archive_copy / EN
    assert revision.read_file(Path(EN).name) == (archive_copy / EN).read_bytes()
    with pytest.raises(ReportError, match="'manifest.json' is not a file of this revision"):
        revision.file_path('manifest.json')
    with pytest.raises(ReportError, match='is not a file of this revision'):
        revision.file_path('../../../../etc/passwd')
    data = bytearray((archive_copy / FR).read_bytes())
    data[100] ^= 1
    (archive_copy / FR).write_bytes(bytes(data))
    with pytest.raises(ReportError) as refused:
        revision.read_file(Path(FR).name)
    assert str(refused.value) == (f'{archive_copy / FR}: the archived file does not match '
                                  'its manifest (run archive verify)')


# --- 3. where the archive can be ------------------------------------------------------------

FILE = ('the archive must be a folder, and this is a file; give --archive a folder, or a '
        'path that does not exist yet (it is created)')


@pytest.mark.parametrize('command', [['publish', '2015'], ['archive', 'list'],
                                     ['archive', 'verify']])
def test_an_archive_that_is_a_file_is_refused(project_copy, monkeypatch, capsys, command):
    (project_copy / 'README.md').write_text('# Read me\n')
    monkeypatch.chdir(project_copy)
    status, lines = run(capsys, '--project', project_copy, *command, '--archive', 'README.md')
    assert (status, lines) == (1, [f'error: README.md: {FILE}'])
    assert (project_copy / 'README.md').read_text() == '# Read me\n'


@pytest.mark.parametrize('given, message', [
    ('reports/', 'the archive cannot be inside reports/, which holds inputs of the reports; '
                 'give --archive a folder outside reports/, data/, charts/ and templates/'),
    ('templates/archive', 'the archive cannot be inside templates/, which holds inputs of '
                          'the reports; give --archive a folder outside reports/, data/, '
                          'charts/ and templates/'),
    ('data/new/place', 'the archive cannot be inside data/, which holds inputs of the '
                       'reports; give --archive a folder outside reports/, data/, charts/ '
                       'and templates/'),
    ('.', 'the archive cannot be a folder that holds reports/, which holds inputs of the '
          'reports; give --archive a folder of its own'),
])
@pytest.mark.parametrize('command', [['publish', '2015'], ['archive', 'verify']])
def test_an_archive_among_the_inputs_is_refused(project_copy, monkeypatch, capsys, given,
                                                message, command):
    monkeypatch.chdir(project_copy)
    status, lines = run(capsys, '--project', project_copy, *command, '--archive', given)
    assert (status, lines) == (1, [f'error: {Path(given)}: {message}'])
    assert not (project_copy / given / '.lock').exists()
    assert not (project_copy / 'data/new').exists()


def test_below_a_file_is_refused(project_copy, monkeypatch, capsys):
    (project_copy / 'notes.txt').write_text('x')
    monkeypatch.chdir(project_copy)
    status, lines = run(capsys, 'archive', 'verify', '--archive', 'notes.txt/archive')
    assert (status, lines) == (1, [
        f'error: notes.txt/archive: the archive must be a folder, and '
        f'{project_copy / "notes.txt"} is a file; give --archive a folder, or a path that '
        'does not exist yet (it is created)'])


# --- 4. what verify cannot see, and what does ----------------------------------------------

def _rewrite_consistently(project: Path, archive: Path) -> None:
    """What someone who can write the archive can do: change a PDF, and its manifest
    and the publications page to match."""
    pdf = archive / FR
    data = pdf.read_bytes().replace(b'%%EOF', b'%%EOF\n% changed\n')
    pdf.write_bytes(data)

    def match(m):
        m['files'][1].update(sha256=hashlib.sha256(data).hexdigest(), size=len(data))
    edit_manifest(archive, match)
    pages_mod.write_index(Project.at(project), archive)


def test_a_consistent_edit_passes_verify_but_not_verify_rebuild(published, archive_copy,
                                                               capsys):
    project = published[0]
    _rewrite_consistently(project, archive_copy)
    assert verify(capsys, archive_copy, project)[0] == 0      # the documented limit
    status, lines = verify(capsys, archive_copy, project, '--rebuild', '2015')
    assert status == 1
    assert '2015 fr: the rebuild differs from the archived PDF' in lines
    assert '2015 en: the rebuild has exactly the archived bytes' in lines


def test_a_signed_archive_catches_a_consistent_edit(published, tmp_path, monkeypatch, capsys):
    project = published[0]
    archive = tmp_path / 'signed'
    monkeypatch.setenv(archive_mod.KEY_VARIABLE, 'kept-outside-the-archive')
    status, lines = run(capsys, '--project', project, 'publish', '2015', '--archive', archive)
    assert status == 0
    manifest = archive / R1 / 'manifest.json'
    digest = hashlib.sha256(manifest.read_bytes()).hexdigest()
    assert f'  manifest.json: SHA-256 {digest} (keep this line outside the archive: it ' \
           'proves the revision later)' in lines
    assert json.loads(manifest.read_text())['signature']['method'] == 'hmac-sha256'
    status, lines = verify(capsys, archive, project)
    assert status == 0
    assert lines == [f'all {archived_count(archive)} archived files match their manifests; '
                     f'index.html is the page they give; 1 manifest signature checked '
                     f'({archive})']

    _rewrite_consistently(project, archive)
    signature_changed = (f'{R1}/manifest.json: changed: its signature does not match '
                         '(REPORT_ARCHIVE_KEY): the manifest was edited after it was '
                         'published, or signed with another key')
    status, lines = verify(capsys, archive, project)
    assert (status, findings(lines)) == (1, [signature_changed])
    assert hashlib.sha256(manifest.read_bytes()).hexdigest() != digest

    monkeypatch.setenv(archive_mod.KEY_VARIABLE, 'another-key')
    restored = tmp_path / 'untouched'
    shutil.copytree(published[1], restored, symlinks=True)
    status, lines = verify(capsys, archive, project)
    assert (status, findings(lines)) == (1, [signature_changed])

    monkeypatch.delenv(archive_mod.KEY_VARIABLE)
    status, lines = verify(capsys, archive, project)
    assert status == 0
    assert lines[0].endswith('; signatures not checked (REPORT_ARCHIVE_KEY is not set) '
                             f'({archive})')

    monkeypatch.setenv(archive_mod.KEY_VARIABLE, 'kept-outside-the-archive')
    edit_manifest(archive, lambda m: m.pop('signature'))
    status, lines = verify(capsys, archive, project)
    assert (status, findings(lines)) == (1, [
        f'{R1}/manifest.json: not signed, and REPORT_ARCHIVE_KEY is set: it was published '
        'without the key, or its signature was removed'])
    # An archive published without the key: every manifest is unsigned.
    status, lines = verify(capsys, restored, project)
    assert status == 1 and findings(lines)[0].endswith('its signature was removed')
