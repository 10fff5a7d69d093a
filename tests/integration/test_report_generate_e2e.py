"""A tenant asks for its report through the portal (POST /api/v1/report -> report.generate on
vigil.commands); the report service builds it and the portal serves it as JSON and HTML."""
import requests

from conftest import wait_until


def test_report_requested_through_the_portal_is_built_and_served(env, start_service):
    portal = start_service("portal")
    start_service("report")
    r = portal.post("/api/v1/signup", json={"email": env.unique_email("rep"),
                                            "password": "correct horse battery 123",
                                            "organization": "Report Co"})
    assert r.status_code == 201, r.text
    auth = {"Authorization": "Bearer " + r.json()["api_key"]}
    assert portal.get("/api/v1/report", headers=auth).status_code == 404
    r = portal.post("/api/v1/report", headers=auth)
    assert r.status_code == 202 and r.json() == {"status": "queued"}
    body = wait_until(lambda: (lambda x: x.json() if x.status_code == 200 else None)(
        portal.get("/api/v1/report", headers=auth)), timeout=30,
        message="the requested report never appeared")
    assert body["generated_at"] and isinstance(body["data"], dict)
    html = portal.get("/api/v1/report.html", headers=auth)
    assert html.status_code == 200 and html.headers["Content-Type"].startswith("text/html")
    assert "Report Co" in html.text or "<html" in html.text.lower()
    # the signup left a session cookie in the client: a cookie write without CSRF token is 403,
    # and no credentials at all is 401
    assert portal.post("/api/v1/report").status_code == 403
    assert requests.post(portal.url + "/api/v1/report", timeout=10).status_code == 401
