"""The end-to-end servers of tests/e2e, for the attacks replayed against a real server."""

from tests.e2e.conftest import any_server, pg_server, server, tls_server

__all__ = ["any_server", "pg_server", "server", "tls_server"]
