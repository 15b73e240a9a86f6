"""The HTTP face of the simulated Claret: routing, Sanctum-style auth, Laravel-shaped bodies, injected faults.

A stdlib ThreadingHTTPServer on loopback. Handlers turn requests into `SimState` calls and `Response`
values; faults from the scenario are applied around them. Never logs request bodies or tokens.
"""

from __future__ import annotations

import gzip
import json
import re
import socket
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from claret_errors.fields import INVENTORY_FIELDS
from claret_errors.simulator.artifacts import echo_shapes, echo_token, write_csv
from claret_errors.simulator.body import BodyError, read_body
from claret_errors.simulator.engine import count_records
from claret_errors.simulator.jobs import status_document
from claret_errors.simulator.messages import FILE_REQUIRED, TOO_MANY
from claret_errors.simulator.scenario import FaultRule
from claret_errors.simulator.state import SimState

MAX_RECORDS = 1000
_DATED = re.compile(r"\d{4}-\d{2}-\d{2}/|_\d{8}")
MAX_BODY = 50 * 1024 * 1024
# A window title, a screen clear, BEL, NUL and an 8-bit CSI: what a hostile status string carries.
ESCAPES = "\x1b]0;owned\x07\x1b[2J\x00\x9b31m"
NOT_FOUND_JOB = {
    "message": "Job not found or you do not have access to this job.",
    "error": {"error": "Job log ID does not exist"},
}
LOGIN_PAGE = (
    '<!DOCTYPE html><html><head><title>Claret - Log in</title></head><body><form method="post">'
    '<input name="email" type="email"><input name="password" type="password">'
    "<button>Log in</button></form></body></html>"
)
BAD_GATEWAY = "<html><head><title>{code}</title></head><body><center><h1>{code}</h1></center>"
BAD_GATEWAY += "<hr><center>nginx</center></body></html>"


@dataclass
class Response:
    """What a route answers, before faults bend it."""

    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(status, json.dumps(payload).encode(), "application/json", headers or {})


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "on", "yes")


