"""The fleet's pure functions: tailscale status, probe targets, Ollama answers, metrics."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.errors import InvalidInput
from core.fleet.ollama_probe import parse_context_length, parse_params_b, parse_tags
from core.fleet.schemas import memory_from_metrics
from core.fleet.tailscale import parse_status, parse_time
from core.fleet.targets import parse_ports, plan_targets
from llm_mcp.fleet_table import render_devices
from testkit.fakes.ollama import tag
from testkit.fakes.tailnet import node, status


def test_status_ids_keep_the_trailing_dot_else_use_the_host_name() -> None:
    nodes = parse_status(
        status(
            node("box", "100.64.0.1", dns_name="box.tail1234.ts.net.", tags=["tag:gpu"]),
            [
                node("pixel-7", "100.64.0.3", os="android"),
                node("nodot", "100.64.0.4", dns_name="nodot.tail1234.ts.net"),
                node("laptop", "100.64.0.2", dns_name="laptop.tail1234.ts.net.", online=False),
            ],
        )
    )
    assert [n.id for n in nodes] == [
        "box.tail1234.ts.net.",
        "laptop.tail1234.ts.net.",
        "nodot.tail1234.ts.net.",
        "pixel-7",
    ]
    box, laptop, _, phone = nodes
    assert box.is_self and box.online and box.name == "box" and box.tags == ("tag:gpu",)
    assert box.ipv4 == "100.64.0.1" and box.ips[1].startswith("fd7a:")
    assert not laptop.online and phone.name == "pixel-7" and phone.os == "android"
    assert phone.dns_name is None


def test_status_self_without_online_counts_as_online_and_junk_is_skipped() -> None:
    self_node = node("box", "100.64.0.1", dns_name="box.ts.net.")
    del self_node["Online"]
    document = status(self_node, [])
    document["Peer"]["bad"] = {"HostName": "", "DNSName": ""}
    document["Peer"]["worse"] = "not a node"
    nodes = parse_status(document)
    assert [(n.id, n.online) for n in nodes] == [("box.ts.net.", True)]
    assert parse_status({"BackendState": "NeedsLogin"}) == []


def test_tailscale_times() -> None:
    assert parse_time("0001-01-01T00:00:00Z") is None
    assert parse_time("2026-11-20T08:00:00.123456789Z") == datetime(
        2026, 11, 20, 8, 0, 0, 123456, tzinfo=UTC
    )
    assert parse_time("yesterday") is None and parse_time(None) is None


def test_targets_first_port_is_the_device_others_are_port_devices() -> None:
    nodes = parse_status(
        status(
            node("box", "100.64.0.1", dns_name="box.ts.net."),
            [
                node("off", "100.64.0.2", dns_name="off.ts.net.", online=False),
                node("pixel", "100.64.0.3"),
            ],
        )
    )
    targets = plan_targets(nodes, (11434, 11500))
    assert [(t.device_id, t.base_device_id, t.base_url, t.host) for t in targets] == [
        ("box.ts.net.", None, "http://100.64.0.1:11434", "box.ts.net"),
        ("box.ts.net.:11500", "box.ts.net.", "http://100.64.0.1:11500", "box.ts.net"),
        ("pixel", None, "http://100.64.0.3:11434", "pixel"),
        ("pixel:11500", "pixel", "http://100.64.0.3:11500", "pixel"),
    ]


def test_targets_use_ipv6_only_without_ipv4_and_skip_nodes_without_addresses() -> None:
    v6_only = node("v6", "100.64.0.9", dns_name="v6.ts.net.")
    v6_only["TailscaleIPs"] = ["fd7a:115c:a1e0::9"]
    bare = node("bare", "100.64.0.8")
    bare["TailscaleIPs"] = []
    targets = plan_targets(parse_status(status(v6_only, [bare])), (11434,))
    assert [t.base_url for t in targets] == ["http://[fd7a:115c:a1e0::9]:11434"]


def test_ollama_ports_setting() -> None:
    assert parse_ports("11434") == (11434,)
    assert parse_ports(" 11434, 11435,11434 ") == (11434, 11435)
    for bad in ("", "abc", "0", "70000", "11434;11435"):
        with pytest.raises(ValueError, match="OLLAMA_PORTS"):
            parse_ports(bad)


def test_parameter_sizes_in_billions() -> None:
    assert parse_params_b("1.2B") == 1.2
    assert parse_params_b("494.03M") == pytest.approx(0.49403)
    assert parse_params_b("137M") == pytest.approx(0.137)
    assert parse_params_b("70B") == 70
    assert parse_params_b("8x7B") is None and parse_params_b(None) is None


def test_tags_answer() -> None:
    entry = tag("qwen2.5:7b", 4683087332, "qwen2", "7.6B", "Q4_K_M")
    bare = {"name": "custom:latest", "size": 10}
    models = parse_tags({"models": [entry, bare, {"size": 1}, "junk"]})
    assert [m.name for m in models] == ["qwen2.5:7b", "custom:latest"]
    qwen, custom = models
    assert (qwen.size_bytes, qwen.family, qwen.parameter_size, qwen.quantization) == (
        4683087332,
        "qwen2",
        "7.6B",
        "Q4_K_M",
    )
    assert qwen.params_b == 7.6
    assert custom.family is None and custom.params_b is None and custom.size_bytes == 10
    with pytest.raises(ValueError):
        parse_tags({"error": "boom"})


def test_context_length_from_show() -> None:
    show = {"model_info": {"general.architecture": "llama", "llama.context_length": 131072}}
    assert parse_context_length(show) == 131072
    other = {"model_info": {"general.architecture": "clip", "qwen2.context_length": 32768}}
    assert parse_context_length(other) == 32768
    assert parse_context_length({"model_info": {}}) is None
    assert parse_context_length({"error": "not found"}) is None


def test_memory_from_metrics() -> None:
    assert memory_from_metrics({"ram_gb": 32, "vram_gb": 12.5}) == (32.0, 12.5)
    assert memory_from_metrics({"cpu": 3}) == (None, None)
    for bad in ("lots", 0, -1, True, float("inf"), 10**9):
        with pytest.raises(InvalidInput, match="ram_gb"):
            memory_from_metrics({"ram_gb": bad})


def test_devices_table() -> None:
    view = {
        "devices": [
            {
                "id": "box.ts.net.",
                "online": True,
                "ollama_addr": "http://100.64.0.1:11434",
                "ollama_version": "0.5.7",
                "latency_ms": 3.4,
                "load": 1,
                "models": [{"name": "llama3.2:1b"}, {"name": "qwen2.5:7b"}],
            },
            {"id": "pixel-7", "online": True, "ollama_addr": None, "load": 0, "models": []},
            {
                "id": "gpu.ts.net.",
                "online": False,
                "offline_reason": "connection refused",
                "ollama_addr": None,
                "load": 0,
                "models": [{"name": "qwen2.5:7b"}],
            },
        ],
        "online": 2,
        "total": 3,
    }
    lines = render_devices(view).splitlines()
    assert lines[0].split() == ["DEVICE", "STATE", "OLLAMA", "LATENCY", "LOAD", "MODELS"]
    assert lines[1].split()[:2] == ["box.ts.net.", "online"]
    assert lines[1].endswith("llama3.2:1b, qwen2.5:7b") and "3 ms" in lines[1]
    assert "online, no ollama" in lines[2]
    assert "offline (connection refused)" in lines[3]
    assert lines[-1] == "2 of 3 online"


def test_devices_table_stays_a_table_with_long_offline_reasons() -> None:
    reason = (
        "ConnectError: [Errno 113] No route to host while connecting to "
        "http://100.64.0.9:11434/api/generate\nafter 3 attempts " + "x" * 300
    )
    view = {
        "devices": [
            {
                "id": "far.ts.net.",
                "online": False,
                "offline_reason": reason,
                "ollama_addr": None,
                "load": 0,
                "models": [],
            },
            {
                "id": "box.ts.net.",
                "online": True,
                "ollama_addr": "http://100.64.0.1:11434",
                "load": 1,
                "concurrency": {"max": 2},
                "models": [{"name": "llama3.2:1b"}],
            },
        ],
        "online": 1,
        "total": 2,
    }
    lines = render_devices(view).splitlines()
    table = lines[:3]
    # Every row is one line, and the columns line up: MODELS starts at the same place.
    words = ("MODELS", "-", "llama3.2:1b")
    starts = {line.rindex(word) for line, word in zip(table, words, strict=True)}
    assert len(starts) == 1 and all(len(line) < 140 for line in table)
    assert "offline (ConnectError" in table[1] and "…" in table[1]
    assert "1/2" in table[2], "LOAD shows running/max"
    # The full reason is still there, below the table, on one line.
    assert lines[3] == "1 of 2 online" and lines[4] == "why:"
    assert lines[5].startswith("  far.ts.net.: ConnectError") and lines[5].endswith("x" * 300)
