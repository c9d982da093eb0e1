"""Shared fixtures: every random test takes its seed from ``rng_seed`` so failures replay."""

from __future__ import annotations

import os
import zlib

import numpy as np
import pytest

import neurogate as ng

# Plugin modules that tests load through fake entry points; one of them fails to import on
# purpose, so pytest must not collect them (e.g. for doctests).
collect_ignore = ["plugin_pkgs"]


@pytest.fixture
def rng_seed(request) -> int:
    """A per-test seed: ``NEUROGATE_TEST_SEED`` if set, else derived from the test's node id.

    The seed is printed (pytest shows it with a failure's captured output) so that a failing
    case can be replayed with ``NEUROGATE_TEST_SEED=<seed> pytest <node id>``.
    """
    env = os.environ.get("NEUROGATE_TEST_SEED")
    seed = int(env) if env else zlib.crc32(request.node.nodeid.encode())
    print(f"rng_seed={seed} (replay: NEUROGATE_TEST_SEED={seed} pytest '{request.node.nodeid}')")
    return seed


@pytest.fixture
def rng(rng_seed) -> np.random.Generator:
    """A NumPy generator seeded by :func:`rng_seed`."""
    return np.random.default_rng(rng_seed)


@pytest.fixture
def pm():
    """A fresh plugin manager with the built-ins only (no installed entry points)."""
    return ng.get_plugin_manager(autoload=False)


@pytest.fixture
def require_backend():
    """Return ``require(name)``: skip the test, with the reason, when backend ``name`` is absent."""

    def require(name: str) -> None:
        reason = ng.sim.available_backends()[name].unavailable_reason()
        if reason:
            pytest.skip(f"backend {name!r} is unavailable: {reason}")

    return require


@pytest.fixture
def quick_builds(monkeypatch):
    """Compile the Verilator models at -O0: several times faster, and test runs are short."""
    monkeypatch.setenv("NEUROGATE_VERILATOR_OPT", "-O0")
