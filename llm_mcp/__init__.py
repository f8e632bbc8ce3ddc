"""The `llm-mcp` command: run the services, start everything locally, talk to core."""

import os

# Before anything imports grpc (every process starts here): gRPC's fork handlers are for
# programs that fork() next to gRPC, which ours never do (children start by vfork/exec),
# and with them on, every child start logs a fork_posix line. An explicit value wins.
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")
