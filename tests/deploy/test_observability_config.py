"""compose's observability profile: the Grafana dashboard, Prometheus' config and alert rules,
and the OpenTelemetry collector, checked as files (no Docker engine here) and with promtool.

Every query may name only the metrics the API exposes (issue 21's fixed list), with their own
labels: a renamed metric would leave a panel or an alert silently empty.
"""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests import services
from tests.conftest import require_service

ROOT = Path(__file__).resolve().parents[2]
OBSERVABILITY = ROOT / "docker" / "observability"
DASHBOARD = OBSERVABILITY / "grafana" / "dashboards" / "ironmind-api.json"
PROVISIONING = OBSERVABILITY / "grafana" / "provisioning"
PROMETHEUS = OBSERVABILITY / "prometheus"
# Each metric of the API and its labels (a histogram's series add le; liveall gauges add pid).
METRICS = {
    "ironmind_http_requests_total": {"method", "route", "status"},
    "ironmind_http_request_duration_seconds_bucket": {"method", "route", "le"},
    "ironmind_http_request_duration_seconds_sum": {"method", "route"},
    "ironmind_http_request_duration_seconds_count": {"method", "route"},
    "ironmind_tokens_refused_total": {"code"},
    "ironmind_refresh_reuse_detected_total": set(),
    "ironmind_signins_total": {"outcome"},
    "ironmind_revocation_copy_synced": {"pid"},
    "ironmind_revocation_copy_lag_seconds": {"pid"},
    "ironmind_revocation_copy_reconnects_total": set(),
    "ironmind_jwks_fetches_total": {"outcome"},
    "ironmind_db_pool_in_use": {"pid"},
    "ironmind_db_pool_overflow": {"pid"},
    "ironmind_app_info": {"version"},
}
TARGET_LABELS = {"instance", "job"}  # Prometheus adds these to every series it scrapes
NAME = re.compile(r"\b(ironmind_[a-z_]+)\b(?:\{([^}]*)\})?")


def names_and_labels(expr):
    """Each ironmind_* name in a PromQL expression, with the labels its selector matches on."""
    found = []
    for name, matchers in NAME.findall(expr):
        labels = set(re.findall(r"([a-z_]+)\s*(?:=~|!~|!=|=)", matchers))
        found.append((name, labels))
    return found


def check_expr(expr):
    found = names_and_labels(expr)
    assert found or re.search(r'\bup\{job="ironmind-api"\}', expr), f"no API metric: {expr}"
    for name, labels in found:
        assert name in METRICS, f"{name} is not a metric the API exposes: {expr}"
        assert labels <= METRICS[name] | TARGET_LABELS, f"{name} has no label {labels}: {expr}"


@pytest.fixture(scope="module")
def dashboard():
    return json.loads(DASHBOARD.read_text())


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def rules():
    groups = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def test_every_dashboard_query_names_only_the_apis_metrics_and_their_labels(dashboard):
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    assert len(exprs) >= 12
    for expr in exprs:
        check_expr(expr)


@pytest.mark.parametrize(
    ("title", "metric", "grouped_by"),
    [
        ("Request rate by route", "ironmind_http_requests_total", "route"),
        ("Error rate by route", "ironmind_http_requests_total", "status"),
        ("p50 latency by route", "ironmind_http_request_duration_seconds_bucket", "route"),
        ("p99 latency by route", "ironmind_http_request_duration_seconds_bucket", "route"),
        ("Refused tokens by reason", "ironmind_tokens_refused_total", "code"),
        ("Sign-ins by outcome", "ironmind_signins_total", "outcome"),
        ("Revocation copy lag", "ironmind_revocation_copy_lag_seconds", "instance"),
    ],
)
def test_the_dashboard_shows_what_the_issue_asks_for(dashboard, title, metric, grouped_by):
    panel = next(p for p in dashboard["panels"] if p["title"].startswith(title))
    exprs = " ".join(target["expr"] for target in panel["targets"])
    assert metric in exprs
    assert re.search(rf"by \([^)]*\b{grouped_by}\b", exprs), exprs


def test_the_quantile_panels_ask_for_p50_and_p99_of_the_histogram(dashboard):
    quantiles = {
        panel["title"]: re.findall(r"histogram_quantile\((0\.\d+),", target["expr"])
        for panel in dashboard["panels"]
        for target in panel["targets"]
        if "histogram_quantile" in target["expr"]
    }
    assert quantiles == {"p50 latency by route": ["0.5"], "p99 latency by route": ["0.99"]}


def test_every_panel_reads_the_provisioned_prometheus(dashboard):
    source = yaml.safe_load((PROVISIONING / "datasources" / "prometheus.yml").read_text())
    [datasource] = source["datasources"]
    assert (datasource["type"], datasource["url"]) == ("prometheus", "http://prometheus:9090")
    for panel in dashboard["panels"]:
        assert panel["datasource"] == {"type": "prometheus", "uid": datasource["uid"]}
        assert all(t["datasource"]["uid"] == datasource["uid"] for t in panel["targets"])
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))


def test_grafana_loads_the_dashboard_from_where_compose_mounts_it(compose):
    grafana = compose["services"]["grafana"]
    mounts = dict(volume.split(":")[:2] for volume in grafana["volumes"])
    provider = yaml.safe_load((PROVISIONING / "dashboards" / "ironmind.yml").read_text())
    [dashboards] = provider["providers"]
    folder = next(source for source, target in mounts.items()
                  if target == dashboards["options"]["path"])
    assert (ROOT / folder).resolve() == DASHBOARD.parent
    assert (ROOT / next(s for s, t in mounts.items() if t == "/etc/grafana/provisioning")
            ).resolve() == PROVISIONING
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home == f"{dashboards['options']['path']}/{DASHBOARD.name}"


