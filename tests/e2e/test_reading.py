"""What people read, in Japanese and in English: the milestone timeline keeps 12 px labels
on a phone (it scrolls sideways instead of shrinking), stacked tables keep their column
labels, and status pills, small buttons and column headings stay on one line."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from tests.e2e.conftest import LiveServer, grant_id, sign_in
from tests.e2e.test_accessibility import PHONE, blocking_violations

READERS = {"ja": "applicant@example.jp", "en": "officer2@example.jp"}  # their own language
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture(params=sorted(READERS))
def reader(
    request: pytest.FixtureRequest, browser: Browser, live_server: LiveServer
) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server.url, bypass_csp=True)  # axe's script
    page = context.new_page()
    page.set_default_timeout(10_000)
    sign_in(page, READERS[request.param])
    yield page
    context.close()


def test_the_timeline_keeps_its_labels_readable_on_a_phone(
    reader: Page, live_server: LiveServer
) -> None:
    reader.set_viewport_size(PHONE)
    reader.goto(f"/grants/{grant_id(live_server, 'AMED-VC-7-0001')}")
    scale, scrolls, page_width = reader.evaluate(
        """() => {
          const svg = document.querySelector('.chart-timeline svg');
          const box = svg.closest('.chart-scroll');
          return [svg.getBoundingClientRect().width / svg.viewBox.baseVal.width,
                  box.scrollWidth > box.clientWidth,
                  document.documentElement.scrollWidth];
        }"""
    )
    assert scale >= 1  # drawn at its size: every label at least 12 px
    assert scrolls  # the chart scrolls sideways, inside its box...
    assert page_width <= PHONE["width"]  # ...and the page does not
    smallest = reader.evaluate(
        "() => Math.min(...Array.from(document.querySelectorAll('.chart-timeline svg text'),"
        " t => parseFloat(t.getAttribute('font-size') || '12')))"
    )
    assert smallest >= 12
    assert blocking_violations(reader) == []


def test_stacked_tables_keep_their_column_labels(reader: Page) -> None:
    reader.set_viewport_size(PHONE)
    reader.goto("/alerts")
    cells = reader.evaluate(
        """() => Array.from(document.querySelectorAll('table.table')).flatMap(table => {
          const headings = Array.from(table.querySelectorAll('thead tr:first-child th'),
                                      th => th.textContent.trim());
          return Array.from(table.querySelectorAll('tbody tr')).flatMap(row =>
            Array.from(row.children).filter(cell => cell.colSpan === 1).map((cell, i) => [
              headings[i],
              getComputedStyle(cell, '::before').content,
              getComputedStyle(cell).display,
            ]));
        })"""
    )
    assert cells, "the inbox shows a table of alerts"
    for heading, before, display in cells:
        assert display == "block"  # stacked
        assert before == f'"{heading}"', (heading, before)


def test_pills_small_buttons_and_headings_stay_on_one_line(
    reader: Page, live_server: LiveServer
) -> None:
    reader.set_viewport_size(DESKTOP)
    pages = ["/alerts", f"/grants/{grant_id(live_server, 'AMED-VC-7-0001')}", "/"]
    for path in pages:
        reader.goto(path)
        broken = reader.evaluate(
            """() => Array.from(document.querySelectorAll(
                '.badge, .button-small, table.table thead th')).filter(el => {
              const style = getComputedStyle(el);
              const line = parseFloat(style.fontSize) * 1.6;
              const frame = ['paddingTop', 'paddingBottom', 'borderTopWidth',
                             'borderBottomWidth'].reduce((sum, k) => sum + parseFloat(style[k]), 0);
              return el.getBoundingClientRect().height > line + frame + 1;
            }).map(el => el.textContent.trim())"""
        )
        assert broken == [], (path, broken)
