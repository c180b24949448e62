"""The audit log's HTML pages over HTTP (no browser): filters in the URL, paging, diffs,
causation links, hostile text escaped, a retired event class. Sign-in: test_audit_sign_in.py."""

import re
import uuid

import pytest

from domain.commands.testdocument import CreateTestDocument, SaveTestDocument
from tests.e2e.flows import (
    fund,
    lease,
    ready_job,
    report,
    settle,
    sign_up,
    wait_projected,
)
from tests.e2e.testsite import run
from tests.integration.auditlog import insert_retired_event
from tests.unit.documents import document


def shown(html, css_class):
    """The text of every ``<span class="css_class" ...>`` of the event rows, in page order."""
    return re.findall(rf'<span class="{css_class}"[^>]*>([^<]*)', html)


def positions(html):
    return [int(p) for p in re.findall(r'data-position="(\d+)"', html)]


def test_filters_in_the_url_keep_only_the_matching_events_newest_first(
    signed_in, live_server, admin
):
    user_id, _ = sign_up(signed_in)
    fund(signed_in, admin, user_id, 10)
    wait_projected(live_server.services, ["audit_log"])

    by_admin = signed_in.get("/admin/audit", params={"actor": "admin:ann"})
    granted = signed_in.get(
        "/admin/audit", params={"aggregate_id": user_id, "event_type": "UserCredits.Granted"}
    )

    assert by_admin.status_code == 200
    assert shown(by_admin.text, "event-type") == ["UserCredits.Granted", "UserCredits.PlanChanged"]
    assert set(shown(by_admin.text, "actor")) == {"admin:ann"}
    assert positions(by_admin.text) == sorted(positions(by_admin.text), reverse=True)
    assert shown(granted.text, "event-type") == ["UserCredits.Granted"]
    assert 'value="UserCredits.Granted"' in granted.text  # the form shows the filter in use


def test_a_cursor_shows_only_older_events(signed_in, live_server):
    for _ in range(3):
        sign_up(signed_in)
    wait_projected(live_server.services, ["audit_log"])
    newest = positions(signed_in.get("/admin/audit").text)

    older = signed_in.get("/admin/audit", params={"cursor": newest[1]})

    assert positions(older.text) == newest[2:]
    assert 'rel="first"' in older.text


def test_the_older_link_pages_through_the_whole_log_without_repeats(
    signed_in, live_server, monkeypatch
):
    monkeypatch.setattr("api.pages.audit.PAGE", 2)  # the server runs in this process
    for _ in range(5):
        sign_up(signed_in)
    wait_projected(live_server.services, ["audit_log"])
    seen, url, pages = [], "/admin/audit", 0

    while url:
        html = signed_in.get(url).text
        seen += positions(html)
        found = re.search(r'<a href="([^"]+)" rel="next"', html)
        url = found.group(1).replace("&amp;", "&") if found else None
        pages += 1

    assert seen == list(range(5, 0, -1))
    assert pages == 3


def test_the_later_link_pages_through_an_aggregates_versions(signed_in, admin, monkeypatch):
    monkeypatch.setattr("api.pages.audit.VERSIONS", 2)
    user_id, _ = sign_up(signed_in)
    fund(signed_in, admin, user_id, 10)  # versions 2 and 3
    path = f"/admin/audit/aggregates/{user_id}"

    first = signed_in.get(path).text
    later = re.search(r'<a href="([^"]+)" rel="next"', first)
    assert later is not None
    second = signed_in.get(path + later.group(1)).text

    assert re.findall(r'id="version-(\d+)"', first) == ["1", "2"]
    assert re.findall(r'id="version-(\d+)"', second) == ["3"]
    assert 'rel="next"' not in second


def test_empty_filter_fields_are_dropped_from_the_shared_url(signed_in):
    response = signed_in.get("/admin/audit?actor=&event_type=Job.Created&since=")

    assert response.status_code == 303
    assert response.headers["location"] == "/admin/audit?event_type=Job.Created"


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ({"aggregate_id": "nope"}, "aggregate id: not a UUID"),
        ({"since": "yesterday"}, "since: not an RFC 3339 time"),
        ({"cursor": "-1"}, "cursor: not a position this page gave"),
        ({"actor": "a" * 201}, "actor: at most 200 characters"),
    ],
)
def test_a_filter_that_does_not_parse_is_named_on_the_page_with_422(signed_in, query, named):
    response = signed_in.get("/admin/audit", params=query)

    assert response.status_code == 422
    assert named in response.text


