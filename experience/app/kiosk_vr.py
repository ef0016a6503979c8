"""VR station mode: the kiosk's logic around `astp vr` (issue #11 builds the VR front end).

The hook: a VR front end that wants to run as a kiosk station provides, in
``experience/frontends/vr.py``, a function ``run_kiosk_station(config, session, heartbeat)`` that
opens the headset session and drives the same :class:`~experience.app.kiosk.KioskSession`:
``session.input(now)`` on any controller input or when the headset is put on, ``session.tick(now)``
every frame, headset removed = no input (the idle countdown runs), the attract loop
(:class:`~experience.app.kiosk.AttractLoop`) mirrored on the monitor, and ``heartbeat()`` called
every frame so that `astp kiosk --supervise` watches it exactly like the touch kiosk.
Until that exists, ``vr_station = true`` is refused when the config is checked.
"""

from __future__ import annotations

import importlib.util


def vr_available() -> str | None:
    """None when a VR front end with the kiosk hook is installed; else why not (a phrase)."""
    if importlib.util.find_spec("experience.frontends.vr") is None:
        return "this build has no VR front end ('astp vr', issue #11)"
    import experience.frontends.vr as vr

    if not hasattr(vr, "run_kiosk_station"):
        return "the VR front end has no kiosk station hook (experience.frontends.vr.run_kiosk_station) yet"
    return None
