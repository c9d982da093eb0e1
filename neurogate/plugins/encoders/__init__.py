"""plugins/encoders."""
