"""Stage 4, compose: edition + narrative + charts + data -> one HTML document and its assets.

The composed document holds content only; presentation comes from the stylesheet it
links (``print.css`` for the PDF). Figures and tables are numbered in reading order,
and every figure the edition lists must be placed exactly once.
"""

from __future__ import annotations

import re
from pathlib import Path

import jinja2
from markupsafe import Markup

from reportkit.charts.draw import Chart
from reportkit.compiled import CompiledOnce
from reportkit.compose.document import Composed
from reportkit.errors import ContentError, ReportError, raise_all
from reportkit.files import MB, listing, read_bytes, read_text
from reportkit.compose.i18n import MAX_TEMPLATE_BYTES, Messages
from reportkit.compose.web import WEB_STYLESHEET, WebLinks, WebPage, web_page
from reportkit.load.edition import Edition
from reportkit.narrative.markdown import Fragment, placeholder
from reportkit.numbers import long_date
from reportkit.project import Project
from reportkit.typography import for_language, french

MAX_FONT_BYTES = 20 * MB
"""A font file with every glyph of a large script is a few MB."""
ROMAN = ['I', 'II', 'III', 'IV', 'V', 'VI', 'VII', 'VIII', 'IX', 'X', 'XI', 'XII']


class TemplateLoader(jinja2.BaseLoader):
    """Templates from a folder of the project, read by the containment rule (a template
    that is a link to a file outside the project is an error, not followed)."""

    def __init__(self, project: Project, folder: Path) -> None:
        self.project, self.folder = project, folder

    def get_source(self, environment, template):
        path = self.folder.joinpath(*jinja2.loaders.split_template_path(template))
        try:
            text = read_text(self.project.root, path, what=f"the template '{template}'",
                             shown=self.project.show(path), limit=MAX_TEMPLATE_BYTES,
                             error=ContentError)
        except FileNotFoundError:
            # Recorded as missing: a template added here later (a series' own, in front
            # of the shared one) is a change to what the document was made from.
            listing(self.project.root, path.parent, path.name)
            raise jinja2.TemplateNotFound(template) from None
        # Up to date for the environment's life (one document): each template is read,
        # checked and compiled once, however often it is used.
        return text, str(path), lambda: True


