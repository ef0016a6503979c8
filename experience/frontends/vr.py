"""`astp vr`: the mission in an OpenXR headset, one more front end on the one application loop.

    astp vr [--at ISO8601 | --event ID] [--frames N] [--json] [--save-eye FILE.png] [--turn snap|smooth]
    astp vr --check [--json]          the runtime, system, views, swapchain formats, extensions
    astp vr --fallback desktop        the desktop viewer instead (also when no headset is there)

The visitor starts at 1:1 scale in the Command Module at 19:10 UTC on 17 July 1975 (nine minutes
before the Stafford-Leonov handshake), floating below the tunnel, facing it. Per frame:

    OpenXR events -> xrWaitFrame -> head, eyes, hands, tracked hand joints (reference space)
      -> TrackingOrigin (model frame) -> the movement model (the crossing's by default:
         experience.app.vr_crossing.CrossingMovement on the desktop's Crossing; --movement free: FreeFloat)
      -> Experience.step (story clock, snapshot; the cabin camera follows the head)
      -> both eyes: one SceneRenderer(stereo=True).prepare at the eyes' midpoint, each eye's offset
         and field of view in its stereo lens matrix, one cull per pass, one draw of both halves
         (``--cull per-eye``, or eyes that do not look the same way: prepare + draw per eye)
      -> each eye's crop -> its swapchain -> xrEndFrame (one projection layer)

The eyes' picture is drawn by the same SceneRenderer as the stills and the desktop window (FAR
pass for the Earth and sky, NEAR pass for the spacecraft, tone map), placed in float64 km ECI
(the render boundary keeps the Earth at 6,600 km and a handrail at 30 cm in one frame), and each
eye's asymmetric frustum drawn as a crop of the enclosing symmetric one
(experience.xr.xrmath.EyeFrustum).

Where there is no runtime, no headset or the session is lost: one line naming what is missing
and how to fix it, exit code 2 (or the desktop viewer with ``--fallback desktop``).
"""

from __future__ import annotations

import json
import math
import sys
import time

import numpy as np

from experience.errors import AstpError

START_UTC = "1975-07-17T19:10:00Z"
# Start points on the stack's axis (model frame, m), all facing +Y (toward Soyuz): the CM below its
# tunnel; the Docking Module's middle (its cabin spans y = 0.60 .. 2.75); the Soyuz orbital module
# beyond its hatch, in front of Leonov and Kubasov, clear of the space they take (the crossing's crew boxes).
# dm, om: clear of the crews where the story has them at the place's time (Stafford and Slayton in
# the DM at 18:29, Leonov reaching into the tunnel at 19:19; tests/test_crossing.py)
PLACES = {"cm": None, "tunnel": (0.0, -0.6, 0.0), "dm": (0.0, 1.8, 0.05), "om": (0.1, 3.7, 0.3)}
LAMPS = {"cm": None, "tunnel": None, "dm": (0.0, 1.0, 0.45), "om": (0.0, 4.0, 0.3)}   # illustrative cabin floodlights
LOG_KEEP_FRAMES = 20_000   # per-frame logs and frame times kept in a long session (VrFrontEnd.trim)
HEAD_AT_REST_M = (0.0, 1.6, 0.0)   # head:still: standing at the room's centre, facing -Z (the centre of Monado's sway)
CABIN_EXPOSURE = 0.35   # the CM cabin is small and its floodlight near: less exposure than the DM's still


def add_parser(sub, add_backend) -> None:
    p = sub.add_parser("vr", help="the mission in an OpenXR headset (SteamVR, Quest Link, Monado, WMR, Varjo)",
                       description="Float through the Command Module, the tunnel and the Docking Module into Soyuz "
                                   "at 1:1 scale, in any OpenXR headset.")
    p.add_argument("--check", action="store_true", help="report the OpenXR runtime, headset, views, swapchain formats "
                                                          "and extensions without starting a session")
    p.add_argument("--json", action="store_true", help="machine-readable report (--check, --frames)")
    p.add_argument("--fallback", choices=("desktop", "none"), default="none",
                   help="what to open when VR cannot start (default: none, an error)")
    when = p.add_mutually_exclusive_group()
    when.add_argument("--at", metavar="ISO8601", help=f"start at this UTC instant (default: {START_UTC})")
    when.add_argument("--event", metavar="ID", help="start at a timeline event or story preset")
    p.add_argument("--frames", type=int, metavar="N", help="run N frames and end the session (scripted runs, benchmark)")
    p.add_argument("--save-eye", metavar="FILE.png", help="at the end, write the left eye's last picture as the runtime got it")
    p.add_argument("--turn", choices=("snap", "smooth"), help="turning with the right thumbstick (default: the settings')")
    p.add_argument("--language", metavar="LANG", help="caption language (en, ru)")
    p.add_argument("--quality", choices=("low", "medium", "high"), help="scene detail (default: the settings')")
    p.add_argument("--vignette", type=float, metavar="0..1", help="comfort vignette strength while gliding or turning "
                                                                   "(default: the settings', 0.6; 0 = off)")
    p.add_argument("--posture", choices=("standing", "seated"), default="standing",
                   help="standing: the room-scale STAGE space where the runtime offers it; seated: the LOCAL space "
                        "(default: standing)")
    p.add_argument("--place", choices=tuple(PLACES), default="cm",
                   help="where the visitor starts: cm (the Command Module, default), tunnel (the CM's tunnel, "
                        "below the docking ring), dm (the Docking Module), om (the Soyuz orbital module)")
    p.add_argument("--movement", choices=("crossing", "free"), default="crossing",
                   help="crossing (default): the crossing's handholds, walls, hatches and airlock, as on the desktop; "
                        "free: float anywhere in the cabins, grabbing the air")
    p.add_argument("--dt", type=float, metavar="S", help="a fixed time step per frame for scripted runs (default: the "
                                                          "wall time between frames)")
    p.add_argument("--cull", choices=("shared", "per-eye"), default="shared",
                   help="shared (default): both eyes drawn in one render with one scene traversal (cull) per pass "
                        "where the eyes look the same way; per-eye: one render per eye (for comparison)")
    p.add_argument("--save-settings", action="store_true", help="keep --turn and --vignette in the settings file")
    p.add_argument("--inject", action="append", default=[], metavar="HAND:ACTION=VALUE",
                   help="inject an action value for a scripted run, e.g. right:grip=1 (where the runtime cannot press)")
    add_backend(p)


