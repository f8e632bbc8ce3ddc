"""Security: tokens, bad input and bounds on every face, cross-site requests, the error
contract, what error answers may echo, the listening address, and fuzzing of HTTP and gRPC."""
