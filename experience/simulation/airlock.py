"""The Docking Module airlock as a visitor runs it: three cabins, two hatches, their valves.

Loads data/mission/airlock.toml (every number with its source or marked as an estimate; see
docs/airlock.md), holds the state of the Command Module (``cm``), the Docking Module (``dm``) and
the Soyuz orbital module (``soyuz_om``), the two hatches (``apollo_dm``, ``dm_soyuz``: open or
closed, nothing in between) and the valves, and advances the gas with :mod:`kernels.airlock` at
the real pace or a visible speed-up (:data:`SPEEDUPS`).

Interlocks (each refusal is one line a visitor reads, marked for translation):

- a hatch does not open against a pressure difference above its tolerance
  ("Docking Module is at 260 mmHg, Soyuz at 520: equalise first");
- a hatch does not open while the DM vents to space, and the vent does not open while a hatch of
  the DM is open (the vent would empty a cabin).

:meth:`Airlock.at` gives the state at a story time (a preset name or a UTC time) by running the
historical sequence of the data file through the kernel and the same interlocks.

One scenario per visitor, on the host (NumPy): a per-frame update is a few small array
operations, which a GPU round trip would only slow down. Tables of scenarios go straight to the
kernel (``kernels.airlock.build_params`` takes a list of specs).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
import re
import tomllib
from pathlib import Path
from typing import Any

import numpy as np

from experience.errors import AstpError, DataFileError
from experience.mission import data
from experience.mission.clock import format_utc, parse_utc
from kernels import airlock as ak

from experience.i18n import N_, _  # the visitor's texts, in the current language (experience.i18n.set_language)

AIRLOCK_FILE = "mission/airlock.toml"
VOLUMES = ("cm", "dm", "soyuz_om")
HATCHES = ("apollo_dm", "dm_soyuz")
HATCH_SIDES = {"apollo_dm": ("cm", "dm"), "dm_soyuz": ("dm", "soyuz_om")}
VALVES = ("apollo_dm", "dm_soyuz", "n2_fill", "o2_fill", "dm_vent")
FANS = VOLUMES
SPEEDUPS = (1.0, 10.0, 60.0, 600.0)
MAX_STEP_S = 2.0  # kernel step for accuracy; longer frames (high speed-up) take up to ...
MAX_CALLS_PER_ADVANCE = 4  # ... this many steps, then longer ones (the kernel stays stable)

VOLUME_NAMES = {"cm": N_("Command Module"), "dm": N_("Docking Module"), "soyuz_om": N_("Soyuz")}
HATCH_NAMES = {"apollo_dm": N_("Apollo hatch"), "dm_soyuz": N_("Soyuz hatch")}
VALVE_NAMES = {
    "apollo_dm": N_("Apollo-side equalisation valve"),
    "dm_soyuz": N_("Soyuz-side equalisation valve"),
    "n2_fill": N_("nitrogen fill valve"),
    "o2_fill": N_("oxygen fill valve"),
    "dm_vent": N_("overboard vent"),
}

# kernel topology (indices into the arrays)
_VOL = {v: i for i, v in enumerate(VOLUMES)}
_EDGE = {"apollo_dm": 0, "dm_soyuz": 1}
_TANK = {"n2_fill": 0, "o2_fill": 1}
_VENT = {"dm_vent": 0, "dm_relief": 1}
_ACTIONS = ("open_hatch", "close_hatch", "open_valve", "close_valve", "fan_on", "fan_off")


@dataclasses.dataclass(frozen=True)
class StoryStep:
    t_s: float  # seconds after the story's initial time
    utc: str
    action: str
    target: str
    until_mmhg: float | None
    until_settled: bool = False  # compare the settled pressure p T_wall / T, not the gauge


@dataclasses.dataclass(frozen=True)
class AirlockConfig:
    """Everything airlock.toml says, ready for the kernel."""

    path: str
    spec: ak.AirlockSpec
    tolerance_mmhg: dict[str, float]
    atmospheres: dict[str, tuple[float, float]]  # name -> (pressure mmHg, O2 fraction)
    tank_mass_kg: dict[str, float]
    initial_utc: _dt.datetime
    initial_hatches: dict[str, bool]
    initial_dm_atmosphere: str
    steps: tuple[StoryStep, ...]
    presets: dict[str, str]  # name -> UTC
    entries: dict[str, dict]  # dotted key -> entry (value, source / estimate, basis, conflicts)


def load_config(path: str | Path | None = None) -> AirlockConfig:
    """Read and check airlock.toml (default: data/mission/airlock.toml). Every problem is one
    :class:`DataFileError` naming the file, the key and, where it can be found, the line."""
    path = Path(path) if path is not None else data.data_dir() / AIRLOCK_FILE
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataFileError(f"data file {where} is missing; restore it from the repository (git checkout -- data/)") from None
    except OSError as exc:
        raise DataFileError(f"cannot read {where}: {exc.strerror or exc}; check the file's permissions") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DataFileError(f"data file {where} is not valid TOML: {exc}; fix that line") from None
    try:
        known_sources = set(data.load_toml("mission/sources.toml"))
    except DataFileError:
        known_sources = set()

    def line_of(key: str) -> str:
        tail = key.split(".")[-1]
        for pattern in (rf"^\s*\[\s*{re.escape(key)}\s*\]", rf"^\s*{re.escape(tail)}\s*="):
            m = re.search(pattern, text, flags=re.M)
            if m:
                return f" (line {text.count(chr(10), 0, m.start()) + 1})"
        return ""

    def fail(key: str, problem: str, fix: str):
        raise DataFileError(f"{where}{line_of(key)}: [{key}] {problem}; {fix}")

    entries: dict[str, dict] = {}

    def entry(key: str) -> dict:
        node: Any = doc
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                fail(key, "is missing", "restore it from the repository")
            node = node[part]
        if not isinstance(node, dict) or "value" not in node:
            fail(key, "has no value", "add value = ...")
        src = node.get("source")
        if not src and not node.get("estimate"):
            fail(key, "has neither a source nor estimate = true", "add one")
        if src is not None and (not isinstance(src, list) or not all(isinstance(s, str) for s in src)):
            fail(key, "source must be a list of source keys", 'write source = ["KEY", ...]')
        for conflict in node.get("conflicts", []):
            src = (src or []) + list(conflict.get("source", []))
        for s in src or []:
            if known_sources and s not in known_sources:
                fail(key, f"cites unknown source {s!r}", "add it to data/mission/sources.toml or fix the key")
        entries[key] = node
        return node

    def number(key: str, lo: float = 0.0, hi: float = math.inf, *, strict: bool = True) -> float:
        v = entry(key)["value"]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            fail(key, f"value must be a number, not {v!r}", "write a plain number")
        v = float(v)
        if (v <= lo if strict else v < lo) or v > hi:
            fail(key, f"value {v:g} is outside {lo:g}..{hi:g}", "fix the value")
        return v

    def area(diameter_key: str, cd_key: str) -> float:
        d = number(diameter_key, 0.0, 2.0)
        return number(cd_key, 0.0, 1.0) * math.pi * d * d / 4.0

    mm = {g: number(f"gas.{g}.molar_mass_kg_mol", 0.001, 1.0) for g in ("o2", "n2")}
    cp = {g: number(f"gas.{g}.cp_j_mol_k", ak.R_J_MOL_K * 1.01, 100.0) for g in ("o2", "n2")}
    h_fan = number("wall.fan_h_w_m2_k", 0.0, 1000.0, strict=False)
    vol = {v: number(f"volumes.{v}.volume_m3", 0.01, 1000.0) for v in VOLUMES}
    wall_t = {v: number(f"volumes.{v}.wall_temp_k", 150.0, 400.0) for v in VOLUMES}
    fan_g = {v: h_fan * number(f"volumes.{v}.wall_area_m2", 0.0, 1e4, strict=False) for v in VOLUMES}
    still_g = {v: number(f"volumes.{v}.still_conductance_w_k", 0.0, 1e4, strict=False) for v in VOLUMES}
    atm = {}
    for name in ("apollo", "soyuz", "soyuz_usual"):
        atm[name] = (number(f"atmosphere.{name}.pressure_mmhg", 0.0, 2000.0),
                     number(f"atmosphere.{name}.o2_fraction", 0.0, 1.0))
    for name in ("dm_before_n2", "dm_after_n2", "dm_return"):
        atm[name] = (number(f"atmosphere.{name}.pressure_mmhg", 0.0, 2000.0), math.nan)
    tolerance = {h: number(f"hatches.{h}.tolerance_mmhg", 0.0, 100.0) for h in HATCHES}
    hatch_cda = tuple(area(f"hatches.{h}.diameter_m", f"hatches.{h}.discharge_coefficient") for h in HATCHES)
    valve_cda = tuple(area(f"valves.{h}.diameter_m", f"valves.{h}.discharge_coefficient") for h in HATCHES)
    vent_cda = (area("valves.dm_vent.diameter_m", "valves.dm_vent.discharge_coefficient"),
                area("valves.dm_relief.diameter_m", "valves.dm_relief.discharge_coefficient"))
    crack = number("valves.dm_relief.crack_mmhg", 0.0, 2000.0)
    full = number("valves.dm_relief.full_mmhg", 0.0, 2000.0)
    if full <= crack:
        fail("valves.dm_relief.full_mmhg", f"value {full:g} is not above crack_mmhg {crack:g}", "make it larger")
    tanks = ("n2", "o2")
    tank_mass = {t: number(f"tanks.{t}.mass_kg", 0.0, 1000.0, strict=False) for t in tanks}
    tank_v = {t: number(f"tanks.{t}.volume_m3", 0.0, 10.0) for t in tanks}
    tank_t = {t: number(f"tanks.{t}.temp_k", 150.0, 400.0) for t in tanks}
    tank_cda = {t: area(f"tanks.{t}.valve_diameter_m", f"tanks.{t}.valve_discharge_coefficient") for t in tanks}

    story = doc.get("story")
    if not isinstance(story, dict) or not isinstance(story.get("initial"), dict):
        fail("story.initial", "is missing", "restore it from the repository")
    init = story["initial"]
    initial_utc = parse_utc(str(init.get("utc", "")), what=f"{where} [story.initial] utc")
    hatches0 = init.get("hatches", {})
    if not isinstance(hatches0, dict) or set(hatches0) != set(HATCHES) or not all(
            hatches0[h] in ("open", "closed") for h in HATCHES):
        fail("story.initial", "hatches must give each of apollo_dm, dm_soyuz as \"open\" or \"closed\"",
             'write hatches = { apollo_dm = "open", dm_soyuz = "closed" }')
    dm_atm = init.get("dm_atmosphere")
    if dm_atm not in ("apollo", "soyuz"):
        fail("story.initial", f"dm_atmosphere must be \"apollo\" or \"soyuz\", not {dm_atm!r}", "fix it")
    steps = []
    last = -math.inf
    for i, st in enumerate(story.get("step", [])):
        key = f"story.step #{i + 1}"
        if not isinstance(st, dict):
            fail(key, "is not a table", "write it as [[story.step]]")
        utc = parse_utc(str(st.get("utc", "")), what=f"{where} [{key}] utc")
        t = (utc - initial_utc).total_seconds()
        if t < 0.0 or t < last:
            fail(key, f"at {format_utc(utc)} is before the entry above it or the initial state", "order the steps by time")
        last = t
        action, target = st.get("action"), st.get("target")
        if action not in _ACTIONS:
            fail(key, f"has unknown action {action!r}", f"use one of: {', '.join(_ACTIONS)}")
        allowed = HATCHES if action.endswith("hatch") else VALVES if action.endswith("valve") else FANS
        if target not in allowed:
            fail(key, f"has unknown target {target!r} for {action}", f"use one of: {', '.join(allowed)}")
        if not st.get("source") and not st.get("estimate"):
            fail(key, "has neither a source nor estimate = true", "add one")
        until = st.get("until_mmhg")
        if until is not None and (action != "open_valve" or not isinstance(until, (int, float))
                                  or isinstance(until, bool) or not 0.0 < until < 2000.0):
            fail(key, f"until_mmhg {until!r} needs a number of mmHg on an open_valve step", "fix or remove it")
        for s in st.get("source", []):
            if known_sources and s not in known_sources:
                fail(key, f"cites unknown source {s!r}", "add it to data/mission/sources.toml or fix the key")
        reading = st.get("until_reading", "gauge")
        if reading not in ("gauge", "settled"):
            fail(key, f"until_reading must be \"gauge\" or \"settled\", not {reading!r}", "fix it")
        steps.append(StoryStep(t, format_utc(utc), action, target, None if until is None else float(until),
                               reading == "settled"))
    presets = {}
    for name, pre in (story.get("presets") or {}).items():
        utc = parse_utc(str(pre.get("utc", "")) if isinstance(pre, dict) else "", what=f"{where} [story.presets.{name}] utc")
        if utc < initial_utc:
            fail(f"story.presets.{name}", "is before the story's initial time", "move it later")
        presets[name] = format_utc(utc)

    spec = ak.AirlockSpec(
        volume_m3=tuple(vol[v] for v in VOLUMES), wall_temp_k=tuple(wall_t[v] for v in VOLUMES),
        wall_fan_w_k=tuple(fan_g[v] for v in VOLUMES), wall_still_w_k=tuple(still_g[v] for v in VOLUMES),
        edges=((_VOL["cm"], _VOL["dm"]), (_VOL["dm"], _VOL["soyuz_om"])),
        hatch_cda_m2=hatch_cda, valve_cda_m2=valve_cda,
        tank_node=(_VOL["dm"], _VOL["dm"]), tank_species=(ak.N2, ak.O2),
        tank_volume_m3=(tank_v["n2"], tank_v["o2"]), tank_temp_k=(tank_t["n2"], tank_t["o2"]),
        tank_cda_m2=(tank_cda["n2"], tank_cda["o2"]),
        vent_node=(_VOL["dm"], _VOL["dm"]), vent_cda_m2=vent_cda,
        vent_crack_pa=(0.0, crack * ak.MMHG_PA), vent_full_pa=(0.0, full * ak.MMHG_PA),
        molar_mass_kg_mol=(mm["o2"], mm["n2"]), cp_j_mol_k=(cp["o2"], cp["n2"]), substeps=1,
    )
    return AirlockConfig(
        path=where, spec=spec, tolerance_mmhg=tolerance, atmospheres=atm, tank_mass_kg=tank_mass,
        initial_utc=initial_utc, initial_hatches={h: hatches0[h] == "open" for h in HATCHES},
        initial_dm_atmosphere=dm_atm, steps=tuple(steps), presets=presets, entries=entries,
    )


_DEFAULT: AirlockConfig | None = None
_CHECKPOINTS: dict = {}  # config id -> (config, {story step index: state just after it}); states are immutable


def default_config() -> AirlockConfig:
    """The shipped airlock.toml, loaded once."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = load_config()
    return _DEFAULT


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What a visitor's action did: ``ok``, and when refused, the one line to show."""

    ok: bool
    message: str = ""


