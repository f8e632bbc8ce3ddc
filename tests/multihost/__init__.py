"""The multi-host lab (network namespaces as hosts) running its scenarios; the lab itself is in
testkit.multihost."""