# ------------------------------------------------------------------------------------------------
def eye_placement(snapshot, eye_model, frustum, *, lamp_m=None, exposure: float = 1.0):
    """The scene's camera for one eye: its model-frame pose (float64 m) -> float64 km ECI and an
    ECI basis (right, forward, up), the symmetric fov enclosing the eye's frustum, cabin near."""
    from experience.scene import views
    from experience.scene.vehicles import model_to_eci
    from experience.xr.tracking import CM_LAMP_MODEL_M, NEAR_M
    from experience.xr.xrmath import camera_basis

    state = snapshot.vehicles["apollo"]
    rot = model_to_eci(state)
    cam_km = views.model_point_km(state, eye_model.position_m)
    basis = camera_basis(eye_model.rotation, rot)
    lamp = views.model_point_km(state, np.asarray(lamp_m or CM_LAMP_MODEL_M, dtype=np.float64))
    return views.Placement("vr", cam_km, basis, frustum.fov_x_deg(), NEAR_M, True, False, None, exposure * CABIN_EXPOSURE, lamp)


def vignette_mask(frustum, size) -> np.ndarray:
    """The comfort vignette for one eye, (H, W) float32: 1 in the middle, falling to 0.15 at the
    frustum's edge, centred on the eye's own optical axis (the asymmetric frustum's centre of
    projection, not the picture's middle)."""
    w, h = size
    f = frustum
    tx = np.linspace(f.tan_left, f.tan_right, w)
    ty = np.linspace(f.tan_down, f.tan_up, h)
    gx, gy = np.meshgrid(tx / max(abs(f.tan_left), f.tan_right), ty / max(abs(f.tan_down), f.tan_up))
    r = np.hypot(gx, gy)
    t = np.clip((r - 0.45) / 0.5, 0.0, 1.0)
    return (1.0 - 0.85 * t * t * (3.0 - 2.0 * t)).astype(np.float32)


def constraint_hold(constraint):
    """A ``hold(from_m, to_m) -> (point, hit)`` from a cabin constraint (point -> point inside):
    what keeps the keepsakes in the cabins with ``--movement free``."""
    def hold(_from_m, to_m):
        to = np.asarray(to_m, dtype=np.float64)
        p = np.asarray(constraint(to), dtype=np.float64)
        return p, bool(np.linalg.norm(p - to) > 1e-9)

    return hold


_RECEIVER: dict = {}


def receiver_hand_m(arrangement: str, person: str = "leonov", side: str = "r") -> tuple:
    """The middle of ``person``'s palm (model frame, m) in a crew arrangement of
    data/mission/crew_figures.toml, as the scene's figures have it (forward kinematics)."""
    key = (arrangement, person, side)
    if key not in _RECEIVER:
        from experience.scene.modelgen import crew

        table = crew.load_table()
        h = crew.world_joints(arrangement, table)[person][f"hand_{side}"]
        p = h[:3, :3] @ crew.grip_point(crew.people(table)[person].height, side) + h[:3, 3]
        _RECEIVER[key] = tuple(float(v) for v in p)
    return _RECEIVER[key]


