"""What is shipped besides the code, checked against the code: compose.yml and the Dockerfile,
the Kubernetes manifests, .env.example and what its settings mean, the docs and their
examples, the OpenAPI schema, the committed gRPC stubs; and the rule that bench/ and
testkit/ never use tests/."""
