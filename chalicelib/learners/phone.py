"""Which country a learner's mobile number is read in, and what a number there looks like.

A number typed without `+country code` belongs to the circle's country: a learner of a
circle in Nairobi types `0712 345678`, not `+254 712 345678`. Online circles (or a country
the gazetteer does not know) fall back to `CIRCLES_DEFAULT_PHONE_REGION`.
"""
import functools

from chalicelib.circles.gazetteer import COUNTRIES_FILE
from chalicelib.core.settings import get_settings


@functools.cache
def country_codes():
    """{country name as the gazetteer writes it (and circles store it): ISO 3166 code}, read once
    per process from the gazetteer's small country list (~250 lines, under a millisecond)."""
    with open(COUNTRIES_FILE, encoding='utf-8') as data:
        return dict(line.rstrip('\n').split('\t') for line in data if line.strip())


def region_for(circle):
    """The ISO country code numbers without `+` are read in, for this circle's learners."""
    default = get_settings().default_phone_region
    if circle is None or circle.online or not circle.country:
        return default
    return country_codes().get(circle.country, default)


def example_number(circle):
    """A mobile number of the circle's region written the way people there write it
    ('0712 123456' in Kenya, '(201) 555-0123' in the US), or None if phonenumbers has none."""
    import phonenumbers
    example = phonenumbers.example_number_for_type(region_for(circle), phonenumbers.PhoneNumberType.MOBILE)
    if example is None:
        return None
    return phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)