def template_env(project: Project, messages: Messages, folder: Path | None = None,
                 series: Path | None = None) -> jinja2.Environment:
    """Templates from ``folder`` (the shared templates/); a series' own ``templates/``
    folder comes first, so that it can replace one template or add a partial."""
    loaders = [TemplateLoader(project, folder or project.templates)]
    if series is not None:
        loaders.insert(0, TemplateLoader(project, series / 'templates'))
    env = CompiledOnce(
        loader=jinja2.ChoiceLoader(loaders), autoescape=True,
        undefined=jinja2.StrictUndefined, extensions=['jinja2.ext.i18n'],
        keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
    env.install_gettext_callables(messages.gettext, messages.ngettext, newstyle=True)
    return env


def compose(project: Project, edition: Edition, lang: str, fragments: list[Fragment],
            charts: dict[str, Chart], tables: dict[str, dict],
            messages: Messages, document: dict | None = None,
            records: dict | None = None, links: WebLinks | None = None) -> Composed:
    """Assemble the document for ``lang``; raises with every placement problem at once.
    ``tables`` are the printed tables from the data view, in ``lang``; ``document`` a
    batch document's ``doc`` and ``this`` (its titles may name its fields), ``records``
    its row in every language (for the title of its edition in the other language).
    With ``links`` (where its PDF and other languages are), its web page too."""
    config, series = edition.config, edition.series
    env = template_env(project, messages, series=edition.series_folder)
    _ = messages.gettext
    problems: list[ReportError] = []

    # Number figures and tables in reading order, checking every placement.
    figure_numbers: dict[str, int] = {}
    table_list: list[dict] = []
    figures: list[dict] = []
    for fragment in fragments:
        for place in fragment.placements:
            where = dict(path=fragment.section.shown, line=place.line)
            if place.kind == 'figure':
                if place.id not in config.figures:
                    problems.append(ContentError(
                        f"figure '{place.id}' is not listed in 'figures' of "
                        f'{edition.config_shown}', **where))
                elif place.id in figure_numbers:
                    problems.append(ContentError(f"figure '{place.id}' is placed twice",
                                                 **where))
                else:
                    figure_numbers[place.id] = len(figure_numbers) + 1
            elif place.kind == 'table' and place.id not in tables:
                problems.append(ContentError(
                    f"unknown table '{place.id}' (the series' tables: "
                    f"{', '.join(sorted(tables)) or 'none'})", **where))
    for chart_id in config.figures:
        if chart_id not in figure_numbers:
            problems.append(ContentError(
                f"figure '{chart_id}' is listed but no section places it "
                f"(add a line '@figure({chart_id})' where it belongs)",
                path=edition.config_shown))
    raise_all(problems, f'edition {edition.id} ({lang}): figures and tables do not add up')

    figure_html: dict[str, str] = {}
    for chart_id, number in figure_numbers.items():
        chart = charts[chart_id]
        figure = {'number': number, 'anchor': f'fig-{chart_id}', 'id': chart_id,
                  'title': chart.title, 'alt': chart.alt, 'source': chart.source,
                  'src': f'charts/{chart_id}.svg',
                  'rows': [list(row) for row in chart.rows]}
        figures.append(figure)
        figure_html[chart_id] = env.get_template('partials/figure.html.j2').render(
            figure=figure)
    figures.sort(key=lambda f: f['number'])

    def numbered_table(table: dict) -> str:
        table['number'] = len(table_list) + 1
        table_list.append(table)
        return env.get_template('partials/table.html.j2').render(table=table)

    chapters = []
    main_number = annex_number = 0
    for fragment in fragments:
        section = fragment.section
        html = fragment.html
        for place in fragment.placements:
            marker = placeholder(place.kind, place.id)
            if place.kind == 'figure':
                html = html.replace(marker, figure_html[place.id], 1)
            elif place.kind == 'table':
                html = html.replace(marker, numbered_table(dict(tables[place.id])), 1)
            elif place.kind == 'chart-data':
                blocks = [numbered_table(_chart_table(charts[f['id']], f, _, lang))
                          for f in figures]
                html = html.replace(marker, '\n'.join(blocks), 1)
        annex = section.id.startswith('annex')
        if annex:
            annex_word = _('Annex')
            label = f"{annex_word} {chr(ord('A') + annex_number)}{colon(lang)}"
            annex_number += 1
        else:
            label = f'{ROMAN[main_number]}.'
            main_number += 1
        chapters.append({'anchor': f'sec-{section.id}', 'kind': 'annex' if annex else 'chapter',
                         'label': label, 'title': for_language(section.title, lang),
                         'running': for_language(section.short_title, lang),
                         'html': Markup(html),
                         'pending': (lang, section.id) in edition.pending})

    def words(name: str, language: str) -> str:
        """A title of the edition, with a batch document's fields filled in."""
        return titled(getattr(config, name)[language], (records or {}).get(language),
                      edition.config_shown, name)

    other_languages = []
    for other in config.languages:
        if other != lang:
            other_languages.append({
                'lang_tag': series.lang_tag(other),
                'notice': _also_available(other, words('title', other), words('subtitle', other))})

    created = config.publication_date.isoformat()
    full_title = full_title_of(words('title', lang), words('subtitle', lang), lang)
    doc_title = full_title
    if config.status == 'draft':
        draft_word = _('DRAFT')
        doc_title = f'{draft_word} – {full_title}'
    context = {
        'lang_tag': series.lang_tag(lang), 'doc_title': doc_title, 'running_title': full_title,
        'title': words('title', lang), 'subtitle': words('subtitle', lang),
        'author': config.author[lang], 'subject': words('subject', lang),
        'keywords': config.keywords[lang], 'created': created,
        'publication_date': long_date(config.publication_date, lang),
        'status': config.status, 'revision': config.revision,
        'revision_note': for_language(config.revision_note[lang], lang)
        if config.revision_note else None,
        'publisher': {'name': for_language(config.publisher.name[lang], lang),
                      'address': [for_language(line, lang)
                                  for line in config.publisher.address[lang]],
                      'fax': config.publisher.fax, 'email': config.publisher.email},
        'copyright': for_language(config.publisher.copyright[lang], lang),
        'catalogue_number': config.catalogue_number[lang] if config.catalogue_number else None,
        'isbn': config.isbn[lang] if config.isbn else None,
        'other_languages': other_languages,
        'stylesheets': ['print.css', *series.stylesheets, 'labels.css'],
        'chapters': chapters, 'figures': figures, 'tables': table_list,
        **(document or {}),
    }
    html = env.get_template(series.template).render(context)
    _check_links(html, fragments)
    labels = env.get_template('labels.css.j2').render(status=config.status)

    def asset(path: Path, what: str, limit: int) -> bytes:
        return read_bytes(project.root, path, what=what, shown=project.show(path),
                          limit=limit, error=ContentError)

    sources = {'index.html': f'the composed document ({series.template})',
               'print.css': 'templates/print.css', 'labels.css': 'templates/labels.css.j2',
               **{f'charts/{chart_id}.svg': f'figure {chart_id} ({series.charts})'
                  for chart_id in figure_numbers}}
    assets: dict[str, bytes] = {
        'print.css': asset(project.templates / 'print.css', 'the stylesheet',
                           MAX_TEMPLATE_BYTES),
        'labels.css': labels.encode('utf-8'),
    }
    for name in series.stylesheets:
        own = edition.series_folder / 'templates' / name
        assets[name] = asset(own, f'the stylesheet {name}', MAX_TEMPLATE_BYTES)
        sources[name] = project.show(own)
    for font in listing(project.root, project.templates / 'fonts', '*.ttf'):
        assets[f'fonts/{font.name}'] = asset(font, f'the font {font.name}', MAX_FONT_BYTES)
        sources[f'fonts/{font.name}'] = project.show(font)
    for chart_id in figure_numbers:
        assets[f'charts/{chart_id}.svg'] = charts[chart_id].svg
    for fragment in fragments:
        for data, name, shown in fragment.images:
            assets[f'assets/{name}'] = data
            sources[f'assets/{name}'] = shown
    composed = Composed(lang, html, assets, doc_title, figures, chapters, set(messages.used),
                        sources, tables=table_list)
    if links is not None:
        composed.web = _web_page(project, edition, env, context, composed, charts, links,
                                 messages)
    composed.messages = set(messages.used)
    return composed


def _web_page(project: Project, edition: Edition, env, context: dict, composed: Composed,
              charts: dict[str, Chart], links: WebLinks, messages: Messages) -> WebPage:
    """The document's web page, through the accessibility gate for the web."""
    from reportkit.compose.access import check_web_page

    _, series = messages.gettext, edition.series
    text_versions = {
        figure['anchor']: env.get_template('partials/table.html.j2').render(table={
            **_chart_table(charts[figure['id']], figure, _, composed.lang),
            'anchor': f"text-{figure['id']}", 'number': None})
        for figure in composed.figures}

    def read(path: Path, what: str) -> bytes:
        return read_bytes(project.root, path, what=what, shown=project.show(path),
                          limit=MAX_TEMPLATE_BYTES, error=ContentError)

    stylesheets = {WEB_STYLESHEET: read(project.templates / WEB_STYLESHEET, 'the stylesheet'),
                   **{name: read(edition.series_folder / 'templates' / name,
                                 f'the stylesheet {name}')
                      for name in series.web_stylesheets}}
    licence = project.templates / 'fonts' / 'OFL.txt'
    assets = {**composed.assets, 'fonts/OFL.txt': read(licence, 'the fonts\' licence')}
    page = web_page(env, context, composed.html, assets, composed.chapters, text_versions,
                    links, series.web_template, stylesheets, _)
    raise_all(check_web_page(page.html, f'the web page ({series.web_template})'),
              f'edition {edition.id} ({composed.lang}): the web page is not accessible')
    return page


def _check_links(html: str, fragments: list[Fragment]) -> None:
    """Every ``#id`` link of the narrative leads to something in the document (else
    WeasyPrint would report a missing anchor without saying where the link is)."""
    ids = set(re.findall(r'\sid="([^"]+)"', html))
    problems = [ContentError(f"the link to '#{target[:60]}' leads nowhere: no heading, "
                             'chapter, figure or table has that id (chapters are '
                             '#sec-<section>, figures #fig-<id>, tables #tbl-<id>)',
                             path=fragment.section.shown, line=line)
                for fragment in fragments for target, line in fragment.links
                if target not in ids]
    raise_all(problems, 'links inside the report lead nowhere')


def _also_available(lang: str, title: str, subtitle: str) -> str:
    # Written in the other language on purpose (tagged with its lang in the HTML).
    if lang == 'fr':
        return french(f'Aussi disponible en français sous le titre : '
                      f'{full_title_of(title, subtitle, lang)}')
    return f'Also available in English under the title: {full_title_of(title, subtitle, lang)}'


def full_title_of(title: str, subtitle: str, lang: str) -> str:
    """'Title: Subtitle' in English; 'Titre – Sous-titre' in French."""
    return f'{title} – {subtitle}' if lang == 'fr' else f'{title}: {subtitle}'


def colon(lang: str) -> str:
    """A colon as the language sets it (French: a no-break space before it)."""
    return '\u00a0:' if lang == 'fr' else ':'


def _chart_table(chart: Chart, figure: dict, _, lang: str) -> dict:
    data_for = _('Data for Figure')
    return {'anchor': f'tbl-data-{chart.id}', 'css': 'chart-data',
            'title': f"{data_for} {figure['number']}{colon(lang)} {chart.title}",
            'columns': [{'label': chart.columns[0], 'align': ''},
                        {'label': chart.columns[1], 'align': 'num'}],
            'rows': chart.rows, 'note': chart.source}


def titled(text: str, this, shown: str, name: str) -> str:
    """A title that names a batch document's fields ('Profile of {name}')."""
    if this is None or '{' not in text:
        return text
    from jinja2.sandbox import SecurityError

    from reportkit.safety.sandbox import format_text
    try:
        return format_text(text, {key: value for key, value in this.fields.items()
                                  if isinstance(value, (str, int))})
    except (SecurityError, ValueError) as error:
        raise ContentError(f"'{name}': {error}", path=shown) from None
