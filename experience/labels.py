"""What a visitor reads for the things the simulation names: vehicles, phases, events, crew, the
HUD's fields, numbers, units, latitude/longitude and durations, in the current language.

Every function takes an optional ``tr`` (a translations object from
:func:`experience.i18n.translation`) to write in another language than the current one, e.g. a
kiosk showing English and Russian side by side; without it the language of
:func:`experience.i18n.set_language` is used. Nothing here imports Panda3D.
"""

from __future__ import annotations

import gettext
import math

from experience.i18n import N_, NP_, current_translation

# Vehicle keys of the snapshot (``Snapshot.vehicles``) and of the mission data.
VEHICLE_NAMES = {
    "soyuz": N_("Soyuz 19"),
    "apollo": N_("Apollo"),
    "docking_module": N_("Docking Module"),
    "stack": N_("Apollo and Soyuz, docked"),
}
VEHICLE_SHORT_NAMES = {
    "soyuz": N_("Soyuz"),
    "apollo": N_("Apollo"),
}

# VehicleState.phase
PHASE_NAMES = {
    "coast": NP_("phase", "coast"),
    "formation": NP_("phase", "formation"),
    "docking": NP_("phase", "docking"),
    "docked": NP_("phase", "docked"),
}
PHASE_CONTEXT = "phase"

# The HUD's fields and messages ({vehicle} is a vehicle name, {duration} a duration_text()).
HUD = {
    "utc": N_("UTC"),
    "soyuz_met": N_("Soyuz mission elapsed time"),
    "apollo_get": N_("Apollo ground elapsed time"),
    "below": N_("Below"),
    "position": N_("Latitude, longitude"),
    "altitude": N_("Altitude"),
    "speed": N_("Speed"),
    "sunlit": N_("In sunlight"),
    "shadow": N_("In Earth's shadow"),
    "phase": N_("Phase"),
    "not_launched": N_("{vehicle} has not been launched yet"),
    "launches_in": N_("{vehicle} launches in {duration}"),
    "landed": N_("{vehicle} has landed"),
    "not_simulated": N_("{vehicle}: this part of the flight is not simulated"),
    "paused": N_("Paused"),
    "speedup": N_("{factor}× real time"),
    "reverse": N_("Reverse"),
    "language": N_("Language"),
    "units_metric": N_("Metric units"),
    "units_imperial": N_("Imperial units"),
    "caption_source": N_("Source: {sources}"),
}

# Unit symbols (context "unit"): shown after a number.
UNITS = {
    "km": NP_("unit", "km"),
    "km/s": NP_("unit", "km/s"),
    "km/h": NP_("unit", "km/h"),
    "m": NP_("unit", "m"),
    "m/s": NP_("unit", "m/s"),
    "cm/s": NP_("unit", "cm/s"),
    "mi": NP_("unit", "mi"),
    "mph": NP_("unit", "mph"),
    "ft": NP_("unit", "ft"),
    "ft/s": NP_("unit", "ft/s"),
    "kg": NP_("unit", "kg"),
    "lb": NP_("unit", "lb"),
}
UNIT_CONTEXT = "unit"

# Translators: the decimal separator of your language ("," in Russian and German).
_DECIMAL = NP_("decimal separator", ".")
# Translators: the thousands separator of your language (a no-break space in Russian).
_THOUSANDS = NP_("thousands separator", ",")
# Translators: {deg} is a number of degrees; N = north latitude (Russian "с. ш.").
_LAT_N = NP_("latitude", "{deg}° N")
_LAT_S = NP_("latitude", "{deg}° S")
_LON_E = NP_("longitude", "{deg}° E")
_LON_W = NP_("longitude", "{deg}° W")


def _tr(tr: gettext.NullTranslations | None) -> gettext.NullTranslations:
    return tr if tr is not None else current_translation()


def text(message: str, tr: gettext.NullTranslations | None = None) -> str:
    """``message`` (an English text marked with N_ somewhere, e.g. a HUD entry) translated."""
    return _tr(tr).gettext(message)


def vehicle_name(key: str, tr=None, *, short: bool = False) -> str:
    """"soyuz" -> "Soyuz 19" / «Союз-19» (``short``: "Soyuz" / «Союз»); an unknown key as is."""
    table = VEHICLE_SHORT_NAMES if short else VEHICLE_NAMES
    return _tr(tr).gettext(table.get(key, key))


