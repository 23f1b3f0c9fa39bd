"""The UI at /ui, end to end: a real headless Chromium (Playwright driving Debian's
``chromium-headless-shell``) against a real service subprocess. Sign in; a read key sees but
cannot submit; the quick-start workflow built from an empty canvas by clicking, a validation
error shown on its node and field and gone when fixed, saved, run with live node colours, its
search report opened in the page; the runs history reopens a run; and the page never asks any
host but the server for anything."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
expect = playwright_api.expect

pytestmark = pytest.mark.slow

ROUTED = """
name: routed
description: a router and two branches
inputs:
  task: {type: str, default: qa}
nodes:
  - id: route
    type: core.const
    config: {value: {task: qa}}
  - id: answer
    type: core.noop
    when: "route.value.task == 'qa'"
    inputs: {value: $inputs.task}
  - id: summarise
    type: core.noop
    when: "route.value.task == 'summary'"
    inputs: {value: $inputs.task}
outputs:
  answer: $answer.value
"""


NAP = """
name: nap
nodes:
  - id: ready
    type: core.const
    config: {value: 1}
  - id: nap
    type: core.sleep
    config: {seconds: 30}
    inputs: {value: $ready.value}
"""


def chromium_path() -> str | None:
    """The headless Chromium to drive: ``$AUTOGLM_CHROMIUM``, else Debian's packages."""
    for candidate in (
        os.environ.get("AUTOGLM_CHROMIUM"),
        shutil.which("chromium-headless-shell"),
        shutil.which("chromium"),
    ):
        if candidate and Path(candidate).exists():
            return candidate
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator:
    path = chromium_path()
    if path is None:
        pytest.skip(
            "no headless Chromium: apt-get install chromium-headless-shell (or set "
            "AUTOGLM_CHROMIUM)"
        )
    with playwright_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=path)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def ui_server(module_server: Any) -> Any:
    srv = module_server("--max-runs", "2")
    (srv.workflows / "routed.yaml").write_text(ROUTED)
    (srv.workflows / "nap.yaml").write_text(NAP)
    return srv.start()


class Visit:
    """A signed-in page and every URL it requested."""

    def __init__(self, browser, server: Any, scope: str) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 800})
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.server = server
        self.page.goto(f"{server.url}/ui")
        if scope:
            self.page.fill("#key", server.keys[scope])
            self.page.click("#signin-btn")
            expect(self.page.locator("body")).to_have_attribute("data-ready", "1")

    def click_node(self, node_id: str) -> None:
        """A real mouse click on a node of the cytoscape canvas."""
        x, y = self.page.evaluate(
            """(id) => { const n = window.autoglmUI.cy.getElementById(id);
               const p = n.renderedPosition(); const r = document.querySelector('#graph')
               .getBoundingClientRect(); return [r.left + p.x, r.top + p.y]; }""",
            node_id,
        )
        self.page.mouse.click(x, y)

    def node_data(self, node_id: str, field: str):
        return self.page.evaluate(
            "([id, f]) => { const n = window.autoglmUI.cy.getElementById(id);"
            " return n.empty() ? null : n.data(f); }",
            [node_id, field],
        )

    def until(self, script: str, expected: Any, timeout: float = 10.0) -> None:
        """Poll ``script`` in the page until it returns ``expected`` (the page's CSP forbids
        the string evaluation ``wait_for_function`` uses)."""
        import time

        deadline = time.monotonic() + timeout
        while (value := self.page.evaluate(script)) != expected:
            assert time.monotonic() < deadline, f"{script} = {value!r}, expected {expected!r}"
            time.sleep(0.05)

    def foreign_requests(self) -> list[str]:
        own = (self.server.url + "/", "blob:", "data:")
        return [u for u in self.requests if not u.startswith(own)]

    def close(self) -> None:
        assert not self.errors, self.errors
        assert self.foreign_requests() == []
        self.context.close()