class VrFrontEnd:
    """One headset session around one :class:`~experience.app.experience.Experience`."""

    def __init__(self, experience, *, movement=None, turn: str = "snap", quality: dict | None = None,
                 vignette: float = 0.6, snap_deg: float = 30.0, posture: str = "standing", start_m=None,
                 lamp_m=None, crossing=None, user_presence: bool = False, cull: str = "shared"):
        from experience.xr.actions import Actions
        from experience.xr.session import VrSession
        from experience.xr.tracking import FreeFloat, TrackingOrigin

        self.exp = experience
        self.exp.camera.set_mode("cabin")
        self.actions = Actions()
        self.vs = VrSession(actions=self.actions, prefer_stage=(posture == "standing"),
                            user_presence=user_presence).open()
        self.origin = TrackingOrigin() if start_m is None else TrackingOrigin(start_m)
        self.posture = posture
        self.lamp_m = lamp_m
        self.crossing_mode = None
        if crossing is not None and movement is None:   # the crossing (issue #10) on the one loop, driven by the hands
            from experience.app.crossing import CrossingMode
            from experience.app.vr_crossing import CrossingMovement

            self.crossing_mode = CrossingMode(self.exp, crossing, external=True)
            movement = CrossingMovement(self.origin, crossing, turn=turn, snap_deg=snap_deg)
        self.movement = movement or FreeFloat(self.origin, constraint=self.exp.camera.cabin_constraint, turn=turn,
                                              snap_deg=snap_deg)
        self.vignette = float(vignette)
        self.comfort = 0.0                    # this frame's vignette strength (0 = none)
        self.comfort_max = 0.0
        self._masks: dict = {}
        from experience.mission import data

        self.handshake_t_s = self.exp.clock.t_s(data.event("handshake").utc)
        self.handshake_pulses = 0
        from experience.frontends.vr_wrist import WristPanel

        self.wrist = WristPanel()
        self._recentre_was = False
        self._left_model = self._head_model = None
        self._left_held = True                 # (_panel_hand: the left hand held inside the walls this frame)
        self.snap_deg = float(snap_deg)
        self.renderer = None                  # one eye at a time (--cull per-eye, or eyes that are not parallel)
        self.stereo_renderer = None           # both eyes in one render, one cull (the default)
        self.cull = cull
        self.stereo_frames = 0                # frames drawn with the shared cull
        self.cull_fallback_frame = None       # the frame the eyes stopped looking the same way (per eye from then)
        self._stereo = None
        self.quality = quality or {}
        self.frames = 0
        self.head_log: list[dict] = []      # per drawn frame: head (reference space), left eye camera (ECI basis)
        self.last_intents = None
        self._last_wall = None
        self.fixed_dt_s: float | None = None  # --dt: a fixed step per frame (scripted runs)
        self.snap_ms: list[float] = []
        self.status_lines: list[str] = []
        self._said_focused = False
        self.hand_log: list[dict] = []
        self.fade_drawn = 0                   # eyes drawn faded (the head pushed into a wall)
        self.scene_hatches: dict = {}         # the hatches the eyes' scene last drew (the crossing's)
        self._right_model = None
        self.moves: dict = {}                 # hand or head -> [(delta m in the reference space, first frame, N frames)]
        self.head_still = False               # --inject head:still=1: the head held at rest (a scripted run)
        self._head_now = None
        self.timed: list = []                 # (hand, action, value, first frame, end frame or None)
        self.reaches: list = []               # (hand, target, first frame, end frame): scripted reaches (--inject)
        # the keepsakes (the plaque halves, the flags: experience/simulation/keepsakes.py), held
        # inside the crossing's collision volume (or the cabin constraint with --movement free)
        from experience.simulation.keepsakes import Keepsakes

        self.crossing = crossing
        if crossing is not None:   # the walls' hold, remembering its last answers (a keepsake at rest)
            from experience.app.vr_crossing import MemoHold

            hold = getattr(self.movement, "hold", None)
            self._hold = hold if isinstance(hold, MemoHold) and hold.crossing is crossing else MemoHold(crossing)
            body0 = crossing.eye_m
        else:
            from experience.app.cameras import default_cabin_constraint

            self._hold = constraint_hold(getattr(self.movement, "constraint", None) or self.exp.camera.cabin_constraint
                                         or default_cabin_constraint)
            body0 = self.origin.start_m
        self.keepsakes = Keepsakes(body0, hold=self._hold, receiver_m=self._receiver_m())
        self.handheld = None                  # the scene's keepsakes and hands (built with the renderer)
        self.hands_drawn: dict = {}           # side -> what this frame draws ({matrix, closed, joints})
        self.hand_draw_log: list[dict] = []
        self._ks_notice = ("", -1.0)
        self.joint_grips: dict = {}           # hand -> the grip its tracked joints gave (last frame)
        self.joints_source: dict = {"left": "none", "right": "none"}   # runtime | injected | none (last frame)
        self.keepsake_lines: list[str] = []   # every keepsake line the wrist panel was given
        self._sim_t = 0.0

    def _renderer_for(self, eye, stereo: bool = False):
        """The eyes' renderer, made at the first frame: ``stereo`` one picture of both eyes side
        by side with one cull per pass (SceneRenderer(stereo=True)), else one eye at a time."""
        have = self.stereo_renderer if stereo else self.renderer
        if have is None:
            self.vs.stats.exclude_current = True   # shaders, buffers, scene: one-time, not a frame's cost
            from experience.scene.config import RenderConfig
            from experience.scene.renderer import SceneRenderer

            size = eye.frustum.render_size(*eye.size)
            self.render_size = size
            have = SceneRenderer(RenderConfig(size=size, supersample=1, **self.quality), stereo=stereo)
            if stereo:
                self.stereo_renderer = have
            else:
                self.renderer = have
            # Xlib's error handler is per process (Panda3D's): the session's GLFW/GLX context switches
            # make it print harmless "BadMatch" lines for every eye; keep them off the terminal.
            from panda3d.core import NS_fatal, Notify

            for cat in (":display:x11display", ":display:glxdisplay"):
                Notify.ptr().getCategory(cat).setSeverity(NS_fatal)
        return have

    # -- per frame -------------------------------------------------------------------------------
    def _eye_model(self, eye):
        """An eye's pose in the model frame: the runtime's (plus injected head motion), shifted
        where the walls hold the head."""
        from experience.xr.xrmath import Pose

        eye_model = self.origin.to_model(self._moved("head", eye.pose))
        intents = self.last_intents
        if intents is not None and np.any(intents.view_shift_m):   # the walls hold the head: the eyes with it
            eye_model = Pose(eye_model.position_m + intents.view_shift_m, eye_model.rotation)
        return eye_model

    def _shared_cull(self, info) -> bool:
        """Both eyes in one render (one cull per pass) where they can be: two eyes looking the
        same way (parallel, as the common headsets' and Monado's are) with the same symmetric
        render and picture size; canted eyes, or ``--cull per-eye``, draw one eye at a time."""
        if self.cull != "shared" or len(info.eyes) != 2:
            return False
        a, b = info.eyes
        if a.size != b.size or a.frustum.render_size(*a.size) != b.frustum.render_size(*b.size):
            return False
        if abs(a.frustum.tan_x - b.frustum.tan_x) > 1e-9 or abs(a.frustum.tan_y - b.frustum.tan_y) > 1e-9:
            return False
        cos = (np.trace(a.pose.rotation.T @ b.pose.rotation) - 1.0) / 2.0
        return bool(cos > math.cos(math.radians(0.05)))

    def _draw(self, info, eye):
        if eye.index == 0:
            self._prepare_frame(info)
            share = self._shared_cull(info) and self.renderer is None   # once per eye, per eye from then on
            if not share and self.stereo_renderer is not None:   # the eyes stopped looking the same way
                self.stereo_renderer.close()                      # (one renderer at a time: see docs/vr.md)
                self.stereo_renderer = None
                self.cull_fallback_frame = self.frames
            self._stereo = self._draw_stereo(info) if share else None
        if self._stereo is not None:
            crop, eye_model = self._stereo[eye.index]
            self.stereo_frames += eye.index == 0
            return self._finish_eye(eye, crop, eye_model)
        r = self._renderer_for(eye)
        eye_model = self._eye_model(eye)
        placement = eye_placement(self.exp.snapshot, eye_model, eye.frustum, lamp_m=self.lamp_m)
        self._prepare_scene(r)
        r.prepare(self.exp.snapshot, placement=placement)
        self._draw_handheld(r, eye.index)
        raw = self._render_read(r, self.render_size)
        if eye.index == 0:
            self._log_head(info, placement, eye, eye_model)
        w, h = eye.size
        x0, y0 = eye.frustum.crop(self.render_size, w, h)
        return self._finish_eye(eye, raw[y0:y0 + h, x0:x0 + w], eye_model)

    def _prepare_scene(self, r) -> None:
        if self.crossing_mode is not None:   # the crossing's hatches, lamp and gauges, as on the desktop
            self.crossing_mode.prepare_scene(r)
            self.scene_hatches = dict(getattr(r.vehicles, "crossing_hatches", None) or {})

    def _render_read(self, r, size) -> np.ndarray:
        """Draw what was prepared; the picture as bottom-up rows (H, W, 3), as GL wants them."""
        from experience.scene.renderer import quiet_teardown

        with quiet_teardown():  # Panda3D's GLX buffers beside the session's GLFW context: harmless BadMatch notices
            r.render_frame()
        return r.read_rows().reshape(size[1], size[0], 3)

    def _draw_stereo(self, info) -> list:
        """Both eyes in one render: the scene placed once at the eyes' midpoint (looking their
        way), each eye its offset from there in the stereo lens; one cull per pass, one read-back
        of the side-by-side picture. Returns [(crop, eye_model)] for the left and right eye."""
        from experience.xr.xrmath import Pose

        left, right = info.eyes
        r = self._renderer_for(left, stereo=True)
        models = [self._eye_model(e) for e in info.eyes]
        rot = models[0].rotation
        centre = Pose(0.5 * (models[0].position_m + models[1].position_m), rot)
        placement = eye_placement(self.exp.snapshot, centre, left.frustum, lamp_m=self.lamp_m)
        # each eye's offset from the centre in the camera's axes (x right, y forward, z up)
        eyes = [(rot[:, 0] @ d, -rot[:, 2] @ d, rot[:, 1] @ d)
                for d in (m.position_m - centre.position_m for m in models)]
        self._prepare_scene(r)
        r.prepare(self.exp.snapshot, placement=placement, eyes=eyes)
        self._draw_handheld(r, 0)
        rw, rh = self.render_size
        raw = self._render_read(r, (2 * rw, rh))
        self._log_head(info, eye_placement(self.exp.snapshot, models[0], left.frustum, lamp_m=self.lamp_m),
                       left, models[0])
        out = []
        for k, (eye, model) in enumerate(zip(info.eyes, models)):
            w, h = eye.size
            x0, y0 = eye.frustum.crop(self.render_size, w, h)
            out.append((raw[y0:y0 + h, k * rw + x0:k * rw + x0 + w], model))
        return out

    def _log_head(self, info, placement, eye, eye_model) -> None:
        if info.head is None:
            return
        self.head_log.append({"frame": self.frames, "head_ref": info.head.position_m.tolist(),
                              "head_fwd_ref": (-info.head.rotation[:, 2]).tolist(),
                              "eye_basis_eci": placement.basis.tolist(), "eye_km": placement.camera_km.tolist(),
                              "head_model": self.origin.to_model(info.head).position_m.tolist(),
                              "eye_fwd_model": (eye_model.rotation @ np.array([0.0, 0.0, -1.0])).tolist(),
                              "eye_model": eye_model.position_m.tolist(),
                              "eye_ref": eye.pose.position_m.tolist()})

    def _finish_eye(self, eye, crop, eye_model) -> bytes:
        """One eye's picture for the runtime: the comfort vignette, the wall fade, the wrist panel."""
        intents = self.last_intents
        if self.comfort > 0.0:
            crop = (crop * self._mask(eye)[..., None] ** self.comfort).astype(np.uint8)
        fade = intents.fade if intents is not None else 0.0
        if fade > 0.0:   # the head pushed into a wall: the view fades rather than clipping through
            from experience.app.vr_crossing import apply_fade

            crop = apply_fade(crop, fade)
            self.fade_drawn += 1
        notice = self._notice()
        if self.wrist.visible or notice:
            crop = self.wrist.draw(crop, self.exp, {"turn": self.movement_turn(), "snap_deg": self.snap_deg,
                                                     "vignette": self.vignette},
                                   self._panel_hand(), self._head_model, eye_model, eye.frustum,
                                   extra=self._crossing_lines(), notice=notice)
        return np.ascontiguousarray(crop).tobytes()

    def _panel_hand(self):
        """The left hand's model pose where the wrist panel is drawn: held inside the walls
        (the movement model's ``held_hand``, worked out only on the frames the panel is drawn)."""
        if not self._left_held:
            self._left_held = True
            held_hand = getattr(self.movement, "held_hand", None)
            held = held_hand("left") if held_hand is not None else getattr(self.movement, "hands_held", {}).get("left")
            if held is not None and self._left_model is not None:   # the panel at the hand, held inside the walls
                from experience.xr.xrmath import Pose

                self._left_model = Pose(held, self._left_model.rotation)
        return self._left_model

    def _draw_handheld(self, r, eye_index: int) -> None:
        """The keepsakes and the hands into this eye's scene (experience/scene/handheld.py)."""
        state = self.exp.snapshot.vehicles.get("apollo")
        if state is None:
            return
        if self.handheld is None:
            from experience.scene.handheld import Handheld

            self.handheld = Handheld(r.vehicles.root, self.keepsakes.table["item"])
        items = [(iid, m, st) for iid, _spec, m, st in self.keepsakes.drawn()]
        self.handheld.update(r.frame, state, items, self.hands_drawn)
        if eye_index == 0 and "right" in self.hands_drawn:   # where the right hand was drawn, and where it should be
            from experience.scene import views

            form = self.handheld.shown["right"]
            if form == "joints":   # the tracked palm joint, drawn where it is tracked
                node = self.handheld.joint_nodes["right"][0]
                at = self.hands_drawn["right"]["joints"][0][0]
            else:
                node = self.handheld.hands["right"][form]
                at = self.hands_drawn["right"]["matrix"][:3, 3]
            got = node.getPos(r.near_root)
            want = r.frame.to_m(views.model_point_km(state, at))
            self.hand_draw_log.append({"frame": self.frames, "drawn_m": [float(got[0]), float(got[1]), float(got[2])],
                                       "expected_m": [float(v) for v in want], "form": self.handheld.shown["right"],
                                       "hand_model": self.hands_drawn["right"]["matrix"][:3, 3].tolist()})

    def _mask(self, eye):
        key = (eye.index, eye.size)
        if key not in self._masks:
            self._masks[key] = vignette_mask(eye.frustum, eye.size)
        return self._masks[key]

    def _prepare_frame(self, info) -> None:
        """Once per drawn frame, before the first eye: recentre, hands, movement, story step."""
        from experience.xr.tracking import TrackedPoses
        from experience.xr.xrmath import Pose

        now = time.perf_counter()
        dt = 0.0 if self._last_wall is None else min(now - self._last_wall, 0.1)
        if self.fixed_dt_s is not None and self._last_wall is not None:
            dt = self.fixed_dt_s     # a scripted run: the same motion however fast the machine draws
        self._last_wall = now
        self._head_now = info.head
        if info.head is not None and not self.origin.centred:
            self.origin.recentre(self._still(info.head))
        head_ref = self._moved("head", info.head)
        if self.timed:   # injections for a span of frames (a scripted hand over hand)
            now_on: dict = {}
            for hand, action, val, f0, f1 in self.timed:
                if f0 <= self.frames and (f1 is None or self.frames < f1):
                    now_on[(hand, action)] = val
            for hand, action, _val, _f0, _f1 in self.timed:
                self.actions.inject(hand, **{action: now_on.get((hand, action))})
        hands = self.actions.hands()
        for hand, target, f0, f1 in self.reaches:   # a scripted reach: the hand moved onto a keepsake or Leonov's hand
            if f0 == self.frames and hands[hand].pose_ref is not None:
                now = self.origin.to_model(self._moved(hand, hands[hand].pose_ref))
                goal = (self._receiver_m() if target == "leonov" else self.keepsakes.items[target].pos_m)
                delta_ref = self.origin.rotation().T @ (np.asarray(goal) - now.position_m)
                self.moves.setdefault(hand, []).append((tuple(delta_ref), f0, f1 - f0))
                self.actions.injected[hand]["pose_ref"] = "moved"
        for hand in ("left", "right"):   # injected hand motion (scripted pulls)
            hands[hand].pose_ref = self._moved(hand, hands[hand].pose_ref)
            self._tracked_joints(hands[hand], hand)
        self.wrist.update(hands["left"].menu)           # left menu: the wrist panel on / off
        self.wrist.interact(hands, self.exp, self.movement)   # ... and while it shows, a menu
        poses = TrackedPoses(self.origin.to_model(head_ref), self.origin.to_model(hands["left"].pose_ref),
                             self.origin.to_model(hands["right"].pose_ref))
        self._sim_t += dt
        self.last_intents = self.movement.update(poses, self._keepsakes_step(poses, hands, dt), dt)
        speed = float(np.linalg.norm(self.last_intents.velocity_m_s)) if not self.last_intents.grabs else 0.0
        glide = abs(hands["left"].thumbstick[0]) + abs(hands["left"].thumbstick[1])
        turning = abs(self.last_intents.turn_deg) > 0.0 or abs(hands["right"].thumbstick[0]) > 0.2
        self.comfort = self.vignette * min(1.0, max(speed / 0.5, glide, 1.0 if turning else 0.0))
        self.comfort_max = max(self.comfort_max, self.comfort)
        after = self.origin.to_model(hands["right"].pose_ref)
        self.hand_log.append({"frame": self.frames, "grip": hands["right"].grip,
                              "right_ref": None if hands["right"].pose_ref is None else hands["right"].pose_ref.position_m.tolist(),
                              "right_model": None if after is None else after.position_m.tolist(),
                              "grabs": [g.hand for g in self.last_intents.grabs],
                              "fade": round(float(getattr(self.last_intents, "fade", 0.0)), 3),
                              "body_offset_m": self.origin.offset_m.tolist(),
                              "eye_m": [round(float(v), 4) for v in self.crossing.eye_m] if self.crossing is not None else None})
        for hand, amp in (self.last_intents.haptic or {}).items():
            self.actions.pulse(self.vs, hand, amp)
        if hands["right"].menu and not self._recentre_was:
            self.origin.centred = False                 # right menu: recentre at the next frame
        self._recentre_was = hands["right"].menu
        self._left_model = self.origin.to_model(hands["left"].pose_ref)
        self._left_held = False               # the panel's hand held inside the walls: when it is drawn
        self._right_model = self.origin.to_model(hands["right"].pose_ref)
        self._head_model = self.origin.to_model(head_ref)
        self._hands_after_move(hands)
        t0 = time.perf_counter()
        head_model = self._head_model
        if head_model is not None:  # the desktop cabin camera follows the head (HUD, status)
            cam = self.exp.camera
            cam.cabin_eye_m = head_model.position_m.copy()
            fwd = head_model.rotation @ np.array([0.0, 0.0, -1.0])
            cam.cabin_yaw_deg = math.degrees(math.atan2(-fwd[0], fwd[1]))
            cam.cabin_pitch_deg = math.degrees(math.asin(max(-1.0, min(1.0, fwd[2]))))
        before = self.exp.playback.t_s
        self.exp.step(dt)
        after_t = self.exp.playback.t_s
        if min(before, after_t) < self.handshake_t_s <= max(before, after_t):   # 19:19:00: the handshake
            for hand in ("left", "right"):
                self.actions.pulse(self.vs, hand, 0.8, 0.3)
            self.handshake_pulses += 1
        self.snap_ms.append((time.perf_counter() - t0) * 1e3)

    def trim(self, keep: int | None = None) -> None:
        """A long session: the per-frame logs and frame statistics keep their last ``keep``
        entries (:data:`LOG_KEEP_FRAMES`; cut back once they hold twice as many), so an hour in
        the headset at 90 Hz does not grow the process."""
        keep = LOG_KEEP_FRAMES if keep is None else keep
        for xs in (self.head_log, self.hand_log, self.hand_draw_log, self.snap_ms, self.keepsake_lines,
                   *(getattr(self.vs.stats, n) for n in ("cpu_ms", "wait_ms", "eye_ms", "upload_ms", "setup_ms"))):
            if len(xs) > 2 * keep:
                del xs[:-keep]
        if len(self.vs.states_seen) > 100:
            del self.vs.states_seen[:-50]

    def run(self, max_frames: int | None = None, *, deadline_s: float | None = None) -> None:
        start = time.monotonic()
        self._run_start = start
        while not self.vs.done:
            if max_frames is not None and self.vs.stats.submitted >= max_frames:
                break
            if deadline_s is not None and time.monotonic() - start > deadline_s:
                self.status_lines.append(f"stopped after {deadline_s:.0f} s with {self.vs.stats.submitted} frames")
                break
            info = self.vs.run_frame(self._draw)
            if info is not None and info.should_render:
                self.frames += 1
                if self.frames % 1000 == 0:
                    self.trim()
            self._run_end = time.monotonic()
            if self.vs.state == "FOCUSED" and not self._said_focused:
                self._said_focused = True
                self.focused_at = time.monotonic()
                print(f"astp vr: session FOCUSED on {self.vs.report.get('system')} "
                      f"({self.vs.report.get('reference_space')} space)", file=sys.stderr, flush=True)

    def report(self) -> dict:
        rep = dict(self.vs.report)
        end = getattr(self, "_run_end", None)
        if end is not None and getattr(self, "focused_at", None) is not None:
            rep["focused_wall_s"] = round(end - self.focused_at, 3)
        rep.update({"posture": self.posture, "start_model_m": self.origin.start_m.tolist(),
                    "states": self.vs.states_seen, "final_state": self.vs.state, "lost": self.vs.lost,
                    "frames": self.vs.stats.summary(), "render_size": list(getattr(self, "render_size", (0, 0))),
                    "snapshot_ms_p50": round(float(np.median(self.snap_ms)), 3) if self.snap_ms else None,
                    "story_utc": self.exp.snapshot.utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if self.exp.snapshot else None,
                    "camera_mode": self.exp.camera.mode,
                    "profiles": {"accepted": self.actions.profiles_accepted, "refused": self.actions.profiles_refused},
                    "input_source": self.actions.source(),
                    "head_source": "runtime, held at rest (injected)" if self.head_still else "runtime",
                    "actions_synced": self.actions.synced,
                    "haptics_sent": self.actions.haptics_sent, "handshake_pulses": self.handshake_pulses,
                    "wrist_panel": {"visible": self.wrist.visible, "eyes_drawn": self.wrist.drawn,
                                    "notices": self.wrist.notices[-10:],
                                    "actions": self.wrist.actions_done[-20:]},
                    "language": self.exp.ui.language,
                    "comfort_vignette_max": round(self.comfort_max, 3), "turn": self.movement_turn(), "body_offset_m": self.origin.offset_m.tolist(),
                    "head_log": self.head_log[-400:], "hand_log": self.hand_log[-400:],
                    "keepsakes": {**self.keepsakes.report(), "lines": self.keepsake_lines[-20:]}, "hand_draw_log": self.hand_draw_log[-400:],
                    "hands_drawn": dict(self.handheld.shown) if self.handheld is not None else {},
                    "hand_tracking": {"runtime": {**self.vs.hands.report, "frames_located": dict(self.vs.hands.located)},
                                      "joints": dict(self.joints_source), "grip_from_joints": dict(self.joint_grips)}})
        rep["cull"] = {"asked": self.cull, "stereo_frames": self.stereo_frames,
                       "per_eye_frames": max(0, self.frames - self.stereo_frames),
                       "fell_back_at_frame": self.cull_fallback_frame,
                       "what": ("shared: both eyes in one render, one cull per pass (stereo MatrixLens)"
                                if self.stereo_frames else "per eye: one render and one cull per eye")}
        rep["movement"] = "crossing" if self.crossing_mode is not None else type(self.movement).__name__.lower()
        if hasattr(self.movement, "report"):
            rep["crossing"] = self.movement.report()
            rep["crossing"]["fade_frames_drawn"] = self.fade_drawn
            rep["crossing"]["scene_hatches"] = self.scene_hatches
        hold = self._hold
        if hasattr(hold, "hits"):   # the walls' hold of the keepsakes and hands (MemoHold): asked, answered from memory
            rep.setdefault("crossing", {})["hold_calls"] = {"asked": hold.calls, "remembered": hold.hits}
        return rep

    def _still(self, pose):
        """With ``head:still``, a head or eye pose carried by the inverse of the head's own motion
        onto a head at rest (:data:`HEAD_AT_REST_M`, facing -Z): Monado's simulated headset sways and turns with
        the wall clock (its phase at the first frame too), which a scripted run that must repeat
        cannot have. The eyes keep their offsets from the head."""
        from experience.xr.xrmath import Pose

        if pose is None or not self.head_still or self._head_now is None:
            return pose
        rest = Pose(np.asarray(HEAD_AT_REST_M, dtype=np.float64), np.eye(3))
        return rest.compose(self._head_now.inverse()).compose(pose)

    def _moved(self, what: str, pose):
        """A pose with the injected motion of ``what`` (``head``: the simulated headset cannot be
        walked headless) applied, growing over its frames (the head held first: :meth:`_still`)."""
        from experience.xr.xrmath import Pose

        if what == "head":
            pose = self._still(pose)
        if pose is None or what not in self.moves:
            return pose

        moved = np.zeros(3)
        for delta, f0, frames in self.moves[what]:
            k = min(1.0, max(0.0, (self.frames - f0) / max(1, frames)))
            moved = moved + np.asarray(delta, dtype=np.float64) * k
        return Pose(pose.position_m + moved, pose.rotation)

    def _notice(self) -> str:
        text, until = self._ks_notice
        if text and self._sim_t < until:   # the keepsakes' last line (joined, given, in your hand)
            return text
        fn = getattr(self.movement, "notice_now", None)
        return fn() if fn else ""

    # -- the keepsakes and the hands ---------------------------------------------------------------
    def _receiver_m(self):
        """Leonov's right hand (model frame) as the scene draws him: the crossing's waiting crew,
        or the story's arrangement of the moment."""
        if self.crossing_mode is not None or getattr(self, "crossing", None) is not None:
            from experience.mission.cabins import CREW_ARRANGEMENT

            return np.asarray(receiver_hand_m(CREW_ARRANGEMENT))
        cp = getattr(self.exp.snapshot, "crew", None) if self.exp.snapshot is not None else None
        return np.asarray(receiver_hand_m(cp.arrangement if cp is not None else "handshake"))

    def _tracked_joints(self, hi, hand: str) -> None:
        """A tracked hand's joints (XR_EXT_hand_tracking) in the reference space; the fingers'
        curl or the pinch closes the hand (the grip). From the runtime (the session's
        ``xrLocateHandJointsEXT`` this frame) where it tracks that hand, else injected (``--inject
        right:joints=fist``: an injection replaces the runtime's, as for the actions) at the
        controller's grip pose. A hand the runtime tracks without a controller's pose is placed
        at its palm joint; a hand tracked neither way keeps the controller's actions."""
        from experience.xr import handtracking as ht

        tracked = (self.vs.hand_joints or {}).get(hand) if hasattr(self, "vs") else None
        if hi.joints:
            if hi.pose_ref is None:
                return
            from experience.xr.xrmath import Pose

            local, radii = ht.synthetic_joints(hi.joints, hand)
            r, p0 = hi.pose_ref.rotation, hi.pose_ref.position_m
            ref = local @ r.T + p0
            hi.joints_ref = [(Pose(p, r), float(rad)) for p, rad in zip(ref, radii)]
            self.joints_source[hand] = "injected"
        elif tracked is not None:
            ref = tracked.positions_m
            hi.joints_ref = tracked.poses()
            if hi.pose_ref is None:   # bare hands: the hand is where its palm is
                hi.pose_ref = hi.joints_ref[ht.PALM][0]
            self.joints_source[hand] = "runtime"
        else:
            self.joints_source[hand] = "none"
            return
        hi.grip = max(hi.grip, ht.grip_from_joints(ref)[0])
        self.joint_grips[hand] = round(hi.grip, 3)

    def _keepsakes_step(self, poses, hands: dict, dt: float) -> dict:
        """The keepsakes before the movement: a hand closing on one takes it, one opening lets go
        (handed over at Leonov's hand from the handshake on). Returns the hands for the movement
        model: a hand that holds a keepsake holds no handrail (its grip is not the movement's)."""
        import dataclasses as dc

        from experience.simulation.keepsakes import Hand, notice_for

        ks_hands = {}
        for name in ("left", "right"):
            pose = getattr(poses, name)
            if pose is not None:
                ks_hands[name] = Hand(pose.position_m, pose.rotation, hands[name].grip)
        eye = poses.head.position_m if poses.head is not None else None
        if self.crossing is not None:
            eye = self.crossing.eye_m    # the body, inside the walls
        events = self.keepsakes.update(ks_hands, dt, hold=self._hold, receiver_m=self._receiver_m(),
                                       receiving=self.exp.playback.t_s >= self.handshake_t_s, eye_m=eye)
        for ev in events:
            line = notice_for(ev)
            if line:
                self._ks_notice = (line, self._sim_t + 4.0)
                self.keepsake_lines.append(line)
            if ev.hand and ev.what in ("grab", "handed", "taken"):
                self.actions.pulse(self.vs, ev.hand, 0.2)
            elif ev.hand and ev.what in ("joined", "given"):
                self.actions.pulse(self.vs, ev.hand, 0.6, 0.1)
        out = dict(hands)
        for name in ("left", "right"):
            if self.keepsakes.held(name) is not None:
                out[name] = dc.replace(hands[name], grip=0.0)
        return out

    def _hands_after_move(self, hands: dict) -> None:
        """After the body moved: the held keepsakes follow the hands, and what each hand looks
        like this frame (grip pose, closed or open, tracked joints)."""
        from experience.simulation.keepsakes import GRIP_CLOSED, Hand

        drawn, carried = {}, {}
        for name in ("left", "right"):
            hi = hands[name]
            pose = self.origin.to_model(hi.pose_ref)
            if pose is None:
                continue
            carried[name] = Hand(pose.position_m, pose.rotation, hi.grip)
            m = np.eye(4)
            m[:3, :3], m[:3, 3] = pose.rotation, pose.position_m
            entry = {"matrix": m, "closed": bool(hi.grip >= GRIP_CLOSED or self.keepsakes.held(name) is not None)}
            joints = getattr(hi, "joints_ref", None)
            if joints is not None:
                entry["joints"] = [(self.origin.to_model(jp).position_m, r) for jp, r in joints]
            drawn[name] = entry
        self.keepsakes.carry(carried)
        self.hands_drawn = drawn

    def _crossing_lines(self) -> list[str]:
        """The crossing's lines on the wrist panel: room, pressures, what the trigger does here."""
        if self.crossing_mode is None:
            return []
        from experience.i18n import _

        lines = self.crossing_mode.hud_lines()[:2]
        hand = getattr(self, "_right_model", None)
        label = self.movement.near_action(None if hand is None else hand.position_m)
        if label:
            lines.append(_("Trigger: {action}").format(action=label))
        return lines

    def movement_turn(self):
        return getattr(self.movement, "turn", None)

    def close(self) -> None:
        try:
            self.vs.shutdown()
        finally:
            self.vs.close()
            for name in ("renderer", "stereo_renderer"):
                r = getattr(self, name, None)
                if r is not None:
                    r.close()
                    setattr(self, name, None)


