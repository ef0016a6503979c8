"""``astp kiosk --config FILE --simulate --hours H [--json]``: the kiosk's soak test.

The real kiosk (:class:`~experience.frontends.kiosk_window.KioskViewer`: the desktop viewer's
scene, application loop and input layer, the kiosk's GUI, state machine and attract loop) runs
in an offscreen buffer (``window-type offscreen``, :data:`SIZE`) on a simulated clock: every
frame is :data:`STEP_S` seconds of kiosk time (the attract loop, the idle timer and the countdown
all run on it), so an hour of a museum day is :data:`STEP_S`-times fewer frames than at 1 frame
per second; each frame is still the whole frame (input, clock, snapshot, scene update, GUI,
draw, heartbeat).

Visitors are random (a seeded ``random.Random``): one arrives every couple of minutes on average
(a tap breaks the attract loop), explores for 20 s to 6 min with a touch every few seconds
(the four choices, closing the crews card, drags, keys, language switches), and leaves; then
the idle countdown runs out (a reset), or the visitor answers it ("Keep exploring"), or taps
"Start again". Once an hour someone tries the operator's key sequence with a wrong PIN.

The result (one JSON object with ``--json``): ``attract_cycles``, ``sessions``, ``resets``,
``exceptions`` (a frame that raised is counted and the soak goes on; the first messages are in
``errors``), ``frames``, ``rss_start_mb`` (after the warm-up: the first simulated
:data:`WARMUP_S` seconds, which include a session, a language switch and a reset) and
``rss_end_mb``, ``max_frame_ms`` (after the warm-up), plus the wall time and the rate, the
frame-time percentiles (``p50_frame_ms``, ``p99_frame_ms``) and ``slowest_frames``: the
:data:`SLOWEST` slowest frames after the warm-up with what happened in each (the visitor's input,
a state change, an attract tour beginning, a language change, a reset, the garbage collector's
time in it, and ``cpu_ms``: the process's CPU time in it, all threads, llvmpipe's included),
which is how a spike is told from the machine's load: a frame whose wall time is far above its
CPU time was waiting for a core, not working. ``max_frame_cpu_ms`` and ``p99_frame_cpu_ms`` are
those CPU times' worst and 99th percentile.
"""

from __future__ import annotations

import os
import random
import sys
import time
import traceback

from experience.app import kiosk as K

SIZE = (192, 108)
STEP_S = 5.0          # kiosk seconds per simulated frame
WARMUP_S = 900.0
ARRIVAL_MEAN_S = 150.0
SLOWEST = 8
TOUCH_MEAN_S = 7.0


def rss_mb() -> float:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20
    except (OSError, ValueError, AttributeError):  # not Linux: the peak is what the platform gives
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / (2 ** 20 if sys.platform == "darwin" else 2 ** 10)


class _Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