@dataclasses.dataclass(frozen=True)
class AirlockReading:
    """Gauges and switches at one moment: what the DM's panel shows and the tour JSON records."""

    t_s: float  # seconds since the story's initial time
    utc: str
    pressures_mmhg: dict[str, float]
    o2_fraction: dict[str, float]
    temperatures_k: dict[str, float]
    hatches: dict[str, str]  # "open" / "closed"
    valves: dict[str, str]
    fans: dict[str, str]
    tanks_kg: dict[str, float]
    speedup: float


class Airlock:
    """The three cabins, their hatches and valves, for one visitor.

    Start from a story time with :meth:`at` (``Airlock.at("hatch_ready")``) or from the data
    file's initial state (``Airlock()``). Operate with :meth:`open_hatch`, :meth:`close_hatch`,
    :meth:`set_valve`, :meth:`set_fan`; advance with :meth:`advance` (real seconds, times the
    speed-up) or :meth:`run_for` (story seconds); read the gauges with :meth:`reading`.
    """

    def __init__(self, config: AirlockConfig | None = None):
        self.config = config or default_config()
        c = self.config
        self._params = ak.build_params(c.spec, np.zeros(1))
        p_cm, x_cm = c.atmospheres["apollo"]
        p_so, x_so = c.atmospheres["soyuz"]
        p_dm, x_dm = (p_cm, x_cm) if c.initial_dm_atmosphere == "apollo" else (p_so, x_so)
        p = np.array([[p_cm, p_dm, p_so]]) * ak.MMHG_PA
        x = np.array([[[x_cm, 1.0 - x_cm], [x_dm, 1.0 - x_dm], [x_so, 1.0 - x_so]]])
        tank = np.array([[c.tank_mass_kg["n2"] / c.spec.molar_mass_kg_mol[ak.N2],
                          c.tank_mass_kg["o2"] / c.spec.molar_mass_kg_mol[ak.O2]]])
        self._state = ak.state_from_pressures(self._params, p, x, np.array([c.spec.wall_temp_k]), tank)
        self._hatch = dict(c.initial_hatches)
        self._valve = {v: False for v in VALVES}
        self._fan = {v: True for v in FANS}
        self._speedup = 1.0
        self._controls = None
        self._settled = False

    # ------------------------------------------------------------------ story presets
    @classmethod
    def at(cls, when: str | _dt.datetime, config: AirlockConfig | None = None) -> "Airlock":
        """The airlock at a story time: a preset name of airlock.toml (``before_docking``,
        ``crossing_start``, ``hatch_ready``, ``handshake``) or a UTC time, reached by running the
        historical sequence from the initial state through the kernel and the interlocks."""
        config = config or default_config()
        if isinstance(when, str) and when in config.presets:
            utc = parse_utc(config.presets[when])
        elif isinstance(when, _dt.datetime):
            utc = when if when.tzinfo else when.replace(tzinfo=_dt.timezone.utc)
        else:
            try:
                utc = parse_utc(str(when), what="story time")
            except AstpError:
                raise AstpError(f"unknown story time {when!r}; use a preset ({', '.join(config.presets)}) "
                                "or an ISO 8601 UTC time") from None
        t_end = (utc - config.initial_utc).total_seconds()
        if t_end < 0.0:
            raise AstpError(f"{format_utc(utc)} is before the airlock story starts "
                            f"({format_utc(config.initial_utc)}); choose a later time")
        lock = cls(config)
        lock._play_story(t_end)
        return lock

    def _play_story(self, t_end: float) -> None:
        """Run the story to ``t_end``. The state just after each story step is kept (per config),
        so a later call resumes from the last step before its time: the same chunks of kernel
        steps follow, so the result does not depend on what was asked before."""
        c = self.config
        held = _CHECKPOINTS.get(id(c))
        if held is None or held[0] is not c:
            held = (c, {})
            _CHECKPOINTS[id(c)] = held
        marks = held[1]
        pending: list[tuple[str, float, float, bool]] = []  # (valve, target mmHg, sign, settled)
        start = max((i for i in marks if c.steps[i].t_s <= t_end), default=-1)
        if start >= 0:
            state, hatch, valve, fan, pend = marks[start]
            self._state, self._hatch, self._valve, self._fan = state, dict(hatch), dict(valve), dict(fan)
            self._controls = None
            pending = list(pend)
        for i in range(start + 1, len(c.steps)):
            st = c.steps[i]
            if st.t_s > t_end:
                break
            self._advance_story(st.t_s - self.t_s, pending)
            self._apply_step(st, pending)
            marks[i] = (self._state, dict(self._hatch), dict(self._valve), dict(self._fan), tuple(pending))
        self._advance_story(t_end - self.t_s, pending)

    def _advance_story(self, span_s: float, pending: list) -> None:
        """Advance ``span_s`` story seconds, closing 'until' valves when the DM reaches their
        pressure (the crossing step is redone to the interpolated moment)."""
        remaining = span_s
        while remaining > 1e-9:
            if not pending and self._quiet():
                self._state = self._state._replace(t_s=self._state.t_s + remaining)
                return
            dt = min(remaining, 1.0 if pending else 5.0)
            before = self._state
            p0 = self._dm_reading()
            self._step(dt)
            p1 = self._dm_reading()
            hit = [(v, tgt, p0[st], p1[st]) for v, tgt, sgn, st in pending if sgn * (p1[st] - tgt) >= 0.0]
            if hit:
                v, tgt, p0, p1 = hit[0]
                frac = min(max((tgt - p0) / (p1 - p0), 0.0), 1.0) if p1 != p0 else 1.0
                self._state = before
                self._step(dt * frac)
                dt *= frac
                self._valve[v] = False
                self._controls = None
                pending[:] = [q for q in pending if q[0] != v]
            remaining -= dt

    def _dm_reading(self) -> tuple[float, float]:
        """The DM's gauge and its settled pressure (gas brought to the wall temperature), mmHg."""
        i = _VOL["dm"]
        p = self.pressures_mmhg()["dm"]
        return p, p * float(self._params.wall_temp_k[0, i]) / float(self._state.temp_k[0, i])

    def _quiet(self) -> bool:
        """Nothing flows and every gas is at its wall temperature: time can skip ahead."""
        e, t, v = ak.flows(self._params, self._state, self._control_arrays())
        still = max(float(np.abs(e).max(initial=0.0)), float(np.abs(t).max(initial=0.0)),
                    float(np.abs(v).max(initial=0.0))) < 1e-12
        return still and float(np.abs(self._state.temp_k - self._params.wall_temp_k).max()) < 1e-9

    def _apply_step(self, st: StoryStep, pending: list) -> None:
        if st.action in ("open_hatch", "close_hatch"):
            out = self.open_hatch(st.target) if st.action == "open_hatch" else self.close_hatch(st.target)
        elif st.action in ("open_valve", "close_valve"):
            out = self.set_valve(st.target, st.action == "open_valve")
            if out.ok and st.until_mmhg is not None:
                sign = 1.0 if st.until_mmhg >= self._dm_reading()[st.until_settled] else -1.0
                pending.append((st.target, st.until_mmhg, sign, st.until_settled))
        else:
            out = self.set_fan(st.target, st.action == "fan_on")
        if not out.ok:
            raise DataFileError(f"{self.config.path}: the story step at {st.utc} ({st.action} {st.target}) is "
                                f"refused by the interlock ({out.message}); fix its time or the numbers")

    # ------------------------------------------------------------------ the visitor's actions
    def open_hatch(self, name: str, *, from_volume: str | None = None) -> Outcome:
        """Open a hatch all the way, or refuse with the reason; nothing opens half-way.
        ``from_volume`` (the visitor's side) is named first in the message."""
        self._check(name, HATCHES, "hatch")
        if self._hatch[name]:
            return Outcome(True)
        if self._valve["dm_vent"]:
            return Outcome(False, _("The {hatch} stays shut while the Docking Module vents to space: "
                                    "close the vent first").format(hatch=_(HATCH_NAMES[name])))
        a, b = HATCH_SIDES[name]
        if from_volume == b or (from_volume is None and b == "dm"):
            a, b = b, a
        p = self.pressures_mmhg()
        if abs(p[a] - p[b]) > self.config.tolerance_mmhg[name]:
            return Outcome(False, _("{side} is at {p_side:.0f} mmHg, {other} at {p_other:.0f}: equalise first").format(
                side=_(VOLUME_NAMES[a]), p_side=p[a], other=_(VOLUME_NAMES[b]), p_other=p[b]))
        self._hatch[name] = True
        self._controls = None
        return Outcome(True)

    def close_hatch(self, name: str) -> Outcome:
        self._check(name, HATCHES, "hatch")
        self._hatch[name] = False
        self._controls = None
        return Outcome(True)

    def set_valve(self, name: str, is_open: bool) -> Outcome:
        """Open or close a valve; the overboard vent is locked while a hatch of the DM is open."""
        self._check(name, VALVES, "valve")
        if is_open and name == "dm_vent":
            for h in HATCHES:
                if self._hatch[h]:
                    return Outcome(False, _("The vent is locked while the {hatch} is open: close the hatch first").format(
                        hatch=_(HATCH_NAMES[h])))
        self._valve[name] = bool(is_open)
        self._controls = None
        return Outcome(True)

    def set_fan(self, volume: str, on: bool) -> Outcome:
        self._check(volume, FANS, "cabin")
        self._fan[volume] = bool(on)
        self._controls = None
        return Outcome(True)

    @staticmethod
    def _check(name, allowed, what):
        if name not in allowed:
            raise AstpError(f"unknown {what} {name!r}; use one of: {', '.join(allowed)}")

    # ------------------------------------------------------------------ time
    @property
    def speedup(self) -> float:
        return self._speedup

    def set_speedup(self, factor: float) -> None:
        if float(factor) not in SPEEDUPS:
            raise AstpError(f"speed-up {factor!r} is not offered; use one of: "
                            f"{', '.join(f'{s:g}' for s in SPEEDUPS)}")
        self._speedup = float(factor)

    def speedup_label(self) -> str:
        """The on-screen label of the time rate ("real time", "x60 time")."""
        if self._speedup == 1.0:
            return _("real time")
        return _("×{factor} time").format(factor=f"{self._speedup:g}")

    @property
    def t_s(self) -> float:
        return float(self._state.t_s[0])

    @property
    def utc(self) -> _dt.datetime:
        return self.config.initial_utc + _dt.timedelta(seconds=self.t_s)

    def advance(self, real_dt_s: float) -> float:
        """Advance by ``real_dt_s`` wall-clock seconds times the speed-up; returns the story
        seconds advanced. Steps of at most MAX_STEP_S, and at most MAX_CALLS_PER_ADVANCE kernel
        calls per frame (longer steps at high speed-up: the kernel stays stable and monotone)."""
        span = max(float(real_dt_s), 0.0) * self._speedup
        if span <= 0.0:
            return 0.0
        n = min(max(math.ceil(span / MAX_STEP_S), 1), MAX_CALLS_PER_ADVANCE)
        for _i in range(n):
            self._step(span / n)
        return span

    def run_for(self, story_s: float, max_step_s: float = MAX_STEP_S) -> None:
        """Advance ``story_s`` story seconds in steps of at most ``max_step_s`` (scripts, tests)."""
        n = max(math.ceil(float(story_s) / max_step_s), 1) if story_s > 0 else 0
        for _i in range(n):
            self._step(story_s / n)

    def _step(self, dt_s: float) -> None:
        if dt_s <= 0.0:
            return
        if self._controls is not None and self._settled:
            # nothing can change: no valve open, every gas at its wall temperature, open
            # hatchways equal, the relief valve shut (the kernel would return the same state)
            self._state = self._state._replace(t_s=self._state.t_s + dt_s)
            return
        self._state = ak.step(self._params, self._state, self._control_arrays(), dt_s, lazy=True)   # host NumPy, one scenario
        self._settled = self._settled_now()

    def _settled_now(self) -> bool:
        if any(self._valve.values()):
            return False
        st, par = self._state, self._params
        if float(np.max(np.abs(st.temp_k - par.wall_temp_k))) > 1e-7:
            return False
        p = ak.pressure_pa(par, st)[0]
        if p[_VOL["dm"]] > self.config.spec.vent_crack_pa[_VENT["dm_relief"]] - 10.0:
            return False
        return all(abs(p[_VOL[a]] - p[_VOL[b]]) < 1e-6 for h, (a, b) in HATCH_SIDES.items() if self._hatch[h])

    def _control_arrays(self) -> ak.AirlockControls:
        if self._controls is None:
            self._controls = ak.AirlockControls(
                hatch_open=np.array([[float(self._hatch[h]) for h in HATCHES]]),
                valve_open=np.array([[float(self._valve[h]) for h in HATCHES]]),
                tank_valve_open=np.array([[float(self._valve["n2_fill"]), float(self._valve["o2_fill"])]]),
                vent_open=np.array([[float(self._valve["dm_vent"]), 1.0]]),  # the relief valve is always armed
                fan_on=np.array([[float(self._fan[v]) for v in VOLUMES]]),
            )
            self._settled = False  # a switch moved: take at least one real step
        return self._controls

    # ------------------------------------------------------------------ gauges
    def pressures_mmhg(self) -> dict[str, float]:
        p = ak.pressure_mmhg(self._params, self._state)[0]
        return {v: float(p[i]) for i, v in enumerate(VOLUMES)}

    def pressure_difference_mmhg(self, hatch: str) -> float:
        self._check(hatch, HATCHES, "hatch")
        a, b = HATCH_SIDES[hatch]
        p = self.pressures_mmhg()
        return abs(p[a] - p[b])

    def hatch_ready(self, hatch: str) -> bool:
        """Would the interlock let this hatch open now?"""
        return (self._hatch[hatch] or (not self._valve["dm_vent"]
                and self.pressure_difference_mmhg(hatch) <= self.config.tolerance_mmhg[hatch]))

    def hatches(self) -> dict[str, str]:
        return {h: "open" if self._hatch[h] else "closed" for h in HATCHES}

    def valves(self) -> dict[str, str]:
        return {v: "open" if self._valve[v] else "closed" for v in VALVES}

    def reading(self) -> AirlockReading:
        n = self._state.gas_mol[0]
        tot = np.maximum(n.sum(axis=-1), 1e-300)
        tanks = self._state.tank_mol[0]
        mmass = self.config.spec.molar_mass_kg_mol
        return AirlockReading(
            t_s=self.t_s, utc=format_utc(self.utc), pressures_mmhg=self.pressures_mmhg(),
            o2_fraction={v: float(n[i, ak.O2] / tot[i]) for i, v in enumerate(VOLUMES)},
            temperatures_k={v: float(self._state.temp_k[0, i]) for i, v in enumerate(VOLUMES)},
            hatches=self.hatches(), valves=self.valves(),
            fans={v: "on" if self._fan[v] else "off" for v in FANS},
            tanks_kg={"n2": float(tanks[0] * mmass[ak.N2]), "o2": float(tanks[1] * mmass[ak.O2])},
            speedup=self._speedup,
        )

    @property
    def kernel_state(self) -> ak.AirlockState:
        """The kernel's state (host arrays, one scenario) for tests and tables."""
        return self._state

    @property
    def kernel_params(self) -> ak.AirlockParams:
        return self._params
