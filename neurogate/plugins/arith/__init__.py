"""plugins/arith."""
