"""A headset's proximity sensor, injected at the pyopenxr boundary (tests only).

No runtime here offers XR_EXT_user_presence (headless Monado 25 does not) and no physical
headset's proximity sensor can exist on a test machine, so :func:`install` makes the real
runtime *look* as if it offered it, touching only pyopenxr's module functions, and everything
else (instance, system, session, frames, states, the station and kiosk above it) stays real:

- ``xr.enumerate_instance_extension_properties``: the runtime's list plus ``XR_EXT_user_presence``;
- ``xr.InstanceCreateInfo``: the extension taken out of the names actually passed to the runtime
  (it would refuse an extension it does not have);
- ``xr.raw_functions.xrGetSystemProperties``: the real call without our chained
  ``XrSystemUserPresencePropertiesEXT``, then ``supportsUserPresence = XR_TRUE`` written into it;
- ``xr.poll_event``: when the control file changes (a line ``SEQ PRESENT``, written by the test),
  one ``XrEventDataUserPresenceChangedEXT`` for the real session, with ``isUserPresent = PRESENT``;
  otherwise the runtime's own events.

Run a program with it: ``python tests/xr_presence_fake.py CONTROL_FILE -- ARGS`` (ARGS go to
``astp``'s command line, experience.frontends.cli.main).
"""

from __future__ import annotations

import ctypes
import sys
from pathlib import Path

EXT = "XR_EXT_user_presence"


def install(control: Path) -> dict:
    import xr

    state = {"session": None, "seq": None, "injected": 0}
    real_enum = xr.enumerate_instance_extension_properties
    real_info = xr.InstanceCreateInfo
    real_gsp = xr.raw_functions.xrGetSystemProperties
    real_poll = xr.poll_event
    real_create_session = xr.create_session

    def enumerate_instance_extension_properties(layer_name=None):
        props = list(real_enum(layer_name))
        if not any(p.extension_name in (EXT, EXT.encode()) for p in props):
            props.append(xr.ExtensionProperties(extension_name=EXT, extension_version=1))
        return props

    def InstanceCreateInfo(*args, **kw):  # noqa: N802 - stands in for the class
        names = kw.get("enabled_extension_names")
        if names:
            kw["enabled_extension_names"] = [n for n in names if n != EXT]
        return real_info(*args, **kw)

    def xrGetSystemProperties(instance, system_id, props_ref):  # noqa: N802
        props = props_ref._obj
        chained = props.next
        props.next = None
        result = real_gsp(instance, system_id, props_ref)
        props.next = chained
        while chained:
            head = ctypes.cast(chained, ctypes.POINTER(xr.SystemUserPresencePropertiesEXT)).contents
            if int(head.type) == int(xr.StructureType.SYSTEM_USER_PRESENCE_PROPERTIES_EXT):
                head.supports_user_presence = 1
            chained = head.next
        return result

    def create_session(instance, create_info=None):
        s = real_create_session(instance, create_info)
        state["session"] = s
        return s

    def poll_event(instance):
        try:
            line = control.read_text().split()
        except OSError:
            line = []
        if len(line) == 2 and line[0] != state["seq"] and state["session"] is not None:
            state["seq"] = line[0]
            state["injected"] += 1
            ev = xr.EventDataUserPresenceChangedEXT(session=state["session"], is_user_present=int(line[1]))
            buf = xr.EventDataBuffer()
            ctypes.memmove(ctypes.byref(buf), ctypes.byref(ev), ctypes.sizeof(ev))
            return buf
        return real_poll(instance)

    xr.enumerate_instance_extension_properties = enumerate_instance_extension_properties
    xr.InstanceCreateInfo = InstanceCreateInfo
    xr.raw_functions.xrGetSystemProperties = xrGetSystemProperties
    xr.create_session = create_session
    xr.poll_event = poll_event
    return state


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    control, rest = Path(sys.argv[1]), sys.argv[sys.argv.index("--") + 1:]
    install(control)
    from experience.frontends.cli import main

    sys.exit(main(rest))
