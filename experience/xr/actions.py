"""OpenXR actions: grip, trigger, thumbstick, menu, the hand poses and haptics, with suggested
bindings for the common controllers, and an injection point for tests.

One action set ``astp`` with, per hand (subaction paths ``/user/hand/left`` and ``/right``):

| action | type | what it does |
|---|---|---|
| ``hand_pose`` | pose (the grip pose) | where the hand is (handholds, hatches, the handshake) |
| ``grip`` | float | close the hand: grab and pull yourself (zero-g locomotion) |
| ``trigger`` | float | point / press (valves, the wrist menu) |
| ``thumbstick`` | vector2 | left: glide; right: snap or smooth turn |
| ``menu`` | boolean | the wrist menu |
| ``haptic`` | vibration | a pulse where a hand takes hold, at the handshake |

Suggested bindings (:data:`BINDINGS`): ``khr/simple_controller`` (select -> grip and trigger,
menu), ``oculus/touch_controller``, ``valve/index_controller``, ``htc/vive_controller`` (its
trackpad stands for the thumbstick), ``microsoft/motion_controller``.

Injection (:meth:`Actions.inject`): where the runtime cannot press (Monado's simulated
controllers give poses but no button presses headless), tests and scripted runs set action
values per hand; an injected value replaces the runtime's for as long as it is set. The report
(``source``) says which values came from the runtime and which were injected.
"""

from __future__ import annotations

from experience.xr import xrmath
from experience.xr.tracking import HandInput

HANDS = ("left", "right")
PROFILES = {
    "khr/simple_controller": {
        "hand_pose": "input/grip/pose", "grip": "input/select/click", "trigger": "input/select/click",
        "menu": "input/menu/click", "haptic": "output/haptic"},
    "oculus/touch_controller": {
        "hand_pose": "input/grip/pose", "grip": "input/squeeze/value", "trigger": "input/trigger/value",
        "thumbstick": "input/thumbstick", "menu": {"left": "input/menu/click"}, "haptic": "output/haptic"},
    "valve/index_controller": {
        "hand_pose": "input/grip/pose", "grip": "input/squeeze/value", "trigger": "input/trigger/value",
        "thumbstick": "input/thumbstick", "menu": "input/b/click", "haptic": "output/haptic"},
    "htc/vive_controller": {
        "hand_pose": "input/grip/pose", "grip": "input/squeeze/click", "trigger": "input/trigger/value",
        "thumbstick": "input/trackpad", "menu": "input/menu/click", "haptic": "output/haptic"},
    "microsoft/motion_controller": {
        "hand_pose": "input/grip/pose", "grip": "input/squeeze/click", "trigger": "input/trigger/value",
        "thumbstick": "input/thumbstick", "menu": "input/menu/click", "haptic": "output/haptic"},
}
ACTIONS = ("hand_pose", "grip", "trigger", "thumbstick", "menu", "haptic")


def binding_paths(profile: str) -> list[tuple[str, str]]:
    """(action, full binding path) pairs of one profile's suggested bindings."""
    out = []
    for action, where in PROFILES[profile].items():
        for hand in HANDS:
            sub = where.get(hand) if isinstance(where, dict) else where
            if sub:
                out.append((action, f"/user/hand/{hand}/{sub}"))
    return out


