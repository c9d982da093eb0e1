"""``xnor_mul``: bipolar stochastic multiplier, one XNOR gate.

Semantics (one clock cycle per step)::

    y_t = NOT (a_t XOR b_t)          (1 when the two bits are equal)

In the bipolar code a stream carries ``v = 2 * P(bit = 1) - 1`` in ``[-1, 1]``. When ``a`` and
``b`` are independent (SCC 0), ``v_y = v_a * v_b``. Edges: an all-ones operand (``v = +1``)
passes the other stream through; an all-zero operand (``v = -1``) inverts it; a stream
XNOR-ed with itself is all ones (``v = +1``, not ``v_a**2``).

The output is registered by default (latency 1: after step ``t`` the ``y`` port shows
``XNOR(a_t, b_t)``; reset value 0); ``registered=False`` gives the bare gate (latency 0).

>>> import neurogate as ng
>>> mul = ng.component("xnor_mul")
>>> out = mul.model().run({"a": [0, 0, 1, 1], "b": [0, 1, 0, 1]})
>>> out["y"][:, 0].tolist()
[1, 0, 0, 1]
"""

from __future__ import annotations

from neurogate.core.hookspecs import hookimpl
from neurogate.plugins.arith.binary_gate import BinaryGate, registered_param

__all__ = ["XnorMul"]


class XnorMul(BinaryGate):
    """Bipolar SC multiplier: ``y = XNOR(a, b)``.

    Members
    -------
    a, b : in, 1
        The operand streams (bipolar).
    y : out, 1
        ``NOT (a XOR b)``; registered unless ``registered=False``.
    """

    name = "xnor_mul"

    registered = registered_param()
    truth_table = (1, 0, 0, 1)

    @staticmethod
    def function(a, b):
        """Return ``1 ^ a ^ b`` (XNOR of 1-bit operands)."""
        return 1 ^ a ^ b


@hookimpl
def neurogate_register_components():
    return [XnorMul]
