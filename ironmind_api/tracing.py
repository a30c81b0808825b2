"""OpenTelemetry tracing, on only when an OTLP endpoint is configured: Flask, SQL, outbound HTTP.

With ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) unset, nothing
here is imported or installed, so tracing off costs nothing. With it set, each request gets a
server span that continues an incoming W3C ``traceparent``, every SQL statement a child span
(SQLAlchemy's instrumentation) and every JWKS fetch a client span (urllib's, which PyJWT
uses), exported over OTLP/HTTP by a batch processor. The sampler, headers and batch timing
are the SDK's standard ``OTEL_*`` variables, read by the SDK itself.
"""

_providers: dict = {}  # by traces URL: one per process in production


def init_app(app):
    """Instrument this app (and, once per process, SQLAlchemy and urllib) when configured."""
    url = app.config["OTEL_TRACES_URL"]
    if not url:
        return
    from opentelemetry.instrumentation.flask import FlaskInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
    from opentelemetry.instrumentation.urllib import URLLibInstrumentor

    from .db import db

    provider = tracer_provider(url, app.config["OTEL_SERVICE_NAME"], app.config["API_VERSION"])
    FlaskInstrumentor().instrument_app(app, tracer_provider=provider)
    with app.app_context():
        engine = db.engine
    # Both instrumentors are process-wide (they wrap create_engine and urllib's opener): one
    # call per process; an engine created after it (another app's) is traced by the wrapper.
    sqlalchemy = SQLAlchemyInstrumentor()
    if not sqlalchemy.is_instrumented_by_opentelemetry:
        # Its declared range ends below SQLAlchemy 2.1 (our pin), so it would refuse to run;
        # the engine events it hooks are unchanged in 2.1, and tests/test_tracing.py shows
        # the SQL spans. skip_dep_check is the instrumentors' public switch for that.
        sqlalchemy.instrument(engine=engine, tracer_provider=provider, skip_dep_check=True)
    urllib = URLLibInstrumentor()
    if not urllib.is_instrumented_by_opentelemetry:
        urllib.instrument(tracer_provider=provider)
    app.extensions["tracer_provider"] = provider


def tracer_provider(url, service_name, version):
    """The process's TracerProvider for ``url``, exporting in batches (made on first use)."""
    provider = _providers.get(url)
    if provider is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        resource = Resource.create({"service.name": service_name, "service.version": version})
        provider = _providers[url] = TracerProvider(resource=resource)
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=url)))
    return provider


def current_ids():
    """(trace_id, span_id) of the current span as lowercase hex, or (None, None)."""
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None, None
    return trace.format_trace_id(context.trace_id), trace.format_span_id(context.span_id)
