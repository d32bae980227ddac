"""The built docs render their math in a real browser with no network.

The site is built with ``mkdocs build --strict`` into a temporary folder and its math pages are
opened from ``file://`` in headless Chromium whose network is cut off (every request goes to a
proxy at a closed local port). MathJax ships with the docs (``docs/javascripts/mathjax/``), so each
``arithmatex`` element must come out typeset (an ``mjx-container``), with no TeX error and no raw
``\\(``, ``\\[`` or ``$$`` left in the page text.

Needs Chromium (Debian package ``chromium``) and mkdocs; skipped, saying why, where either is
absent. Run alone: ``PYTHONPATH=$PWD python -m pytest -q tests/test_docs_browser.py``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
CHROMIUM = next((path for name in BROWSERS if (path := shutil.which(name))), None)
MATH_PAGES = ("math/lstm", "math/rnn-bptt", "math/losses")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="headless Chromium is not installed (Debian: apt-get install chromium); "
    "the offline math rendering of the docs is not checked here",
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("mkdocs", reason="mkdocs is needed to build the docs")
    folder = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(folder)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        check=True,
        timeout=600,
    )
    return folder


def rendered_dom(page: Path, profile: Path) -> str:
    """The page's DOM after its scripts ran, in headless Chromium with no network."""
    assert CHROMIUM is not None
    completed = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            f"--user-data-dir={profile}",
            # offline: any http(s) request goes to a closed port; file:// is not proxied
            "--proxy-server=127.0.0.1:9",
            # virtual time runs the page's scripts (MathJax typesetting) to completion
            "--virtual-time-budget=20000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed.stdout


def page_text(dom: str) -> str:
    """The page with typeset math, code, scripts and tags removed: what a reader sees as text."""
    for element in ("mjx-container", "code", "pre", "script", "style"):
        dom = re.sub(rf"<{element}\b.*?</{element}>", " ", dom, flags=re.DOTALL)
    return re.sub(r"<[^>]+>", " ", dom)


def test_the_docs_ship_mathjax_and_load_nothing_from_a_cdn(site: Path) -> None:
    html = (site / "math" / "lstm" / "index.html").read_text(encoding="utf-8")
    scripts = re.findall(r'<script[^>]+src="([^"]+)"', html)
    assert any(src.endswith("javascripts/mathjax/tex-svg.js") for src in scripts), scripts
    assert not [src for src in scripts if src.startswith(("http:", "https:", "//"))], scripts
    assert (site / "javascripts" / "mathjax" / "LICENSE").is_file()


@pytest.mark.parametrize("name", MATH_PAGES)
def test_math_is_typeset_offline_in_headless_chromium(
    site: Path, tmp_path: Path, name: str
) -> None:
    page = site / name / "index.html"
    source = page.read_text(encoding="utf-8")
    expected = len(re.findall(r'class="arithmatex"', source))
    assert expected > 0, f"{name} has no math to check"
    dom = rendered_dom(page, tmp_path / "profile")
    typeset = len(re.findall(r"<mjx-container\b", dom))
    assert typeset >= expected, f"{typeset} typeset formulas for {expected} in the source"
    assert "mjx-merror" not in dom, "MathJax reported a TeX error"
    text = page_text(dom)
    for raw in ("\\(", "\\[", "$$"):
        assert raw not in text, f"raw TeX {raw!r} left on {name}"
