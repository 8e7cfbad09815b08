"""The HTML player in a real browser: headless Chromium (Debian's package, driven through
Playwright for Python) opens save_player's file offline, and the buttons, the slider and the
arrow keys step through the frames, with the caption, the highlighted node and the counter
following, and no console error. Skipped only when Chromium is missing outside CI; under
CI=true (.ci/run installs chromium) it must run."""
import os
import pathlib

import pytest
from viz_helpers import micrograd

from gradspace.autograd import viz
from gradspace.autograd.viz import style

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

# What the page shows: the visible frame, the counter, the caption, the slider, and the
# first line of the text of the node outlined in the highlight colour.
STATE = """(highlight) => {
  const frames = Array.from(document.querySelectorAll(".frame"));
  const shown = frames.filter((f) => !f.hidden);
  const frame = shown[0];
  const hot = Array.from(frame.querySelectorAll("g.node")).filter((g) =>
    Array.from(g.querySelectorAll("polygon, path, ellipse")).some(
      (s) => s.getAttribute("stroke") === highlight));
  return {frame: frames.indexOf(frame), shown: shown.length,
          counter: document.querySelector(".counter").textContent,
          caption: document.querySelector(".caption").textContent,
          slider: document.querySelector(".slider").value,
          hot: hot.map((g) => g.querySelector("text").textContent)};
}"""

# Whether each character is drawn by some font: a missing glyph draws the same box as a
# private-use code point no font has.
GLYPHS = """(chars) => {
  const draw = (c) => {
    const canvas = document.createElement("canvas");
    canvas.width = 40; canvas.height = 40;
    const ctx = canvas.getContext("2d");
    ctx.font = "28px " + getComputedStyle(document.querySelector("button")).fontFamily;
    ctx.fillText(c, 4, 30);
    return Array.from(ctx.getImageData(0, 0, 40, 40).data).join(",");
  };
  const missing = draw("\\u{10FFFD}");
  return chars.map((c) => draw(c) !== missing);
}"""


def chromium():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"CI=true but {CHROMIUM} is missing: .ci/run installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} is not installed (apt install chromium)")
    if os.environ.get("CI"):                      # the dev extra: must be there under CI
        import importlib
        return importlib.import_module("playwright.sync_api")
    return pytest.importorskip("playwright.sync_api")


def test_the_player_steps_in_chromium_offline_without_errors(tmp_path):
    sync_api = chromium()
    L = micrograd()["L"]
    path = viz.save_player(L, tmp_path / "backprop.html")
    captions = [f.caption for f in viz.backward_frames(L)]
    requests, problems = [], []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 900})
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))

            def offline(route):                   # anything but the file itself is refused
                if route.request.url.startswith("file:"):
                    route.continue_()
                else:
                    requests.append(route.request.url)
                    route.abort()

            page.route("**/*", offline)
            page.goto(pathlib.Path(path).as_uri())

            def state():
                return page.evaluate(STATE, style.HIGHLIGHT)

            def at(k):
                s = state()
                assert (s["frame"], s["shown"], s["counter"], s["slider"]) == \
                    (k, 1, f"step {k} of 7", str(k)), s
                assert s["caption"] == captions[k]
                assert s["caption"].startswith(f"backward step {k} of 7")
                # the latest step's tensor is outlined (its number leads its label)
                assert [h for h in s["hot"] if h.startswith("#")] == \
                    ([] if k == 0 else [t for t in s["hot"] if t.startswith(f"#{k} ")])
                if k:
                    assert any(h.startswith(f"#{k} ") for h in s["hot"]), s["hot"]
                return s

            seen = [at(0)]
            page.click(".next")
            seen.append(at(1))
            page.click(".next")
            seen.append(at(2))
            page.click(".prev")
            seen.append(at(1))
            page.click(".last")
            seen.append(at(7))
            page.click(".first")
            seen.append(at(0))
            # drag the slider's thumb from its left end to about three sevenths of the way
            box = page.locator(".slider").bounding_box()
            y = box["y"] + box["height"] / 2
            page.mouse.move(box["x"] + 2, y)
            page.mouse.down()
            page.mouse.move(box["x"] + box["width"] * 3 / 7, y, steps=8)
            page.mouse.up()
            dragged = int(state()["slider"])
            assert 2 <= dragged <= 4
            seen.append(at(dragged))
            page.keyboard.press("ArrowRight")
            seen.append(at(dragged + 1))
            page.keyboard.press("ArrowLeft")
            page.keyboard.press("ArrowLeft")
            seen.append(at(dragged - 1))
            page.keyboard.press("End")
            seen.append(at(7))
            page.keyboard.press("Home")
            seen.append(at(0))
            # every move changed what is shown: the captions and the highlighted nodes differ
            assert len({s["caption"] for s in seen}) >= 6
            assert len({tuple(s["hot"]) for s in seen}) >= 6
            # the buttons' glyphs exist in this browser's fonts (no empty boxes)
            labels = page.eval_on_selector_all("button", "(bs) => bs.map((b) => b.textContent)")
            glyphs = sorted({c for text in labels for c in text if ord(c) > 127})
            assert len(glyphs) == 4
            # (the check can fail: a private-use code point no font has is found missing)
            assert page.evaluate(GLYPHS, glyphs + ["\U000f0001"]) == [True] * 4 + [False], \
                glyphs
            page.screenshot(path=str(tmp_path / "player.png"), full_page=True)
        finally:
            browser.close()
    assert requests == [] and problems == []
    assert (tmp_path / "player.png").stat().st_size > 10_000
