"""plugins/neurons."""
