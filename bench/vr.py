"""VR: stereo frames through the real OpenXR runtime (headless Monado), against the desktop loop
drawing the same two views offscreen.

``python -m bench vr [--quick] [--json]``.
The same run also measures ``astp vr --cull per-eye`` (one render and one cull per eye: the path
before the shared cull) as the variant ``cull.per_eye``.

- ours: ``astp vr --frames N --json --quality low`` in a child started through the Monado
  prefix's loader (experience.xr.monado; tools/setup_monado.sh sets it up once), against
  ``monado-service`` with the null compositor, the OpenGL context on Xvfb (GLX, llvmpipe). At 19:10
  UTC in the Command Module, the runtime's recommended 320x240 per eye (Monado's simulated HMD).
  ``ours_per_s``: stereo frames per second that the CPU work of one frame allows
  (1000 / p50 of the frame's CPU time from xrBeginFrame to xrEndFrame, without the time blocked in
  xrWaitFrame); ``paced_fps``: frames per second actually submitted (the null compositor paces at
  about 20 Hz, and a frame slower than its period misses slots: ``missed``); ``eye_ms`` per eye
  (the shared cull: the left eye's holds the one scene update, cull + draw of both eyes on llvmpipe
  and the read-back; the right eye's its crop; per eye: each its own), ``upload_ms`` per eye
  (glTexSubImage2D into the runtime's swapchain image), ``wait_ms`` (in xrWaitFrame).
- baseline: the desktop application loop (Experience.step + SceneRenderer.prepare, render_frame
  and read) drawing the same two eye views (the same size, quality and place, from the cabin
  camera) offscreen on the same display and driver, with no OpenXR: what a stereo frame costs
  without the runtime. ``ratio`` = ours / baseline: below 1 is the OpenXR path's overhead
  (pacing excluded). The variant ``desktop mono frame`` is one view of the same loop: the issue's
  ratio (stereo against mono, goal <= 1.6) is ``mono_per_s / ours_per_s``.

The full run alternates two rounds of each and keeps the best of each (the load of a shared
machine moves between runs), then 100 frames each in the Docking Module and the Soyuz orbital
module (``by_place``: ``astp vr --place dm|om``); ``--quick`` is one round of 40 frames in the CM.

Both sides draw every pixel on llvmpipe (software GL on the CPU), so the numbers are CPU-bound
and depend on the machine's load (``load_avg`` is recorded); tests never assert on them.

Mesa's no-op driver through the runtime does not work here (tried 2026-12-07): ``astp vr --frames 30
--json --quality low`` started as above with ``GALLIUM_NOOP=1`` in the client's environment only (not
the service's) dies with SIGSEGV (exit -11) at once, before it prints anything and before
``python -X faulthandler`` can report a Python frame; the same command without the variable runs
(exit 0). Under gdb: ``xrCreateSwapchain`` (the loader) -> libopenxr_monado.so (the client compositor
importing the service's swapchain images into OpenGL as memory objects) -> libgallium-25.0.7 -> a call
through a NULL function pointer (frame #0 at 0x0): the no-op pipe screen leaves the memory-object
import hook unset, so Monado's GL client cannot make its swapchain on it.
A no-op figure for issue #11's goals (5 ms per stereo frame, stereo <= 1.6 x mono) therefore has to
time the same per-frame work in-process without the runtime (not done yet).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench import machine_info

ROOT = Path(__file__).resolve().parents[1]
MOMENT = "1975-07-17T19:10:00Z"


def _baseline_main(argv) -> None:
    """Child: the desktop loop drawing two views of the eye size offscreen, timed per frame."""
    frames, w, h = (int(a) for a in argv[:3])
    from experience.app.experience import Experience
    from experience.mission.clock import parse_utc
    from experience.scene.config import RenderConfig
    from experience.scene.renderer import SceneRenderer
    from experience.xr.tracking import CM_START_MODEL_M

    exp = Experience()
    exp.playback.seek(exp.eph.clock.t_s(parse_utc(MOMENT)))
    exp.camera.set_mode("cabin")
    exp.camera.cabin_eye_m = __import__("numpy").array(CM_START_MODEL_M)
    exp.camera.cabin_yaw_deg, exp.camera.cabin_pitch_deg = 0.0, 0.0
    r = SceneRenderer(RenderConfig(size=(w, h), supersample=1, earth_segments=128, atmosphere_steps=6))
    stereo, mono = [], []
    for i in range(frames + 5):
        t0 = time.perf_counter()
        snap, pl = exp.step(1.0 / 20.0)
        for eye in (-0.032, 0.032):
            exp.camera.cabin_eye_m[0] = eye
            r.prepare(snap, placement=exp.camera.placement(snap))
            r.render_frame()
            r.read()
        t1 = time.perf_counter()
        snap, pl = exp.step(1.0 / 20.0)
        r.prepare(snap, placement=pl)
        r.render_frame()
        r.read()
        t2 = time.perf_counter()
        if i >= 5:
            stereo.append((t1 - t0) * 1e3)
            mono.append((t2 - t1) * 1e3)
    print(json.dumps({"stereo_ms": statistics.median(stereo), "mono_ms": statistics.median(mono), "frames": frames}))


def run(quick: bool = False) -> dict:
    from experience.xr import monado
    from tests.xdisplay import start_xvfb

    frames = 40 if quick else 300
    rounds = 1 if quick else 2   # alternating, best of each: the machine's load moves between runs
    prefix = monado.ensure_prefix()
    reps, bases, per_eye = [], [], []
    with start_xvfb((640, 480)) as disp, monado.MonadoService(prefix) as svc:
        env = svc.client_env(DISPLAY=disp.display)
        env.pop("WAYLAND_DISPLAY", None)
        for _ in range(rounds):
            t0 = time.perf_counter()
            proc = subprocess.run(svc.client_command(["-m", "experience.frontends.cli", "vr", "--frames", str(frames),
                                                      "--json", "--quality", "low"]),
                                  cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600)
            total_s = time.perf_counter() - t0
            if proc.returncode != 0:
                raise RuntimeError(f"astp vr failed: {proc.stderr[-1500:]}")
            reps.append(json.loads(proc.stdout))
            pe = subprocess.run(svc.client_command(["-m", "experience.frontends.cli", "vr", "--frames", str(frames),
                                                    "--json", "--quality", "low", "--cull", "per-eye"]),
                                cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600)
            if pe.returncode != 0:
                raise RuntimeError(f"astp vr --cull per-eye failed: {pe.stderr[-1500:]}")
            per_eye.append(json.loads(pe.stdout))
            w, h = reps[-1]["render_size"]
            base = subprocess.run([sys.executable, "-m", "bench.vr", "baseline", str(frames // 2), str(w), str(h)],
                                  cwd=ROOT, env=dict(os.environ, DISPLAY=disp.display), capture_output=True,
                                  text=True, timeout=3600)
            if base.returncode != 0:
                raise RuntimeError(f"the baseline failed: {base.stderr[-1500:]}")
            bases.append(json.loads(base.stdout.strip().splitlines()[-1]))
        by_place = {}
        for place in (() if quick else ("dm", "om")):   # the Docking Module and the Soyuz orbital module
            pr = subprocess.run(svc.client_command(["-m", "experience.frontends.cli", "vr", "--frames", "100", "--json",
                                                    "--quality", "low", "--place", place]),
                                cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600)
            if pr.returncode != 0:
                raise RuntimeError(f"astp vr --place {place} failed: {pr.stderr[-1500:]}")
            f = json.loads(pr.stdout)["frames"]
            by_place[place] = {"stereo_cpu_ms_p50": f["cpu_ms"]["p50"], "eye_ms_p50": f["eye_ms"]["p50"],
                               "frames": f["submitted"]}
    rep = min(reps, key=lambda r: r["frames"]["cpu_ms"]["p50"])
    pe_best = min(per_eye, key=lambda r: r["frames"]["cpu_ms"]["p50"])
    b = {"stereo_ms": min(x["stereo_ms"] for x in bases), "mono_ms": min(x["mono_ms"] for x in bases)}
    fr = rep["frames"]
    ours_per_s = 1000.0 / fr["cpu_ms"]["p50"]
    baseline_per_s = 1000.0 / b["stereo_ms"]
    mono_per_s = 1000.0 / b["mono_ms"]
    paced = fr["submitted"] / rep["focused_wall_s"] if rep.get("focused_wall_s") else None
    return {
        "name": "vr",
        "what": "stereo frames through the real OpenXR runtime (headless Monado, null compositor), CM at 19:10 UTC",
        "ours": "astp vr stereo frames/s of CPU work (xrBeginFrame..xrEndFrame p50: locate, movement, snapshot, "
                "one scene update and one cull per pass for both eyes (the shared cull), the two eyes' draws on "
                "llvmpipe, one read-back, 2 uploads)",
        "ours_per_s": ours_per_s,
        "baseline": "the desktop application loop drawing the same two views offscreen (same size, quality, "
                    "display, driver), no OpenXR",
        "baseline_per_s": baseline_per_s,
        "ratio": ours_per_s / baseline_per_s,
        "same_work": True,
        "same_work_note": "the same scene, views, size and driver; ours adds OpenXR (locate views and hands, "
                          "actions, swapchain acquire/upload/release, end frame) and excludes the time blocked in "
                          "xrWaitFrame (pacing)",
        "variants": {"desktop mono frame (one view, same loop)": mono_per_s,
                     "astp vr --cull per-eye (one render and cull per eye)": 1000.0 / pe_best["frames"]["cpu_ms"]["p50"]},
        "stereo_over_mono": mono_per_s / ours_per_s,
        "cull": {"shared": {"stereo_cpu_ms_p50": fr["cpu_ms"]["p50"], "frames_shared": rep["cull"]["stereo_frames"]},
                 "per_eye": {"stereo_cpu_ms_p50": pe_best["frames"]["cpu_ms"]["p50"],
                             "frames_shared": pe_best["cull"]["stereo_frames"]},
                 "per_eye_over_shared": pe_best["frames"]["cpu_ms"]["p50"] / fr["cpu_ms"]["p50"],
                 "per_eye_stereo_over_mono": mono_per_s / (1000.0 / pe_best["frames"]["cpu_ms"]["p50"])},
        "paced_fps": paced,
        "by_place": {"cm": {"stereo_cpu_ms_p50": fr["cpu_ms"]["p50"], "eye_ms_p50": fr["eye_ms"]["p50"],
                            "frames": fr["submitted"]}, **by_place},
        "frames": fr,
        "eye_size": rep["eye_size"], "render_size": rep["render_size"],
        "runtime": rep["runtime"], "system": rep["system"], "swapchain_format": rep["swapchain_format"],
        "process_s": round(total_s, 2),
        "load_avg": list(os.getloadavg()),
        "machine": machine_info("numpy", "cpu"),
        "notes": f"{'quick: ' if quick else ''}{frames} frames through Monado {rep['runtime_version']}; llvmpipe "
                 "draws on the CPU, so these are CPU-bound and load-dependent; no GPU here",
    }


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "baseline":
        _baseline_main(sys.argv[2:])