# ------------------------------------------------------------------------------------------------
def _parse_inject(items) -> list[tuple[str, str, object, int | None, int | None]]:
    """HAND:ACTION=VALUE[@F0[-F1]] -> (hand, action, value, first frame, end frame); without @ the
    value holds for the whole run (a move: over the first 30 frames)."""
    out = []
    for item in items:
        try:
            hand, rest = item.split(":", 1)
            action, value = rest.split("=", 1)
        except ValueError:
            raise AstpError(f"--inject {item!r}: write HAND:ACTION=VALUE, e.g. right:grip=1") from None
        f0 = f1 = None
        if "@" in value:
            value, when = value.split("@", 1)
            try:
                a, _sep, b = when.partition("-")
                f0, f1 = int(a), (int(b) if b else None)
            except ValueError:
                raise AstpError(f"--inject {item!r}: write @F0 or @F0-F1 (frame numbers), e.g. right:grip=1@20-60") from None
            if f0 < 0 or (f1 is not None and f1 <= f0):
                raise AstpError(f"--inject {item!r}: the frames run from F0 to a later F1")
        if hand not in ("left", "right", "head"):
            raise AstpError(f"--inject {item!r}: the hand is left or right (or head, for move and still)")
        if hand == "head" and action not in ("move", "still"):
            raise AstpError(f"--inject {item!r}: the head takes only move=DX,DY,DZ or still=1")
        if action in ("grip", "trigger"):
            val: object = float(value)
        elif action == "menu":
            val = value.lower() in ("1", "true", "yes", "on")
        elif action == "thumbstick":
            x, y = (float(v) for v in value.split(","))
            val = (x, y)
        elif action == "joints":
            if value not in ("open", "fist", "pinch"):
                raise AstpError(f"--inject {item!r}: joints=open, fist or pinch (an injected tracked hand)")
            val = value
        elif action == "reach":
            from experience.simulation.keepsakes import load_table

            val = value
            if value != "leonov" and value not in load_table()["item"]:
                raise AstpError(f"--inject {item!r}: reach=ITEM (a keepsake of data/mission/keepsakes.toml) or reach=leonov")
        elif action == "still":
            if f0 is not None or value.lower() not in ("1", "true", "yes", "on"):
                raise AstpError(f"--inject {item!r}: write head:still=1 (the whole run; no frames)")
            val = True
        elif action == "move":
            val = tuple(float(v) for v in value.split(","))
            if len(val) != 3:
                raise AstpError(f"--inject {item!r}: move=DX,DY,DZ (metres in the reference space)")
        else:
            raise AstpError(f"--inject {item!r}: the action is grip, trigger, thumbstick, menu, move, reach or joints")
        out.append((hand, action, val, f0, f1))
    return out


