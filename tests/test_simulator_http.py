"""The simulated Claret over real loopback HTTP: endpoints, auth rules, 422s and downloads."""

from __future__ import annotations

import csv
import io
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from claret_errors.config import Settings
from claret_errors.errors import ConfigError
from claret_errors.fetch import fetch
from claret_errors.simulator import Scenario, Simulator, Variant, make_nightly_csv, server
from claret_errors.simulator.scenario import parse_scenario

XHR = {"X-Requested-With": "XMLHttpRequest"}
GOOD = (
    b"item_name,bin_name,lot_name,date_filled,quantity,uom\r\n"
    b"124,SS-01,RM19CASRUT.ZAM,2023-08-01,40,9LE Case\r\n"
)
SEED_KEYS = {
    "job_log_id", "status", "type", "description", "progress",
    "files", "job_status_link", "timestamps", "user_id",
}  # fmt: skip


def api(sim: Simulator, tenant: str | None = None, token: str | None = None) -> httpx.Client:
    """A client on the tenant's API root, authenticated with a fresh token unless one is given."""
    name = tenant or sim.tenant
    headers = {**XHR, "Authorization": f"Bearer {token or sim.mint_token(name)}"}
    return httpx.Client(base_url=f"{sim.base_url}/{name}/api/v1", headers=headers, timeout=10)


def upload(client: httpx.Client, data: bytes, **form: str) -> httpx.Response:
    return client.post(
        "/inventory/import/process", files={"file": ("nightly.csv", data, "text/csv")}, data=form
    )


def poll_until_done(client: httpx.Client, job_id: int, limit: int = 200) -> list[dict[str, object]]:
    """Every status content seen until the job is completed or failed."""
    seen: list[dict[str, object]] = []
    for _ in range(limit):
        content = client.get(f"/imports/status/{job_id}").json()["content"]
        seen.append(content)
        if content["status"] in ("completed", "failed"):
            return seen
    raise AssertionError(f"job {job_id} did not finish in {limit} polls")


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(speed=0, tenants=("demo", "other")) as running:
        yield running


def test_token_create_with_the_tenants_credentials_returns_a_sanctum_token(sim: Simulator) -> None:
    """Clients mint tokens from CLARET_EMAIL/CLARET_PASSWORD; the token must then open the API."""
    response = httpx.post(
        f"{sim.base_url}/demo/api/v1/tokens/create", params={"email": sim.email, "password": sim.password}
    )
    assert response.status_code == 200
    token = response.json()["token"]
    number, _, secret = token.partition("|")
    assert number.isdigit() and len(secret) == 40 and secret.isalnum()
    assert api(sim, token=token).get("/imports/status/999").status_code == 422  # authenticated, unknown job


def test_token_create_with_a_wrong_password_is_refused_with_401(sim: Simulator) -> None:
    """A wrong password must be an auth failure (exit 6), not a server error."""
    response = httpx.post(
        f"{sim.base_url}/demo/api/v1/tokens/create",
        params={"email": sim.email, "password": "nope"},
        headers=XHR,
    )
    assert response.status_code == 401
    assert "token" not in response.json()


def test_token_create_without_parameters_is_a_laravel_422(sim: Simulator) -> None:
    """Missing query parameters answer Laravel's validation shape: message plus errors per field."""
    response = httpx.post(f"{sim.base_url}/demo/api/v1/tokens/create", headers=XHR)
    assert response.status_code == 422
    assert response.json()["errors"] == {
        "email": ["The email field is required."],
        "password": ["The password field is required."],
    }


def test_missing_token_with_xhr_header_gets_json_401(sim: Simulator) -> None:
    """With X-Requested-With, Claret answers the JSON 401 our client turns into a re-mint."""
    response = httpx.get(f"{sim.base_url}/demo/api/v1/imports/status/1", headers=XHR)
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthenticated."}


def test_missing_token_without_xhr_header_redirects_to_an_html_login_page(sim: Simulator) -> None:
    """Without X-Requested-With, Laravel redirects to the login page: the trap the header avoids."""
    response = httpx.get(f"{sim.base_url}/demo/api/v1/imports/status/1")
    assert response.status_code == 302
    login = httpx.get(response.headers["Location"])
    assert login.status_code == 200
    assert login.headers["Content-Type"].startswith("text/html")
    assert "<form" in login.text


def test_invalid_bearer_token_is_refused(sim: Simulator) -> None:
    """A made-up token must not open anything."""
    client = api(sim, token="7|" + "x" * 40)
    assert client.get("/imports/status/1").status_code == 401


