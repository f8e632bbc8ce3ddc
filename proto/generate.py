"""Regenerates the Python stubs from llm.proto: `python -m proto.generate`."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from grpc_tools import protoc

PROTO_DIR = Path(__file__).resolve().parent
ROOT = PROTO_DIR.parent


def generate(out_dir: Path = ROOT) -> None:
    """Writes llm_pb2.py, llm_pb2.pyi and llm_pb2_grpc.py under out_dir/proto."""
    import grpc_tools

    include = Path(grpc_tools.__file__).parent / "_proto"
    (out_dir / "proto").mkdir(parents=True, exist_ok=True)
    code = protoc.main(
        [
            "grpc_tools.protoc",
            f"-I{ROOT}",
            f"-I{include}",
            f"--python_out={out_dir}",
            f"--pyi_out={out_dir}",
            f"--grpc_python_out={out_dir}",
            str(PROTO_DIR / "llm.proto"),
        ]
    )
    if code != 0:
        raise SystemExit(f"protoc failed with exit code {code}")
    grpc_file = out_dir / "proto" / "llm_pb2_grpc.py"
    text = grpc_file.read_text()
    # protoc writes `from proto import llm_pb2` already because of -I{ROOT}; keep it stable.
    grpc_file.write_text(
        re.sub(
            r"^GRPC_GENERATED_VERSION = .*$", "GRPC_GENERATED_VERSION = '1.66.0'", text, flags=re.M
        )
    )


if __name__ == "__main__":
    generate(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT)
