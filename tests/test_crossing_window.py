"""The crossing in the real desktop viewer under Xvfb, driven with xdotool (marker ``window``):
`astp viewer --crossing free` opens first person in the Command Module; a held W pushes the
visitor; T hands over to the guided mode, which runs the airlock and ends in the Soyuz orbital
module. The viewer's status file says where the crossing is."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from tests.test_viewer_window import TITLE, WINDOW_TOOLS, Viewer
from tests.xdisplay import stop_process, find_window, tools_or_skip, xdotool, xvfb_or_skip

pytestmark = pytest.mark.window


@pytest.fixture(scope="module")
def crossing_viewer(mission, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("crossing_viewer")
    status, shots, log = tmp / "status.json", tmp / "shots", tmp / "viewer.log"
    tools_or_skip(*WINDOW_TOOLS)
    with xvfb_or_skip() as xd:
        env = xd.env(ASTP_CONFIG_DIR=str(tmp / "config"))
        with open(log, "w") as logf:
            proc = subprocess.Popen([sys.executable, "-m", "experience.frontends.cli", "viewer", "--size", "480x270",
                                     "--crossing", "free", "--status-file", str(status), "--screenshot-dir", str(shots)],
                                    env=env, stdout=logf, stderr=subprocess.STDOUT)
        try:
            wid = find_window(xd.display, TITLE, proc=proc)
            v = Viewer(proc, xd.display, wid, status, shots, log)
            v.wait(lambda s: s["frames"] >= 3 and s.get("crossing"), "the first frames", timeout_s=180.0)
            yield v
        finally:
            stop_process(proc)


def test_k_takes_a_keepsake_and_lets_it_go(crossing_viewer):
    """K in the real viewer: the nearest keepsake (they start within reach in the CM) goes into the
    visitor's hand, and K again lets it float; the status file carries the keepsakes' states."""
    v = crossing_viewer
    v.key("k")
    s = v.wait(lambda st: any(i["state"] == "held" for i in st["crossing"]["keepsakes"]["items"].values()),
               "a keepsake in the hand", timeout_s=60.0)
    held = next(k for k, i in s["crossing"]["keepsakes"]["items"].items() if i["state"] == "held")
    assert any("In your hand" in line for line in s["crossing"]["lines"])
    v.key("k")
    s = v.wait(lambda st: st["crossing"]["keepsakes"]["items"][held]["state"] == "loose", "the keepsake let go",
               timeout_s=60.0)


def test_push_with_w_then_the_guided_crossing_reaches_soyuz(crossing_viewer):
    v = crossing_viewer
    s = v.status()
    assert s["camera"]["mode"] == "cabin" and s["utc"].startswith("1975-07-17T18:29")
    c0 = s["crossing"]
    assert c0["room"] == "cm" and c0["hatches"] == {"apollo_dm": "open", "dm_soyuz": "closed"}
    xdotool(v.display, "keydown", "--window", v.wid, "w")
    time.sleep(1.0)
    xdotool(v.display, "keyup", "--window", v.wid, "w")
    s = v.frames_after(3)
    moved = [a - b for a, b in zip(s["crossing"]["pos_m"], c0["pos_m"])]
    assert sum(m * m for m in moved) > 1e-4, s["crossing"]
    assert "Command Module" in "\n".join(s["crossing"]["lines"])
    v.key("t")
    s = v.wait(lambda st: st["crossing"]["room"] == "soyuz_om" and not st["crossing"]["guided"],
               "the guided crossing to end in the Soyuz", timeout_s=240.0)
    assert s["crossing"]["hatches"] == {"apollo_dm": "closed", "dm_soyuz": "open"}
    p = s["crossing"]["pressures_mmhg"]
    assert abs(p["dm"] - p["soyuz_om"]) < 5.0
