"""deploy/k8s, validated offline: the core kinds against Kubernetes' own schemas (the ones
kubernetes-validate bundles), the operators' kinds (KEDA, CloudNativePG) by the fields we rely on,
and the wiring between them: env vars the services read, secrets, ports, labels, policies."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml

from core.dashboard.models import StatusSnapshot
from core.dashboard.view import snapshot_view
from core.settings import CoreSettings
from mcp_bridge.settings import BridgeSettings
from telemetry.settings import TelemetrySettings
from worker.settings import WorkerSettings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
KUBERNETES_VERSION = "1.30.0"
CORE_KINDS = {
    "Namespace",
    "Secret",
    "Deployment",
    "Service",
    "PodDisruptionBudget",
    "NetworkPolicy",
    "PersistentVolumeClaim",
}
OPERATOR_KINDS = {"Cluster", "ScaledObject", "TriggerAuthentication"}
SETTINGS = {
    "core": CoreSettings,
    "worker": WorkerSettings,
    "bridge": BridgeSettings,
    "telemetry": TelemetrySettings,
}
# Read by every process from the environment before its settings exist (logging, event loop).
PROCESS_ENV = {"LOG_LEVEL", "LOG_FORMAT", "LLM_MCP_EVENT_LOOP", "LLM_MCP_HOME"}
# Written by CloudNativePG for a Cluster named X: the Secret X-app with these keys.
CNPG_APP_SECRET_KEYS = {"username", "password", "host", "port", "dbname", "uri", "jdbc-uri"}
# Pods we do not ship but point at: the Ollama each worker runs next to.
EXTERNAL_POD_NAMES = {"ollama"}


@cache
def documents() -> tuple[dict[str, Any], ...]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return tuple(docs)


def of_kind(kind: str) -> list[dict[str, Any]]:
    return [d for d in documents() if d["kind"] == kind]


def named(kind: str, name: str) -> dict[str, Any]:
    found = [d for d in of_kind(kind) if d["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} named {name}, found {len(found)}"
    return found[0]


def containers() -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    for deployment in of_kind("Deployment"):
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            yield deployment, container


def env_of(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in container.get("env", [])}


def matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def pod_labels() -> list[dict[str, str]]:
    """Labels of every pod the manifests create (CloudNativePG labels its instances)."""
    labels = [d["spec"]["template"]["metadata"]["labels"] for d in of_kind("Deployment")]
    labels += [{"cnpg.io/cluster": c["metadata"]["name"]} for c in of_kind("Cluster")]
    return labels


def test_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    files = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == files
    assert kustomization["namespace"] == named("Namespace", "llm-mcp")["metadata"]["name"]


def test_core_kinds_pass_kubernetes_schemas() -> None:
    kinds = {d["kind"] for d in documents()}
    assert kinds <= CORE_KINDS | OPERATOR_KINDS, f"unexpected kinds: {kinds - CORE_KINDS}"
    for doc in documents():
        if doc["kind"] in CORE_KINDS:
            # strict: an unknown or misspelt field is an error, not silently dropped.
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_schema_check_catches_a_misspelt_field() -> None:
    deployment = yaml.safe_load(yaml.safe_dump(named("Deployment", "llm-mcp-core")))
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["livenesProbe"] = container.pop("livenessProbe")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_core_runs_two_replicas_behind_a_disruption_budget() -> None:
    core = named("Deployment", "llm-mcp-core")
    assert core["spec"]["replicas"] == 2
    assert core["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    budget = named("PodDisruptionBudget", "llm-mcp-core")
    assert budget["spec"]["minAvailable"] == 1
    assert matches(
        budget["spec"]["selector"]["matchLabels"], core["spec"]["template"]["metadata"]["labels"]
    )
    container = core["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/health"
    # Liveness must not follow the database: an outage would restart every replica at once.
    assert "grpc" in container["livenessProbe"]


def test_every_env_var_is_a_setting_of_its_service() -> None:
    for deployment, container in containers():
        service = container["args"][0]
        fields = {name.upper() for name in SETTINGS[service].model_fields}
        unknown = set(env_of(container)) - fields - PROCESS_ENV
        assert not unknown, f"{deployment['metadata']['name']} sets unread variables: {unknown}"


def test_the_manifest_settings_parse() -> None:
    """The literal values are what each service's settings accept (secrets stand in)."""
    for deployment, container in containers():
        values = {
            name: item.get("value", "secret-value")
            for name, item in env_of(container).items()
            if name not in PROCESS_ENV and "fieldRef" not in item.get("valueFrom", {})
        }
        if "DATABASE_URL" in values:
            values["DATABASE_URL"] = "postgresql://llm:pw@llm-mcp-db-rw:5432/llm_mcp"
        settings = SETTINGS[container["args"][0]](**{k.lower(): v for k, v in values.items()})
        assert settings is not None, deployment["metadata"]["name"]


