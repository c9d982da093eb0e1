"""``or_add``: saturating stochastic adder, one OR gate.

Semantics (one clock cycle per step)::

    y_t = a_t OR b_t

In the unipolar code, for independent streams (SCC 0), ``P(y = 1) = p_a + p_b - p_a * p_b``:
close to the sum when both are small, and never above 1 (it saturates instead of wrapping).
Maximally negatively correlated streams (ones never coincide while ``p_a + p_b <= 1``) give
the exact sum ``min(1, p_a + p_b)``; identical streams give ``p_a``. Edges: an all-zero
operand passes the other stream through; an all-ones operand gives all ones.

The output is registered by default (latency 1: after step ``t`` the ``y`` port shows
``a_t OR b_t``; reset value 0); ``registered=False`` gives the bare gate (latency 0).

>>> import neurogate as ng
>>> add = ng.component("or_add")
>>> out = add.model().run({"a": [0, 0, 1, 1], "b": [0, 1, 0, 1]})
>>> out["y"][:, 0].tolist()
[0, 1, 1, 1]
"""

from __future__ import annotations

from neurogate.core.hookspecs import hookimpl
from neurogate.plugins.arith.binary_gate import BinaryGate, registered_param

__all__ = ["OrAdd"]


class OrAdd(BinaryGate):
    """Saturating SC adder: ``y = a OR b``.

    Members
    -------
    a, b : in, 1
        The operand streams (unipolar).
    y : out, 1
        ``a OR b``; registered unless ``registered=False``.
    """

    name = "or_add"

    registered = registered_param()
    truth_table = (0, 1, 1, 1)

    @staticmethod
    def function(a, b):
        """Return ``a | b``."""
        return a | b


@hookimpl
def neurogate_register_components():
    return [OrAdd]