def cmd_vr(args) -> int:
    from experience.xr import runtime

    if args.check:
        rep = runtime.check()
        sys.stdout.write(json.dumps(rep, indent=2) + "\n" if args.json else runtime.format_check(rep))
        return 0
    if args.frames is not None and args.frames < 1:
        raise AstpError("--frames must be at least 1")
    injections = _parse_inject(args.inject)
    if getattr(args, "dt", None) is not None and not 0.0 < args.dt <= 0.1:
        raise AstpError(f"--dt {args.dt}: give a step from 0 to 0.1 s, e.g. --dt 0.0167")
    if args.save_eye:
        from experience.scene.renderer import check_writable

        check_writable(args.save_eye)
    try:
        return _run_vr(args, injections)
    except AstpError as exc:
        if args.fallback != "desktop":
            raise
        print(f"astp: VR cannot start: {exc}; opening the desktop viewer instead", file=sys.stderr)
        return _desktop(args)


def _desktop(args) -> int:
    import argparse

    from experience.frontends import desktop

    ns = argparse.Namespace(at=args.at or (None if args.event else START_UTC), event=args.event, size=None,
                            fullscreen=None, language=args.language, camera="cabin", paused=False, screenshot_dir=None,
                            status_file=None, frames=args.frames, backend=getattr(args, "backend", None))
    return desktop.cmd_viewer(ns)


