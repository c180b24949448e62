"""The audit log's pages in a real browser (headless Chromium through Playwright) on a live server:
sign in, filter by actor, open an aggregate and see a diff, follow a correlation, sign out.

Each test saves a screenshot of what it saw in its own output directory (``tmp_path``). Skipped,
with the reason, only where no ``chromium`` binary or no Playwright package is installed.
"""

import re
import shutil

import pytest

from tests.e2e.flows import create_job, fund, sign_up, wait_projected

TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def browser():
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("no chromium binary: `apt-get install chromium` (.ci/run does so in CI)")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed: pip install -e '.[test]'"
    )
    with sync_api.sync_playwright() as playwright:
        # Debian's build: Playwright cannot download a browser of its own here.
        launched = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser tab (no cookies) on the live server."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1400, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def expect():
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    return expect


def screenshot(page, tmp_path, name):
    path = tmp_path / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    assert path.stat().st_size > 0
    return path


def sign_in(page, live_server, expect, start="/admin/audit"):
    """Sign in through the form, starting from ``start`` (which redirects to it and back)."""
    page.goto(start)
    expect(page).to_have_url(re.compile(r"/admin/login\?next="))
    page.fill("#token", live_server.services.tokens.issue("ann", "admin"))
    page.click("button[type=submit]")
    expect(page.locator("header .who")).to_have_text("signed in as admin:ann")


@pytest.fixture
def funded(http, live_server, admin):
    """A user put on pro with 10 more credits by admin:ann, and another user; projected."""
    user_id, auth = sign_up(http)
    sign_up(http)
    fund(http, admin, user_id, 10)
    wait_projected(live_server.services, ["audit_log"])
    return user_id, auth


def test_an_admin_signs_in_and_filters_the_log_by_actor(
    page, live_server, funded, expect, tmp_path
):
    sign_in(page, live_server, expect)

    page.fill("input[name=actor]", "admin:ann")
    page.click("button:has-text('Filter')")

    expect(page).to_have_url(re.compile(r"/admin/audit\?actor=admin%3Aann$"))
    rows = page.locator("details.event")
    expect(rows).to_have_count(2)
    expect(rows.locator(".actor")).to_have_text(["admin:ann", "admin:ann"])
    expect(rows.locator(".event-type")).to_have_text(
        ["UserCredits.Granted", "UserCredits.PlanChanged"]
    )
    rows.first.locator("summary .event-type").click()
    expect(rows.first.locator("pre")).to_be_visible()
    expect(rows.first.locator("pre")).to_contain_text('"amount": 10')
    screenshot(page, tmp_path, "filtered-by-actor")


def test_an_admin_opens_an_aggregate_and_sees_the_diff_of_each_version(
    page, live_server, funded, expect, tmp_path
):
    user_id, _ = funded
    sign_in(page, live_server, expect, start="/admin/audit?event_type=UserCredits.Granted")

    page.click(f"a[href='/admin/audit/aggregates/{user_id}']")

    expect(page).to_have_url(re.compile(f"/admin/audit/aggregates/{user_id}$"))
    granted = page.locator("#version-3")
    expect(granted.locator("h2")).to_contain_text("UserCredits.Granted")
    change = granted.locator("li.changed", has_text="available")
    expect(change.locator("code.old")).to_have_text("10")
    expect(change.locator("code.new")).to_have_text("20")
    expect(page.locator("#version-2 li.changed code.new")).to_have_text('"pro"')
    screenshot(page, tmp_path, "aggregate-history")
    page.click("text=state at version 2")
    expect(page.locator("h1")).to_contain_text("at version 2")
    expect(page.locator("pre.state")).to_contain_text('"plan_name": "pro"')
    screenshot(page, tmp_path, "aggregate-state-v2")


def test_an_admin_follows_a_correlation_from_a_job_to_the_reservation_it_caused(
    page, live_server, funded, http, expect, tmp_path
):
    _, auth = funded
    created = create_job(http, auth).raise_for_status()
    request_id = created.headers["x-request-id"]
    wait_projected(live_server.services, ["audit_log"])
    sign_in(page, live_server, expect, start="/admin/audit?event_type=Job.Created")

    page.click(f"a[href='/admin/audit/correlations/{request_id}']")

    expect(page.locator("h1")).to_contain_text(request_id)
    rows = page.locator("details.event")
    expect(rows).to_have_count(3)  # the page is server-rendered: all there once one is
    assert sorted(rows.locator(".event-type").all_inner_texts()) == [
        "Job.Created",
        "UserCredits.QuotaUsed",  # the job, counted against the day's quota
        "UserCredits.Reserved",
    ]
    expect(rows.locator(".causation")).to_have_text([f"request:{request_id}"] * 3)
    screenshot(page, tmp_path, "correlation")


def test_signing_out_ends_the_session(page, live_server, expect, tmp_path):
    sign_in(page, live_server, expect)

    page.click("button:has-text('Sign out')")

    expect(page).to_have_url(re.compile(r"/admin/login$"))
    page.goto("/admin/audit")
    expect(page).to_have_url(re.compile(r"/admin/login\?next="))
    screenshot(page, tmp_path, "signed-out")
