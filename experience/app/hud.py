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
import math

import numpy as np

from experience import i18n, labels
from experience.i18n import N_
from experience.mission import data
from experience.mission.clock import format_elapsed


@functools.lru_cache(maxsize=16)
def translator(lang: str, domain: str = i18n.DOMAIN):
    """The gettext translations for ``lang`` (English, the source language, as it is), once per
    language and domain: the HUD asks every frame."""
    return i18n.translation(lang, domain)


KM_PER_MI = 1.609344
# Translators: short HUD labels before a time like +54:59:02 (mission elapsed time of Soyuz,
# ground elapsed time of Apollo), and before the distance between the two spacecraft.
SOYUZ_MET = N_("Soyuz MET")
APOLLO_GET = N_("Apollo GET")
RANGE = N_("Range")


@dataclasses.dataclass(frozen=True)
class HudText:
    lines: tuple[str, ...]       # the panel's lines, top to bottom
    rate: str                     # "▶ 100x", "❚❚ paused"
    status: str                   # what exists now (story_status), or ""
    camera: str


CAMERA_NAMES = {"orbit": N_("Orbit"), "chase": N_("Chase"), "cm_window": N_("Command Module window"),
                "soyuz_porthole": N_("Soyuz porthole"), "free": N_("Free flight"), "cabin": N_("Cabins")}


def hud_text(snapshot, playback, ui, camera_mode: str) -> HudText:
    tr = translator(ui.language)
    _ = tr.gettext
    clock = playback.clock
    t = playback.t_s
    lines = [snapshot.utc.strftime("%Y-%m-%d  %H:%M:%S UTC"),
             f"{_(SOYUZ_MET)} {format_elapsed(clock.soyuz_met_s(t))}    "
             f"{_(APOLLO_GET)} {format_elapsed(clock.apollo_get_s(t))}"]
    vs = snapshot.vehicles
    state = vs.get("apollo") or vs.get("soyuz")
    if state is not None:
        imperial = ui.units == "imperial"
        speed_km_s = math.sqrt(float(state.vel_km_s @ state.vel_km_s))
        if imperial:
            alt = labels.quantity(state.alt_km / KM_PER_MI, "mi", 1, tr)
            speed = labels.quantity(speed_km_s * 3600 / KM_PER_MI, "mph", 0, tr)
        else:
            alt = labels.quantity(state.alt_km, "km", 1, tr)
            speed = labels.quantity(speed_km_s, "km/s", 3, tr)
        lines.append(f"{_(labels.HUD['below'])}: {i18n.place_name(state.region, tr, translator_regions(ui.language))}")
        lines.append(labels.lat_lon_text(state.lat_deg, state.lon_deg, 2, tr))
        lines.append(f"{_(labels.HUD['altitude'])} {alt}    {_(labels.HUD['speed'])} {speed}")
        lit = state.sunlit_fraction
        light = (_(labels.HUD["sunlit"]) if lit > 0.99 else _(labels.HUD["shadow"]) if lit < 0.01
                 else _("Sunrise or sunset"))
        lines.append(light)
        phase = labels.phase_name(state.phase, tr)
        phase = phase[:1].upper() + phase[1:]
        if "apollo" in vs and "soyuz" in vs and state.phase != "docked":
            rng_m = float(np.linalg.norm(vs["apollo"].pos_km - vs["soyuz"].pos_km)) * 1000.0
            if imperial:
                rng = (labels.quantity(rng_m * 3.28084, "ft", 0, tr) if rng_m < 3000
                       else labels.quantity(rng_m / 1609.344, "mi", 1, tr))
            else:
                rng = labels.quantity(rng_m, "m", 1, tr) if rng_m < 3000 else labels.quantity(rng_m / 1000, "km", 1, tr)
            phase += f"    {_(RANGE)} {rng}"
        lines.append(phase)
    if playback.paused:
        rate = "❚❚ " + _(labels.HUD["paused"])
    else:
        rate = ("◀ " if playback.rate < 0 else "▶ ") + _(labels.HUD["speedup"]).format(factor=labels.number(playback.warp, 0, tr))
    return HudText(tuple(lines), rate, story_status(snapshot, playback, _), _(CAMERA_NAMES.get(camera_mode, camera_mode)))


def translator_regions(lang: str):
    return translator(lang, i18n.REGIONS_DOMAIN)


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


def caption_text(exp, _) -> str:
    """The caption of the moment (data/mission/captions.toml) in the visitor's language, or ""."""
    from experience.mission import captions

    cap = captions.caption_at(exp.playback.t_s, exp.clock)
    return _(cap.text) if cap is not None else ""


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