def test_sign_in_keeps_the_key_out_of_urls(browser, ui_server):
    visit = Visit(browser, ui_server, "")
    page = visit.page
    page.fill("#key", "agk_wrong")
    page.click("#signin-btn")
    expect(page.locator("#signin-error")).to_have_text("unknown or revoked key")
    page.fill("#key", ui_server.keys["read,submit"])
    page.click("#signin-btn")
    expect(page.locator("#whoami")).to_contain_text("read, submit")
    expect(page.locator(".wf-item[data-name='quick']")).to_be_visible()
    key = ui_server.keys["read,submit"]
    assert all(key not in url for url in visit.requests)
    assert key not in ui_server.log()
    visit.close()


def test_read_key_sees_graphs_but_cannot_submit(browser, ui_server):
    visit = Visit(browser, ui_server, "read")
    page = visit.page
    page.click(".wf-item[data-name='routed']")
    expect(page.locator("#wf-title")).to_have_text("routed")
    # edges from references, `when` on its edges, nodes coloured by plugin
    whens = page.evaluate("() => window.autoglmUI.cy.edges('[?when]').map(e => e.data('when'))")
    assert "route.value.task == 'qa'" in whens and "route.value.task == 'summary'" in whens
    assert visit.node_data("route", "colour") == visit.node_data("answer", "colour")
    page.click("#tab-yaml")
    expect(page.locator("#tab-body-yaml")).to_contain_text("summarise")
    page.click("#tab-mermaid")
    expect(page.locator("#tab-body-mermaid")).to_contain_text("flowchart")
    page.click("#tab-details")
    expect(page.locator("#run-btn")).to_be_disabled()
    status = page.evaluate(
        """async () => (await fetch('/v1/runs', {method: 'POST', headers: {
             Authorization: 'Bearer ' + sessionStorage.getItem('autoglm.key'),
             'Content-Type': 'application/json'}, body: JSON.stringify({workflow: 'quick'})}))
             .status"""
    )
    assert status == 403
    visit.close()


def _fill_config(page, **values: str) -> None:
    for name, value in values.items():
        field = page.locator(f"#cfg-{name}")
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)


def _connect(page, port: str, source: str, key: str = "") -> None:
    page.select_option("#connect-input", port)
    page.fill("#connect-key", key)
    page.select_option("#connect-source", source)
    page.click("#connect-btn")


def test_build_the_quickstart_validate_run_and_watch(browser, ui_server):
    visit = Visit(browser, ui_server, "admin")
    page = visit.page
    page.click("#nav-build")
    page.click("#clear-btn")
    # from an empty canvas, by clicking: the palette, the config forms, the connect form
    page.fill("#palette-search", "synthetic")
    page.click(".palette-item[data-type='gnn.synthetic']")
    _fill_config(page, nodes="120", classes="3", features="8")
    page.fill("#palette-search", "tuner")
    page.click(".palette-item[data-type='tuner.search']")
    _fill_config(
        page,
        objective="gnn.train",
        base_config='{"max_epochs": 10, "patience": 5}',
        space='{"hidden": {"choice": [8, 16]}}',
        space_only="true",
        budget="2",
        workers="1",
    )
    _connect(page, "objective_inputs", "synthetic.path", key="graph")
    _connect(page, "profile", "synthetic.profile")
    page.fill("#palette-search", "evaluate")
    page.click(".palette-item[data-type='gnn.evaluate']")
    _fill_config(page, seeds="1", max_epochs="10")
    # only type-compatible outputs are offered: a graph path is a string, a profile is not
    page.select_option("#connect-input", "graph")
    sources = page.locator("#connect-source option").all_inner_texts()
    assert "synthetic.path" in sources and "synthetic.profile" not in sources
    _connect(page, "graph", "synthetic.path")
    _connect(page, "config", "search.best_config")
    visit.until("() => window.autoglmUI.cy.edges().length", 4)
    expect(page.locator("#problem-count")).to_have_text("(none)")

    # a validator problem appears on the node and its field as one types, and goes when fixed
    visit.click_node("synthetic")
    expect(page.locator("#sel-node")).to_contain_text("synthetic")
    page.locator("#cfg-nodes").fill("many")
    bad = page.locator("#problems li.problem[data-node='synthetic']")
    expect(bad).to_have_count(1)
    expect(page.locator(".field[data-field='config.nodes']")).to_have_class("field bad")
    visit.until("() => window.autoglmUI.cy.getElementById('synthetic').data('problems')", 1)
    page.locator("#cfg-nodes").fill("120")
    expect(page.locator("#problem-count")).to_have_text("(none)")
    visit.until("() => window.autoglmUI.cy.getElementById('synthetic').data('problems')", 0)
    # the YAML follows the form, and the form follows the YAML
    yaml_text = page.locator("#yaml-editor").input_value()
    assert "objective_inputs" in yaml_text and "$synthetic.path" in yaml_text
    page.locator("#yaml-editor").fill(yaml_text.replace("name: draft", "name: mini-quickstart"))
    page.fill("#save-name", "mini-quickstart")
    page.click("#save-btn")
    expect(page.locator("#build-msg")).to_have_text("saved as mini-quickstart")
    assert "mini-quickstart" in (ui_server.workflows / "mini-quickstart.yaml").read_text()

    # run it and watch the colours change live
    page.click("#build-run-btn")
    expect(page.locator("#run-status")).to_have_text("succeeded", timeout=120_000)
    log = page.evaluate("() => window.autoglmUI.stateLog")
    seen = [(e["node"], e["state"]) for e in log]
    assert ("search", "running") in seen and ("search", "succeeded") in seen
    assert seen.index(("search", "running")) < seen.index(("search", "succeeded"))
    assert visit.node_data("evaluate", "state") == "succeeded"
    # the search's own progress (trials done of its budget) came through the stream
    progress = page.evaluate("() => (window.autoglmUI.run.feed.search || {}).progress")
    assert progress and progress["total"] == 2 and progress["completed"] >= 1
    visit.click_node("search")
    expect(page.locator("#node-state")).to_have_text("succeeded")
    # the search's HTML report opens in the page (a sandboxed frame)
    report = page.locator(".artifact-link[data-path='search/report.html']")
    report.click()
    expect(page.locator("#artifact-dialog")).to_be_visible()
    frame = page.frame_locator("#artifact-frame")
    expect(frame.locator("body")).to_contain_text("hidden")
    # its plot, a sibling file, fetched with the key and inlined (the frame holds no key)
    expect(frame.locator("img").first).to_have_attribute("src", re.compile(r"^data:image/png"))
    page.click("#artifact-close")
    visit.close()