def test_token_of_one_tenant_sees_nothing_on_another_tenants_urls(sim: Simulator) -> None:
    """Tokens are per user: valid everywhere, but another tenant's jobs are 422 and its uploads forbidden."""
    job_id = sim.submit_csv(GOOD, tenant="other")
    client = api(sim, "other", token=sim.mint_token("demo"))
    response = client.get(f"/imports/status/{job_id}")
    assert response.status_code == 422
    assert response.json()["message"] == "Job not found or you do not have access to this job."
    assert upload(client, GOOD).status_code == 403
    assert len(sim.state.jobs) == 1


def test_job_of_another_tenant_is_not_found_422(sim: Simulator) -> None:
    """A tenant must see nothing of another's jobs: the documented 422 body, not the job."""
    job_id = sim.submit_csv(GOOD, tenant="other")
    response = api(sim, "demo").get(f"/imports/status/{job_id}")
    assert response.status_code == 422
    assert response.json() == {
        "message": "Job not found or you do not have access to this job.",
        "error": {"error": "Job log ID does not exist"},
    }


def test_files_of_another_tenant_cannot_be_downloaded(sim: Simulator) -> None:
    """Artifact paths carry the tenant; another tenant's token must not fetch them, even via its own path."""
    job_id = sim.submit_csv(GOOD, tenant="other")
    path = api(sim, "other").get(f"/imports/status/{job_id}").json()["content"]["files"]["input"][0]
    demo_headers = {**XHR, "Authorization": f"Bearer {sim.mint_token('demo')}"}
    assert httpx.get(sim.base_url + path, headers=demo_headers).status_code == 404
    hijack = path.replace("/other/download/", "/demo/download/", 1)
    assert httpx.get(sim.base_url + hijack, headers=demo_headers).status_code == 404


def test_unknown_job_is_not_found_422(sim: Simulator) -> None:
    """Polling a job id that never existed is the same 422 as someone else's job."""
    assert api(sim).get("/imports/status/424242").status_code == 422
    assert api(sim).get("/imports/status/abc").status_code == 422


def test_csv_upload_answers_202_with_a_job_log_id_to_poll(sim: Simulator) -> None:
    """The multipart upload is how resubmit creates jobs; its id must be pollable right away."""
    client = api(sim)
    response = upload(client, GOOD)
    assert response.status_code == 202
    job_id = response.json()["job_log_id"]
    assert client.get(f"/imports/status/{job_id}").json()["content"]["job_log_id"] == job_id


def test_csv_upload_honours_a_field_mapping_from_the_files_headers(sim: Simulator) -> None:
    """Uploads may carry a mapping from the file's own headers to Claret's fields."""
    data = b"Item,Tank,Lot,Filled,Qty,Unit\n124,SS-01,RM19CASRUT.ZAM,2023-08-01,40,Each\n"
    mapping = {"Item": "item_name", "Tank": "bin_name", "Lot": "lot_name", "Filled": "date_filled",
               "Qty": "quantity", "Unit": "uom"}  # fmt: skip
    job_id = upload(api(sim), data, mapping=json.dumps(mapping)).json()["job_log_id"]
    assert [t.outcome for t in sim.ground_truth(job_id)] == ["imported"]


def test_upload_without_a_file_is_a_laravel_422(sim: Simulator) -> None:
    """A form without the file field is a validation error naming the field."""
    response = api(sim).post("/inventory/import/process", data={"allow_record_creation": "1"})
    assert response.status_code == 422
    assert response.json()["errors"] == {"file": ["The file field is required."]}


def test_json_payload_import_answers_200_and_creates_a_job(sim: Simulator) -> None:
    """The JSON import answers 200 without a job id (the job shows in the UI only), yet it is processed."""
    record = {"item_name": "124", "bin_name": "SS-02", "lot_name": "BT19CHA01", "date_filled": "2023-08-01",
              "quantity": 12.5, "uom": "Each"}  # fmt: skip
    body = {"source": "api", "arguments": {"allow_record_creation": True}, "payload": [record]}
    response = api(sim).post("/inventory/import/process", json=body)
    assert response.status_code == 200
    assert "job_log_id" not in response.json()
    assert [t.action for t in sim.ground_truth(1)] == ["created"]


def test_more_than_1000_csv_records_are_refused_with_a_laravel_422(sim: Simulator) -> None:
    """Claret takes at most 1000 records a request; resubmit must split, and see why if it does not."""
    response = upload(api(sim), make_nightly_csv(1001, seed=1, error_share=0))
    assert response.status_code == 422
    body = response.json()
    assert body["message"] == "The file field must not have more than 1000 items."
    assert body["errors"] == {"file": [body["message"]]}
    assert sim.state.jobs == {}


