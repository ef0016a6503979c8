"""What the heads-up display says, as text: the same for the desktop window, the kiosk and the
VR wrist panel (each draws it its own way).

:func:`hud_text` turns the frame's snapshot, the playback and the UI state into translated lines:
UTC, Soyuz mission elapsed time, Apollo ground elapsed time, the place below (latitude and
longitude, the country or sea by its 1975 name), altitude, speed, sunlight, the phase, the range
between the spacecraft while they fly apart, the playback rate; and :func:`story_status` the one
line that says what exists at a time the spacecraft are not both simulated (before the launches,
after the landings).
"""

from __future__ import annotations

import dataclasses
import functools
import gettext as _gettext
import math

import numpy as np

from experience.mission import data
from experience.mission.clock import format_elapsed


def N_(text: str) -> str:
    """Mark text for translation where it is defined; it is translated where it is shown."""
    return text


@functools.lru_cache(maxsize=8)
def translator(lang: str):
    """The gettext translations for ``lang`` (English, the source language, as it is)."""
    try:
        from experience.i18n import translation
    except ImportError:  # the catalogs are not installed: English
        return _gettext.NullTranslations()
    return translation(lang)


PHASES = {"coast": N_("Free flight"), "formation": N_("Flying in formation"),
          "docking": N_("Docking"), "docked": N_("Docked")}
VEHICLE_NAMES = {"apollo": N_("Apollo"), "soyuz": N_("Soyuz 19")}
KM_PER_MI = 1.609344


@dataclasses.dataclass(frozen=True)
class HudText:
    lines: tuple[str, ...]       # the panel's lines, top to bottom
    rate: str                     # "▶ 100x", "❚❚ paused"
    status: str                   # what exists now (story_status), or ""
    camera: str


CAMERA_NAMES = {"orbit": N_("Orbit"), "chase": N_("Chase"), "cm_window": N_("Command Module window"),
                "soyuz_porthole": N_("Soyuz porthole"), "free": N_("Free flight"), "cabin": N_("Cabins")}


def _lat_lon(lat: float, lon: float, _) -> str:
    ns = _("N") if lat >= 0 else _("S")
    ew = _("E") if lon >= 0 else _("W")
    return f"{abs(lat):.2f}° {ns}  {abs(lon):.2f}° {ew}"


def place_name(region: str, _) -> str:
    """The region's 1975 name, translated where the catalogs have it."""
    return _(region)


def hud_text(snapshot, playback, ui, camera_mode: str) -> HudText:
    tr = translator(ui.language)
    _ = tr.gettext
    clock = playback.clock
    t = playback.t_s
    lines = [snapshot.utc.strftime("%Y-%m-%d  %H:%M:%S UTC"),
             f"{_('Soyuz MET')} {format_elapsed(clock.soyuz_met_s(t))}    "
             f"{_('Apollo GET')} {format_elapsed(clock.apollo_get_s(t))}"]
    vs = snapshot.vehicles
    state = vs.get("apollo") or vs.get("soyuz")
    if state is not None:
        imperial = ui.units == "imperial"
        alt = f"{state.alt_km / KM_PER_MI:,.1f} mi" if imperial else f"{state.alt_km:,.1f} km"
        speed_km_s = math.sqrt(float(state.vel_km_s @ state.vel_km_s))
        speed = f"{speed_km_s * 3600 / KM_PER_MI:,.0f} mph" if imperial else f"{speed_km_s:.3f} km/s"
        lines.append(f"{_('Below')}: {place_name(state.region, _)}")
        lines.append(_lat_lon(state.lat_deg, state.lon_deg, _))
        lines.append(f"{_('Altitude')} {alt}    {_('Speed')} {speed}")
        lit = state.sunlit_fraction
        light = _("In sunlight") if lit > 0.99 else _("In the Earth's shadow") if lit < 0.01 else _("Sunrise or sunset")
        lines.append(light)
        phase = _(PHASES.get(state.phase, state.phase))
        if "apollo" in vs and "soyuz" in vs and state.phase not in ("docked",):
            rng_m = float(np.linalg.norm(vs["apollo"].pos_km - vs["soyuz"].pos_km)) * 1000.0
            if imperial:
                rng = f"{rng_m * 3.28084:,.0f} ft" if rng_m < 3000 else f"{rng_m / 1609.344:,.1f} mi"
            else:
                rng = f"{rng_m:,.1f} m" if rng_m < 3000 else f"{rng_m / 1000:,.1f} km"
            phase += f"    {_('Range')} {rng}"
        lines.append(phase)
    if playback.paused:
        rate = "❚❚ " + _("paused")
    else:
        rate = ("◀ " if playback.rate < 0 else "▶ ") + f"{playback.warp:,.0f}×"
    return HudText(tuple(lines), rate, story_status(snapshot, playback, _), _(CAMERA_NAMES.get(camera_mode, camera_mode)))


def story_status(snapshot, playback, _) -> str:
    """One line naming what is not drawn at this time and why; "" when both fly."""
    clock = playback.clock
    t = playback.t_s

    def at(ev_id: str) -> float:
        return clock.t_s(data.event(ev_id).utc)

    vs = snapshot.vehicles
    if t < at("soyuz_launch"):
        return _("Before the launches: Soyuz 19 stands on its pad at Baikonur, Apollo at Kennedy Space Center.")
    if "soyuz" not in vs and t < at("soyuz_landing"):
        return _("Soyuz 19 is climbing to orbit; it is drawn from orbit insertion on.")
    if "apollo" not in vs and t < at("apollo_insertion"):
        if t < at("apollo_launch"):
            return _("Apollo has not launched yet: it lifts off from Kennedy Space Center at 19:50 UTC on 15 July.")
        return _("Apollo is climbing to orbit; it is drawn from orbit insertion on.")
    if "soyuz" not in vs and t >= at("soyuz_landing"):
        if "apollo" not in vs:
            return _("Both crews are home: Soyuz 19 landed near Arkalyk on 21 July, Apollo splashed down in the Pacific on 24 July.")
        return _("Soyuz 19 has landed near Arkalyk, Kazakhstan (21 July); Apollo flies on alone.")
    if "apollo" not in vs and t >= at("apollo_insertion"):
        return _("Apollo has left orbit; it splashed down in the Pacific Ocean on 24 July.")
    return ""


CAPTION_WINDOW_S = 600.0


def caption_text(exp, _) -> str:
    """The caption of the moment in the visitor's language, or "" (experience/mission/captions.py
    where the captions are installed; else the name of a timeline event within 10 minutes)."""
    t = exp.playback.t_s
    try:
        from experience.mission import captions
    except ImportError:
        captions = None
    if captions is not None:
        cap = captions.caption_at(t, exp.clock)
        return _(cap.text) if cap is not None else ""
    best = min(data.timeline(), key=lambda ev: abs(exp.clock.t_s(ev.utc) - t))
    return _(best.name) if abs(exp.clock.t_s(best.utc) - t) <= CAPTION_WINDOW_S else ""


def nearest_event_label(playback, _) -> str:
    """The timeline bar's label: the last event passed and the next one."""
    clock = playback.clock
    t = playback.t_s
    evs = data.timeline()
    past = [ev for ev in evs if clock.t_s(ev.utc) <= t + 0.5]
    ahead = [ev for ev in evs if clock.t_s(ev.utc) > t + 0.5]
    left = f"◀ {_(past[-1].name)}" if past else ""
    right = f"{_(ahead[0].name)} ▶" if ahead else ""
    return f"{left}      {right}".strip()
