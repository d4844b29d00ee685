"""The insights report in real Chromium: its charts render without JavaScript on a phone and a
desktop (photographed into test-output/screenshots/), the page passes axe and does not scroll
sideways, and it prints on A4 without a chart cut across two pages.

The print check reads the PDF Chromium makes (`page.pdf`): before printing, the test marks the
top and the bottom of each chart's figure with a 2 px strip of a colour of its own; each page's
content stream (Flate, as Skia writes it) then tells on which pages each strip was drawn. A chart
is whole when its two strips are on the same page. The same check on the same page with the
figures' `break-inside: avoid` turned off, and a chart pushed to the end of a page, finds the
chart cut: the check can fail, and it is the stylesheet that keeps the charts whole.
"""
import re
import zlib

import pytest

from chalicelib.circles import circles
from chalicelib.insights import demo
from tests.facilitators.test_facilitator_pages import account
from tests.support.browser import (  # noqa: F401 - fixtures are found by name
    browser, check_page, live_server, open_page, screenshot)

pytestmark = pytest.mark.browser

A4_CONTENT = {'width': round((210 - 30) / 25.4 * 96), 'height': (297 - 32) / 25.4 * 96}    # @page margins, CSS px
MARK = """(push) => {
  const figures = [...document.querySelectorAll('.chart-figure')];
  if (push !== null) {
    figures.forEach(f => { f.style.breakInside = 'auto'; f.style.pageBreakInside = 'auto'; });
    const spacer = document.createElement('div');
    figures[0].insertAdjacentElement('beforebegin', spacer);
    const top = figures[0].getBoundingClientRect().top + window.scrollY;
    spacer.style.height = `${((push - top) % %PAGE% + %PAGE%) % %PAGE%}px`;
  }
  figures.forEach((figure, i) => {
    for (const [where, blue] of [['afterbegin', 1], ['beforeend', 2]]) {
      const strip = document.createElement('div');
      strip.style.height = '2px';
      strip.style.background = `rgb(7, ${11 + i}, ${blue})`;
      strip.style.printColorAdjust = 'exact';
      figure.insertAdjacentElement(where, strip);
    }
  });
  return figures.length;
}""".replace('%PAGE%', str(A4_CONTENT['height']))


@pytest.fixture
def report(live_server):
    circle = demo.seed_finished_circle(circles.utcnow(), account('Amara Okafor'))
    return f'/circles/{circle.id}/insights'


def pdf_page_colours(pdf):
    """For each page of a Skia PDF, in order, the set of fill colours (0-255 RGB) its content draws."""
    objects = {int(m.group(1)): m.group(2) for m in re.finditer(rb'(\d+) 0 obj\s*(.*?)endobj', pdf, re.S)}
    kids = re.search(rb'/Type /Pages.*?/Kids \[([^\]]*)\]', b''.join(objects.values()), re.S).group(1)
    pages = []
    for page_number in map(int, re.findall(rb'(\d+) 0 R', kids)):
        contents = re.search(rb'/Contents (\[[^\]]*\]|\d+ 0 R)', objects[page_number]).group(1)
        colours = set()
        for number in map(int, re.findall(rb'(\d+) 0 R', contents)):
            stream = re.search(rb'stream\r?\n(.*)endstream', objects[number], re.S).group(1)
            text = zlib.decompress(stream)
            colours |= {tuple(round(float(v) * 255) for v in found)
                        for found in re.findall(rb'([\d.]+) ([\d.]+) ([\d.]+) rg', text)}
        pages.append(colours)
    return pages


def chart_pages(page, push=None):
    """{chart number: (pages of its top strip, pages of its bottom strip)} in the printed PDF."""
    page.set_viewport_size({'width': A4_CONTENT['width'], 'height': 1000})
    page.emulate_media(media='print')
    count = page.evaluate(MARK, push)
    pages = pdf_page_colours(page.pdf(format='A4', print_background=True, prefer_css_page_size=True))
    return {i: tuple(frozenset(n for n, colours in enumerate(pages) if (7, 11 + i, blue) in colours)
                     for blue in (1, 2)) for i in range(count)}, len(pages)


def assert_three_charts_drawn(page):
    charts = page.locator('svg.chart')
    assert charts.count() == 3
    for n in range(3):
        box = charts.nth(n).bounding_box()
        assert box['width'] > 250 and box['height'] > 100, box
        assert charts.nth(n).get_attribute('role') == 'img'
    assert page.locator('.visually-hidden > table').count() == 3


def test_the_report_page_renders_its_charts_and_passes_axe(open_page, report):
    for viewport in ('phone', 'desktop'):
        page = open_page(viewport)
        page.goto(report)
        assert_three_charts_drawn(page)
        check_page(page, 'insights-report', viewport)       # no sideways scrolling, axe, a photo
    page = open_page('phone')
    page.set_viewport_size({'width': 390, 'height': 844})
    page.goto(report)
    screenshot(page, 'insights-report', '390')
    # No script is needed to draw them (axe itself needs one, so it ran above).
    page = open_page('phone', javascript=False)
    page.goto(report)
    assert_three_charts_drawn(page)


def test_the_report_prints_on_a4_without_a_chart_cut_across_pages(open_page, report):
    page = open_page('desktop')
    page.goto(report)
    placed, page_count = chart_pages(page)
    assert len(placed) == 3 and page_count >= 2
    for number, (top, bottom) in placed.items():
        assert len(top) == 1 and top == bottom, f'chart {number} is printed across pages {sorted(top | bottom)}'

    # The check can fail: without `break-inside: avoid`, a chart that starts 80 px before the end
    # of a page is cut in two.
    page = open_page('desktop')
    page.goto(report)
    placed, _ = chart_pages(page, push=A4_CONTENT['height'] - 80)
    top, bottom = placed[0]
    assert len(top) == 1 and len(bottom) == 1 and top != bottom, placed
