"""Board targets: an amaranth-boards platform plus what a neurogate build needs to know.

A board is a :class:`Board` subclass with class attributes only (one board, one file, in
:mod:`neurogate.boards.targets` for the built-ins), registered through the
``neurogate_register_boards`` hook as an instance. A third-party package adds a board the same
way::

    from amaranth_boards.icebreaker_bitsy import ICEBreakerBitsyPlatform
    import neurogate as ng

    class Bitsy(ng.boards.Board):
        name = "icebreaker_bitsy"
        title = "1BitSquared iCEBreaker bitsy"
        platform = ICEBreakerBitsyPlatform
        uart = UARTResource(0, rx="...", tx="...", conn=("...", 0))   # if it has none

    @ng.hookimpl
    def neurogate_register_boards():
        return [Bitsy()]
"""

from __future__ import annotations

import shutil
from typing import ClassVar

from amaranth.build import Resource
from amaranth.build.plat import Platform

__all__ = ["Board"]


class Board:
    """A board target (subclass it; set the class attributes; register an instance).

    Attributes
    ----------
    name : str
        Registry name, as given to ``neurogate build --board``.
    title : str
        Maker and board, for listings.
    platform : type
        The amaranth-boards platform class (a ``LatticeICE40Platform`` or
        ``LatticeECP5Platform`` subclass).
    uart : Resource or None
        The UART the host link uses, when the platform has no ``uart`` resource (for example
        header pins for an external USB-serial adapter); ``None`` uses the platform's
        ``uart`` 0.
    programmers : tuple of tuple of str
        Commands that load a bitstream, tried in order (the first whose program is installed
        runs); ``{bitstream}`` is replaced by the bitstream's path.
    notes : str
        One line on anything a user must know (jumpers, the UART adapter).
    """

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    platform: ClassVar[type[Platform] | None] = None
    uart: ClassVar[Resource | None] = None
    programmers: ClassVar[tuple[tuple[str, ...], ...]] = ()
    notes: ClassVar[str] = ""

    def create_platform(self, clock_hz: float | None = None) -> Platform:
        """Return a fresh platform instance with the board's ``uart`` resource added.

        ``clock_hz`` constrains the default clock to that frequency for timing analysis instead
        of the board's own (a timing target: the clock the bitstream runs on is unchanged).
        """
        if self.platform is None:
            raise TypeError(f"board {self.name!r} has no platform class")
        cls = self.platform
        if clock_hz is not None:
            cls = type(cls.__name__, (cls,), {"_neurogate_clock_hz": float(clock_hz)})
            cls.iter_port_clock_constraints = _retimed_port_clocks
        plat = cls()
        if self.uart is not None and ("uart", self.uart.number) not in plat.resources:
            plat.add_resources([self.uart])
        return plat

    # -- facts read from the platform ----------------------------------------------------------
    @property
    def family(self) -> str:
        """``"ice40"`` or ``"ecp5"``."""
        device = self.platform.device
        return "ice40" if device.startswith(("iCE40", "iCE5")) else "ecp5"

    @property
    def device(self) -> str:
        """The FPGA part, e.g. ``iCE40UP5K`` or ``LFE5U-85F``."""
        return self.platform.device

    @property
    def package(self) -> str:
        """The FPGA package as the platform names it, e.g. ``SG48``."""
        return self.platform.package

    @property
    def bitstream_suffix(self) -> str:
        """``".bin"`` (iCE40) or ``".bit"`` (ECP5)."""
        return ".bin" if self.family == "ice40" else ".bit"

    @property
    def clock_hz(self) -> float:
        """The frequency of the board's default clock, in Hz."""
        return float(self.create_platform().default_clk_frequency)

    @property
    def clock_name(self) -> str:
        """The default clock's resource name (or the on-chip oscillator's primitive)."""
        return self.platform.default_clk

    def uart_pins(self) -> str:
        """Describe the UART pins, e.g. ``"rx=6 tx=9"`` (``"rx=12 (j_1:5)"`` on a connector)."""
        plat = self.create_platform()
        if ("uart", 0) not in plat.resources:
            return "none"
        res = plat.resources["uart", 0]
        parts = []
        for sub in res.ios:
            if sub.name not in ("rx", "tx"):
                continue
            pins = sub.ios[0]
            names = pins.map_names(plat._conn_pins, res)
            where = f" ({pins.names[0]})" if ":" in pins.names[0] else ""
            parts.append(f"{sub.name}={names[0]}{where}")
        return " ".join(parts)

    def program_command(self, bitstream: str) -> list[str] | None:
        """Return the first installed programmer's command line for ``bitstream``, or None."""
        for cmd in self.programmers:
            if shutil.which(cmd[0]):
                return [part.replace("{bitstream}", str(bitstream)) for part in cmd]
        return None

    def program_hint(self, bitstream: str) -> str:
        """Say how to load ``bitstream`` when no programmer is installed."""
        if not self.programmers:
            return f"load {bitstream} with your board's programming tool"
        shown = " or ".join(
            "`" + " ".join(p.replace("{bitstream}", str(bitstream)) for p in cmd) + "`"
            for cmd in self.programmers
        )
        return f"install {self.programmers[0][0]} and run {shown}"

    def __repr__(self) -> str:
        return f"<board {self.name}: {self.device}-{self.package}>"


def _retimed_port_clocks(self):
    for port, _frequency in super(type(self), self).iter_port_clock_constraints():
        yield port, self._neurogate_clock_hz
