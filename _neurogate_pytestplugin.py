"""neurogate's pytest plugin (the ``pytest11`` entry point ``neurogate``): fixtures for plugins.

pytest loads this module at start-up in every environment where neurogate is installed, so it
lives outside the ``neurogate`` package and imports nothing from it until a fixture is used:
a test session that does not use the fixtures pays nothing, and coverage of neurogate itself
starts before neurogate is imported (the same arrangement as Hypothesis'
``_hypothesis_pytestplugin``). The helpers are in :mod:`neurogate.testing`. (pytest still marks
the whole distribution for assertion rewriting, as for any package with a ``pytest11`` entry
point: neurogate's modules are rewritten when a session imports them.)

Fixtures
--------
``ng_seed``
    The stimulus seed of the test: ``--ng-seed`` if given, else derived from the test's id
    (stable from run to run). Printed, so a failure's captured output says how to replay it.
``ng_conformance``
    :func:`neurogate.testing.check_conformance` with the test's seed.
``ng_bit_true``
    :func:`neurogate.testing.check_bit_true` with the test's seed; a backend whose simulator is
    missing is left out and the test is skipped with the reason after the others passed.

Options: ``--ng-seed=SEED`` replays a stimulus; ``--ng-backends=pysim,verilator`` runs
:func:`~neurogate.testing.component_tests`' comparisons on those backends only. Disable the
plugin with ``pytest -p no:neurogate``.
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser):
    group = parser.getgroup("neurogate", "neurogate component checks")
    group.addoption(
        "--ng-seed",
        type=int,
        default=None,
        metavar="SEED",
        help="seed of the random stimulus of neurogate's ng_* fixtures and component_tests "
        "(default: derived from each test's id); use the seed a failing test printed",
    )
    group.addoption(
        "--ng-backends",
        default=None,
        metavar="B1,B2",
        help="run component_tests' bit-true tests only on these simulation backends "
        "(comma list, e.g. pysim,verilator); the others are deselected",
    )


def pytest_collection_modifyitems(config, items):
    chosen = config.getoption("ng_backends")
    if not chosen:
        return
    keep = {"conformance", *(b.strip() for b in chosen.split(",") if b.strip())}
    selected, deselected = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        check = callspec.params.get("ng_check") if callspec is not None else None
        (deselected if check is not None and check not in keep else selected).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


@pytest.fixture
def ng_seed(request) -> int:
    """The stimulus seed: ``--ng-seed`` or one derived from the test id; printed."""
    seed = request.config.getoption("ng_seed")
    if seed is None:
        from neurogate.testing import default_seed

        seed = default_seed(request.node.nodeid)
    print(f"ng_seed={seed} (replay: pytest --ng-seed={seed} '{request.node.nodeid}')")
    return seed


@pytest.fixture
def ng_conformance(ng_seed):
    """Return ``check(target, params=None, sweep=None, **options)``: the contract checks."""
    from neurogate.testing import check_conformance

    def check(target, params=None, sweep=None, *, seed=None, **options):
        return check_conformance(
            target, params, sweep, seed=ng_seed if seed is None else seed, **options
        )

    return check


@pytest.fixture
def ng_bit_true(ng_seed):
    """Return ``check(target, params=None, sweep=None, backends=("model", "pysim"), ...)``.

    Backends that cannot run here are left out; when fewer than two remain the test is skipped
    at once, otherwise after the others compared equal, with the reasons.
    """
    from neurogate.testing import check_bit_true, unavailable_backends

    def check(target, params=None, sweep=None, *, backends=("model", "pysim"), seed=None,
              **options):  # fmt: skip
        __tracebackhide__ = True  # a skip or failure points at the test's line
        missing = unavailable_backends(backends)
        usable = tuple(b for b in backends if b not in missing)
        reasons = "; ".join(missing.values())
        if len(usable) < 2:
            pytest.skip(reasons)
        seed = ng_seed if seed is None else seed
        results = check_bit_true(target, params, sweep, backends=usable, seed=seed, **options)
        if missing:
            pytest.skip(f"{' == '.join(usable)} passed; {reasons}")
        return results

    return check
