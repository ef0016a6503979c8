"""The docking of 16:09 as the scene sees it: the simulated contact dynamics replayed in the
snapshot (experience/simulation/docking_replay.py), continuous with the orbit reconstruction.

The replay comes from generated/docking-replay.npz (tests/test_generated.py checks that a fresh
simulation gives the same records)."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="module")
def replay(eph):
    from experience.simulation.docking_replay import historical_replay

    return historical_replay(eph.clock)


def _t(eph, text):
    from experience.mission.clock import parse_utc

    return eph.clock.t_s(parse_utc(text))


def _relative_body_m(snap):
    a, s = snap.vehicles["apollo"], snap.vehicles["soyuz"]
    return a.body_to_eci.T @ (s.pos_km - a.pos_km) * 1000.0


def test_replay_starts_where_the_reconstruction_hands_over(eph, replay):
    from experience.mission import data

    t_fa = _t(eph, data.orbits()["apollo"]["rendezvous"]["final_approach_utc"])
    t0, t1 = replay.span_s
    assert abs(t0 - t_fa) < 1.0, "orbits.toml final_approach_utc must follow the docking simulation's start"
    t_hard = _t(eph, replay.info["hard_dock_utc"])
    assert t_hard <= t1 < t_hard + 5.0
    assert t0 < _t(eph, data.event("docking_1").utc) < t1


def test_the_approach_is_continuous_and_soyuz_stays_ahead_on_the_docking_axis(eph, replay):
    from experience.simulation.snapshot import snapshot

    t0, t1 = replay.span_s
    before = snapshot(eph, t0 - 0.5)
    assert before.docking is None and before.vehicles["apollo"].phase == "formation"
    first = snapshot(eph, t0 + 0.01)
    assert first.docking is not None and first.docking.phase == "approach"
    assert first.vehicles["apollo"].phase == first.vehicles["soyuz"].phase == "docking"
    jump = np.linalg.norm(_relative_body_m(first) - _relative_body_m(before))
    assert jump < 1.5, f"Soyuz jumps {jump:.2f} m where the docking replay takes over"
    dm = replay.dm_length_m
    for t in np.linspace(t0 + 0.01, t1 - 0.01, 40):
        rel = _relative_body_m(snapshot(eph, float(t)))
        assert rel[0] > dm - 0.01                     # ahead of Apollo's port, along the flight direction
        assert np.hypot(rel[1], rel[2]) < 1.0          # and near the docking axis
    after = snapshot(eph, t1 + 0.5)
    assert after.docking is None and after.docked
    assert np.allclose(_relative_body_m(after), 0.0, atol=1e-6)


def test_phases_follow_the_simulation_and_end_docked(eph, replay):
    from experience.mission import data
    from experience.simulation.snapshot import snapshot

    t_capture = _t(eph, data.event("docking_1").utc)
    assert snapshot(eph, t_capture - 30.0).docking.phase in ("approach", "contact")
    assert snapshot(eph, t_capture + 5.0).docking.phase == "captured"
    t0, t1 = replay.span_s
    end = replay.at(t1)
    assert end.phase == "hard_dock"
    assert np.allclose(end.soyuz_rot_in_apollo, np.eye(3), atol=1e-4)
    assert np.allclose(end.soyuz_offset_m, [replay.dm_length_m, 0.0, 0.0], atol=2e-3)
    assert np.linalg.norm(end.ring_offset_m) < 2e-3          # ring retracted
    # before capture the guide ring stands extended, 0.3 m out of its port
    assert replay.at(t0).ring_offset_m[2] == pytest.approx(0.3, abs=0.01)
    codes = replay.phase
    assert np.all(np.diff(codes) >= 0)


def test_poses_are_rotations_between_records(replay):
    t0, _ = replay.span_s
    for t in (t0 + 0.013, t0 + 120.007, t0 + 190.019):
        pose = replay.at(t)
        for r in (pose.soyuz_rot_in_apollo, pose.ring_rot):
            assert np.allclose(r @ r.T, np.eye(3), atol=1e-12)
            assert np.linalg.det(r) == pytest.approx(1.0, abs=1e-12)


def test_snapshot_can_leave_the_docking_out(eph, replay):
    from experience.simulation.snapshot import snapshot

    t0, _ = replay.span_s
    snap = snapshot(eph, t0 + 60.0, docking=False)
    assert snap.docking is None and snap.vehicles["apollo"].phase == "formation"