def test_every_alert_names_only_the_apis_metrics_and_says_what_happened(rules):
    assert len(rules) >= 8
    for rule in rules:
        check_expr(rule["expr"])
        assert rule["annotations"]["summary"]
        assert rule["labels"]["severity"] in ("page", "ticket")


def test_operations_md_explains_every_alert(rules):
    operations = (ROOT / "docs" / "OPERATIONS.md").read_text()
    section = operations[operations.index("## Alerts"):]
    missing = [rule["alert"] for rule in rules if f"`{rule['alert']}`" not in section]
    assert missing == []


def promtool():
    found = shutil.which("promtool")
    require_service(services.promtool_reason(found is not None))
    return found


@pytest.mark.parametrize(
    ("check", "file"), [("config", "prometheus.yml"), ("rules", "alerts.yml")]
)
def test_promtool_accepts_the_prometheus_config_and_rules(check, file):
    done = subprocess.run(
        [promtool(), "check", check, file], cwd=PROMETHEUS, capture_output=True, text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout + done.stderr


def test_the_alerts_fire_on_what_should_wake_someone_and_not_on_a_healthy_fleet():
    """promtool's unit tests of the alert rules (prometheus/alerts_test.yml)."""
    done = subprocess.run(
        [promtool(), "test", "rules", "alerts_test.yml"], cwd=PROMETHEUS, capture_output=True,
        text=True, timeout=60,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout + done.stderr


def dashboard_queries(dashboard):
    return [
        target["expr"]
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
        if target.get("expr")
    ]


def test_promtool_parses_every_dashboard_query(dashboard, tmp_path):
    """Each panel's PromQL, as Grafana sends it ($__rate_interval filled in), parses: a typo
    would show as an empty panel, not an error anyone sees."""
    queries = dashboard_queries(dashboard)
    rules = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [
                    {"record": f"dashboard:query_{number}",
                     "expr": expr.replace("$__rate_interval", "1m")}
                    for number, expr in enumerate(queries)
                ],
            }
        ]
    }
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(yaml.safe_dump(rules))

    done = subprocess.run(
        [promtool(), "check", "rules", str(path)], capture_output=True, text=True, timeout=60
    )

    assert len(queries) >= 10
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(queries)} rules found" in done.stdout + done.stderr


def test_prometheus_scrapes_every_api_replica_from_a_network_the_api_allows(compose):
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    job = next(j for j in config["scrape_configs"] if j["job_name"] == "ironmind-api")
    [discovery] = job["dns_sd_configs"]
    api = compose["services"]["api"]
    # Type A on the service name: compose's DNS answers one address per replica.
    assert discovery["names"] == ["api"] and discovery["type"] == "A"
    assert discovery["port"] == int(api["environment"]["PORT"])
    assert job["metrics_path"] == "/metrics"
    subnet = compose["networks"]["observability"]["ipam"]["config"][0]["subnet"]
    assert api["environment"]["METRICS_ALLOWED_NETWORKS"] == subnet
    assert "observability" in api["networks"]
    assert compose["services"]["prometheus"]["networks"] == ["observability"]
    # The rule file compose mounts beside the config.
    mount = compose["services"]["prometheus"]["volumes"][0].split(":")
    assert (ROOT / mount[0]).resolve() == PROMETHEUS and mount[1] == "/etc/prometheus"
    assert config["rule_files"] == ["alerts.yml"]


def test_the_collector_takes_otlp_and_passes_traces_to_jaeger(compose):
    collector = yaml.safe_load((OBSERVABILITY / "otel-collector.yaml").read_text())
    [pipeline] = collector["service"]["pipelines"].values()
    for kind in ("receivers", "processors", "exporters"):
        assert set(pipeline[kind]) <= set(collector[kind]), kind
    assert set(collector["receivers"]["otlp"]["protocols"]) == {"grpc", "http"}
    [exporter] = [collector["exporters"][name] for name in pipeline["exporters"]]
    host = exporter["endpoint"].split(":")[0]
    assert compose["services"][host]["environment"]["COLLECTOR_OTLP_ENABLED"] == "true"
    # The endpoint .env.example suggests is the collector's OTLP/HTTP port, on its network.
    example = (ROOT / ".env.example").read_text()
    assert "OTEL_EXPORTER_OTLP_ENDPOINT=http://otel-collector:4318" in example
    assert collector["receivers"]["otlp"]["protocols"]["http"]["endpoint"].endswith(":4318")
    assert "observability" in compose["services"]["otel-collector"]["networks"]


def test_the_profile_starts_only_on_request_with_pinned_images(compose):
    services = compose["services"]
    profile = {n for n, s in services.items() if "observability" in s.get("profiles", [])}
    assert profile == {"prometheus", "grafana", "otel-collector", "jaeger"}
    for name in profile:
        image, _, tag = services[name]["image"].partition(":")
        assert re.fullmatch(r"v?\d+\.\d+\.\d+", tag), f"{name}: {image}:{tag} is not pinned"
        # Published, if at all, on the host's loopback only.
        for port in services[name].get("ports", []):
            assert port.startswith("127.0.0.1:"), port
