"""The desktop viewer: how fast it starts, what a frame costs on the CPU, and whether it leaks.

``python -m bench desktop [--quick] [--json]``.

- ``first_frame_warm_s`` / ``first_frame_cold_s``: from starting the process (`astp viewer
  --frames 1 --status-file F`) to its first frame on screen (the status file's time stamp, written
  after the first frame was drawn), in a real window on Xvfb (started here when it is installed;
  else the same program with ``window-type offscreen`` and the JSON says so). Cold: an empty
  cache folder (``ASTP_CACHE_DIR``), so everything the viewer needs that is not shipped in the
  repository is built; warm: the same folder again. Best of 2 warm runs. Bytecode as an installed
  program has it: a fresh ``PYTHONPYCACHEPREFIX`` folder that a first start fills (its time is
  ``first_start_no_bytecode_s``; compiling is what an installer does), then the cold start (the
  cache folder emptied again) and the warm starts read it (``PYTHONDONTWRITEBYTECODE`` lifted for
  these processes; the JSON's ``bytecode``).
- ``frame_update_ms``: clock + snapshot + scene update of one frame of the viewer's application
  loop (``AppLoop.frame``: input, story clock, live snapshot, camera placement,
  ``SceneRenderer.prepare``), split into ``clock_snapshot_ms`` and ``scene_update_ms``; mean over
  the timed frames at 1x in the exterior (orbit camera) and a cabin view (the Docking Module at
  the handshake). ``snapshot_ms``: the live snapshot alone.
- ``cull_draw_ms``: Panda3D's cull and draw traversals of those frames at 1920x1080, timed per
  display region as ``bench render`` does, in a child process on Mesa's no-op driver
  (``GALLIUM_NOOP=1``: the GL front end runs, the GPU's vertex and pixel work is dropped).
- ``rss_growth_pct``: resident memory after 10,000 frames of the loop (update + draw, the story
  running at 100x through the handshake and beyond) against after the first 1,000 (warm-up);
  ``--quick``: 2,000 after 500. The soak draws on the real software driver (llvmpipe) at 320x180,
  not on the no-op driver: Mesa's no-op driver itself grows by about 7 KB a frame at any size
  (measured: the same loop is flat on llvmpipe), which would hide or fake a leak of ours. The
  scene's CPU work per frame (culling, states, uniforms) does not depend on the size.

Baseline: today's one-shot ``astp render`` of the same view (exterior at 19:19:00, 1920x1080):
one still per process, start to written PNG, warm cache. ``ours_per_s``: frames per second the
loop's CPU work allows (1000 / (frame_update_ms + cull_draw_ms), exterior); ``baseline_per_s``:
pictures per second of the one-shot command. Not the same work, as the issue asks: the baseline
starts a process, builds the scene and reads back and compresses a PNG for each picture; the
viewer builds the scene once and then only updates it (that is the point of the loop).
Goals: first frame within 3 s warm and 10 s cold, snapshot + scene update under 1 ms, cull + draw
under 4 ms, no RSS growth.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import machine_info

MOMENT = "1975-07-17T19:19:00Z"
SIZE = (1920, 1080)
SOAK_SIZE = (320, 180)  # the soak draws every frame on llvmpipe: the CPU-side work is the same at any size
GOALS = {"first_frame_warm_s": 3.0, "first_frame_cold_s": 10.0, "frame_update_ms": 1.0, "cull_draw_ms": 4.0}


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


# -- the child: the loop on Mesa's no-op driver ------------------------------------------------------
def _probe_main(argv) -> None:
    from bench.render import _PassTimer
    from experience.app.experience import AppLoop, Experience
    from experience.scene.config import RenderConfig
    from experience.scene.renderer import SceneRenderer
    from experience.simulation.ephemeris import Ephemeris

    part = argv[0]
    frames, soak_frames, warm_frames = (int(v) for v in argv[1:4])
    exp = Experience(Ephemeris())
    renderer = SceneRenderer(RenderConfig(size=SIZE if part == "timing" else SOAK_SIZE))
    loop = AppLoop(exp, renderer)
    out = {"gl": renderer.gl_renderer}
    if part == "soak":
        out["soak"] = _soak(exp, loop, renderer, soak_frames, warm_frames)
        renderer.close()
        print(json.dumps(out))
        return
    timer = _PassTimer(renderer.display_regions())
    for view, mode in (("exterior", "orbit"), ("cabin", "cabin")):
        exp.reset()
        exp.camera.set_mode(mode)
        for _ in range(5):
            loop.frame(1 / 60)
            renderer.render_frame()
        timer.reset()
        loop.timings.__init__()
        timer.on = True
        snaps = []
        for _ in range(frames):
            loop.frame(1 / 60)
            renderer.render_frame()
        timer.on = False
        for _ in range(frames):
            t0 = time.perf_counter()
            exp.live.snapshot(exp.playback.t_s)
            snaps.append(time.perf_counter() - t0)
        t = loop.timings
        n = max(t.frames, 1)
        out[view] = {"clock_snapshot_ms": t.sum_clock_snapshot_ms / n, "scene_update_ms": t.sum_scene_update_ms / n,
                     "frame_update_ms": (t.sum_clock_snapshot_ms + t.sum_scene_update_ms) / n,
                     "cull_ms": timer.per_frame_ms(timer.cull, frames), "draw_ms": timer.per_frame_ms(timer.draw, frames),
                     "snapshot_ms": 1e3 * statistics.mean(snaps),
                     "draw_calls": renderer.scene_counts()["total"]["draw_calls"]}
        out[view]["cull_draw_ms"] = out[view]["cull_ms"] + out[view]["draw_ms"]
    timer.remove(renderer.display_regions())
    renderer.close()
    print(json.dumps(out))


def _soak(exp, loop, renderer, soak_frames: int, warm_frames: int) -> dict:
    """The story at 100x from the handshake on, the orbit camera turning, every frame drawn."""
    exp.reset()
    exp.playback.set_warp(100.0)
    rss_warm = None
    worst_ms = 0.0
    for k in range(soak_frames):
        if k == warm_frames:
            rss_warm = _rss_mb()
        t0 = time.perf_counter()
        exp.camera.look(0.2, 0.0)
        loop.frame(1 / 60)
        renderer.render_frame()
        if k >= warm_frames:
            worst_ms = max(worst_ms, 1e3 * (time.perf_counter() - t0))
    rss_end = _rss_mb()
    return {"frames": soak_frames, "warmup_frames": warm_frames, "rss_warm_mb": rss_warm, "rss_end_mb": rss_end,
            "rss_growth_pct": 100.0 * (rss_end - rss_warm) / rss_warm, "worst_frame_ms": worst_ms,
            "size": f"{SOAK_SIZE[0]}x{SOAK_SIZE[1]}", "driver": renderer.gl_renderer}


def _probe(part: str, frames: int, soak: int, warm: int) -> dict:
    env = dict(os.environ)
    if part == "timing":
        env["GALLIUM_NOOP"] = "1"
    else:
        env.pop("GALLIUM_NOOP", None)
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    proc = subprocess.run([sys.executable, "-m", "bench.desktop", "probe", part, str(frames), str(soak), str(warm)],
                          env=env, capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0:
        raise RuntimeError(f"the {part} probe failed: {proc.stderr[-1500:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# -- the parent: start-up of the real program -----------------------------------------------------------
def _first_frame_s(env: dict, tmp: Path) -> float:
    status = tmp / f"status-{time.monotonic_ns()}.json"
    t0 = time.time()
    proc = subprocess.run([sys.executable, "-m", "experience.frontends.cli", "viewer", "--frames", "1",
                           "--size", f"{SIZE[0]}x{SIZE[1]}", "--status-file", str(status)],
                          env=env, capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        raise RuntimeError(f"the viewer failed: {proc.stderr[-1500:]}")
    return json.loads(status.read_text())["wall_time"] - t0


def _one_shot_render_s(env: dict, tmp: Path) -> float:
    out = tmp / "still.png"
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "experience.frontends.cli", "render", "--at", MOMENT,
                           "--view", "exterior", "--size", f"{SIZE[0]}x{SIZE[1]}", "-o", str(out)],
                          env=env, capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        raise RuntimeError(f"astp render failed: {proc.stderr[-1500:]}")
    return time.perf_counter() - t0


def _startup(quick: bool) -> dict:
    import contextlib

    tmp = Path(tempfile.mkdtemp(prefix="astp-bench-desktop-"))
    try:
        with contextlib.ExitStack() as stack:
            env = dict(os.environ, ASTP_CACHE_DIR=str(tmp / "cache"), ASTP_CONFIG_DIR=str(tmp / "config"))
            # bytecode as an installed program has it: compiled by a first start into a folder of
            # its own and read by the cold and warm ones, even where the environment says
            # PYTHONDONTWRITEBYTECODE (this one does)
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
            display = "none"
            if shutil.which("Xvfb"):
                from tests.xdisplay import start_xvfb

                env["DISPLAY"] = stack.enter_context(start_xvfb()).display
                display = f"Xvfb {env['DISPLAY']} (GLX on llvmpipe)"
            else:
                env.pop("DISPLAY", None)
            out = {"display": display, "first_frame_cold_s": None, "first_frame_warm_s": None,
                   "bytecode": "a fresh PYTHONPYCACHEPREFIX folder, filled by a first start (first_start_no_bytecode_s: "
                               "it compiles every module it imports, the program's and its packages', as an "
                               "installer would); the cold start (its cache folder emptied again) and the warm "
                               "starts read it"
                               + (" (PYTHONDONTWRITEBYTECODE=1 in this environment was lifted for these "
                                  "processes: with it every start would recompile)" if os.environ.get(
                                      "PYTHONDONTWRITEBYTECODE") else "")}
            if display != "none":  # the viewer needs a display; without Xvfb only the loop is measured
                # the very first start: no bytecode, no cache (compiling is an installer's work, so it
                # is reported beside, not as, the cold start); then the cache emptied again: cold
                out["first_start_no_bytecode_s"] = _first_frame_s(env, tmp)
                shutil.rmtree(tmp / "cache", ignore_errors=True)
                out["first_frame_cold_s"] = _first_frame_s(env, tmp)
                warm = [_first_frame_s(env, tmp) for _ in range(1 if quick else 2)]
                out["first_frame_warm_s"] = min(warm)
            renders = [_one_shot_render_s(env, tmp) for _ in range(1 if quick else 2)]
            out["one_shot_render_s"] = min(renders)
        return out
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _within(value, goal):
    return None if value is None else value <= goal


def run(quick: bool = False) -> dict:
    frames, soak, warm = (60, 2000, 500) if quick else (300, 10000, 1000)
    startup = _startup(quick)
    probe = _probe("timing", frames, 0, 0)
    probe.update(_probe("soak", 0, soak, warm))
    ext, cab = probe["exterior"], probe["cabin"]
    ours_per_s = 1000.0 / (ext["frame_update_ms"] + ext["cull_draw_ms"])
    baseline_per_s = 1.0 / startup["one_shot_render_s"]
    result = {
        "name": "desktop",
        "what": "the desktop viewer's loop: first frame, per-frame CPU, memory over a long run",
        "ours": "viewer loop frames/s of CPU work (clock + snapshot + scene update + cull + draw), exterior, 1920x1080",
        "ours_per_s": ours_per_s,
        "baseline": "one-shot 'astp render --view exterior --size 1920x1080' (a process per picture, warm cache)",
        "baseline_per_s": baseline_per_s,
        "ratio": ours_per_s / baseline_per_s,
        "same_work": False,
        "same_work_note": "the baseline starts a process, builds the scene, draws on llvmpipe and writes a PNG per "
                          "picture; ours is the CPU side of one frame of the running loop (GPU work dropped on the "
                          "no-op driver): the comparison the issue asks for, not equal work",
        "first_frame_warm_s": startup["first_frame_warm_s"],
        "first_frame_cold_s": startup["first_frame_cold_s"],
        "first_start_no_bytecode_s": startup.get("first_start_no_bytecode_s"),
        "one_shot_render_s": startup["one_shot_render_s"],
        "display": startup["display"],
        "bytecode": startup["bytecode"],
        "frame_update_ms": ext["frame_update_ms"],
        "clock_snapshot_ms": ext["clock_snapshot_ms"],
        "scene_update_ms": ext["scene_update_ms"],
        "snapshot_ms": ext["snapshot_ms"],
        "cull_draw_ms": ext["cull_draw_ms"],
        "by_view": {"exterior": ext, "cabin": cab},
        "rss_growth_pct": probe["soak"]["rss_growth_pct"],
        "soak": probe["soak"],
        "cpu_gl": probe.get("gl"),
        "goals": GOALS,
        "goals_met": {
            "first_frame_warm_s": _within(startup["first_frame_warm_s"], GOALS["first_frame_warm_s"]),
            "first_frame_cold_s": _within(startup["first_frame_cold_s"], GOALS["first_frame_cold_s"]),
            "frame_update_ms": max(ext["frame_update_ms"], cab["frame_update_ms"]) <= GOALS["frame_update_ms"],
            "cull_draw_ms": max(ext["cull_draw_ms"], cab["cull_draw_ms"]) <= GOALS["cull_draw_ms"],
            "rss_flat": probe["soak"]["rss_growth_pct"] < 2.0,
        },
        "load_avg": list(os.getloadavg()),
        "machine": machine_info("numpy", "cpu"),
        "notes": f"{'quick: ' if quick else ''}{frames} timed frames per view, soak {soak} frames after {warm} warm-up; "
                 "start-up through the real viewer process",
    }
    return result


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "probe":
        _probe_main(sys.argv[2:])
