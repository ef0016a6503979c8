"""Offscreen stills of the crossing's rooms for the docs (960x540, the crossing's own camera and
scene): ``python tools/crossing_stills.py FOLDER [NAME ...]`` writes crossing_NAME.png for each
framing below (docs/images/crossing_cm.jpg is ``cm``, crossing_dm.jpg ``dm``, crossing_om.jpg ``om``, crossing_om_divan.jpg ``om_divan`` and crossing_sunlit.jpg ``sunlit``, saved as JPEG). The stills of the guided
crossing itself (each room and the handshake) come from tests/test_crossing_app.py with
ASTP_CROSSING_SHOTS=FOLDER."""
import datetime as dt
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import numpy as np
from PIL import Image
from experience.simulation.trajectory import mission_trajectory
from experience.simulation.ephemeris import Ephemeris
from experience.app.experience import Experience, AppLoop
from experience.app.crossing import CrossingMode
from experience.scene.config import RenderConfig
from experience.scene.renderer import SceneRenderer
from experience.simulation import airlock as sa, handshake
from experience.simulation import crossing as cs
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
exp = Experience(Ephemeris(trajectory=mission_trajectory(notice=lambda _m: None)))
shots = [  # name, story offset from the handshake (s), eye (stack frame, m), yaw, pitch (deg), horizontal fov (deg)
    # the DM from its Apollo end at 19:29: gauges on the Soyuz-end bulkhead, its hatch swung open
    # along the -X wall, lockers and handrails, Slayton above, the orbital module beyond the tunnel
    ("dm", 600.0, (0.1, 0.85, -0.3), 10.0, 10.0, None),
    # the orbital module at 19:09, before the hatch opens, from above Leonov's and Kubasov's heads
    # by the side hatch, looking across the sphere towards its -Z wall with the module's "up"
    # (towards the docking tunnel) at the top: the cupboard with its lamps and switches on the
    # left, the control panel and the divan's end on the right, a warm lamp, the tunnel's hatch
    # above; the crews float below (the widest cabin lens, 100 deg: the 2.1 m sphere is small)
    ("om", -600.0, (-0.05, 4.15, 0.6), 175.0, -80.0, 100.0),
    # the divan and the folding table from near the side hatch, level with the seat, the crews'
    # legs above: the divan in profile, its cushions, piping and upholstered base down to the wall
    ("om_divan", -600.0, (-0.15, 4.9, 0.6), 170.0, -85.0, 100.0),
    # the Command Module from above the couches' head ends, looking across the cabin towards
    # the main display console in its arc (the flight director attitude indicators along its top),
    # the cabin lamps either side, the forward tunnel above and the three couches below
    ("cm", -2400.0, (0.0, -1.5, 0.8), 0.0, -85.0, 100.0),
    # the CM at 18:39, sunlit: looking along the sunbeam from the +X side window (docs/crossing.md,
    # "Sunlight through the windows"); sunlit_shadow is the same view at 18:09, in Earth's shadow
    ("sunlit", -2400.0, (0.668, -1.563, 0.505), 167.6, 19.0, 100.0),
    ("sunlit_shadow", -4200.0, (0.668, -1.563, 0.505), 167.6, 19.0, 100.0),
]
if len(sys.argv) > 2:
    shots = [s for s in shots if s[0] in sys.argv[2:]]
r = SceneRenderer(RenderConfig(size=(960, 540)))
default_fov = exp.camera.fov_deg
try:
    for name, off, eye, yaw, pitch, fov in shots:
        lock = sa.Airlock.at(handshake.event_utc() + dt.timedelta(seconds=off))
        c = cs.Crossing(airlock=lock, start_m=eye)
        mode = CrossingMode(exp, c)
        mode.scene_prepared = lambda _r: None   # the room alone: the visitor's keepsakes, which start by the eye, not drawn
        exp.playback.seek(exp.clock.t_s(lock.utc)); exp.playback.paused = True
        loop = AppLoop(exp, r)
        exp.camera.cabin_yaw_deg, exp.camera.cabin_pitch_deg = yaw, pitch
        exp.camera.fov_deg = default_fov if fov is None else fov - 20.0   # the cabin view adds 20 deg (experience/app/cameras.py)
        for _ in range(3):
            img = loop.render_offscreen(1 / 30)
        Image.fromarray(np.asarray(img)).save(os.path.join(out, f"crossing_{name}.png"))
        print(name, c.room, c.in_crew(), float(np.asarray(img).mean()))
        mode.stop()
finally:
    r.close()
