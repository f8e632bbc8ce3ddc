"""Device limits and late binding as plain functions."""

from __future__ import annotations

import pytest

from core.routing.binding import QueuedJob, Slot, assign_devices
from core.routing.limits import (
    DeviceLimits,
    LimitsError,
    LimitsTable,
    ModelFacts,
    auto_limits,
    check_model,
    parse_limits,
)

SEED_EXAMPLE = """{
  "*": {"ram_gb": 16},
  "device-a.ts.net.": {"ram_gb": 8},
  "your-device.ts.net.": {"vram_gb": 16, "allow_models": ["llama3.2:3b", "qwen2.5:3b"]},
  "device-c.ts.net.": {"ram_gb": 16, "deny_models": ["qwen3-vl:latest"]}
}"""


def test_auto_rules_from_memory() -> None:
    assert auto_limits(8) == (5.0, 4.0)
    assert auto_limits(16) == (12.0, 8.0)
    assert auto_limits(32) == (24.0, 16.0)
    limits = parse_limits(SEED_EXAMPLE, source="DEVICE_LIMITS_JSON")
    assert limits["device-a.ts.net."].max_params_b == 5
    assert limits["device-a.ts.net."].num_ctx_limit == 4096
    assert limits["*"].max_context_k == 8
    # vram wins over ram; explicit fields win over the auto rules.
    both = parse_limits('{"x": {"ram_gb": 64, "vram_gb": 8, "max_context_k": 32}}', source="T")
    assert both["x"].max_params_b == 5 and both["x"].max_context_k == 32


def test_allow_and_deny_with_exact_names_and_globs() -> None:
    limits = DeviceLimits(allow_models=("llama3.2:*", "qwen2.5:3b"), deny_models=("*:70b",))
    assert check_model(limits, ModelFacts("llama3.2:1b")) is None
    assert check_model(limits, ModelFacts("qwen2.5:3b")) is None
    assert check_model(limits, ModelFacts("qwen2.5:7b")) == (
        "allow_models does not include qwen2.5:7b"
    )
    assert check_model(limits, ModelFacts("llama3.2:70b")) == "deny_models excludes llama3.2:70b"


def test_size_limits_and_strict_mode() -> None:
    limits = parse_limits('{"*": {"ram_gb": 8, "max_size_gb": 4}}', source="T")["*"]
    assert check_model(limits, ModelFacts("big", params_b=8)) == "max_params_b=5 < 8B of big"
    assert check_model(limits, ModelFacts("fat", params_b=3, size_bytes=6_000_000_000)) == (
        "max_size_gb=4 < 6.0 GB of fat"
    )
    unknown = ModelFacts("mystery")
    assert check_model(limits, unknown) is None
    assert check_model(limits, unknown, strict=True) == (
        "STRICT_MODEL_LIMITS: parameter count and size of mystery unknown"
    )
    # Strict mode refuses unknowns only where limits exist.
    assert check_model(None, unknown, strict=True) is None


def test_device_entry_wins_over_star() -> None:
    table = LimitsTable(parse_limits(SEED_EXAMPLE, source="T"))
    assert table.for_device("device-a.ts.net.").max_params_b == 5
    assert table.for_device("elsewhere.").max_params_b == 12


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "DEVICE_LIMITS_JSON is not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('{"a": {"ram_gb": "lots"}}', "ram_gb must be a non-negative number"),
        ('{"a": {"allow_models": "llama"}}', "allow_models must be a list"),
        ('{"a": {"gpu": 1}}', "unknown fields: gpu"),
        ('{"a": {"max_concurrency": 0}}', "max_concurrency must be a positive integer"),
    ],
)
def test_broken_documents_name_the_variable_and_field(text: str, message: str) -> None:
    with pytest.raises(LimitsError, match=message) as caught:
        parse_limits(text, source="DEVICE_LIMITS_JSON")
    assert "DEVICE_LIMITS_JSON" in str(caught.value)


def slot(device_id: str, *, running: int = 0, capacity: int = 1, online: bool = True) -> Slot:
    return Slot(device_id, online=online, running=running, capacity=capacity)


def test_late_binding_takes_the_first_candidate_with_a_free_slot() -> None:
    jobs = [QueuedJob(i, None, ("fast.", "slow.")) for i in range(4)]
    chosen = assign_devices(
        jobs, [slot("fast.", running=1, capacity=2), slot("slow.")], max_jobs=10
    )
    assert [(j.id, s.device_id if s else None) for j, s in chosen] == [(0, "fast."), (1, "slow.")]


def test_binding_never_exceeds_capacity_and_skips_offline_devices() -> None:
    jobs = [
        QueuedJob("pinned", "a.", None),
        QueuedJob("pinned-2", "a.", None),
        QueuedJob("late", None, ("b.", "a.")),
        QueuedJob("free", None, None),
    ]
    jobs.append(QueuedJob("pinned-to-a-vanished-device", "gone.", None))
    chosen = assign_devices(jobs, [slot("a."), slot("b.", online=False)], max_jobs=10)
    assert [(j.id, s.device_id if s else None) for j, s in chosen] == [
        ("pinned", "a."),
        ("free", None),
    ]
    assert len(assign_devices(jobs, [slot("a.", capacity=5)], max_jobs=2)) == 2


def test_a_retried_late_bound_job_binds_again() -> None:
    # Its first attempt ran on a. (now offline): the retry goes to the next candidate.
    job = QueuedJob("retry", "a.", ("a.", "b."))
    chosen = assign_devices([job], [slot("a.", online=False), slot("b.")], max_jobs=1)
    assert [(j.id, s.device_id if s else None) for j, s in chosen] == [("retry", "b.")]
