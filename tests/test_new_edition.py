"""new-edition rewrites edition.toml with tomlkit: years moved on, the author's comments
and layout kept (the rest of new-edition is in test_editions.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

from reportkit.cli import main
from reportkit.load.editions import _moved_on

OLD = '''\
# The 2014 edition. Keep this comment.
id = "2014"
year = 2014          # the year the report covers
revision = 2
revision_note = { en = "Fixed 2014.", fr = "Corrigé 2014." }
status = "final"     # "draft" adds a watermark
publication_date = 2015-05-19
isbn = { en = "978-0-660-04621-1", fr = "978-0-660-04622-8" }

# Sections in reading order (this comment stays).
sections = [
  "trade",       # the 2014 trade figures
  "annex-data",
]

[subtitle]
# the subtitle names the year
en = 'Implementation Report 2014'
fr = "Rapport de mise en œuvre 2014 \\u2014 bilan"
'''

NEW = '''\
# The 2014 edition. Keep this comment.
id = "2015"
year = 2015          # the year the report covers
revision = 1
status = "draft"     # a new edition starts as a draft; add its isbn before the final
publication_date = 2016-05-19

# Sections in reading order (this comment stays).
sections = [
  "trade",       # the 2014 trade figures
  "annex-data",
]

[subtitle]
# the subtitle names the year
en = 'Implementation Report 2015'
fr = "Rapport de mise en œuvre 2015 — bilan"
'''


def test_years_move_on_and_comments_and_layout_stay():
    assert _moved_on(OLD, '2015', 1) == NEW


def test_a_29_february_moves_to_the_28th():
    assert 'publication_date = 2017-02-28\n' in _moved_on(
        'id = "2016"\npublication_date = 2016-02-29\nstatus = "final"\nrevision = 1\n',
        '2017', 1)


def comments(text: str) -> list[str]:
    """The comment of every line that has one, in order ('#' inside quotes aside)."""
    found = []
    for line in text.splitlines():
        if '#' in line and line.count('"', 0, line.index('#')) % 2 == 0:
            found.append(line[line.index('#'):])
    return found


def test_a_comment_in_edition_toml_survives_new_edition(project_copy, capsys):
    old_config, = project_copy.glob('reports/**/2014/edition.toml')
    new_folder = old_config.parent.parent / '2015'
    shutil.rmtree(new_folder)
    text = old_config.read_text(encoding='utf-8').replace(
        '\n[title]\n', '\n[title]\n# Reviewed by the translation unit, April 2015.\n')
    text = text.replace('\nyear = 2014 ', '\nyear = 2014 # (a second note) ')
    old_config.write_text(text, encoding='utf-8')
    assert main(['--project', str(project_copy), 'new-edition', '2015', '--from', '2014']) == 0
    capsys.readouterr()
    new_text = Path(new_folder / 'edition.toml').read_text(encoding='utf-8')
    assert '[title]\n# Reviewed by the translation unit, April 2015.\nen = ' in new_text
    assert '\nyear = 2015 # (a second note) ' in new_text
    status = [c for c in comments(text) if '"draft" adds' in c]
    assert comments(new_text) == [
        '# a new edition starts as a draft; add its catalogue_number and isbn before the '
        'final' if c in status else c for c in comments(text)]
