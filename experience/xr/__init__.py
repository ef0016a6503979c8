"""The OpenXR boundary of the VR front end (issue #11).

- :mod:`experience.xr.runtime`: finding and describing the runtime (``astp vr --check``), one-line
  errors when there is none.
- :mod:`experience.xr.xrmath`: pose, field-of-view and projection math with pyglm, converted once
  into Panda3D types (OpenXR's +Y-up, -Z-forward frame -> the model frame and Panda3D's +Y forward).
- :mod:`experience.xr.session`: instance, system and session lifecycle, frame pacing by
  ``xrWaitFrame``, swapchains, projection layers, actions.
- :mod:`experience.xr.tracking`: what the crossing's movement plugs into: head and hand poses in,
  grab / pull intents out.
- :mod:`experience.xr.monado`: the headless Monado runtime set up by tools/setup_monado.sh, started
  and stopped with the environment that works here (tests, benchmark).

pyopenxr (``import xr``) is imported lazily: the rest of the program never needs it.
"""
