"""OpenTelemetry tracing: spans received by a real OTLP/HTTP receiver, traceparent continued.

The receiver is a small HTTP server on 127.0.0.1 that takes ``POST /v1/traces`` and decodes
the protobuf with opentelemetry-proto, as a collector would. The traced app also verifies
Better Auth tokens against a local JWKS, so its outbound fetch is traced too.
"""

import gzip
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.instrumentation.flask import FlaskInstrumentor
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.instrumentation.urllib import URLLibInstrumentor
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from tests import services
from tests.conftest import bearer, mint
from tests.security.jwks import EC_KEY, JwksHandler, JwksServer

PORTS = range(18630, 18635)  # this file's receiver and JWKS (docs/DEVELOPMENT.md, Ports)


class Receiver(ThreadingHTTPServer):
    spans: list
    paths: list


class ReceiverHandler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        self.server.paths.append(self.path)
        request = ExportTraceServiceRequest.FromString(body)
        for resource_spans in request.resource_spans:
            resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    self.server.spans.append((resource, scope_spans.scope.name, span))
        answer = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


class TracedJwksHandler(JwksHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        self.server.traceparents.append(self.headers.get("traceparent"))
        super().do_GET()


def serve(server_class, handler):
    server = server_class(("127.0.0.1", services.free_port(PORTS, reuse_address=True)), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def receiver():
    server = serve(Receiver, ReceiverHandler)
    server.spans, server.paths = [], []
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def jwks():
    server = serve(JwksServer, TracedJwksHandler)
    server.requested, server.traceparents = [], []
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def traced_app(make_app, app, receiver, jwks):
    base = f"http://127.0.0.1:{jwks.server_port}"
    traced = make_app(
        OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{receiver.server_port}/",
        BETTER_AUTH_URL=base,
    )
    yield traced
    # The instrumentations are process-wide: the rest of the suite runs untraced again.
    FlaskInstrumentor.uninstrument_app(traced)
    SQLAlchemyInstrumentor().uninstrument()
    URLLibInstrumentor().uninstrument()
    traced.extensions["tracer_provider"].shutdown()


@pytest.fixture
def client(traced_app, db):
    return traced_app.test_client()


def spans_of(traced_app, receiver, trace_id, count):
    """The received spans of one trace, once at least ``count`` have arrived (5 s at most)."""
    traced_app.extensions["tracer_provider"].force_flush()
    deadline = time.monotonic() + 5
    while True:
        found = [span for _, _, span in receiver.spans if span.trace_id.hex() == trace_id]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def access_line(log_lines, request_id):
    return next(
        line for line in log_lines()
        if line.get("message") == "request" and line["request_id"] == request_id
    )


def test_a_request_continues_the_callers_trace_with_sql_spans_as_children(
    client, traced_app, receiver, log_lines
):
    trace_id, parent_id = uuid.uuid4().hex, uuid.uuid4().hex[:16]
    # Readiness always asks the database (which migration it is at).
    response = client.get(
        "/health/ready", headers={"traceparent": f"00-{trace_id}-{parent_id}-01"}
    )
    assert response.status_code == 200

    spans = spans_of(traced_app, receiver, trace_id, 2)
    server = [span for span in spans if span.kind == Span.SPAN_KIND_SERVER]
    assert len(server) == 1
    server = server[0]
    assert server.parent_span_id.hex() == parent_id
    assert "/health/ready" in server.name
    sql = [span for span in spans if span.kind == Span.SPAN_KIND_CLIENT]
    assert sql and all(span.parent_span_id == server.span_id for span in sql)
    assert any("alembic_version" in attribute.value.string_value
               for span in sql for attribute in span.attributes)

    line = access_line(log_lines, response.headers["X-Request-ID"])
    assert line["trace_id"] == trace_id
    assert line["span_id"] == server.span_id.hex()
    assert line["route"] == "/health/ready"
    assert receiver.paths and set(receiver.paths) == {"/v1/traces"}


def test_without_traceparent_a_new_trace_starts_and_the_log_names_it(
    client, traced_app, receiver, log_lines
):
    response = client.get("/health")
    line = access_line(log_lines, response.headers["X-Request-ID"])
    assert len(line["trace_id"]) == 32 and len(line["span_id"]) == 16
    (span,) = spans_of(traced_app, receiver, line["trace_id"], 1)
    assert span.span_id.hex() == line["span_id"]
    assert not span.parent_span_id
    resource = next(res for res, _, s in receiver.spans if s.span_id == span.span_id)
    assert resource["service.name"] == "ironmind-api"


def test_the_jwks_fetch_is_a_child_span_and_carries_the_trace_on(
    client, traced_app, receiver, jwks
):
    base = f"http://127.0.0.1:{jwks.server_port}"
    token = mint(sub="ba-traced", algorithm="ES256", headers={"kid": "ec-1"}, secret=EC_KEY,
                 iss=base, aud=base)
    trace_id, parent_id = uuid.uuid4().hex, uuid.uuid4().hex[:16]
    response = client.get(
        "/api/protected",
        headers={**bearer(token), "traceparent": f"00-{trace_id}-{parent_id}-01"},
    )
    assert response.status_code == 200
    spans = spans_of(traced_app, receiver, trace_id, 3)
    (server,) = [span for span in spans if span.kind == Span.SPAN_KIND_SERVER]
    fetch = [span for span in spans if span.name.startswith("GET") and span.kind ==
             Span.SPAN_KIND_CLIENT]
    assert len(fetch) == 1 and fetch[0].parent_span_id == server.span_id
    # The JWKS server was handed the same trace.
    assert any(tp and tp.split("-")[1] == trace_id for tp in jwks.traceparents)


def test_a_caller_that_does_not_sample_is_respected(client, traced_app, receiver, log_lines):
    trace_id, parent_id = uuid.uuid4().hex, uuid.uuid4().hex[:16]
    response = client.get("/health", headers={"traceparent": f"00-{trace_id}-{parent_id}-00"})
    line = access_line(log_lines, response.headers["X-Request-ID"])
    assert line["trace_id"] == trace_id  # the log still names the trace
    traced_app.extensions["tracer_provider"].force_flush()
    assert [s for _, _, s in receiver.spans if s.trace_id.hex() == trace_id] == []


def test_no_span_carries_the_requests_secrets(client, traced_app, receiver):
    """SQL spans carry statements with placeholders; no span the body, password or token."""
    email, password = f"{uuid.uuid4().hex[:12]}@example.com", "a very secret pass phrase"
    trace_id, parent_id = uuid.uuid4().hex, uuid.uuid4().hex[:16]
    traceparent = {"traceparent": f"00-{trace_id}-{parent_id}-01"}
    assert client.post("/api/auth/signup", json={"email": email, "password": password},
                       headers=traceparent).status_code == 201
    spans = spans_of(traced_app, receiver, trace_id, 3)
    sql = [span for span in spans if span.kind == Span.SPAN_KIND_CLIENT]
    assert any("INSERT INTO users" in a.value.string_value for s in sql for a in s.attributes)
    values = [a.value.string_value for span in spans for a in span.attributes]
    assert not [v for v in values if email in v or password in v or "$argon2" in v]
