"""Numbers, money and dates formatted for each language (Babel, CLDR data)."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal, format_percent, get_currency_name, get_currency_symbol

LOCALES = {'en': 'en_CA', 'fr': 'fr_CA'}

# Scale words for large amounts: (threshold, divisor, English, French singular, plural).
_SCALES = [
    (1e12, 1e12, 'trillion', 'billion', 'billions'),
    (1e9, 1e9, 'billion', 'milliard', 'milliards'),
    (1e6, 1e6, 'million', 'million', 'millions'),
]

# Units a data column may declare, and the factor to the base quantity.
UNIT_FACTORS = {
    'usd_billions': ('usd', 1e9),
    'usd_millions': ('usd', 1e6),
    'usd': ('usd', 1.0),
    'cad_billions': ('cad', 1e9),
    'cad_millions': ('cad', 1e6),
    'thousands': ('count', 1e3),
    'count': ('count', 1.0),
    'percent': ('percent', 1.0),
}


def locale(lang: str) -> Locale:
    return Locale.parse(LOCALES[lang])


def decimal(value: float, lang: str, digits: int = 0) -> str:
    """A plain number with the language's grouping and decimal marks."""
    pattern = '#,##0' + ('.' + '0' * digits if digits else '')
    # Round half up (6.285 -> 6.29), as statistical tables do; Babel would round half even.
    rounded = Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP)
    return format_decimal(rounded, format=pattern, locale=LOCALES[lang])


def percent(value: float, lang: str, digits: int = 1) -> str:
    """``value`` is a percentage (12.8 means 12.8%)."""
    pattern = locale(lang).percent_formats[None].pattern  # '#,##0%' or '#,##0\u00a0%'
    if digits:
        head, tail = pattern.rsplit('0', 1)
        pattern = f'{head}0.{"0" * digits}{tail}'
    return format_percent(value / 100, format=pattern, locale=LOCALES[lang])


def _scaled(value: float, lang: str, digits: int) -> tuple[str, str]:
    """(number, scale word) for a large amount, e.g. ('577.2', 'billion')."""
    for threshold, divisor, english, singular, plural in _SCALES:
        if abs(value) >= threshold:
            scaled = value / divisor
            number = decimal(scaled, lang, digits)
            if lang == 'en':
                return number, english
            return number, singular if abs(round(scaled, digits)) < 2 else plural
    return decimal(value, lang), ''


@functools.cache
def _currency(kind: str) -> tuple[str, str]:
    """(English symbol, French name in the plural) of a money kind, as Government of
    Canada publications write them. From CLDR where it has that form: 'US$' (en_CA) and
    'dollars canadiens' (fr_CA). Not for the other two: CLDR writes the Canadian dollar
    '$' in en_CA and 'CA$' elsewhere, where the official form is 'C$', and calls U.S.
    dollars 'dollars des États-Unis' in French."""
    if kind == 'usd':
        return get_currency_symbol('USD', LOCALES['en']), 'dollars américains'
    if kind == 'cad':
        return 'C$', get_currency_name('CAD', count=2, locale=LOCALES['fr'])
    raise ValueError(f'{kind!r} is not a currency the reports print (usd, cad)')


def money(value: float, kind: str, lang: str, digits: int = 1) -> str:
    """Dollars of ``kind`` ('usd', 'cad'): 'US$577.2 billion', 'C$54.9 billion' /
    '577,2 milliards de dollars américains', '54,9 milliards de dollars canadiens'."""
    symbol, name = _currency(kind)
    number, scale = _scaled(value, lang, digits)
    # A no-break space keeps the number and its scale word on one line.
    if lang == 'en':
        sign, number = ('-', number[1:]) if number.startswith('-') else ('', number)
        return f'{sign}{symbol}{number}\u00a0{scale}'.rstrip('\u00a0')
    if scale:
        return f'{number}\u00a0{scale} de {name}'
    return f'{number}\u00a0{name}'


def money_usd(value: float, lang: str, digits: int = 1) -> str:
    """U.S. dollars: 'US$577.2 billion' / '577,2 milliards de dollars américains'."""
    return money(value, 'usd', lang, digits)


def money_cad(value: float, lang: str, digits: int = 1) -> str:
    """Canadian dollars: 'C$54.9 billion' / '54,9 milliards de dollars canadiens'."""
    return money(value, 'cad', lang, digits)


def count(value: float, lang: str, digits: int = 2) -> str:
    """A count of things: '917,000'; from a million on, '5.28 million'."""
    if abs(value) >= 1e6:
        number, scale = _scaled(value, lang, digits)
        return f'{number}\u00a0{scale}'
    return decimal(value, lang)