class _Visitors:
    """The random museum day: who touches what, when (kiosk seconds)."""

    def __init__(self, viewer, rng: random.Random):
        self.v, self.rng = viewer, rng
        self.next_arrival = 30.0
        self.leaves_at = 0.0
        self.next_touch = 0.0
        self.answer = None          # what this visitor does at the countdown
        self.language_switches = 0
        self.next_operator = 1800.0
        self.did = None             # what the visitor did this frame (the soak's slowest frames say)

    def tick(self, now: float) -> None:
        self.did = None
        self._tick(now)

    def _tick(self, now: float) -> None:
        v, s, rng = self.v, self.v.session, self.rng
        if now >= self.next_operator:   # someone tries the operator's way in with a wrong PIN
            self.next_operator = now + 3600.0
            self.did = "operator_pin"
            v._operator_keys("shift-control-o")
            for k in "0000":
                v.ui._pin_key(k)
            v.ui._pin_key("ok")
            v.ui._pin_cancel()
            return
        if s.state == K.ATTRACT:
            if now >= self.next_arrival:
                self.did = "arrive"
                v._on_button("mouse1")
                self.leaves_at = now + rng.uniform(20.0, 360.0)
                self.next_touch = now + rng.expovariate(1.0 / TOUCH_MEAN_S)
                self.answer = rng.choices(["leave", "keep", "again"], weights=(6, 2, 2))[0]
            return
        if s.state == K.COUNTDOWN:
            self.did = f"countdown_{self.answer}" if self.answer in ("keep", "again") else None
            if self.answer == "keep":
                v.ui._keep()
                self.answer = "leave"
                self.leaves_at = now + rng.uniform(10.0, 60.0)
            elif self.answer == "again":
                v.ui._again()
                self.next_arrival = now + rng.expovariate(1.0 / ARRIVAL_MEAN_S)
            else:
                self.next_arrival = max(self.next_arrival, now + s.countdown_left_s(now) + rng.expovariate(1.0 / ARRIVAL_MEAN_S))
            return
        if s.state != K.INTERACTIVE or now >= self.leaves_at or now < self.next_touch:
            if s.state == K.INTERACTIVE and now >= self.leaves_at:
                self.next_arrival = now + s.config.idle_timeout_s + s.config.countdown_s + rng.expovariate(1.0 / ARRIVAL_MEAN_S)
            return
        self.next_touch = now + rng.expovariate(1.0 / TOUCH_MEAN_S)
        what = rng.choices(["watch", "float", "crews", "language", "close", "drag", "key", "tap"],
                           weights=(2, 2, 2, 2, 1, 4, 1, 2))[0]
        self.did = what
        if what in ("watch", "float", "crews", "language"):
            v.ui.buttons[what]["command"]()
            self.language_switches += what == "language"
        elif what == "close":
            v.ui.buttons["crews_close"]["command"]()
        elif what == "drag":
            c = v.exp.controls
            x, y = rng.uniform(0, SIZE[0]), rng.uniform(0, SIZE[1])
            v._on_button("mouse1")
            for _ in range(4):
                c.pointer(x, y, True)
                x, y = x + rng.uniform(-20, 20), y + rng.uniform(-10, 10)
            c.pointer(x, y, False)
        elif what == "key":
            name = rng.choice(["c", "space", "n", "p", "escape", "f11", "1", "6"])
            v._on_button(name)
            v.exp.controls.press(name)
            v.exp.controls.release(name)
        else:
            v._on_button("mouse1")


