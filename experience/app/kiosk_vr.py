"""VR station mode (``vr_station = true``): can this machine run the kiosk around `astp vr`?

The station itself is experience/frontends/vr_station.py (``run_kiosk_station``): the OpenXR
session of the VR front end and the kiosk's window on the monitor, driven by one
:class:`~experience.app.kiosk.KioskSession`. The config check (experience.app.kiosk.load_config)
asks :func:`vr_available` and refuses ``vr_station = true`` in one line where it says why not,
before anything starts; this module only looks (it opens no session and draws nothing).
"""

from __future__ import annotations

import importlib.util

STATION_MODULE = "experience.frontends.vr_station"


def vr_available() -> str | None:
    """None when the VR station can run here (its front end, the OpenXR bindings and an OpenXR
    runtime this process can load); else why not (a phrase naming the fix)."""
    if importlib.util.find_spec(STATION_MODULE) is None:
        return "this build has no VR station front end (experience/frontends/vr_station.py)"
    try:
        import xr  # noqa: F401
    except ImportError:
        return "the OpenXR bindings are not installed (pip install 'handshake-in-orbit[vr]')"
    except OSError as exc:
        return f"the OpenXR loader cannot be loaded ({exc}); reinstall pyopenxr"
    from experience.xr import runtime

    path, how = runtime.manifest_path()
    if path is None:
        import os

        if os.environ.get("XR_RUNTIME_JSON"):
            return (f"XR_RUNTIME_JSON names {os.environ['XR_RUNTIME_JSON']}, which does not exist; point it at the "
                    "headset runtime's manifest")
        return ("no OpenXR runtime is installed (no active_runtime.json); install the headset's runtime (SteamVR, "
                "Meta Quest Link, Monado, Windows Mixed Reality) and make it the active one")
    why = runtime.manifest_problem(path)
    if why:
        return f"the OpenXR runtime of {path} cannot be used: {why}"
    return None
