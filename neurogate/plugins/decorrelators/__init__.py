"""plugins/decorrelators."""
