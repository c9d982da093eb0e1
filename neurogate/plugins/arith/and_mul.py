"""``and_mul``: unipolar stochastic multiplier, one AND gate.

Semantics (one clock cycle per step)::

    y_t = a_t AND b_t

In the unipolar code a stream carries ``p = P(bit = 1)`` in ``[0, 1]``. When ``a`` and ``b`` are
independent (SCC 0), ``P(y = 1) = p_a * p_b``. Correlation changes the result: identical
streams give ``p_a`` (not ``p_a**2``), and maximally positively correlated streams give
``min(p_a, p_b)``. Edges: an all-zero operand gives an all-zero ``y``; an all-ones operand
passes the other stream through unchanged.

The output is registered by default (latency 1: after step ``t`` the ``y`` port shows
``a_t AND b_t``; reset value 0); ``registered=False`` gives the bare gate (latency 0).

>>> import neurogate as ng
>>> mul = ng.component("and_mul")
>>> out = mul.model().run({"a": [0, 0, 1, 1], "b": [0, 1, 0, 1]})
>>> out["y"][:, 0].tolist()
[0, 0, 0, 1]
"""

from __future__ import annotations

from neurogate.core.hookspecs import hookimpl
from neurogate.plugins.arith.binary_gate import BinaryGate, registered_param

__all__ = ["AndMul"]


class AndMul(BinaryGate):
    """Unipolar SC multiplier: ``y = a AND b``.

    Members
    -------
    a, b : in, 1
        The operand streams (unipolar).
    y : out, 1
        ``a AND b``; registered unless ``registered=False``.
    """

    name = "and_mul"

    registered = registered_param()
    truth_table = (0, 0, 0, 1)

    @staticmethod
    def function(a, b):
        """Return ``a & b``."""
        return a & b


@hookimpl
def neurogate_register_components():
    return [AndMul]
