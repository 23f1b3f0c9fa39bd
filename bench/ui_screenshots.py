"""Screenshots of each view of the UI for docs/ui.md, taken in the same headless Chromium as the
tests and the benchmark, against a real service with the shipped workflows (configs/).

Usage: ``python bench/ui_screenshots.py [--out docs/img]``. Writes ``ui-*.png``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from ui import Service, chromium

MINI = """name: mini-quickstart
description: the quick start, small enough to watch in a minute
nodes:
  - id: graph
    type: gnn.synthetic
    config: {nodes: 150, classes: 3, features: 8}
  - id: search
    type: tuner.search
    inputs: {objective_inputs: {graph: $graph.path}, profile: $graph.profile}
    config:
      objective: gnn.train
      base_config: {max_epochs: 20, patience: 5}
      space: {hidden: {choice: [8, 16]}, dropout: {float: [0.0, 0.5]}}
      space_only: true
      budget: 3
      workers: 1
  - id: evaluate
    type: gnn.evaluate
    config: {seeds: 1, max_epochs: 20}
    inputs: {graph: $graph.path, config: $search.best_config}
outputs:
  test_mean: $evaluate.test_mean
  report: $search.report_path
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="docs/img")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import expect, sync_playwright

    with tempfile.TemporaryDirectory(prefix="ui-shots-") as tmp:
        service = Service(Path(tmp))
        for name in ("quickstart", "qa-pipeline", "text-routing"):
            shutil.copy(Path("configs") / f"{name}.yaml", service.workflows / f"{name}.yaml")
        (service.workflows / "mini-quickstart.yaml").write_text(MINI)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=chromium())
                page = browser.new_page(viewport={"width": 1200, "height": 680})

                def shot(name: str) -> None:
                    page.screenshot(path=str(out / f"ui-{name}.png"))

                page.goto(f"{service.url}/ui")
                shot("signin")
                page.fill("#key", service.key)
                page.click("#signin-btn")
                expect(page.locator("body")).to_have_attribute("data-ready", "1")
                page.click(".wf-item[data-name='qa-pipeline']")
                page.wait_for_timeout(500)
                shot("workflow")
                page.click("#tab-yaml")
                shot("workflow-yaml")
                page.click("#tab-details")
                page.click(".wf-item[data-name='mini-quickstart']")
                page.wait_for_timeout(300)
                page.click("#edit-btn")
                page.evaluate("() => { const ui = window.autoglmUI; ui.build.selected = 'graph'; }")
                page.click("#nav-build")
                page.fill("#palette-search", "gnn")
                page.locator("#cfg-nodes").fill("lots")
                expect(page.locator("#problems li.problem")).to_have_count(1)
                page.wait_for_timeout(300)
                shot("build")
                page.locator("#cfg-nodes").fill("150")
                expect(page.locator("#problem-count")).to_have_text("(none)")
                page.click("#nav-workflows")
                page.click(".wf-item[data-name='mini-quickstart']")
                page.click("#run-btn")
                expect(page.locator("#run-status")).to_have_text("running", timeout=60_000)
                state = "() => window.autoglmUI.cy.getElementById('search').data('state')"
                for _ in range(600):
                    if page.evaluate(state) == "running":
                        break
                    page.wait_for_timeout(100)
                x, y = page.evaluate(
                    """() => { const n = window.autoglmUI.cy.getElementById('search');
                    const p = n.renderedPosition(); const r = document.querySelector('#graph')
                    .getBoundingClientRect(); return [r.left + p.x, r.top + p.y]; }"""
                )
                page.mouse.click(x, y)
                page.wait_for_timeout(1500)
                shot("run-live")
                expect(page.locator("#run-status")).to_have_text("succeeded", timeout=300_000)
                page.wait_for_timeout(500)
                shot("run-done")
                page.click(".artifact-link[data-path='search/report.html']")
                page.wait_for_timeout(1500)
                shot("report")
                page.click("#artifact-close")
                page.click("#nav-runs")
                page.wait_for_timeout(500)
                shot("runs")
                browser.close()
        finally:
            service.stop()
    for path in sorted(out.glob("ui-*.png")):
        print(path, path.stat().st_size)


if __name__ == "__main__":
    main()