def test_referenced_secrets_exist() -> None:
    secrets = {s["metadata"]["name"]: set(s["stringData"]) for s in of_kind("Secret")}
    for cluster in of_kind("Cluster"):
        secrets[f"{cluster['metadata']['name']}-app"] = CNPG_APP_SECRET_KEYS
    refs = [
        (d["metadata"]["name"], item["valueFrom"]["secretKeyRef"])
        for d, c in containers()
        for item in c.get("env", [])
        if "secretKeyRef" in item.get("valueFrom", {})
    ]
    for auth in of_kind("TriggerAuthentication"):
        refs += [(auth["metadata"]["name"], ref) for ref in auth["spec"]["secretTargetRef"]]
    assert refs
    for owner, ref in refs:
        assert ref["name"] in secrets, f"{owner}: no Secret {ref['name']}"
        assert ref["key"] in secrets[ref["name"]], f"{owner}: {ref['name']} has no {ref['key']}"


def test_ports_agree() -> None:
    for deployment, container in containers():
        ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
        env = {k: v.get("value") for k, v in env_of(container).items()}
        for variable in ("HTTP_PORT", "GRPC_PORT", "MCP_PORT"):
            if variable in env:
                assert int(env[variable]) in ports.values(), (deployment, variable)
        for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
            for spec in container.get(probe, {}).values():
                if isinstance(spec, dict) and "port" in spec:
                    port = spec["port"]
                    assert port in ports or port in ports.values(), (deployment, probe, port)
    for service in of_kind("Service"):
        pods = [
            c
            for d, c in containers()
            if matches(service["spec"]["selector"], d["spec"]["template"]["metadata"]["labels"])
        ]
        assert pods, f"Service {service['metadata']['name']} selects no pod"
        for port in service["spec"]["ports"]:
            assert all(port["targetPort"] in {p["name"] for p in c["ports"]} for c in pods), (
                f"Service {service['metadata']['name']}: no container port {port['targetPort']}"
            )


def service_port(host: str, port: int) -> dict[str, Any]:
    """The Service a cluster DNS name (short or qualified) and port reach."""
    name = host.split(".")[0]
    service = named("Service", name)
    assert port in {p["port"] for p in service["spec"]["ports"]}, (host, port)
    return service


def test_clients_of_core_address_its_services() -> None:
    for deployment, container in containers():
        address = env_of(container).get("CORE_GRPC_ADDR", {}).get("value")
        if address is None:
            continue
        host, port = re.sub(r"^dns:///", "", address).rsplit(":", 1)
        service = service_port(host, int(port))
        # The headless Service: one address per core pod, so the gRPC channel can move on.
        assert service["spec"].get("clusterIP") == "None", deployment["metadata"]["name"]


def test_labels_and_selectors_match() -> None:
    for deployment in of_kind("Deployment"):
        assert matches(
            deployment["spec"]["selector"]["matchLabels"],
            deployment["spec"]["template"]["metadata"]["labels"],
        )
    for policy in of_kind("NetworkPolicy"):
        selector = policy["spec"]["podSelector"].get("matchLabels", {})
        peers = [
            peer["podSelector"]["matchLabels"]
            for rule in policy["spec"].get("ingress", []) + policy["spec"].get("egress", [])
            for peer in rule.get("from", []) + rule.get("to", [])
            if "podSelector" in peer and "namespaceSelector" not in peer
        ]
        for wanted in [selector, *peers]:
            if wanted.get("app.kubernetes.io/name") in EXTERNAL_POD_NAMES:
                continue
            assert any(matches(wanted, labels) for labels in pod_labels()), (policy, wanted)


