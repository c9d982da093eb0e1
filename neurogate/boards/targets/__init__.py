"""The built-in board targets, one module per board (or board family), each with its hookimpl."""
