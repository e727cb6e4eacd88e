from tests.routing.helpers import fresh_rule_cache, run_cli

__all__ = ["fresh_rule_cache", "run_cli"]