def test_runs_history_filters_and_reopens_a_run_on_its_graph(browser, ui_server):
    from autoglm.client import Client

    with Client(ui_server.url, api_key=ui_server.keys["read,submit"]) as client:
        run_id = client.submit("routed").id
        client.wait(run_id, timeout=60)
    visit = Visit(browser, ui_server, "read")
    page = visit.page
    page.click("#nav-runs")
    row = page.locator(f"tr.run-row[data-id='{run_id}']")
    expect(row).to_be_visible()
    page.fill("#runs-filter", "quick")
    expect(row).to_have_count(0)
    page.fill("#runs-filter", "rout")
    page.select_option("#runs-status", "succeeded")
    expect(row).to_have_attribute("data-status", "succeeded")
    row.click()
    expect(page.locator("#run-status")).to_have_text("succeeded")
    expect(page.locator("#run-id")).to_have_text(run_id)
    assert visit.node_data("answer", "state") == "succeeded"
    assert visit.node_data("summarise", "state") == "skipped"
    visit.close()


def test_cancel_and_resume_from_the_run_view(browser, ui_server):
    visit = Visit(browser, ui_server, "read,submit")
    page = visit.page
    page.click(".wf-item[data-name='nap']")
    page.click("#run-btn")
    visit.until("() => window.autoglmUI.cy.getElementById('nap').data('state')", "running", 30)
    first = page.locator("#run-id").inner_text()
    page.click("#cancel-btn")
    expect(page.locator("#run-status")).to_have_text("cancelled", timeout=30_000)
    assert visit.node_data("ready", "state") == "succeeded"
    # resume: the same workflow and inputs again, with the cache on
    page.click("#resume-btn")
    expect(page.locator("#run-id")).not_to_have_text(first)
    visit.until("() => window.autoglmUI.cy.getElementById('ready').data('state')", "cached", 30)
    visit.until("() => window.autoglmUI.cy.getElementById('nap').data('state')", "running", 30)
    page.click("#cancel-btn")
    expect(page.locator("#run-status")).to_have_text("cancelled", timeout=30_000)
    visit.close()