def test_more_than_1000_json_records_are_refused_with_a_laravel_422(sim: Simulator) -> None:
    """The JSON import has the same limit, reported on the payload field."""
    record = {"item_name": "124", "bin_name": "SS-02", "lot_name": "BT19CHA01", "date_filled": "2023-08-01",
              "quantity": "1", "uom": "Each"}  # fmt: skip
    response = api(sim).post("/inventory/import/process", json={"payload": [record] * 1001})
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["payload"]


def test_exactly_1000_records_are_accepted(sim: Simulator) -> None:
    """The limit is inclusive: a full corrected file of 1000 rows must go through."""
    assert upload(api(sim), make_nightly_csv(1000, seed=2, error_share=0)).status_code == 202


def test_status_document_has_exactly_the_seed_documents_shape(sim: Simulator) -> None:
    """Our client's models are written against this shape; any drift would hide real-service bugs."""
    body = api(sim).get(f"/imports/status/{sim.submit_csv(GOOD)}").json()
    assert body["message"] == "Job status retrieved successfully"
    content = body["content"]
    assert set(content) == SEED_KEYS
    assert content["type"] == "inventory-import" and content["description"] == "Inventory Import"
    assert set(content["progress"]) == {"completed_steps", "total_steps", "current_step"}
    assert set(content["timestamps"]) == {"started_at", "completed_at"}
    assert all(isinstance(paths, list) for paths in content["files"].values())
    assert content["job_status_link"].endswith("/demo/job-logs/1")


def test_every_artifact_downloads_with_the_bearer_token_and_a_content_length(sim: Simulator) -> None:
    """The demo's promise: all four categories, byte-exact, each with Content-Length."""
    data = make_nightly_csv(60, seed=5)
    client = api(sim)
    job_id = upload(client, data).json()["job_log_id"]
    files = poll_until_done(client, job_id)[-1]["files"]
    assert isinstance(files, dict) and set(files) == {"input", "staging", "output", "errors"}
    bodies = {}
    for category, paths in files.items():
        response = client.get(sim.base_url + paths[0])
        assert response.status_code == 200
        assert int(response.headers["Content-Length"]) == len(response.content)
        bodies[category] = response.content
    assert bodies["input"] == data
    truth = sim.ground_truth(job_id)
    failed = sum(t.outcome == "failed" for t in truth)
    assert len(list(csv.DictReader(io.StringIO(bodies["errors"].decode())))) == failed
    assert len(list(csv.DictReader(io.StringIO(bodies["output"].decode())))) == len(truth) - failed


def test_download_without_the_bearer_token_is_refused(sim: Simulator) -> None:
    """Artifacts hold business data: the same auth as the API applies."""
    client = api(sim)
    path = client.get(f"/imports/status/{sim.submit_csv(GOOD)}").json()["content"]["files"]["input"][0]
    assert httpx.get(sim.base_url + path, headers=XHR).status_code == 401


def test_unknown_download_path_is_404(sim: Simulator) -> None:
    """A path the simulator never handed out must not be served (no path tricks)."""
    sim.submit_csv(GOOD)
    client = api(sim)
    assert client.get(f"{sim.base_url}/demo/download/demo/../../etc/passwd").status_code == 404
    assert client.get(f"{sim.base_url}/demo/download/demo/user-uploads/nothing.csv").status_code == 404


def test_record_update_depends_on_allow_record_update(sim: Simulator) -> None:
    """allow_record_update decides whether an existing inventory record is updated or refused."""
    existing = sim.state.master.inventory[0]
    line = ",".join(
        existing[f] for f in ("item_name", "bin_name", "lot_name", "date_filled", "quantity", "uom")
    )
    data = f"item_name,bin_name,lot_name,date_filled,quantity,uom\n{line}\n".encode()
    client = api(sim)
    refused = upload(client, data, allow_record_update="false").json()["job_log_id"]
    allowed = upload(client, data, allow_record_update="true").json()["job_log_id"]
    assert sim.ground_truth(refused)[0].reasons[0].message == "Record update is not allowed for this import."
    assert sim.ground_truth(allowed)[0].action == "updated"