def _run_vr(args, injections) -> int:
    from experience.app import settings as settings_mod
    from experience.app.experience import Experience
    from experience.backend import select_backend
    from experience.frontends.desktop import start_time_args
    from experience.mission.clock import parse_utc
    from experience.simulation.ephemeris import Ephemeris

    settings = settings_mod.load(notice=lambda m: print(m, file=sys.stderr))
    language = args.language or settings.language
    event, at = start_time_args(args)
    eph = Ephemeris(backend=select_backend(args.backend, notice=lambda _m: None))
    exp = Experience(eph, language=language, units=settings.units)
    if event:
        exp.playback.jump(event)
    else:
        exp.playback.seek(eph.clock.t_s(at or parse_utc(START_UTC)))
    turn = args.turn or settings.vr_turn
    if args.vignette is not None and not 0.0 <= args.vignette <= 1.0:
        raise AstpError(f"--vignette {args.vignette}: give a strength from 0 (off) to 1")
    vignette = settings.vr_vignette if args.vignette is None else args.vignette
    if args.save_settings:
        settings = settings.replace(vr_turn=turn, vr_vignette=float(vignette))
        settings_mod.save(settings)
    quality = {"low": dict(earth_segments=128, atmosphere_steps=6), "medium": {}, "high": {}}[args.quality or settings.quality]
    from experience.xr.runtime import RuntimeLog

    with RuntimeLog() as log:  # the runtime's own C-level messages stay off the terminal
        crossing = None
        start_m = PLACES[args.place]
        if getattr(args, "movement", "crossing") == "crossing":
            crossing = crossing_at(args.place)
            start_m = tuple(crossing.eye_m)
        return _session(args, exp, injections, log, turn=turn, quality=quality, vignette=vignette,
                        snap_deg=settings.vr_snap_deg, posture=args.posture, start_m=start_m,
                        lamp_m=LAMPS[args.place], crossing=crossing, cull=getattr(args, "cull", "shared"))


