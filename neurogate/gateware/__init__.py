"""gateware."""