def test_a_file_that_cannot_be_parsed_makes_the_job_failed_with_an_errors_file(sim: Simulator) -> None:
    """Exit code 4 depends on Claret saying `failed`; its errors file says why."""
    client = api(sim)
    job_id = upload(client, b'item_name,bin_name\n"unterminated,SS-01\n').json()["job_log_id"]
    last = poll_until_done(client, job_id)[-1]
    assert last["status"] == "failed"
    files = last["files"]
    assert isinstance(files, dict) and set(files) == {"input", "errors"}
    assert "could not be read as CSV" in client.get(sim.base_url + files["errors"][0]).text


def test_hostile_requests_get_clean_answers_and_no_server_failure(sim: Simulator) -> None:
    """Whatever a client sends, the simulator answers like Laravel and never crashes a handler."""
    client = api(sim)
    answers = [
        client.post(
            "/inventory/import/process",
            content=b"--x\r\ngarbage",
            headers={"Content-Type": "multipart/form-data; boundary=x"},
        ).status_code,
        client.post(
            "/inventory/import/process", content=b"{not json", headers={"Content-Type": "application/json"}
        ).status_code,
        client.post("/inventory/import/process", json={"payload": "nope"}).status_code,
        upload(client, GOOD, mapping="{broken").status_code,
        upload(client, GOOD, mapping='["a list"]').status_code,
        client.get("/imports/status/%00").status_code,
        client.get(f"{sim.base_url}/no-such-tenant/api/v1/imports/status/1").status_code,
        client.get(f"{sim.base_url}/demo/download/demo/%2e%2e/%2e%2e/etc/passwd").status_code,
    ]
    assert answers == [422, 422, 422, 202, 202, 422, 404, 404]
    assert sim.failures == []


