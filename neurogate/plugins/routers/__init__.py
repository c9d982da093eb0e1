"""plugins/routers."""