def test_hostile_text_in_event_data_is_escaped_on_every_page(signed_in, live_server):
    _, auth = sign_up(signed_in)
    hostile = "<script>alert(1)</script>"
    rule = {"name": hostile, "preset": "portrait", "params": {}}
    created = signed_in.post("/rules", headers=auth, json=rule).raise_for_status().json()
    wait_projected(live_server.services, ["audit_log"])
    correlation = re.search(
        r'/admin/audit/correlations/([^"]+)"',
        signed_in.get("/admin/audit", params={"event_type": "Rule.Created"}).text,
    )
    assert correlation is not None

    pages = [
        signed_in.get("/admin/audit", params={"event_type": "Rule.Created"}),
        signed_in.get(f"/admin/audit/aggregates/{created['rule_id']}"),
        signed_in.get(f"/admin/audit/aggregates/{created['rule_id']}", params={"version": 1}),
        signed_in.get(f"/admin/audit/correlations/{correlation.group(1)}"),
    ]

    for page in pages:
        assert page.status_code == 200, page.url
        assert "<script>" not in page.text, page.url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text, page.url


def test_a_correlation_links_an_event_to_the_event_that_caused_it(
    signed_in, live_server, worker, admin
):
    user_id, auth = sign_up(signed_in)
    fund(signed_in, admin, user_id, 10)
    ready_job(signed_in, auth, items=1)
    [item] = lease(signed_in, worker)
    last = report(signed_in, worker, item, outcome="failed").raise_for_status()
    settle(live_server.services)  # the saga settles the job's credits, caused by its end
    wait_projected(live_server.services, ["audit_log"])

    page = signed_in.get(f"/admin/audit/correlations/{last.headers['x-request-id']}")

    assert page.status_code == 200
    links = re.findall(r'<a href="#event-(\d+)">event:(\d+)</a>', page.text)
    assert links, "no event of the request links to its cause"
    assert all(anchor == named and int(anchor) in positions(page.text) for anchor, named in links)


def test_the_viewers_link_reaches_a_request_id_of_every_accepted_character(
    signed_in, live_server, admin
):
    user_id, _ = sign_up(signed_in)
    request_id = "qa.7a2f_1cd0~x-y"
    signed_in.post(
        f"/admin/users/{user_id}/credits",
        headers={**admin, "X-Request-ID": request_id},
        json={"amount": 1, "reason": "test"},
    ).raise_for_status()
    wait_projected(live_server.services, ["audit_log"])
    log = signed_in.get("/admin/audit", params={"aggregate_id": user_id}).text

    links = re.findall(r'<a href="(/admin/audit/correlations/[^"]*)"', log)
    [link] = [href for href in links if request_id in href]  # not the sign-up's request
    page = signed_in.get(link)

    assert page.status_code == 200
    assert shown(page.text, "event-type") == ["UserCredits.Granted"]


def test_an_aggregate_page_shows_each_version_with_its_diff(signed_in, live_server, admin):
    user_id, _ = sign_up(signed_in)
    fund(signed_in, admin, user_id, 10)

    page = signed_in.get(f"/admin/audit/aggregates/{user_id}")
    state = signed_in.get(f"/admin/audit/aggregates/{user_id}", params={"version": 2})

    assert page.status_code == 200
    assert shown(page.text, "event-type")[-2:] == ["UserCredits.PlanChanged", "UserCredits.Granted"]
    changed = re.search(r'<li class="changed">.*?<code>plan_name</code>(.*?)</li>', page.text, re.S)
    assert changed is not None
    assert re.findall(r"<code[^>]*>([^<]*)</code>", changed.group(1)) == [
        "&#34;free&#34;",
        "&#34;pro&#34;",
    ]
    assert f'href="/admin/audit/aggregates/{user_id}?version=3"' in page.text
    assert state.status_code == 200
    assert "at version 2" in state.text and "&#34;plan_name&#34;: &#34;pro&#34;" in state.text