def _multipart(content_type: str, body: bytes) -> dict[str, tuple[str | None, bytes]]:
    """Form fields of a multipart body: name -> (filename, bytes)."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    fields: dict[str, tuple[str | None, bytes]] = {}
    if not isinstance(message, EmailMessage) or not message.is_multipart():
        return fields
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            fields[name] = (part.get_filename(), payload)
    return fields


def _with_escapes(body: bytes) -> bytes:
    """A status answer whose words carry ESCAPES (the `control_chars` fault); a finished status stays
    as it is, so the job still ends."""
    document = json.loads(body)
    content = document["content"]
    for key in ("type", "description"):
        content[key] = f"{content[key]}{ESCAPES}"
    if content["status"] not in ("completed", "failed"):
        content["status"] += ESCAPES
    if isinstance(content["progress"].get("current_step"), str):
        content["progress"]["current_step"] += ESCAPES
    return json.dumps(document).encode()


class SimulatorServer(ThreadingHTTPServer):
    """The threading server, holding the simulator's state for its handlers."""

    daemon_threads = True
    state: SimState

    def __init__(self, port: int, state: SimState) -> None:
        super().__init__(("127.0.0.1", port), Handler)
        self.state = state
        self.failures: list[str] = []  # unexpected exceptions while handling, for tests to assert empty

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet: a client hanging up mid-answer (our own drop faults included) is not a server bug."""

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    """One request: route, authenticate, answer; faults decided by the state's fault plan."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are separate writes: avoid the 40 ms delayed-ACK stall
    server: SimulatorServer

    def version_string(self) -> str:
        return "nginx"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the library never prints, and URLs here may carry credentials."""

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    # -- plumbing ---------------------------------------------------------------------------------------

    def _send(self, response: Response, faults: list[FaultRule]) -> None:
        body = response.body
        length = len(body)
        kinds = {f.kind for f in faults}
        if "malformed_json" in kinds:
            body = body[: max(len(body) // 2, 1)]
            length = len(body)
        if "short_body" in kinds:
            length = len(body) + max(len(body) // 2, 64)
        if "drop" in kinds:
            body = body[: len(body) // 2]
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(length))
        for name, value in response.headers.items():
            self.send_header(name, value)
        if kinds & {"short_body", "drop"}:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        trickle = next((f.delay for f in faults if f.kind == "trickle"), None)
        if trickle is not None:
            self._trickle(body, trickle)
            return
        self.wfile.write(body)
        self.wfile.flush()
        if kinds & {"short_body", "drop"}:
            self.connection.shutdown(socket.SHUT_RDWR)

    def _trickle(self, body: bytes, delay: float) -> None:
        """A byte, then a pause, until the body is out or the client hangs up (the `trickle` fault)."""
        try:
            for i in range(len(body)):
                self.wfile.write(body[i : i + 1])
                self.wfile.flush()
                time.sleep(delay)
        except OSError:
            self.close_connection = True

    def _fault_response(self, rule: FaultRule) -> Response:
        headers = {"Retry-After": str(rule.retry_after)} if rule.retry_after is not None else {}
        if rule.kind == "rate_limit":
            headers.setdefault("Retry-After", "1")
            headers.update({"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "0"})
            return json_response(429, {"message": "Too Many Attempts."}, headers)
        if rule.status in (502, 504):
            title = "Bad Gateway" if rule.status == 502 else "Gateway Time-out"
            page = BAD_GATEWAY.format(code=f"{rule.status} {title}").encode()
            return Response(rule.status, page, "text/html", headers)
        message = "Service Unavailable" if rule.status == 503 else "Server Error"
        return json_response(rule.status, {"message": message}, headers)

    def _serve(self, method: str) -> None:
        try:
            body = read_body(self.headers, self.rfile, MAX_BODY) if method == "POST" else b""
        except BodyError as refused:
            self.close_connection = True
            refusal = json_response(refused.status, {"message": refused.message}, {"Connection": "close"})
            self._send(refusal, [])
            return
        url = urlsplit(self.path)
        path = unquote(url.path)
        parts = path.strip("/").split("/")
        endpoint, key = self._classify(parts, path)
        faults = self.server.state.faults.decide(endpoint, key, path) if endpoint else []
        for rule in faults:
            if rule.kind == "latency":
                time.sleep(rule.delay)
        for rule in faults:
            if rule.kind in ("http_error", "rate_limit"):
                self._send(self._fault_response(rule), [])
                return
            if rule.kind == "drop" and endpoint != "download":
                self.close_connection = True
                return
        try:
            response = self._route(method, parts, path, parse_qs(url.query), body)
        except Exception as exc:  # a simulator bug must answer like Laravel's 500, and be visible to tests
            self.server.failures.append(f"{method} {path}: {type(exc).__name__}: {exc}")
            response = json_response(500, {"message": "Server Error"})
        if response.status == 200 and any(f.kind == "echo_token" for f in faults):
            response.body = self._echo(endpoint, response.body)
        if response.status == 200 and endpoint == "status" and any(f.kind == "control_chars" for f in faults):
            response.body = _with_escapes(response.body)
        for rule in faults if response.status == 200 else []:
            if rule.kind == "deep_json" and endpoint == "status":
                document = json.loads(response.body)
                document["content"]["extra"] = "@deep@"  # json.dumps itself recurses: spliced in as text
                nested = b"[" * rule.size + b"]" * rule.size
                response.body = json.dumps(document).encode().replace(b'"@deep@"', nested)
            if rule.kind == "gzip":
                padding = (
                    b" " if response.content_type.startswith("application/json") else b"\n"
                ) * rule.size
                response.body = gzip.compress(response.body + padding, compresslevel=9)
                response.headers["Content-Encoding"] = "gzip"
        self._send(
            response, [f for f in faults if f.kind in ("malformed_json", "short_body", "drop", "trickle")]
        )

    def _echo(self, endpoint: str, body: bytes) -> bytes:
        """The answer with the caller's token repeated in it (the `echo_token` fault)."""
        _scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
        if endpoint == "download":
            return echo_token(body, token.strip())
        document = json.loads(body)
        content = document.get("content") if isinstance(document, dict) else None
        if isinstance(content, dict):
            content["description"] = f"{content.get('description', '')} ({'; '.join(echo_shapes(token))})"
        return json.dumps(document).encode()

    @staticmethod
    def _classify(parts: list[str], path: str) -> tuple[str, str]:
        """The fault endpoint and per-key counter name of a request ('' if faults never apply)."""
        tenant = parts[0] if parts else ""
        api = parts[1:3] == ["api", "v1"]
        if api and parts[3:] == ["tokens", "create"]:
            return "token", tenant
        if api and parts[3:5] == ["imports", "status"] and len(parts) == 6:
            return "status", f"{tenant}/{parts[5]}"
        if api and parts[3:] == ["inventory", "import", "process"]:
            return "upload", tenant
        if len(parts) > 2 and parts[1] == "download":
            return "download", _DATED.sub("", path)  # same key on any day, so seeds replay
        return "", ""

    # -- routes -----------------------------------------------------------------------------------------

    def _route(
        self, method: str, parts: list[str], path: str, query: dict[str, list[str]], body: bytes
    ) -> Response:
        state = self.server.state
        tenant = parts[0] if parts else ""
        if tenant not in state.tenants:
            return json_response(404, {"message": "Not Found"})
        if parts[1:] == ["login"] and method == "GET":
            return Response(200, LOGIN_PAGE.encode(), "text/html; charset=UTF-8")
        if parts[1:] == ["api", "v1", "tokens", "create"] and method == "POST":
            return self._token(tenant, query)
        holder = self._token_tenant()
        if holder is None:
            if self.headers.get("X-Requested-With") == "XMLHttpRequest":
                return json_response(401, {"message": "Unauthenticated."})
            location = f"{self.server.base_url}/{tenant}/login"
            return Response(302, b"", "text/html; charset=UTF-8", {"Location": location})
        # A token is valid on every tenant's paths but sees only its own tenant's jobs and files.
        member = holder == tenant
        if parts[1:5] == ["api", "v1", "imports", "status"] and len(parts) == 6 and method == "GET":
            return self._status(tenant, parts[5]) if member else json_response(422, NOT_FOUND_JOB)
        if parts[1:] == ["api", "v1", "inventory", "import", "process"] and method == "POST":
            if not member:
                return json_response(403, {"message": "This action is unauthorized."})
            return self._import(tenant, body)
        if len(parts) > 2 and parts[1] == "download" and method == "GET":
            data = state.download(tenant, path) if member else None
            if data is None:
                return json_response(404, {"message": "File not found."})
            name = parts[-1].replace('"', "")
            headers = {"Content-Disposition": f'attachment; filename="{name}"'}
            return Response(200, data, "text/csv; charset=UTF-8", headers)
        return json_response(404, {"message": "Not Found"})

    def _token_tenant(self) -> str | None:
        """The tenant whose user owns the Bearer token, or None if there is no valid token."""
        header = self.headers.get("Authorization") or ""
        scheme, _, token = header.partition(" ")
        return self.server.state.token_tenant(token.strip()) if scheme.lower() == "bearer" else None

    def _token(self, tenant: str, query: dict[str, list[str]]) -> Response:
        email = (query.get("email") or [""])[0]
        password = (query.get("password") or [""])[0]
        missing = {
            f: [f"The {f} field is required."] for f, v in (("email", email), ("password", password)) if not v
        }
        if missing:
            return json_response(422, {"message": next(iter(missing.values()))[0], "errors": missing})
        state = self.server.state
        if not state.login(tenant, email, password):
            return json_response(401, {"message": "The provided credentials are incorrect."})
        return json_response(200, {"token": state.mint_token(tenant)})

    def _status(self, tenant: str, raw_id: str) -> Response:
        state = self.server.state
        job = state.job(tenant, int(raw_id)) if raw_id.isdigit() else None
        if job is None:
            return json_response(422, NOT_FOUND_JOB)
        seen = state.poll(job)
        variant = state.scenario.variant_for(tenant)
        return json_response(200, status_document(job, seen, variant, self.server.base_url))

    def _too_many(self, tenant: str, attribute: str) -> Response:
        wording = self.server.state.scenario.variant_for(tenant).wording
        message = TOO_MANY[wording].format(attribute=attribute)
        return json_response(422, {"message": message, "errors": {attribute: [message]}})

    def _import(self, tenant: str, body: bytes) -> Response:
        content_type = self.headers.get("Content-Type") or ""
        if content_type.startswith("application/json"):
            return self._import_json(tenant, body)
        fields = _multipart(content_type, body) if content_type.startswith("multipart/form-data") else {}
        upload = fields.get("file")
        if upload is None or not upload[1]:
            return json_response(422, {"message": FILE_REQUIRED, "errors": {"file": [FILE_REQUIRED]}})
        data = upload[1]
        if (count_records(data) or 0) > MAX_RECORDS:
            return self._too_many(tenant, "file")
        text = {
            name: value.decode("utf-8", "replace") for name, (_, value) in fields.items() if name != "file"
        }
        try:
            mapping = json.loads(text["mapping"]) if text.get("mapping") else None
        except json.JSONDecodeError:
            mapping = None
        if not isinstance(mapping, dict):
            mapping = None
        job = self.server.state.create_job(
            tenant,
            data,
            filename=upload[0] or "",
            allow_record_creation=_flag(text.get("allow_record_creation"), True),
            allow_record_update=_flag(text.get("allow_record_update"), False),
            mapping={str(k): str(v) for k, v in mapping.items()} if mapping else None,
        )
        return json_response(202, {"message": "Import job has been queued.", "job_log_id": job.job_log_id})

    def _import_json(self, tenant: str, body: bytes) -> Response:
        try:
            document = json.loads(body or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError):
            document = None
        records = document.get("payload") if isinstance(document, dict) else None
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            message = "The payload field is required."
            return json_response(422, {"message": message, "errors": {"payload": [message]}})
        if len(records) > MAX_RECORDS:
            return self._too_many(tenant, "payload")
        arguments = document.get("arguments") if isinstance(document, dict) else None
        arguments = arguments if isinstance(arguments, dict) else {}
        rows = [["" if r.get(f) is None else str(r.get(f)) for f in INVENTORY_FIELDS] for r in records]
        self.server.state.create_job(
            tenant,
            write_csv(INVENTORY_FIELDS, rows),
            allow_record_creation=bool(arguments.get("allow_record_creation", True)),
            allow_record_update=bool(arguments.get("allow_record_update", False)),
        )
        return json_response(200, {"message": "Import has been queued.", "records": len(records)})