def test_an_exception_inside_the_simulator_answers_500_and_is_recorded(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A simulator bug must look like Laravel's 500 to the client and fail the test that hit it, not hang."""

    def broken(job: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(sim.state, "poll", broken)  # no real part raises here on purpose
    response = api(sim).get(f"/imports/status/{sim.submit_csv(GOOD)}")
    assert response.status_code == 500 and response.json() == {"message": "Server Error"}
    assert sim.failures == ["GET /demo/api/v1/imports/status/1: RuntimeError: boom"]


@pytest.mark.parametrize("length", ["999999999999", "abc"])
def test_an_oversized_or_unusable_content_length_is_refused_413_without_reading(
    sim: Simulator, length: str
) -> None:
    """The simulator must not try to swallow whatever a client claims to send."""
    port = int(sim.base_url.rsplit(":", 1)[1])
    request = (
        f"POST /demo/api/v1/inventory/import/process HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(request)
        answer = conn.recv(4096).decode()
    assert answer.startswith("HTTP/1.1 413")
    assert sim.failures == []


def test_set_variant_keeps_the_fault_schedule_running() -> None:
    """Changing a tenant's variant mid-test must not replay faults already spent."""
    with Simulator("flaky-status", speed=0) as sim:
        client = api(sim)
        job_id = sim.submit_csv(GOOD)
        first = client.get(f"/imports/status/{job_id}").status_code
        sim.set_variant("demo", Variant(row_base=0))
        codes = [first] + [client.get(f"/imports/status/{job_id}").status_code for _ in range(2)]
    assert codes == [503, 503, 200]


def _answer(reader: io.BufferedReader) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 response read off a raw connection: status, headers (lower-cased names), body."""
    status = int(reader.readline().split()[1])
    headers: dict[str, str] = {}
    while (line := reader.readline().decode()) not in ("\r\n", ""):
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, reader.read(int(headers.get("content-length", "0")))


def _chunked(body: bytes, size: int) -> bytes:
    """The body in chunks of `size` bytes (one with an extension), a last chunk and a trailer."""
    pieces = [body[i : i + size] for i in range(0, len(body), size)]
    framed = [
        f"{len(p):x}{';ext=1' if i == 1 else ''}\r\n".encode() + p + b"\r\n" for i, p in enumerate(pieces)
    ]
    return b"".join(framed) + b"0\r\nX-Checksum: none\r\n\r\n"


def test_a_chunked_upload_is_read_whole_and_the_connection_stays_usable(sim: Simulator) -> None:
    """Transfer-Encoding: chunked with no Content-Length (curl -T -, streaming clients) is a real upload."""
    data = make_nightly_csv(30, seed=8)
    form = (
        b"--b0und\r\n"
        b'Content-Disposition: form-data; name="file"; filename="nightly.csv"\r\n'
        b"Content-Type: text/csv\r\n\r\n" + data + b"\r\n--b0und--\r\n"
    )
    token = sim.mint_token(sim.tenant)
    head = (
        f"POST /demo/api/v1/inventory/import/process HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
        "X-Requested-With: XMLHttpRequest\r\nContent-Type: multipart/form-data; boundary=b0und\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    ).encode()
    port = int(sim.base_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        reader = conn.makefile("rb")
        conn.sendall(head + _chunked(form, 500))
        status, _, body = _answer(reader)
        job_id = json.loads(body)["job_log_id"]
        follow_up = f"GET /demo/api/v1/imports/status/{job_id} HTTP/1.1\r\nHost: x\r\n"
        conn.sendall(f"{follow_up}Authorization: Bearer {token}\r\n\r\n".encode())
        second, _, _ = _answer(reader)
    assert status == 202 and second == 200
    assert len(sim.ground_truth(job_id)) == 30
    assert sim.failures == []


@pytest.mark.parametrize(
    ("framing", "body", "expected"),
    [
        ("Transfer-Encoding: chunked", b"4\r\nabcd\r\n10000\r\n", 413),  # over the limit: not read further
        ("Transfer-Encoding: chunked", b"zz\r\nabcd\r\n0\r\n\r\n", 400),  # not a hex size
        ("Transfer-Encoding: chunked", b"0x4\r\nabcd\r\n0\r\n\r\n", 400),  # int() would take it; HTTP not
        ("Transfer-Encoding: chunked", b"4\r\nabcdef\r\n0\r\n\r\n", 400),  # chunk longer than its size
        ("Transfer-Encoding: chunked\r\nContent-Length: 9", b"4\r\nabcd\r\n", 400),  # both framings
        ("Transfer-Encoding: gzip, chunked", b"0\r\n\r\n", 501),
    ],
)
def test_chunked_bodies_outside_the_rules_or_the_limit_are_refused(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch, framing: str, body: bytes, expected: int
) -> None:
    """The limit on Content-Length bodies holds for chunked ones too, and bad framing is a clean 4xx/5xx."""
    monkeypatch.setattr(server, "MAX_BODY", 0x1000)
    port = int(sim.base_url.rsplit(":", 1)[1])
    head = f"POST /demo/api/v1/inventory/import/process HTTP/1.1\r\nHost: x\r\n{framing}\r\n\r\n".encode()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(head + body)
        reader = conn.makefile("rb")
        status, headers, _ = _answer(reader)
        closed = reader.read() == b""
    assert status == expected and headers["connection"] == "close" and closed
    assert sim.failures == []


def test_a_token_expires_after_the_scenarios_uses_like_a_sanctum_expiration() -> None:
    """Spent tokens get the documented answers: JSON 401 with X-Requested-With, else the login redirect."""
    with Simulator(Scenario(token_lifetime=2), speed=0) as sim:
        job_id = sim.submit_csv(GOOD)
        token = sim.mint_token()
        client = api(sim, token=token)
        codes = [client.get(f"/imports/status/{job_id}").status_code for _ in range(3)]
        spent = client.get(f"/imports/status/{job_id}")
        plain = httpx.get(
            f"{sim.base_url}/demo/api/v1/imports/status/{job_id}",
            headers={"Authorization": f"Bearer {token}"},
        )
        fresh = api(sim).get(f"/imports/status/{job_id}").status_code
    assert codes == [200, 200, 401] and spent.json() == {"message": "Unauthenticated."}
    assert plain.status_code == 302 and plain.headers["Location"].endswith("/demo/login")
    assert fresh == 200


def test_the_fetch_client_mints_again_when_its_token_expires_mid_run(tmp_path: Path) -> None:
    """Two jobs take ten requests (a status and 4 files each); the first token lasts six, all files land."""
    with Simulator(Scenario(token_lifetime=6), speed=0) as sim:
        ids = [str(sim.submit_csv(make_nightly_csv(30, seed=i))) for i in range(2)]
        settings = Settings(
            tenant=sim.tenant, base_url=sim.base_url, email=sim.email, password=sim.password, out=tmp_path
        )
        outcomes = fetch(ids, settings)
        minted_mid_run = max(sim.state.token_born.values()) > 0
        failures = sim.failures
    assert [o.exit_code for o in outcomes] == [0, 0], [o.error for o in outcomes]
    for outcome in outcomes:
        manifest = json.loads((outcome.folder / "manifest.json").read_text())["files"]
        assert {f["category"] for f in manifest} == {"input", "staging", "output", "errors"}
    assert minted_mid_run and failures == []


def test_token_lifetime_must_be_a_whole_number() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_scenario({"token_lifetime": -1}, "x.toml", "x")
    assert caught.value.key == "token_lifetime"
    assert parse_scenario({"token_lifetime": 5}, "x.toml", "x").token_lifetime == 5
