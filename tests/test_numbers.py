"""Numbers for each language: money in U.S. and Canadian dollars, ordinals, and the
arithmetic a narrative does with quantities from the data."""

from __future__ import annotations

import pytest

from reportkit.numbers import Quantity, money_cad, money_usd, ordinal

NBSP = '\u00a0'


@pytest.mark.parametrize('value, lang, expected', [
    (54.9e9, 'en', f'C$54.9{NBSP}billion'),
    (54.9e9, 'fr', f'54,9{NBSP}milliards de dollars canadiens'),
    (1.2e9, 'fr', f'1,2{NBSP}milliard de dollars canadiens'),
    (850e6, 'en', f'C$850.0{NBSP}million'),
    (850e6, 'fr', f'850,0{NBSP}millions de dollars canadiens'),
    (-1.25e9, 'en', f'-C$1.3{NBSP}billion'),
    (500, 'en', 'C$500'),
    (500, 'fr', f'500{NBSP}dollars canadiens'),
])
def test_canadian_dollars(value, lang, expected):
    assert money_cad(value, lang) == expected


@pytest.mark.parametrize('value, lang, expected', [
    (577.2e9, 'en', f'US$577.2{NBSP}billion'),
    (577.2e9, 'fr', f'577,2{NBSP}milliards de dollars américains'),
    (-3.4e6, 'en', f'-US$3.4{NBSP}million'),
    (500, 'fr', f'500{NBSP}dollars américains'),
])
def test_us_dollars_are_written_as_before(value, lang, expected):
    assert money_usd(value, lang) == expected


@pytest.mark.parametrize('unit, value, lang, expected', [
    ('cad_billions', 54.9, 'en', f'C$54.9{NBSP}billion'),
    ('cad_millions', 54_900, 'fr', f'54,9{NBSP}milliards de dollars canadiens'),
    ('usd_millions', 280_609, 'en', f'US$280.6{NBSP}billion'),
])
def test_a_quantity_of_dollars_prints_in_its_currency(unit, value, lang, expected):
    quantity = Quantity.of(value, unit, lang)
    assert quantity.kind == unit[:3]
    assert str(quantity) == expected


@pytest.mark.parametrize('lang, expected', [
    ('en', ['1st', '2nd', '3rd', '4th', '11th', '12th', '13th', '21st', '22nd', '23rd',
            '101st', '111th']),
    ('fr', ['1er', '2e', '3e', '4e', '11e', '12e', '13e', '21e', '22e', '23e', '101e',
            '111e']),
])
def test_ordinals_follow_the_cldr_rules(lang, expected):
    numbers = [1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 101, 111]
    assert [ordinal(n, lang) for n in numbers] == expected


def usd(billions: float) -> Quantity:
    return Quantity.of(billions, 'usd_billions', 'en')


def test_quantities_of_one_kind_add_and_subtract():
    exports, imports = usd(280.6), usd(296.6)
    assert str(exports + imports) == f'US$577.2{NBSP}billion'     # the two-way total
    assert str(exports - imports) == f'-US$16.0{NBSP}billion'     # the balance
    assert str(abs(exports - imports)) == f'US$16.0{NBSP}billion'
    assert (exports + imports).kind == 'usd'


def test_quantities_of_one_kind_compare():
    small, large = usd(1), usd(2)
    assert small < large and large > small and small <= small and large >= small
    assert small == usd(1) and small != large
    assert not small > large and not large < small
    assert max(small, large) is large


def test_a_quantity_compares_with_a_plain_number():
    assert usd(-1) < 0 and usd(1) > 0 and usd(0) >= 0 and usd(0) <= 0
    assert not usd(0) > 0 and not usd(0) < 0      # zero is neither
    assert usd(0) != 0                             # a quantity is never equal to a number


@pytest.mark.parametrize('operation, message', [
    (lambda a, b: a + b, 'cannot add Canadian dollars to U.S. dollars: both values must '
                         'be of one kind'),
    (lambda a, b: a - b, 'cannot subtract Canadian dollars from U.S. dollars: both values '
                         'must be of one kind'),
    (lambda a, b: a < b, 'cannot compare Canadian dollars with U.S. dollars: both values '
                         'must be of one kind'),
    (lambda a, b: a > b, 'cannot compare Canadian dollars with U.S. dollars: both values '
                         'must be of one kind'),
    (lambda a, b: a == b, 'cannot compare Canadian dollars with U.S. dollars: both values '
                          'must be of one kind'),
])
def test_quantities_of_two_kinds_never_mix(operation, message):
    with pytest.raises(ValueError) as refused:
        operation(usd(1), Quantity.of(1, 'cad_billions', 'en'))
    assert str(refused.value) == message


def test_a_number_is_not_added_to_a_quantity():
    with pytest.raises(TypeError) as refused:
        usd(1) + 5
    assert str(refused.value) == ('cannot add int and U.S. dollars: both must be values '
                                  'from the data')