def long_date(value: dt.date, lang: str) -> str:
    """'April 27, 2016' / '27 avril 2016'."""
    return format_date(value, format='long', locale=LOCALES[lang])


def month_year(value: dt.date, lang: str) -> str:
    """'December 2014' / 'décembre 2014'."""
    return format_date(value, format='MMMM y', locale=LOCALES[lang])


KIND_NAMES = {'usd': 'U.S. dollars', 'cad': 'Canadian dollars', 'count': 'a count',
              'percent': 'a percentage', 'plain': 'a plain number'}


@dataclass(frozen=True)
class Quantity:
    """A number from the data that knows its unit and prints itself for ``lang``.

    ``value`` is in base units: dollars for money, things for counts, percent points.
    Quantities of one kind add, subtract and compare (a two-way total, a balance, which
    is larger); the result keeps the kind. Two kinds never mix: that is a ValueError
    naming both. A quantity also compares with a plain number (``change < 0``).
    ``abs()`` drops the sign.
    """

    value: float
    kind: str
    lang: str
    digits: int | None = None

    @classmethod
    def of(cls, value: float, unit: str, lang: str) -> 'Quantity':
        kind, factor = UNIT_FACTORS.get(unit, ('plain', 1.0))
        return cls(float(value) * factor, kind, lang)

    def __str__(self) -> str:
        if self.kind in ('usd', 'cad'):
            return money(self.value, self.kind, self.lang,
                         1 if self.digits is None else self.digits)
        if self.kind == 'count':
            return count(self.value, self.lang, 2 if self.digits is None else self.digits)
        if self.kind == 'percent':
            return percent(self.value, self.lang, 1 if self.digits is None else self.digits)
        digits = self.digits if self.digits is not None else (0 if self.value == int(self.value) else 1)
        return decimal(self.value, self.lang, digits)

    __html__ = __str__

    def __abs__(self) -> 'Quantity':
        return Quantity(abs(self.value), self.kind, self.lang, self.digits)

    def __neg__(self) -> 'Quantity':
        return Quantity(-self.value, self.kind, self.lang, self.digits)

    def __sub__(self, other: 'Quantity') -> 'Quantity':
        return Quantity(self.value - _same(self, other, 'subtract'), self.kind, self.lang,
                        self.digits)

    def __add__(self, other: 'Quantity') -> 'Quantity':
        return Quantity(self.value + _same(self, other, 'add'), self.kind, self.lang,
                        self.digits)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented       # not equal to a number, as before
        return self.value == _same(self, other, 'compare')

    def __lt__(self, other: 'Quantity | float') -> bool:
        return self.value < _compared(self, other)

    def __le__(self, other: 'Quantity | float') -> bool:
        return self.value <= _compared(self, other)

    def __gt__(self, other: 'Quantity | float') -> bool:
        return self.value > _compared(self, other)

    def __ge__(self, other: 'Quantity | float') -> bool:
        return self.value >= _compared(self, other)

    def __hash__(self) -> int:
        return hash((self.value, self.kind))

    def rounded(self, digits: int) -> 'Quantity':
        """The same quantity printed with ``digits`` decimals."""
        return Quantity(self.value, self.kind, self.lang, digits)


def _same(a: Quantity, b: 'Quantity', verb: str) -> float:
    """The value of ``b``, a quantity of the kind of ``a`` (else the error says why)."""
    if not isinstance(b, Quantity):
        raise TypeError(f'cannot {verb} {type(b).__name__} and {_named(a.kind)}: '
                        'both must be values from the data')
    if a.kind != b.kind:
        link = {'add': 'to', 'subtract': 'from', 'compare': 'with'}[verb]
        raise ValueError(f'cannot {verb} {_named(b.kind)} {link} {_named(a.kind)}: '
                         'both values must be of one kind')
    return b.value


def _compared(a: Quantity, b: 'Quantity | float') -> float:
    """What ``a`` is compared with: a quantity of its kind, or a plain number."""
    if isinstance(b, (int, float)) and not isinstance(b, bool):
        return b
    return _same(a, b, 'compare')


def _named(kind: str) -> str:
    return KIND_NAMES.get(kind, kind)


_ORDINAL_SUFFIXES = {'en': {'one': 'st', 'two': 'nd', 'few': 'rd', 'other': 'th'},
                     'fr': {'one': 'er', 'other': 'e'}}


def ordinal(number: int, lang: str) -> str:
    """1st, 2nd, 3rd, 11th, 21st / 1er, 2e: the suffix from CLDR's ordinal plural rules."""
    form = locale(lang).ordinal_form(number)
    return f'{number}{_ORDINAL_SUFFIXES[lang].get(form, _ORDINAL_SUFFIXES[lang]["other"])}'
