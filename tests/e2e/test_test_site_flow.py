"""The test site end to end over HTTP: an admin builds and publishes a test, a visitor takes it."""

import httpx

from tests.unit.documents import answers_for, document

PNG = b"\x89PNG\r\n\x1a\n" + b"thumbnail" * 8
JPEG = b"\xff\xd8\xff\xe0" + b"question" * 8
GIF = b"GIF89a" + b"result" * 8


def test_a_visitor_finds_opens_and_takes_a_test_an_admin_published(http, admin):
    # The admin: create, add images, publish, and wait until it is live and searchable.
    created = http.post("/api/admin/tests", headers=admin, json=document())
    assert created.status_code == 201, created.text
    test_id = created.json()["test_id"]
    assert created.headers["location"] == f"/api/admin/tests/{test_id}"
    admin_test = f"/api/admin/tests/{test_id}"
    thumbnail = http.post(
        f"{admin_test}/images", headers=admin, files={"file": ("t.png", PNG, "image/png")}
    ).raise_for_status()
    http.post(
        f"{admin_test}/images",
        headers=admin,
        files={"file": ("q.jpg", JPEG, "image/jpeg")},
        data={"question": "0"},
    ).raise_for_status()
    result_image = http.put(
        f"{admin_test}/results/INFP/image",
        headers={**admin, "Content-Type": "image/gif"},
        content=GIF,
    ).raise_for_status()
    other = http.post(
        "/api/admin/tests", headers=admin, json=document(title="Coffee quiz", tags=["coffee"])
    ).raise_for_status()
    http.post(
        f"/api/admin/tests/{other.json()['test_id']}/publish", headers=admin
    ).raise_for_status()
    published = http.post(f"{admin_test}/publish", headers=admin).raise_for_status().json()
    status = http.get(
        f"{admin_test}/status",
        headers=admin,
        params={"position": published["position"], "wait": "true"},
    ).json()
    assert (status["live"], status["searchable"]) == (True, True), status

    # The visitor: the list, a search in Korean, the test, its images, a 304, a result.
    listed = http.get("/api/tests").json()["tests"]
    assert [t["title"] for t in listed] == ["여행 성향 테스트", "Coffee quiz"]
    assert listed[0]["thumbnail_url"] == thumbnail.json()["url"]
    found = http.get("/api/tests", params={"q": "여행", "mode": "keyword"}).json()["tests"]
    assert [t["id"] for t in found] == [test_id]
    opened = http.get(f"/api/tests/{test_id}")
    assert opened.status_code == 200
    test = opened.json()
    assert httpx.get(test["thumbnail_url"]).content == PNG
    assert httpx.get(test["questions"][0]["image_url"]).content == JPEG
    again = http.get(f"/api/tests/{test_id}", headers={"If-None-Match": opened.headers["etag"]})
    assert again.status_code == 304
    answers = {str(q): c for q, c in answers_for("INFP").items()}
    computed = http.post(f"/api/tests/{test_id}/compute", json={"answers": answers}).json()
    assert (computed["mbti"], computed["result"]["title"]) == ("INFP", "The INFP")
    assert computed["result"]["image_url"] == result_image.json()["url"]
    assert httpx.get(computed["result"]["image_url"]).content == GIF

    # The admin's stats count the take.
    stats = http.get(
        f"{admin_test}/stats", headers=admin, params={"min_position": computed["position"]}
    ).json()
    assert stats["takes"] == 1
    assert stats["by_type"]["INFP"] == 1