# The crossing's airlock where each place starts: the CM and the DM at the crossing's start (18:29
# UTC: the DM open to the CM at 258 mmHg, the Soyuz at 520 behind its closed hatch; the story clock
# still starts at 19:10), the orbital module at the handshake (the Soyuz hatch open).
CROSSING_AIRLOCK = {"cm": "crossing_start", "tunnel": "crossing_start", "dm": "crossing_start", "om": "handshake"}


def crossing_at(place: str):
    """A :class:`~experience.simulation.crossing.Crossing` with its eye at a VR start place."""
    from experience.simulation import airlock as sa
    from experience.simulation.crossing import Crossing

    return Crossing(airlock=sa.Airlock.at(CROSSING_AIRLOCK[place]), start_m=PLACES[place])   # cm: the crossing's own start


def _session(args, exp, injections, log, **kw) -> int:
    front = VrFrontEnd(exp, **kw)
    front.fixed_dt_s = getattr(args, "dt", None)
    for hand, action, val, f0, f1 in injections:
        if action == "still":    # the head held at rest (the runtime's head sways by itself)
            front.head_still = True
        elif action == "reach":  # the hand moved onto a keepsake (or Leonov's hand) over frames F0..F1
            start = f0 or 0
            front.reaches.append((hand, val, start, f1 if f1 is not None else start + 30))
        elif action == "move":   # the tracked pose moved by DX,DY,DZ over frames F0..F1 (default: the first 30)
            start = f0 or 0
            front.moves.setdefault(hand, []).append((val, start, (f1 if f1 is not None else start + 30) - start))
            if hand != "head":
                front.actions.injected[hand]["pose_ref"] = "moved"
        elif f0 is None:
            front.actions.inject(hand, **{action: val})
        else:
            front.timed.append((hand, action, val, f0, f1))
    code = 0
    try:
        front.run(args.frames, deadline_s=None if args.frames is None else 60.0 + args.frames * 0.5)
        image = front.vs.read_image(0) if (args.save_eye and front.vs.stats.submitted and not front.vs.lost) else None
    finally:
        lost = front.vs.lost
        front.close()
    rep = front.report()
    rep["clean_exit"] = (not lost) and front.vs.done or (args.frames is not None and not lost)
    if image is not None:
        from experience.scene.renderer import write_png

        write_png(image, args.save_eye, {"Software": "Handshake in Orbit (astp vr)",
                                         "Title": "left eye, as submitted to the OpenXR runtime"})
        rep["eye_png"] = str(args.save_eye)
    if args.json:
        sys.stdout.write(json.dumps(rep, indent=2) + "\n")
    else:
        fr = rep["frames"]
        print(f"astp vr: {rep['system']} on {rep['runtime']}: {fr['submitted']} frames submitted "
              f"({fr['missed']} missed), CPU {fr['cpu_ms']['p50']} ms per frame (p50), states {' -> '.join(rep['states'])}")
    if lost:
        said = log.last_error()
        raise AstpError(f"{lost}{f' (the runtime said: {said})' if said else ''}; restart the runtime (or the "
                        "headset) and run 'astp vr' again, or 'astp vr --fallback desktop'")
    return code