def simulate(config: K.KioskConfig, *, hours: float, seed: int = 1975, backend=None, step_s: float = STEP_S,
             size=SIZE) -> dict:
    from experience.app import settings as settings_mod
    from experience.app.experience import Experience
    from experience.backend import select_backend
    from experience.frontends.kiosk_window import DISABLED_ACTIONS, KioskViewer
    from experience.simulation.ephemeris import Ephemeris

    import tempfile

    wall0 = time.perf_counter()
    clock = _Clock()
    beats = tempfile.TemporaryDirectory(prefix="astp-kiosk-soak-")  # the heartbeat, as the real kiosk writes it
    logs: list[str] = []
    eph = Ephemeris(backend=select_backend(backend, notice=lambda _m: None))
    exp = Experience(eph, language=config.default_language, languages=config.languages,
                     disabled_actions=DISABLED_ACTIONS)
    viewer = KioskViewer(exp, settings_mod.Settings(quality=config.quality), config, size=size, offscreen=True,
                         clock=clock, heartbeat=os.path.join(beats.name, "heartbeat.json"), log=lambda m: logs.append(m) if len(logs) < 200 else None)
    visitors = _Visitors(viewer, random.Random(seed))
    total_s = hours * 3600.0
    frames = exceptions = 0
    errors: list[str] = []
    max_ms = 0.0
    sum_ms = 0.0
    timed = 0
    rss_start = None
    by_state: dict[str, list] = {}
    times_ms: list[float] = []
    cpu_times_ms: list[float] = []      # the process's CPU time in each frame (all its threads)
    slowest: list[tuple[float, dict]] = []
    gc_ms = [0.0, 0.0]          # this frame's collections (ms), the one under way (its start)
    gc_count = [0]

    def on_gc(phase, info):
        if phase == "start":
            gc_ms[1] = time.perf_counter()
        else:
            gc_ms[0] += (time.perf_counter() - gc_ms[1]) * 1e3
            gc_count[0] += 1

    import gc

    gc.callbacks.append(on_gc)
    warm = min(WARMUP_S, total_s / 4)
    loop0 = time.perf_counter()
    try:
        while clock.t < total_s:
            gc_ms[0], gc_count[0] = 0.0, 0
            s = viewer.session
            before = (s.state, viewer.attract.index, viewer.exp.ui.language, s.resets)
            t0, c0 = time.perf_counter(), time.process_time()
            state = viewer.session.state
            try:
                visitors.tick(clock.t)
                viewer.step(step_s)
            except Exception as exc:  # counted; the soak goes on, as a museum day would have to
                exceptions += 1
                if len(errors) < 5:
                    errors.append("".join(traceback.format_exception_only(type(exc), exc)).strip()[:300])
            ms = (time.perf_counter() - t0) * 1e3
            cpu_ms = (time.process_time() - c0) * 1e3
            frames += 1
            clock.t += step_s
            if clock.t >= warm:
                if rss_start is None:
                    rss_start = rss_mb()
                else:
                    max_ms = max(max_ms, ms)
                    sum_ms += ms
                    timed += 1
                    times_ms.append(ms)
                    cpu_times_ms.append(cpu_ms)
                    acc = by_state.setdefault(state, [0, 0.0])
                    acc[0] += 1
                    acc[1] += ms
                    if len(slowest) < SLOWEST or ms > slowest[-1][0]:
                        slowest.append((ms, dict(cpu_ms=round(cpu_ms, 2), **_what_happened(
                            viewer, before, frames - 1, gc_ms[0], gc_count[0], visitors.did))))
                        slowest.sort(key=lambda x: -x[0])
                        del slowest[SLOWEST:]
        loop_s = time.perf_counter() - loop0
        rss_end = rss_mb()
        s = viewer.session
        result = {
            "attract_cycles": viewer.attract.cycles, "sessions": s.sessions, "resets": s.resets,
            "exceptions": exceptions, "frames": frames,
            "rss_start_mb": round(rss_start if rss_start is not None else rss_end, 1), "rss_end_mb": round(rss_end, 1),
            "rss_growth_pct": round(100.0 * (rss_end / rss_start - 1.0), 2) if rss_start else 0.0,
            "max_frame_ms": round(max_ms, 2), "mean_frame_ms": round(sum_ms / timed, 2) if timed else None,
            "p50_frame_ms": _pct(times_ms, 50), "p99_frame_ms": _pct(times_ms, 99),
            "max_frame_cpu_ms": round(max(cpu_times_ms), 2) if cpu_times_ms else None,
            "p99_frame_cpu_ms": _pct(cpu_times_ms, 99),
            "slowest_frames": [dict(ms=round(ms, 2), **what) for ms, what in slowest],
            "mean_frame_ms_by_state": {k: round(v[1] / v[0], 2) for k, v in sorted(by_state.items())},
            "frames_by_state": {k: v[0] for k, v in sorted(by_state.items())},
            "language_switches": visitors.language_switches, "pin_failures": s.pin_failures,
            "simulated_hours": hours, "step_s": step_s, "warmup_s": warm,
            "wall_s": round(time.perf_counter() - wall0, 2), "loop_wall_s": round(loop_s, 2),
            "frames_per_s": round(frames / loop_s, 2) if loop_s > 0 else None,
            "size": list(size), "gl": getattr(viewer.renderer, "gl_renderer", None), "errors": errors,
        }
        result["wall_s_per_simulated_hour"] = round(result["wall_s"] / hours, 2)
        return result
    finally:
        gc.callbacks.remove(on_gc)
        viewer.close()
        beats.cleanup()


def _pct(xs: list[float], q: float) -> float | None:
    if not xs:
        return None
    ys = sorted(xs)
    return round(ys[min(len(ys) - 1, int(round(q / 100.0 * (len(ys) - 1))))], 2)


def _what_happened(viewer, before, frame: int, gc_ms: float, gc_n: int, did) -> dict:
    """What a frame did besides drawing: from the state before it to the state after."""
    s = viewer.session
    state0, tour0, lang0, resets0 = before
    out = {"frame": frame, "state": s.state if s.state == state0 else f"{state0}->{s.state}",
           "attract_tour": viewer.attract.tours[viewer.attract.index].name, "camera": viewer.exp.camera.mode,
           "watching": viewer.watching[0].name if viewer.watching else None}
    if did:
        out["visitor"] = did
    if s.state == "attract" and viewer.attract.index != tour0:
        out["tour_began"] = True
    if viewer.exp.ui.language != lang0:
        out["language"] = f"{lang0}->{viewer.exp.ui.language}"
    if s.resets != resets0:
        out["reset"] = True
    if getattr(viewer, "beat_ms", 0.0) >= 0.5:
        out["heartbeat_ms"] = round(viewer.beat_ms, 2)
    if gc_n:
        out["gc_ms"] = round(gc_ms, 2)
        out["gc_runs"] = gc_n
    return out
