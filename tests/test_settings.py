"""The viewer's settings file: defaults, round trip, and every bad file recovered with a backup."""

from __future__ import annotations

import pytest

from experience.app import settings as st


@pytest.fixture()
def cfg(tmp_path, monkeypatch):
    monkeypatch.setenv("ASTP_CONFIG_DIR", str(tmp_path))
    return tmp_path / "settings.toml"


def test_defaults_when_there_is_no_file(cfg):
    assert st.load() == st.Settings()
    assert not cfg.exists()


def test_round_trip(cfg):
    s = st.Settings(width=1600, height=900, fullscreen=True, quality="high", language="ru", units="imperial",
                    mouse_sensitivity=2.5, keys={"play_pause": ("k", "space")})
    st.save(s)
    assert st.load() == s
    assert [p.name for p in cfg.parent.iterdir()] == ["settings.toml"], "a temporary file was left"


def _recovered(cfg, text, expect):
    cfg.write_text(text, encoding="utf-8")
    said = []
    assert st.load(notice=said.append) == st.Settings()
    assert len(said) == 1 and "\n" not in said[0]
    for part in expect:
        assert part in said[0], said[0]
    backups = [p for p in cfg.parent.iterdir() if p.name.startswith("settings.toml.bad-")]
    assert len(backups) == 1 and backups[0].read_text(encoding="utf-8") == text, "the bad file was not kept"
    assert st.load() == st.Settings(), "the defaults were not written in its place"
    return said[0]


def test_corrupt_file_is_backed_up_and_replaced(cfg):
    _recovered(cfg, "[window\nwidth = 3", ["settings.toml", "not valid TOML", "line 1"])


def test_unknown_key_is_named_with_its_line_and_the_closest_key(cfg):
    msg = _recovered(cfg, "[window]\nwidth = 1280\nfulscreen = true\n", ["settings.toml:3", "fulscreen", "fullscreen"])
    assert "did you mean 'fullscreen'" in msg


def test_unknown_table_and_action(cfg):
    _recovered(cfg, "[dispaly]\nlanguage = 'ru'\n", ["settings.toml:1", "'dispaly'", "did you mean 'display'"])


def test_wrong_values_name_the_accepted_ones(cfg):
    _recovered(cfg, "[display]\nlanguage = 'fr'\n", ["settings.toml:2", "language", '"en"', '"ru"'])
    for p in cfg.parent.glob("settings.toml.bad-*"):
        p.unlink()
    _recovered(cfg, "[window]\nwidth = 'wide'\n", ["settings.toml:2", "width", "whole number"])


def test_unknown_key_binding_action(cfg):
    _recovered(cfg, "[keys]\nplay_pase = ['k']\n", ["settings.toml:2", "play_pase", "did you mean 'play_pause'"])


def test_unreadable_file(cfg):
    cfg.write_bytes(b"\xff\xfe\x00bad")
    said = []
    assert st.load(notice=said.append) == st.Settings()
    assert "cannot be read" in said[0] or "not valid TOML" in said[0]


def test_bindings_from_the_settings_drive_the_controls(cfg, mission):
    from experience.app.experience import Experience
    from experience.simulation.ephemeris import Ephemeris

    st.save(st.Settings(keys={"play_pause": ("k",)}))
    s = st.load()
    exp = Experience(Ephemeris(trajectory=mission), bindings=s.keys)
    assert exp.controls.press("k") == "play_pause" and exp.playback.paused
    assert exp.controls.press("space") is None, "the settings' binding replaces the default"
