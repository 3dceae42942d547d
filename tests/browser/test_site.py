"""The built book in a real browser: figures load, framework tabs switch (and stay switched), math renders,
search works.

Run with ``nox -s browser`` after ``nox -s docs``. The site (``$TORCHFLOW_SITE``,
e.g. ``docs/_build/html``) is served on 127.0.0.1 by :mod:`http.server` and
driven in Debian's headless Chromium (``/usr/bin/chromium`` and
``/usr/bin/chromedriver``; ``$CHROMIUM`` / ``$CHROMEDRIVER`` to override)
through Selenium. Screenshots and the browser console of every page land in
``$TORCHFLOW_ARTEFACTS`` (default ``test-artefacts/browser``).

Without ``$TORCHFLOW_SITE`` a plain ``pytest`` (as in ``nox -s tests``) does not
collect this module at all (see ``tests/conftest.py``): no browser needed there.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import tempfile
import threading
from pathlib import Path

import pytest

SITE = os.environ.get("TORCHFLOW_SITE")
if not SITE:  # tests/conftest.py leaves this module out of a plain `pytest` run
    raise RuntimeError("browser test: run `nox -s browser` (needs $TORCHFLOW_SITE, a built site)")

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
ARTEFACTS = Path(os.environ.get("TORCHFLOW_ARTEFACTS", ROOT / "test-artefacts" / "browser"))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
VAE_PAGE = "auto_examples/vae/plot_1_vae.html"
SYNCED_PAGE = "auto_examples/gan/plot_4_dcgan.html"  # another page with framework tabs
TIMEOUT = 30


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the signature of the base class
        pass


@pytest.fixture(scope="module")
def site_url():
    site = Path(SITE)
    if not (site / "index.html").is_file():
        pytest.fail(f"no built site at {site}: run `nox -s docs` first")
    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    for path, what in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not Path(path).is_file():
            pytest.fail(f"{path} not found: apt-get install -y chromium chromium-driver (Debian package {what})")
    profile = tempfile.mkdtemp(prefix="torchflow-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--window-size=1280,900", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(TIMEOUT)
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def wait_for(driver, condition, what: str, timeout: float = TIMEOUT):
    try:
        return WebDriverWait(driver, timeout).until(lambda d: condition(d))
    except Exception as error:  # a timeout, said in words
        raise AssertionError(f"timed out after {timeout} s waiting for {what} on {driver.current_url}") from error


def open_page(driver, url: str) -> None:
    driver.get(url)
    wait_for(driver, lambda d: d.execute_script("return document.readyState") == "complete", "the page to load")


def save(driver, name: str) -> list[dict]:
    """A full-page screenshot and the browser console of the current page; returns the console."""
    height = driver.execute_script("return Math.max(document.body.scrollHeight, 900)")
    driver.set_window_size(1280, min(int(height), 12000))
    driver.save_screenshot(str(ARTEFACTS / f"{name}.png"))
    driver.set_window_size(1280, 900)
    console = driver.get_log("browser")
    (ARTEFACTS / f"{name}.console.json").write_text(json.dumps(console, indent=1))
    return console


def local_errors(console: list[dict], site_url: str) -> list[str]:
    """Failed requests for the site's own files (a missing script, image or font).

    Not the favicon, which the browser asks for by itself and the book does not ship.
    """
    return [entry["message"] for entry in console
            if entry.get("level") == "SEVERE" and entry.get("source") == "network"
            and site_url.rstrip("/") in entry.get("message", "") and "/favicon.ico" not in entry["message"]]


def image_report(driver) -> list[dict]:
    """Every <img> after scrolling it into view (lazy images load): its source and natural width."""
    driver.execute_script("document.querySelectorAll('img').forEach(i => i.loading = 'eager')")
    for image in driver.find_elements(By.TAG_NAME, "img"):
        driver.execute_script("arguments[0].scrollIntoView()", image)
    wait_for(driver, lambda d: d.execute_script(
        "return Array.from(document.images).every(i => i.complete)"), "the images to finish loading")
    return driver.execute_script(
        "return Array.from(document.images).map(i => ({src: i.getAttribute('src'), width: i.naturalWidth}))")


def test_landing_page(browser, site_url):
    open_page(browser, site_url + "index.html")
    assert "TorchFlow" in browser.title
    links = [a.get_attribute("href") or "" for a in browser.find_elements(By.CSS_SELECTOR, "a")]
    assert any("comparison.html" in href for href in links), "the landing page links the comparison page"
    assert any("auto_examples" in href for href in links), "the landing page links the gallery"
    broken = [i for i in image_report(browser) if i["width"] == 0]
    assert not broken, f"images that did not load: {broken}"
    console = save(browser, "landing")
    assert not local_errors(console, site_url)


def test_example_page_figures_tabs_and_math(browser, site_url):
    open_page(browser, site_url + VAE_PAGE)
    images = image_report(browser)
    figures = [i for i in images if "sphx_glr_plot_1_vae" in (i["src"] or "")]
    assert len(figures) >= 4, f"expected the page's figures, found {images}"
    broken = [i for i in images if i["width"] == 0]
    assert not broken, f"images that did not load: {broken}"

    # framework tabs: the TensorFlow tab's content is hidden, then shown when its label is clicked
    tab_set = browser.find_element(By.CSS_SELECTOR, ".sd-tab-set")
    labels = {label.text.strip(): label for label in tab_set.find_elements(By.CSS_SELECTOR, "label.sd-tab-label")}
    assert {"PyTorch", "TensorFlow"} <= set(labels), f"tabs found: {list(labels)}"

    def content(label):
        return browser.find_element(By.ID, label.get_attribute("aria-controls"))

    assert content(labels["PyTorch"]).is_displayed()
    assert not content(labels["TensorFlow"]).is_displayed()
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", labels["TensorFlow"])
    labels["TensorFlow"].click()
    wait_for(browser, lambda d: content(labels["TensorFlow"]).is_displayed(), "the TensorFlow tab to show")
    assert not content(labels["PyTorch"]).is_displayed()
    assert "tensorflow" in content(labels["TensorFlow"]).text.lower() or "tf." in content(labels["TensorFlow"]).text

    # the choice is synced: every framework tab carries the group's key, and the next page opens on TensorFlow
    keys = browser.execute_script(
        "return Array.from(document.querySelectorAll('label.sd-tab-label'))"
        ".map(l => [l.textContent.trim(), l.dataset.syncGroup, l.dataset.syncId])")
    assert keys and all(k[1:] == ["framework", {"PyTorch": "torch", "TensorFlow": "tensorflow"}[k[0]]]
                        for k in keys if k[0] in ("PyTorch", "TensorFlow")), keys
    open_page(browser, site_url + SYNCED_PAGE)
    other = {label.text.strip(): label for label in browser.find_elements(By.CSS_SELECTOR, "label.sd-tab-label")}
    wait_for(browser, lambda d: content(other["TensorFlow"]).is_displayed(), "the next page's TensorFlow tab to show")
    assert not content(other["PyTorch"]).is_displayed()
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", other["PyTorch"])
    other["PyTorch"].click()  # back to the default for the tests that follow
    wait_for(browser, lambda d: content(other["PyTorch"]).is_displayed(), "the PyTorch tab to show again")
    open_page(browser, site_url + VAE_PAGE)

    # math: MathJax is the local copy, and it typeset the equations without errors
    sources = [s.get_attribute("src") or "" for s in browser.find_elements(By.CSS_SELECTOR, "script[src]")]
    mathjax = [s for s in sources if "mathjax" in s.lower()]
    assert mathjax and all(s.startswith(site_url) for s in mathjax), f"MathJax is not served locally: {mathjax}"
    wait_for(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "mjx-container")) > 0, "MathJax output")
    containers = browser.find_elements(By.CSS_SELECTOR, "mjx-container")
    assert len(containers) >= 5
    assert not browser.find_elements(By.CSS_SELECTOR, "mjx-merror"), "MathJax reported a TeX error"
    assert browser.execute_script(
        "return Array.from(document.querySelectorAll('mjx-container')).some(c => c.getBoundingClientRect().width > 0)")
    console = save(browser, "example-vae")
    assert not local_errors(console, site_url), local_errors(console, site_url)


def test_comparison_page(browser, site_url):
    open_page(browser, site_url + "comparison.html")
    heading = browser.find_element(By.CSS_SELECTOR, "article h1").text
    assert "compared" in heading.lower()
    tables = browser.find_elements(By.CSS_SELECTOR, "table")
    assert tables, "the comparison page has no tables"
    text = tables[0].text
    assert "PyTorch" in text and "TensorFlow" in text
    assert "Variational autoencoder" in text
    vae_row = next(r for r in tables[0].find_elements(By.CSS_SELECTOR, "tbody tr")
                   if "Variational autoencoder" in r.text)
    link = vae_row.find_element(By.TAG_NAME, "a").get_attribute("href")
    assert link.endswith("auto_examples/vae/plot_1_vae.html")
    # every link of the page to the site itself leads to a page that exists
    hrefs = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "article a[href]")]
    local = {h.split("#")[0][len(site_url):] for h in hrefs if h.startswith(site_url)}
    missing = sorted(path for path in local if path and not (Path(SITE) / path).is_file())
    assert not missing, f"links to missing pages: {missing}"
    broken = [i for i in image_report(browser) if i["width"] == 0]
    assert not broken
    console = save(browser, "comparison")
    assert not local_errors(console, site_url)


def test_search_finds_a_model_name(browser, site_url):
    open_page(browser, site_url + "search.html?q=VAE")
    # Sphinx lists the results one by one, then writes its summary ("Search finished, found N pages")
    wait_for(browser, lambda d: "found" in d.find_element(By.ID, "search-results").text.lower()
             and d.find_elements(By.CSS_SELECTOR, "#search-results li"), "search results")
    results = browser.find_elements(By.CSS_SELECTOR, "#search-results li")
    hrefs = [a.get_attribute("href") for r in results for a in r.find_elements(By.TAG_NAME, "a")]
    assert any("plot_1_vae" in (h or "") for h in hrefs), f"search for VAE did not find its page: {hrefs}"
    save(browser, "search-vae")


# ----------------------------------------------------------------------------- what a reader notices
READER_PAGES = (VAE_PAGE, "auto_examples/rnn/plot_4_char_rnn.html")


def other_hosts(driver, site_url: str) -> list[str]:
    """Every resource the page loaded from anywhere but the site itself (the site must work offline)."""
    names = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    return sorted({n for n in names if not n.startswith(site_url) and not n.startswith("data:")})


def test_landing_page_opens_with_the_tutorials_in_the_books_order(browser, site_url):
    open_page(browser, site_url + "index.html")
    article = browser.find_element(By.CSS_SELECTOR, "article")
    assert not article.find_elements(By.CSS_SELECTOR, ".toctree-wrapper a"), "link lists repeating the sidebar"
    thumbnails = [a.get_attribute("href") for a in article.find_elements(By.CSS_SELECTOR, ".sphx-glr-thumbcontainer a")]
    pages = [h.rsplit("/", 1)[-1] for h in thumbnails if h and h.endswith(".html")]
    assert pages[:2] == ["plot_1_classifier.html", "plot_2_spatial_transformer.html"], pages
    sidebar = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, ".bd-sidenav a")]
    tutorials = [h for h in sidebar if "/auto_examples/" in (h or "")]
    assert len(tutorials) == len(set(tutorials)) == 20, f"each tutorial once in the navigation: {tutorials}"
    assert other_hosts(browser, site_url) == []


@pytest.mark.parametrize("page", READER_PAGES)
def test_a_tutorial_can_be_run_read_and_reported_from_its_top(browser, site_url, page):
    open_page(browser, site_url + page)
    links = browser.find_element(By.CSS_SELECTOR, ".torchflow-run-links")
    title = browser.find_element(By.CSS_SELECTOR, "article h1")
    assert links.location["y"] < title.location["y"] + 200, "the run-it-yourself links sit at the top"
    hrefs = [a.get_attribute("href") for a in links.find_elements(By.TAG_NAME, "a")]
    stem = page.rsplit("/", 1)[-1][: -len(".html")]
    assert any(h.endswith(f"/{stem}.py") for h in hrefs) and any(h.endswith(f"/{stem}.ipynb") for h in hrefs)
    assert any("colab.research.google.com" in h for h in hrefs) and any("issues/new" in h for h in hrefs)
    # no printed output wider than its column (it wraps), no figure left with sphinx-gallery's fallback alt text
    wide = browser.execute_script(
        "return Array.from(document.querySelectorAll('div.sphx-glr-script-out pre'))"
        ".filter(p => p.scrollWidth > p.clientWidth + 2).map(p => p.textContent.slice(0, 80))")
    assert wide == [], f"output blocks wider than the column: {wide}"
    alts = [i.get_attribute("alt") or "" for i in browser.find_elements(By.CSS_SELECTOR, "img.sphx-glr-single-img, "
                                                                                         "img.sphx-glr-multi-img")]
    untitled = [a for a in alts if a.startswith("plot ") or not a.strip()]
    assert alts and untitled == [], f"figures without a title: {untitled}"
    assert other_hosts(browser, site_url) == []
    save(browser, "reader-" + stem)
    browser.set_window_size(420, 900)  # a phone
    save(browser, "mobile-" + stem)
    browser.set_window_size(1280, 900)


def test_the_twins_have_distinct_colours_in_a_sampled_figure():
    """Pixels of both frameworks' colours (torchflow.plot) in one of the VAE page's curve figures."""
    import ast

    import numpy as np
    from PIL import Image

    # this session's venv has no torchflow: read the one table of colours from its source
    source = (ROOT / "torchflow" / "plot.py").read_text(encoding="utf-8")
    line = next(x for x in source.splitlines() if x.startswith("FRAMEWORK_COLOURS = "))
    FRAMEWORK_COLOURS = ast.literal_eval(line.split("=", 1)[1].strip())  # noqa: N806

    wanted = {fw: np.array([int(c[i : i + 2], 16) for i in (1, 3, 5)]) for fw, c in FRAMEWORK_COLOURS.items()}
    found = {}
    for path in sorted((Path(SITE) / "_images").glob("sphx_glr_plot_1_vae_*.png")):
        pixels = np.asarray(Image.open(path).convert("RGB")).reshape(-1, 3).astype(int)
        counts = {fw: int((np.abs(pixels - rgb).max(axis=1) < 40).sum()) for fw, rgb in wanted.items()}
        found[path.name] = counts
        if min(counts.values()) >= 50:
            return
    raise AssertionError(f"no VAE figure shows both twins' colours: {found}")


def test_code_names_link_to_the_python_docs():
    """sphinx-gallery links names in the code through the committed intersphinx inventories."""
    pages = sorted((Path(SITE) / "auto_examples").glob("*/plot_*.html"))
    linked = [p.name for p in pages if 'href="https://docs.python.org/3/' in p.read_text(encoding="utf-8")]
    assert pages and len(linked) == len(pages), f"{len(linked)} of {len(pages)} tutorials link Python's docs"


def _luminance(rgb) -> float:
    r, g, b = (c / 255 for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_figures_are_readable_in_dark_mode(browser, site_url):
    """The theme follows the reader's dark preference; each figure keeps a light, opaque backing (dark text
    on it stays legible) and is dimmed, not left glaring at full white."""
    import io

    import numpy as np
    from PIL import Image

    browser.execute_cdp_cmd("Emulation.setEmulatedMedia",
                            {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
    try:
        open_page(browser, site_url + VAE_PAGE)
        wait_for(browser, lambda d: d.execute_script("return document.documentElement.dataset.theme") == "dark",
                 "the theme to switch to dark")
        page = browser.execute_script("return getComputedStyle(document.body).backgroundColor")
        page_rgb = [int(x) for x in page[page.index("(") + 1 : page.index(")")].split(",")[:3]]
        assert _luminance(page_rgb) < 0.25, f"the page is not dark: {page}"
        image_report(browser)
        figures = browser.find_elements(By.CSS_SELECTOR, "img.sphx-glr-single-img, img.sphx-glr-multi-img")
        assert figures
        styles = browser.execute_script(
            "return arguments[0].map(i => [getComputedStyle(i).backgroundColor, getComputedStyle(i).filter])",
            figures)
        assert all(bg == "rgb(255, 255, 255)" and "brightness" in f for bg, f in styles), styles
        figure = figures[-1]
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", figure)
        pixels = np.asarray(Image.open(io.BytesIO(figure.screenshot_as_png)).convert("L"), dtype=float) / 255
        light, dark = (pixels > 0.7).mean(), (pixels < 0.35).mean()
        assert light > 0.3 and dark > 0.002, f"figure in dark mode: {light:.1%} light, {dark:.1%} dark pixels"
        assert pixels.max() < 0.97, "the figure is not dimmed in dark mode"
        save(browser, "dark-" + VAE_PAGE.rsplit("/", 1)[-1][: -len(".html")])
        open_page(browser, site_url + "index.html")
        save(browser, "dark-landing")
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})


def test_no_thumbnail_is_a_thin_strip():
    """Each tutorial's thumbnail (its picture, inside sphinx-gallery's transparent margins) is at most 2.5:1."""
    from PIL import Image

    thumbnails = sorted((Path(SITE) / "_images").glob("sphx_glr_plot_*_thumb.png"))
    assert len(thumbnails) == 20, [t.name for t in thumbnails]
    strips = {}
    for path in thumbnails:
        left, top, right, bottom = Image.open(path).convert("RGBA").getchannel("A").getbbox()
        aspect = max((right - left) / (bottom - top), (bottom - top) / (right - left))
        if aspect > 2.5 * 1.02:  # rounding of the crop and the resize
            strips[path.name] = round(aspect, 2)
    assert strips == {}, f"thumbnails that are thin strips: {strips}"