def test_only_core_reaches_postgres() -> None:
    db = {"cnpg.io/cluster": named("Cluster", "llm-mcp-db")["metadata"]["name"]}
    ours = [d["spec"]["template"]["metadata"]["labels"] for d in of_kind("Deployment")]
    admitted = []
    for policy in of_kind("NetworkPolicy"):
        target = policy["spec"]["podSelector"].get("matchLabels", {})
        if matches(target, db) and target:
            for rule in policy["spec"].get("ingress", []):
                for peer in rule.get("from", []):
                    selector = peer.get("podSelector", {}).get("matchLabels")
                    admitted += [o["app.kubernetes.io/name"] for o in ours if selector == o]
        for rule in policy["spec"].get("egress", []):
            for peer in rule.get("to", []):
                if peer.get("podSelector", {}).get("matchLabels") == db:
                    admitted += [o["app.kubernetes.io/name"] for o in ours if matches(target, o)]
    assert set(admitted) == {"llm-mcp-core"}
    # Every one of our pods is closed for egress except by its own policy.
    for labels in ours:
        egress = [
            p
            for p in of_kind("NetworkPolicy")
            if "Egress" in p["spec"]["policyTypes"]
            and matches(p["spec"]["podSelector"]["matchLabels"], labels)
        ]
        assert len(egress) == 1, labels


def test_workers_reach_core_and_their_ollama() -> None:
    policy = named("NetworkPolicy", "worker")
    reached = {
        (peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"], port["port"])
        for rule in policy["spec"]["egress"]
        for peer in rule.get("to", [])
        if "podSelector" in peer
        for port in rule["ports"]
    }
    assert reached == {("llm-mcp-core", 9090), ("ollama", 11434)}
    worker = next(c for d, c in containers() if d["metadata"]["name"] == "llm-mcp-worker")
    assert urlsplit(env_of(worker)["OLLAMA_BASE_URL"]["value"]).port == 11434


def grace_of(name: str) -> tuple[int, dict[str, str], list[str]]:
    deployment = named("Deployment", name)
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    env = {k: v.get("value", "") for k, v in env_of(container).items()}
    pre_stop = container.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
    return pod["terminationGracePeriodSeconds"], env, pre_stop


def test_grace_periods_cover_the_drain() -> None:
    period, env, pre_stop = grace_of("llm-mcp-core")
    assert pre_stop[0] == "sleep"
    drain = int(pre_stop[1]) + float(env["SHUTDOWN_GRACE_SECONDS"])
    assert drain < period, "core would be killed before its drain ends"
    default = CoreSettings(database_url="postgresql://x/y").shutdown_grace_seconds
    assert int(pre_stop[1]) + default < period
    period, env, _ = grace_of("llm-mcp-worker")
    assert float(env["WORKER_SHUTDOWN_GRACE"]) < period


def test_workers_scale_on_queue_depth_read_from_core() -> None:
    scaled = named("ScaledObject", "llm-mcp-worker")
    assert scaled["apiVersion"] == "keda.sh/v1alpha1"
    assert named("Deployment", scaled["spec"]["scaleTargetRef"]["name"])
    assert 1 <= scaled["spec"]["minReplicaCount"] < scaled["spec"]["maxReplicaCount"]
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "metrics-api"
    named("TriggerAuthentication", trigger["authenticationRef"]["name"])
    url = urlsplit(trigger["metadata"]["url"])
    service_port(url.hostname or "", url.port or 80)
    assert url.path == "/v1/dashboard"
    # The path KEDA reads exists in the dashboard's JSON and is the queued count.
    view = snapshot_view(
        StatusSnapshot(
            generated_at=datetime.now(UTC),
            jobs_by_status={"queued": 7},
            finished_last_minute={},
            oldest_queued_seconds=None,
            running_jobs=(),
            devices=(),
            benchmarks=(),
            workers=(),
        )
    )
    value: Any = view
    for key in trigger["metadata"]["valueLocation"].split("."):
        value = value[key]
    assert value == 7
    assert float(trigger["metadata"]["targetValue"]) > 0


def test_postgres_is_an_operator_run_cluster() -> None:
    cluster = named("Cluster", "llm-mcp-db")
    assert cluster["apiVersion"] == "postgresql.cnpg.io/v1"
    assert cluster["spec"]["instances"] >= 2
    assert cluster["spec"]["bootstrap"]["initdb"]["database"]
    assert re.fullmatch(r"\d+(Mi|Gi|Ti)", cluster["spec"]["storage"]["size"])
    core = next(c for d, c in containers() if d["metadata"]["name"] == "llm-mcp-core")
    ref = env_of(core)["DATABASE_URL"]["valueFrom"]["secretKeyRef"]
    assert ref == {"name": f"{cluster['metadata']['name']}-app", "key": "uri"}