def test_a_test_documents_history_names_the_question_text_that_changed(signed_in, live_server):
    services, test_id = live_server.services, uuid.uuid4()
    before = document()
    after = document(questions=[dict(q) for q in before["questions"]])
    after["questions"][2]["text"] = "Mountains or <sea>?"
    run(services, CreateTestDocument(test_id, before))
    run(services, SaveTestDocument(test_id, 1, after))

    page = signed_in.get(f"/admin/audit/aggregates/{test_id}")

    assert page.status_code == 200
    version_2 = page.text.split('id="version-2"')[1]
    row = r'<li class="changed">.*?<code>([^<]*)</code>.*?"old">([^<]*)<.*?"new">([^<]*)<'
    changed = {path: (old, new) for path, old, new in re.findall(row, version_2, re.S)}
    old_text = before["questions"][2]["text"]
    assert changed["document.questions[2].text"] == (
        f"&#34;{old_text}&#34;",
        "&#34;Mountains or &lt;sea&gt;?&#34;",
    )
    assert [path for path in changed if "questions" in path] == ["document.questions[2].text"]


def test_an_unknown_aggregate_or_version_is_a_404_page(signed_in, live_server):
    user_id, _ = sign_up(signed_in)

    unknown = signed_in.get(f"/admin/audit/aggregates/{uuid.uuid4()}")
    no_such_version = signed_in.get(f"/admin/audit/aggregates/{user_id}", params={"version": 99})
    not_an_id = signed_in.get("/admin/audit/aggregates/nope")

    assert unknown.status_code == 404 and "not found" in unknown.text
    assert no_such_version.status_code == 404 and "has no version 99" in no_such_version.text
    assert not_an_id.status_code == 422 and "is not an aggregate id" in not_an_id.text


def test_an_event_whose_class_is_gone_shows_its_topic_and_raw_data(signed_in, live_server):
    services = live_server.services
    retired = "3c1d2c3e-6f70-4a81-9b92-a3b4c5d6e7f9"
    insert_retired_event(services.event_store, services.dsn, retired)
    wait_projected(services, ["audit_log"])

    log = signed_in.get("/admin/audit", params={"aggregate_id": retired})
    history = signed_in.get(f"/admin/audit/aggregates/{retired}")

    for page in (log, history):
        assert page.status_code == 200
        assert "Stored topic domain.retired:Retired.Painted names no class any more" in page.text
        assert "&#34;colour&#34;: &#34;blue&#34;" in page.text
    assert "class no longer exists" in history.text


def test_the_pages_are_left_out_of_the_openapi_document(http):
    paths = http.get("/openapi.json").json()["paths"]

    assert not [p for p in paths if p.startswith("/admin/audit") or p.startswith("/admin/log")]


def test_rows_and_titles_name_what_an_admin_recognises_beside_each_id(signed_in, live_server):
    services = live_server.services
    test_id = uuid.uuid4()
    run(services, CreateTestDocument(test_id, document(title="여행 성향 테스트")))
    user_id, auth = sign_up(signed_in)
    job = ready_job(signed_in, auth)
    wait_projected(services, ["audit_log", "test_catalog", "jobs", "user_summary"])

    log = signed_in.get("/admin/audit").text
    history = signed_in.get(f"/admin/audit/aggregates/{test_id}").text
    state = signed_in.get(f"/admin/audit/aggregates/{job['job_id']}", params={"version": 1}).text

    labels = set(shown(log, "label"))
    assert {"“여행 성향 테스트”", "free user", f"portrait job of user {user_id[:8]}"} <= labels
    assert "<title>“여행 성향 테스트” · Aggregate" in history
    assert f"portrait job of user {user_id[:8]} · Job" in state


def test_a_created_document_shows_as_a_tree_of_its_fields(signed_in, live_server):
    services = live_server.services
    test_id = uuid.uuid4()
    run(services, CreateTestDocument(test_id, document(title="Trip")))

    html = signed_in.get(f"/admin/audit/aggregates/{test_id}").text

    first = html.split('id="version-1"')[1].split("</section>")[0]
    paths = re.findall(
        r'<li class="added"><span class="kind">added</span><code>([^<]*)</code>', first
    )
    assert "document.title" in paths and "document.questions[0].text" in paths
    assert "document" not in paths  # never the whole document on one line
