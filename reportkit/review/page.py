"""A review as a web page (``diff --html FILE``): every change of every document, both
languages, insertions and deletions marked (``<ins>``, ``<del>``, each also said in words
for a screen reader), no script; the same accessibility check as the web edition.

The page is ``templates/review/page.html.j2``; every text a contributor wrote reaches
it escaped."""

from __future__ import annotations

from markupsafe import Markup, escape

from reportkit.project import Project
from reportkit.review.review import Review, counted, language_name
from reportkit.textdiff import ADDED, REMOVED, word_runs


def review_page(project: Project, found: Review) -> bytes:
    """The page, as UTF-8 bytes (the same review, the same bytes)."""
    from reportkit.compose.compose import template_env
    from reportkit.compose.i18n import load_messages

    env = template_env(project, load_messages(project, 'en'))
    page = env.get_template('review/page.html.j2').render(
        review=found, words=marked_words, counted=counted, language=language_name)
    return page.encode('utf-8')


def marked_words(old: str, new: str) -> Markup:
    """A changed text as HTML: removed words in ``<del>``, added ones in ``<ins>``."""
    parts = []
    for kind, run in word_runs(old, new):
        if kind == REMOVED:
            parts.append(Markup('<del><span class="visually-hidden">deleted: </span>{}'
                                '</del>').format(run))
        elif kind == ADDED:
            parts.append(Markup('<ins><span class="visually-hidden">inserted: </span>{}'
                                '</ins>').format(run))
        else:
            parts.append(escape(run))
    return Markup(' ').join(parts)