class Actions:
    """The action set of one session; :meth:`hands` each frame gives a :class:`HandInput` per hand."""

    def __init__(self):
        self.xr = None
        self.injected: dict[str, dict] = {h: {} for h in HANDS}
        self._state = {h: HandInput() for h in HANDS}
        self.profiles_accepted: list[str] = []
        self.profiles_refused: dict[str, str] = {}
        self.current_profile: dict[str, str | None] = {h: None for h in HANDS}
        self.haptics_sent = 0
        self.synced = 0

    def attach(self, vs) -> None:
        xr = self.xr = vs.xr
        inst = vs.inst
        self.action_set = xr.create_action_set(inst, xr.ActionSetCreateInfo(
            action_set_name="astp", localized_action_set_name="Handshake in Orbit", priority=0))
        self.hand_paths = [xr.string_to_path(inst, f"/user/hand/{h}") for h in HANDS]
        kinds = {"hand_pose": xr.ActionType.POSE_INPUT, "grip": xr.ActionType.FLOAT_INPUT,
                 "trigger": xr.ActionType.FLOAT_INPUT, "thumbstick": xr.ActionType.VECTOR2F_INPUT,
                 "menu": xr.ActionType.BOOLEAN_INPUT, "haptic": xr.ActionType.VIBRATION_OUTPUT}
        names = {"hand_pose": "Hand pose", "grip": "Grab", "trigger": "Press", "thumbstick": "Glide and turn",
                 "menu": "Wrist menu", "haptic": "Haptic pulse"}
        self.actions = {}
        for name in ACTIONS:
            arr = (xr.Path * 2)(*self.hand_paths)
            self.actions[name] = xr.create_action(self.action_set, xr.ActionCreateInfo(
                action_type=kinds[name], action_name=name, localized_action_name=names[name],
                count_subaction_paths=2, subaction_paths=arr))
        for profile in PROFILES:
            pairs = binding_paths(profile)
            bindings = [xr.ActionSuggestedBinding(self.actions[a], xr.string_to_path(inst, p)) for a, p in pairs]
            arr = (xr.ActionSuggestedBinding * len(bindings))(*bindings)
            try:
                xr.suggest_interaction_profile_bindings(inst, xr.InteractionProfileSuggestedBinding(
                    interaction_profile=xr.string_to_path(inst, f"/interaction_profiles/{profile}"),
                    count_suggested_bindings=len(bindings), suggested_bindings=arr))
                self.profiles_accepted.append(profile)
            except xr.exception.XrException as exc:
                self.profiles_refused[profile] = type(exc).__name__
        self.spaces = [xr.create_action_space(vs.session, xr.ActionSpaceCreateInfo(
            action=self.actions["hand_pose"], subaction_path=p, pose_in_action_space=xr.Posef()))
            for p in self.hand_paths]
        sets = (xr.ActionSet * 1)(self.action_set)
        xr.attach_session_action_sets(vs.session, xr.SessionActionSetsAttachInfo(
            count_action_sets=1, action_sets=sets))

    def profile_changed(self, vs) -> None:
        xr = self.xr
        for h, p in zip(HANDS, self.hand_paths):
            try:
                st = xr.get_current_interaction_profile(vs.session, p)
                path = st.interaction_profile
                self.current_profile[h] = xr.path_to_string(vs.inst, path) if path else None
            except Exception:  # noqa: BLE001 - informational only
                pass

    def sync(self, vs, display_time: int) -> None:
        """xrSyncActions and read every action (FOCUSED only: other states have no input)."""
        xr = self.xr
        active = (xr.ActiveActionSet * 1)(xr.ActiveActionSet(self.action_set, xr.NULL_PATH))
        xr.sync_actions(vs.session, xr.ActionsSyncInfo(count_active_action_sets=1, active_action_sets=active))
        self.synced += 1
        for i, (h, p) in enumerate(zip(HANDS, self.hand_paths)):
            st = self._state[h]
            g = xr.get_action_state_float(vs.session, xr.ActionStateGetInfo(self.actions["grip"], p))
            t = xr.get_action_state_float(vs.session, xr.ActionStateGetInfo(self.actions["trigger"], p))
            s = xr.get_action_state_vector2f(vs.session, xr.ActionStateGetInfo(self.actions["thumbstick"], p))
            m = xr.get_action_state_boolean(vs.session, xr.ActionStateGetInfo(self.actions["menu"], p))
            st.grip, st.trigger = float(g.current_state), float(t.current_state)
            st.thumbstick = (float(s.current_state.x), float(s.current_state.y))
            st.menu = bool(m.current_state)
            st.active = bool(g.is_active or t.is_active)
            loc = xr.locate_space(self.spaces[i], vs.space, display_time)
            ok = loc.location_flags & xr.SpaceLocationFlags.POSITION_VALID_BIT
            st.pose_ref = xrmath.pose_from_xr(loc.pose) if ok else None

    def inject(self, hand: str, **values) -> None:
        """Set action values for a hand (grip=1.0, trigger=..., thumbstick=(x, y), menu=True);
        ``None`` for a key removes that injection."""
        for k, v in values.items():
            if v is None:
                self.injected[hand].pop(k, None)
            else:
                self.injected[hand][k] = v

    def hands(self) -> dict:
        out = {}
        for h in HANDS:
            st = self._state[h]
            merged = HandInput(st.grip, st.trigger, st.thumbstick, st.menu, st.pose_ref, st.active)
            for k, v in self.injected[h].items():
                if k != "pose_ref":   # a moved pose is applied by the front end (VrFrontEnd.moves)
                    setattr(merged, k, v)
            out[h] = merged
        return out

    def source(self) -> dict:
        return {h: {k: ("runtime + injected motion" if k == "pose_ref" and k in self.injected[h]
                        else "injected" if k in self.injected[h] else "runtime")
                    for k in ("pose_ref", "grip", "trigger", "thumbstick", "menu")} for h in HANDS}

    def pulse(self, vs, hand: str, amplitude: float = 0.5, duration_s: float = 0.05) -> None:
        xr = self.xr
        if xr is None or vs.state != "FOCUSED":
            return
        p = self.hand_paths[HANDS.index(hand)]
        vib = xr.HapticVibration(duration=int(duration_s * 1e9), frequency=xr.FREQUENCY_UNSPECIFIED,
                                 amplitude=float(amplitude))
        xr.apply_haptic_feedback(vs.session, xr.HapticActionInfo(self.actions["haptic"], p), vib)
        self.haptics_sent += 1

    def close(self) -> None:
        xr = self.xr
        if xr is None:
            return
        for sp in getattr(self, "spaces", []):
            try:
                xr.destroy_space(sp)
            except Exception:  # noqa: BLE001
                pass
        self.spaces = []
        if getattr(self, "action_set", None) is not None:
            try:
                xr.destroy_action_set(self.action_set)
            except Exception:  # noqa: BLE001
                pass
            self.action_set = None
