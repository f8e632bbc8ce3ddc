"""The committed gRPC stubs must match proto/llm.proto."""

from __future__ import annotations

import re
from pathlib import Path

from proto.generate import generate

ROOT = Path(__file__).resolve().parents[2]


def _normalised(text: str) -> str:
    # Version stamps differ between grpcio-tools releases; the contract does not.
    text = re.sub(r"# Protobuf Python Version: .*", "", text)
    return re.sub(r"_runtime_version\.ValidateProtobufRuntimeVersion\([^)]*\)", "", text)


def test_generated_stubs_are_up_to_date(tmp_path: Path) -> None:
    generate(tmp_path)
    for name in ("llm_pb2.py", "llm_pb2.pyi", "llm_pb2_grpc.py"):
        fresh = _normalised((tmp_path / "proto" / name).read_text())
        committed = _normalised((ROOT / "proto" / name).read_text())
        assert fresh == committed, f"proto/{name} is stale: run python -m proto.generate"