def phase_name(phase: str, tr=None) -> str:
    """"docked" -> "docked" / «в состыкованном полёте»; an unknown phase as it is."""
    if phase not in PHASE_NAMES:
        return phase
    return _tr(tr).pgettext(PHASE_CONTEXT, PHASE_NAMES[phase])


def event_name(event, tr=None) -> str:
    """A timeline event's name (``experience.mission.data.Event`` or its id) translated."""
    if isinstance(event, str):
        from experience.mission import data

        event = data.event(event)
    return _tr(tr).gettext(event.name)


def crew_name(member: dict, tr=None) -> str:
    """A crew.toml member's name ("Alexei A. Leonov" -> «Алексей Леонов»)."""
    return _tr(tr).gettext(member["name"])


def crew_role(member: dict, tr=None) -> str:
    """A crew.toml member's role ("Flight Engineer" -> «бортинженер»)."""
    return _tr(tr).gettext(member["role"])


def unit(symbol: str, tr=None) -> str:
    """A unit symbol ("km/s" -> «км/с»)."""
    if symbol not in UNITS:
        return symbol
    return _tr(tr).pgettext(UNIT_CONTEXT, UNITS[symbol])


def number(value: float, decimals: int = 0, tr=None) -> str:
    """``value`` rounded to ``decimals`` with the language's separators: 7794.5 -> "7,794.5"
    (English), "7 794,5" (Russian, no-break space)."""
    t = _tr(tr)
    if not math.isfinite(value):
        return "–" if math.isnan(value) else ("∞" if value > 0 else "−∞")
    body = f"{abs(value):,.{max(0, decimals)}f}"
    whole, _, frac = body.partition(".")
    whole = whole.replace(",", t.pgettext("thousands separator", _THOUSANDS))
    out = whole + (t.pgettext("decimal separator", _DECIMAL) + frac if frac else "")
    negative = value < 0 and any(ch not in "0.," for ch in body)
    return ("−" if negative else "") + out


def quantity(value: float, symbol: str, decimals: int = 0, tr=None) -> str:
    """"222.4 km" / «222,4 км» (a no-break space between number and unit)."""
    return f"{number(value, decimals, tr)}\u00a0{unit(symbol, tr)}"


def lat_lon_text(lat_deg: float, lon_deg: float, decimals: int = 1, tr=None) -> str:
    """"45.9° N, 63.3° E" / «45,9° с. ш., 63,3° в. д.»."""
    t = _tr(tr)
    lat = t.pgettext("latitude", _LAT_N if lat_deg >= 0 else _LAT_S)
    lon = t.pgettext("longitude", _LON_E if lon_deg >= 0 else _LON_W)
    return (lat.format(deg=number(abs(lat_deg), decimals, t)) + ", "
            + lon.format(deg=number(abs(lon_deg), decimals, t)))


def duration_text(seconds: float, tr=None, *, parts: int = 2) -> str:
    """A duration in words with the language's plural forms, the ``parts`` largest non-zero
    units: 7 h 30 min -> "7 hours 30 minutes" / «7 часов 30 минут»; 1 d 2 h -> "1 day 2 hours" /
    «1 день 2 часа»; 21 min -> «21 минута»."""
    t = _tr(tr)
    total = int(round(abs(seconds)))
    units = [
        (total // 86400, lambda n: t.ngettext("{n} day", "{n} days", n)),
        (total % 86400 // 3600, lambda n: t.ngettext("{n} hour", "{n} hours", n)),
        (total % 3600 // 60, lambda n: t.ngettext("{n} minute", "{n} minutes", n)),
        (total % 60, lambda n: t.ngettext("{n} second", "{n} seconds", n)),
    ]
    nonzero = [i for i, (n, _fmt) in enumerate(units) if n]
    if not nonzero:
        return t.ngettext("{n} second", "{n} seconds", 0).format(n=0)
    # the ``parts`` largest units from the first non-zero one; zeros among them left out
    first = nonzero[0]
    return " ".join(fmt(n).format(n=n) for n, fmt in units[first:first + parts] if n)
