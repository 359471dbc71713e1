"""The dashboard (issue 17) in a real browser: Debian's chromium driven by
chromedriver through selenium, against a real `scents serve` holding
known data.  Every figure a view shows is compared with the JSON API's;
sorting, filtering, paging, the product page, order lookup, sourcing and
venues are clicked through; a missing or wrong token shows the sign-in
form and no data; the tables work with JavaScript off; the pages pass an
accessibility smoke check and fit a phone's width.  Each view is saved
as a screenshot under $SCENTS_ARTIFACTS (build/artifacts/dashboard)."""
import json
import os
import re
import shutil
import time

import pytest
import requests
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.common.exceptions import (NoSuchElementException,
                                        StaleElementReferenceException)

from conftest import ROOT, Server, run

ARTIFACTS = os.environ.get("SCENTS_ARTIFACTS",
                           os.path.join(ROOT, "build", "artifacts"))
SHOTS = os.path.join(ARTIFACTS, "dashboard")
N_PRODUCTS = 120


def make_token(db, name, *scopes):
    p = run(db, "token", "create", "--name", name, "--scope", ",".join(scopes))
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


class Api:
    def __init__(self, url, token):
        self.url, self.h = url, {"Authorization": "Bearer " + token}

    def get(self, path):
        r = requests.get(self.url + path, headers=self.h, timeout=30)
        assert r.status_code == 200, (path, r.text)
        return r.json()

    def post(self, path, body, **kw):
        r = requests.post(self.url + path, json=body, headers=self.h,
                          timeout=30, **kw)
        assert r.status_code in (200, 201, 202), (path, r.text)
        return r


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A server with 120 products, ETAs, orders, research and a venue;
    an admin token for the API and a read token for the browser."""
    tmp = tmp_path_factory.mktemp("dash")
    db = str(tmp / "scents.db")
    admin = make_token(db, "admin", "admin")
    read = make_token(db, "stock-team", "read")
    alloc = make_token(db, "sales", "allocate")
    s = Server(db).start()
    api = Api(s.url, admin)
    for i in range(N_PRODUCTS):
        sku = "SKU-%03d" % i
        api.post("/add_batch", {"ref": "w-%03d" % i, "sku": sku,
                                "qty": 10 + (i * 37) % 200})
        if i % 3 == 0:
            api.post("/add_batch", {"ref": "s-%03d" % i, "sku": sku,
                                    "qty": 5 + i, "eta": "2027-01-%02d"
                                    % (1 + i % 28)})
    for i in range(0, N_PRODUCTS, 7):
        api.post("/allocate", {"orderid": "o-%03d" % i,
                               "sku": "SKU-%03d" % i, "qty": 3 + i % 5})
    api.post("/allocate", {"orderid": "o-000", "sku": "SKU-001", "qty": 2})
    api.post("/allocate", {"orderid": "o-000", "sku": "SKU-002",
                           "qty": 10000, "backorder": True})
    with open(os.path.join(ROOT, "examples", "market-research.csv"),
              "rb") as f:
        r = requests.post(s.url + "/sourcing/research", data=f.read(),
                          headers={**api.h, "Content-Type": "text/csv"},
                          timeout=30)
        assert r.status_code == 201, r.text
    with open(os.path.join(ROOT, "examples", "screen-3.venue.json")) as f:
        api.post("/venues", json.load(f))
    csv = {**api.h, "Content-Type": "text/csv"}
    for method, path, name in (
            ("PUT", "/ingredients", "ingredients.csv"),
            ("POST", "/formulas/SEA-BREEZE", "sea-breeze-a.csv"),
            ("POST", "/formulas/SEA-BREEZE", "sea-breeze-b.csv")):
        with open(os.path.join(ROOT, "examples", name), "rb") as f:
            r = requests.request(method, s.url + path, data=f.read(),
                                 headers=csv, timeout=30)
            assert r.status_code in (200, 201), r.text
    api.post("/surveys", {"sku": "SEA-BREEZE", "name": "round 1",
                          "variants": [{"label": "A", "version": 1},
                                       {"label": "B", "version": 2}]})
    with open(os.path.join(ROOT, "examples", "survey-responses.csv"),
              "rb") as f:
        r = requests.post(s.url + "/surveys/1/responses", data=f.read(),
                          headers=csv, timeout=30)
        assert r.status_code == 200, r.text
    yield {"server": s, "api": api, "read": read, "allocate": alloc,
           "db": db}
    assert s.stop() == 0, s.text()


def chrome(js=True, width=1280, height=900):
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu",
              "--disable-dev-shm-usage", f"--window-size={width},{height}"):
        opts.add_argument(a)
    if not js:
        opts.add_experimental_option(
            "prefs", {"profile.managed_default_content_settings.javascript":
                      2})
    if width < 500:  # a desktop window has a minimum width: emulate
        opts.add_experimental_option("mobileEmulation", {
            "deviceMetrics": {"width": width, "height": height,
                              "pixelRatio": 3}})
    return webdriver.Chrome(service=Service(shutil.which("chromedriver") or
                                            "/usr/bin/chromedriver"),
                            options=opts)


@pytest.fixture(scope="module")
def browser():
    os.makedirs(SHOTS, exist_ok=True)
    d = chrome()
    yield d
    d.quit()


def navigate(d, action):
    """Run @action (a click, a submit) and wait for the next page: its
    document replaces the old one.  Works with scripts off, too."""
    old = d.find_element(By.TAG_NAME, "html").id
    action()
    end = time.time() + 15
    while time.time() < end:
        try:
            if d.find_element(By.TAG_NAME, "html").id != old:
                return
        except (NoSuchElementException, StaleElementReferenceException):
            pass
        time.sleep(0.05)
    raise AssertionError("no new page after the action")


def click(d, by, what):
    navigate(d, lambda: d.find_element(by, what).click())


def submit(d, field_id, text, clear=False):
    def act():
        f = d.find_element(By.ID, field_id)
        if clear:
            f.clear()
        f.send_keys(text)
        f.send_keys(Keys.ENTER)
    navigate(d, act)


def shot(d, name):
    d.save_screenshot(os.path.join(SHOTS, name + ".png"))


def sign_in(d, site, token=None):
    d.get(site["server"].url + "/ui/login")
    submit(d, "token", token or site["read"], clear=True)


def table_rows(d):
    """The products table's rows: (sku, available, allocated, incoming,
    batches)."""
    out = []
    for tr in d.find_elements(By.CSS_SELECTOR, "main table tbody tr"):
        sku = tr.find_element(By.TAG_NAME, "th").text
        nums = [int(td.text) for td in
                tr.find_elements(By.CSS_SELECTOR, "td.num")]
        out.append((sku, *nums))
    return out


def api_products(site):
    rows = site["api"].get("/products?limit=1000")["products"]
    return [(p["sku"], p["available"], p["allocated"], p["incoming"],
             p["batches"]) for p in rows]


def test_no_token_or_a_wrong_one_shows_the_sign_in_and_no_data(site,
                                                                browser):
    d = browser
    d.delete_all_cookies()
    d.get(site["server"].url + "/")
    assert d.find_element(By.TAG_NAME, "h1").text == "Sign in"
    assert not d.find_elements(By.CSS_SELECTOR, "main table")
    assert "SKU-000" not in d.page_source
    shot(d, "sign-in")
    sign_in(d, site, "sct_" + "A" * 43)
    assert d.find_element(By.CSS_SELECTOR, "[role=alert]").text == \
        "That token is unknown or revoked."
    assert not d.find_elements(By.CSS_SELECTOR, "main table")
    sign_in(d, site, site["allocate"])  # a token without the read scope
    assert d.find_element(By.CSS_SELECTOR, "[role=alert]").text == \
        "That token lacks the read scope."
    for path in ("/ui/products/SKU-001", "/ui/orders?orderid=o-000",
                 "/ui/sourcing", "/ui/venues/1"):
        d.get(site["server"].url + path)
        assert d.find_element(By.TAG_NAME, "h1").text == "Sign in", path
    # the cookie cannot be read by scripts: HttpOnly
    sign_in(d, site)
    cookie = d.get_cookie("scents_token")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert d.execute_script("return document.cookie") == ""


def test_products_match_the_api_and_sort_filter_and_page(site, browser):
    d = browser
    sign_in(d, site)
    assert d.find_element(By.TAG_NAME, "h1").text == "Products"
    api = api_products(site)
    assert len(api) == N_PRODUCTS
    assert d.find_element(By.TAG_NAME, "caption").text == \
        f"{N_PRODUCTS} products"
    assert table_rows(d) == api[:50]
    shot(d, "products")
    # page 2 and 3
    click(d, By.CSS_SELECTOR, "a[rel=next]")
    assert table_rows(d) == api[50:100]
    assert "Page 2 of 3" in d.find_element(By.CLASS_NAME, "pager").text
    click(d, By.CSS_SELECTOR, "a[rel=next]")
    assert table_rows(d) == api[100:]
    assert not d.find_elements(By.CSS_SELECTOR, "a[rel=next]")
    # sort by available, ascending then descending (ties by sku)
    click(d, By.LINK_TEXT, "Available")
    by_avail = sorted(api, key=lambda r: (r[1], r[0]))
    assert table_rows(d) == by_avail[:50]
    th = d.find_element(By.CSS_SELECTOR, "th[aria-sort]")
    assert th.get_attribute("aria-sort") == "ascending"
    click(d, By.PARTIAL_LINK_TEXT, "Available")
    assert table_rows(d) == list(reversed(by_avail))[:50]
    shot(d, "products-sorted")
    # filter: SKU-01x, 10 products, in the sort chosen
    submit(d, "q", "sku-01")
    want = [r for r in reversed(by_avail) if r[0].startswith("SKU-01")]
    assert table_rows(d) == want
    assert d.find_element(By.TAG_NAME, "caption").text == \
        "10 products matching “sku-01”"
    # incoming stock: the batches with an ETA
    d.get(site["server"].url + "/?sort=incoming&dir=desc")
    top = table_rows(d)[0]
    assert top == max(api, key=lambda r: (r[3], [-ord(c) for c in r[0]]))


def test_a_product_page_with_its_timeline_and_lines(site, browser):
    d = browser
    sign_in(d, site)
    click(d, By.LINK_TEXT, "SKU-000")
    p = site["api"].get("/products/SKU-000")
    purchased = sum(b["purchased"] for b in p["batches"])
    allocated = sum(b["allocated"] for b in p["batches"])
    assert d.find_element(By.ID, "purchased").text == str(purchased)
    assert d.find_element(By.ID, "allocated").text == str(allocated)
    assert d.find_element(By.ID, "available").text == \
        str(purchased - allocated)
    rows = d.find_elements(By.CSS_SELECTOR, "main table tbody tr")
    got = []
    for tr in rows:
        cells = [td.text for td in tr.find_elements(By.TAG_NAME, "td")]
        got.append((tr.find_element(By.TAG_NAME, "th").text,
                    cells[0], int(cells[2]), int(cells[3]), int(cells[4])))
    assert got == [(b["ref"], b["eta"] or "in the warehouse", b["purchased"],
                    b["allocated"], b["available"]) for b in p["batches"]]
    # the timeline names every batch, its ETA, and is labelled
    svg = d.find_element(By.CSS_SELECTOR, "svg.timeline")
    assert svg.get_attribute("role") == "img"
    labels = [t.text for t in svg.find_elements(By.TAG_NAME, "text")]
    assert labels == ["w-000", "warehouse", "s-000", "2027-01-01", "now",
                      "2027-01-01"]
    # the lines allocated to each batch, opened by a click
    d.find_element(By.TAG_NAME, "summary").click()
    line = d.find_element(By.CSS_SELECTOR, "details li")
    assert line.text == "o-000: 3"
    shot(d, "product")
    navigate(d, lambda: line.find_element(By.TAG_NAME, "a").click())
    assert d.find_element(By.TAG_NAME, "h1").text == "Orders"


def test_order_lookup_shows_each_line_as_the_api_does(site, browser):
    d = browser
    sign_in(d, site)
    click(d, By.LINK_TEXT, "Orders")
    submit(d, "orderid", "o-000")
    api = site["api"].get("/allocations/o-000")
    rows = [(tr.find_element(By.TAG_NAME, "th").text,
             tr.find_element(By.TAG_NAME, "td").text)
            for tr in d.find_elements(By.CSS_SELECTOR, "tbody tr")]
    want = [(a["sku"], "allocated from " + a["batchref"] if "batchref" in a
             else "backordered: waiting for %d" % a["qty"]) for a in api]
    assert rows == want and len(rows) == 3
    shot(d, "order")
    submit(d, "orderid", "nobody", clear=True)
    assert "No lines for order “nobody”" in \
        d.find_element(By.CSS_SELECTOR, "[role=status]").text


def test_sourcing_chart_and_table_match_the_decisions(site, browser):
    d = browser
    sign_in(d, site)
    click(d, By.LINK_TEXT, "Sourcing")
    api = site["api"].get("/sourcing/decisions")
    assert d.find_element(By.ID, "threshold").text == \
        "%.2f%%" % api["threshold_pct"]
    rows = [[td.text for td in tr.find_elements(By.TAG_NAME, "td")]
            for tr in d.find_elements(By.CSS_SELECTOR, "tbody tr")]
    assert [r[0] for r in rows] == [x["sku"] for x in api["decisions"]]
    assert [r[1] for r in rows] == ["%.2f%%" % x["cheap_pct"]
                                    for x in api["decisions"]]
    assert [r[2] for r in rows] == [
        "%.2f–%.2f%%" % tuple(x["interval_pct"]) if x["interval_pct"]
        else "—" for x in api["decisions"]]
    assert [r[3] for r in rows] == [x["supplier"]
                                    for x in api["decisions"]]
    svg = d.find_element(By.CSS_SELECTOR, "svg.favour")
    assert len(svg.find_elements(By.TAG_NAME, "circle")) == \
        len(api["decisions"])
    shot(d, "sourcing")


def test_venue_cartridges_match_the_api(site, browser):
    d = browser
    sign_in(d, site)
    click(d, By.LINK_TEXT, "Venues")
    click(d, By.LINK_TEXT, "Screen 3")
    api = site["api"].get("/venues/1")
    rows = [(tr.find_element(By.TAG_NAME, "th").text,
             int(tr.find_elements(By.TAG_NAME, "td")[0].text),
             int(tr.find_elements(By.TAG_NAME, "td")[3].text.split()[0]))
            for tr in d.find_elements(
                By.CSS_SELECTOR, "table:first-of-type tbody tr")]
    assert rows == [(c["seat"], c["slot"], c["level_ul"])
                    for c in api["cartridges"]]
    low = d.find_elements(By.CSS_SELECTOR, "tr.low")
    assert len(low) == sum(c["level_ul"] < api["alert_below_ul"]
                           for c in api["cartridges"]) > 0
    shot(d, "venue")


def test_demand_per_sku_matches_the_report(site, browser):
    d = browser
    sign_in(d, site)
    click(d, By.LINK_TEXT, "Demand")
    api = site["api"].get("/demand")
    rows = [(tr.find_element(By.TAG_NAME, "th").text,
             [td.text for td in tr.find_elements(By.TAG_NAME, "td")])
            for tr in d.find_elements(By.CSS_SELECTOR, "tbody tr")]
    assert [r[0] for r in rows] == [s["sku"] for s in api["skus"]]
    for (sku, cells), s in zip(rows, api["skus"]):
        assert [int(c) for c in cells[:3]] == [
            s["allocated"], s["backordered"], s["refused"]], sku
        assert cells[3] == ("%.1f%%" % s["met_pct"]
                            if s["met_pct"] is not None else "—"), sku
    # SKU-002's 10 000 units wait: a backorder, as the order page says
    assert dict(rows)["SKU-002"][1] == "10000"
    assert len(d.find_elements(By.CSS_SELECTOR, "svg.spark")) == len(rows)
    shot(d, "demand")


def test_survey_results_match_the_report(site, browser):
    d = browser
    sign_in(d, site)
    click(d, By.LINK_TEXT, "Surveys")
    submit(d, "id", "1", clear=True)
    api = site["api"].get("/surveys/1")
    assert d.find_element(By.ID, "verdict").text == "Winner: " + \
        api["winner"]
    rows = [(tr.find_element(By.TAG_NAME, "th").text,
             [td.text for td in tr.find_elements(By.TAG_NAME, "td")])
            for tr in d.find_elements(By.CSS_SELECTOR, "tbody tr")]
    assert [r[0] for r in rows] == [v["label"] for v in api["variants"]]
    for (label, cells), v in zip(rows, api["variants"]):
        assert int(cells[1]) == v["responses"]
        assert cells[2] == "%.2f%%" % v["acceptance_pct"]
        assert cells[3] == "%.2f–%.2f%%" % tuple(
            v["acceptance_interval_pct"])
        assert cells[4] == "%.2f" % v["mean_rating"]
    shot(d, "survey")
    d.get(site["server"].url + "/ui/surveys?id=99")
    assert d.find_element(By.TAG_NAME, "h1").text == "Not found"


def contrast(a, b):
    def lum(h):
        rgb = [int(h[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
               for c in rgb]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_accessibility_smoke(site, browser):
    """Labels, one h1, captions and scoped headers, labelled charts, a
    skip link reached first by the keyboard, and the main colours at
    4.5:1 or better against white."""
    d = browser
    sign_in(d, site)
    base = site["server"].url
    for path in ("/", "/ui/products/SKU-000", "/ui/orders?orderid=o-000",
                 "/ui/sourcing", "/ui/demand", "/ui/surveys?id=1",
                 "/ui/venues/1", "/ui/login"):
        d.get(base + path)
        assert d.find_element(By.TAG_NAME, "html").get_attribute(
            "lang") == "en"
        assert len(d.find_elements(By.TAG_NAME, "h1")) == 1, path
        for inp in d.find_elements(By.CSS_SELECTOR,
                                   "input:not([type=hidden])"):
            labels = d.find_elements(
                By.CSS_SELECTOR, "label[for='%s']" % inp.get_attribute("id"))
            assert labels and labels[0].text, (path, inp)
        for t in d.find_elements(By.TAG_NAME, "table"):
            assert t.find_element(By.TAG_NAME, "caption").text, path
            for th in t.find_elements(By.CSS_SELECTOR, "thead th"):
                assert th.get_attribute("scope") == "col", path
        for svg in d.find_elements(By.CSS_SELECTOR, "svg[role=img]"):
            assert svg.find_element(By.TAG_NAME, "title").get_attribute(
                "textContent"), path
        for svg in d.find_elements(By.CSS_SELECTOR, "svg:not([role])"):
            assert svg.get_attribute("aria-hidden") == "true", path
    d.get(base + "/")
    d.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    assert d.switch_to.active_element.text == "Skip to content"
    css = requests.get(base + "/ui/app.css", timeout=30)
    assert css.headers["Cache-Control"] == "public, max-age=86400"
    for colour in ("#1a1a1a", "#0b5394", "#1b7f3b", "#8a5a00", "#b00020"):
        assert colour in css.text
        assert contrast(colour, "#ffffff") >= 4.5, colour


def test_tables_work_without_javascript(site):
    """Sign-in, the table, sorting and sign-out are forms and links.
    (With scripts off the driver cannot run any either.)"""
    d = chrome(js=False)
    try:
        sign_in(d, site)  # a plain form post
        assert d.find_element(By.TAG_NAME, "h1").text == "Products"
        assert table_rows(d) == api_products(site)[:50]
        click(d, By.LINK_TEXT, "Allocated")
        assert d.find_element(By.CSS_SELECTOR, "th[aria-sort]").text \
            .startswith("Allocated")
        click(d, By.CSS_SELECTOR, "header button")
        assert d.find_element(By.TAG_NAME, "h1").text == "Sign in"
        d.get(site["server"].url + "/")
        assert d.find_element(By.TAG_NAME, "h1").text == "Sign in"
    finally:
        d.quit()


def test_every_view_fits_a_phone(site):
    """At 390 px the pages do not scroll sideways (wide tables scroll
    inside their own box)."""
    d = chrome(width=390, height=844)
    try:
        sign_in(d, site)
        for name, path in (("products-phone", "/"),
                           ("product-phone", "/ui/products/SKU-000"),
                           ("order-phone", "/ui/orders?orderid=o-000"),
                           ("sourcing-phone", "/ui/sourcing"),
                           ("demand-phone", "/ui/demand"),
                           ("survey-phone", "/ui/surveys?id=1"),
                           ("venue-phone", "/ui/venues/1")):
            d.get(site["server"].url + path)
            width = d.execute_script(
                "return [document.documentElement.clientWidth, "
                "document.documentElement.scrollWidth]")
            assert width[0] == 390 and width[1] <= 390, (path, width)
            shot(d, name)
    finally:
        d.quit()


def test_headers_of_a_page(site):
    """A strict Content-Security-Policy: no script at all, our own
    stylesheet only; pages are not cached, and a cross-site form post to
    sign in is refused."""
    s, read = site["server"], site["read"]
    r = requests.get(s.url + "/", headers={"Authorization": "Bearer " +
                                          read}, timeout=30)
    assert r.status_code == 200
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert "style-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert r.headers["Cache-Control"] == "no-store"
    r = requests.post(s.url + "/ui/login", data={"token": read},
                      headers={"Sec-Fetch-Site": "cross-site"},
                      allow_redirects=False, timeout=30)
    assert r.status_code == 403
    r = requests.post(s.url + "/ui/login", data={"token": read},
                      allow_redirects=False, timeout=30)
    assert r.status_code == 303 and r.headers["Location"] == "/"
    assert re.match(r"scents_token=sct_[A-Za-z0-9_-]{43}; Path=/; HttpOnly; "
                    r"SameSite=Strict; Max-Age=43200$",
                    r.headers["Set-Cookie"])
    r = requests.get(s.url + "/ui/products/NOPE",
                     headers={"Authorization": "Bearer " + read}, timeout=30)
    assert r.status_code == 404 and "unknown sku" in r.text
    for path, status in (("/ui/venues/x", 400), ("/ui/venues/9", 404),
                         ("/ui/surveys?id=9", 404)):
        r = requests.get(s.url + path, timeout=30,
                         headers={"Authorization": "Bearer " + read})
        assert r.status_code == status, (path, r.status_code)
    # a form without a token, and one that is not a form
    r = requests.post(s.url + "/ui/login", data={"name": "x"},
                      allow_redirects=False, timeout=30)
    assert r.status_code == 401 and "Give a token." in r.text
    r = requests.post(s.url + "/ui/login", json={"token": read},
                      allow_redirects=False, timeout=30)
    assert r.status_code == 415
    r = requests.post(s.url + "/ui/logout", allow_redirects=False,
                      timeout=30)
    assert r.status_code == 303 and "Max-Age=0" in r.headers["Set-Cookie"]
