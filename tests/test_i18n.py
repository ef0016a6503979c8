"""Translations: catalogs complete and current, Russian plural forms, fallbacks that never raise,
the language switch, place names, labels, and a font that draws every character of every
catalog (checked on the font's character map and in a real Panda3D render)."""

from __future__ import annotations

import gettext
import importlib.util
import json
import shutil
import tomllib
from pathlib import Path

import pytest

from experience import i18n, labels

ROOT = Path(__file__).resolve().parents[1]


def _tool():
    spec = importlib.util.spec_from_file_location("update_catalogs", ROOT / "tools" / "update_catalogs.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def uc():
    return _tool()


@pytest.fixture(autouse=True)
def _english_after(monkeypatch):
    monkeypatch.delenv("ASTP_LOCALE_DIR", raising=False)
    yield
    i18n.set_language("en")


def _po_files():
    return sorted((ROOT / "experience" / "locale").glob("*/LC_MESSAGES/*.po"))


# ------------------------------------------------------------------------- catalogs
def test_languages_found_with_their_own_names():
    langs = i18n.languages()
    assert list(langs)[0] == "en"
    assert langs["en"] == "English"
    assert langs["ru"] == "Русский"


def test_every_po_compiles():
    files = _po_files()
    assert {p.parents[1].name for p in files} >= {"en", "ru"}
    for path in files:
        data = i18n.compile_po(path, path.parents[1].name)
        tr = gettext.GNUTranslations(__import__("io").BytesIO(data))
        assert tr.info()["content-type"].lower().startswith("text/plain; charset=utf-8")


def test_catalogs_are_current_and_fully_translated(uc, capsys):
    """The check a new untranslated or changed string fails: run it on the repository."""
    code = uc.main(["--check"])
    out = capsys.readouterr().out
    assert code == 0, out


def _all_messages(uc):
    return ([(m, c) for m, c, _w, _n in uc._code_messages()]
            + [(m, c) for m, c, _w, _n in uc._data_messages_astp()],
            [(m, c) for m, c, _w, _n in uc._data_messages_regions()])


SAME_IN_RUSSIAN = {"UTC"}


def test_every_text_has_a_russian_translation_with_the_same_placeholders(uc):
    astp, regions = _all_messages(uc)
    assert len(astp) > 100 and len(regions) > 250
    for domain, msgs in ((i18n.DOMAIN, astp), (i18n.REGIONS_DOMAIN, regions)):
        tr = i18n.translation("ru", domain, notice=pytest.fail)
        for msg, ctx in msgs:
            if isinstance(msg, tuple):
                forms = [tr.npgettext(ctx, msg[0], msg[1], n) if ctx else tr.ngettext(msg[0], msg[1], n)
                         for n in (1, 2, 5)]
                assert forms[0] != msg[0] and len(set(forms)) == 3, msg
                assert uc.placeholder_problem(msg, forms) is None, (msg, forms)
                continue
            ru = tr.pgettext(ctx, msg) if ctx else tr.gettext(msg)
            if msg not in SAME_IN_RUSSIAN and not msg.startswith(("{", ".", ",")):
                assert ru != msg, f"no Russian for {msg!r} ({domain})"
            assert uc.placeholder_problem(msg, ru) is None, (msg, ru)
            if len(msg) > 3 and msg not in SAME_IN_RUSSIAN:
                assert any("\u0400" <= ch <= "\u04ff" for ch in ru), f"{ru!r} is not Cyrillic"


def test_a_new_untranslated_text_fails_the_check(uc, tmp_path, monkeypatch, capsys):
    locale = tmp_path / "locale"
    shutil.copytree(ROOT / "experience" / "locale", locale)
    monkeypatch.setattr(uc, "LOCALE", locale)
    original = uc._code_messages

    def with_new_text():
        yield from original()
        yield "A brand new text for {name}", None, "experience/new.py", []

    monkeypatch.setattr(uc, "_code_messages", with_new_text)
    problems = uc.check()
    assert any("astp.pot is stale" in p for p in problems)
    assert any("ru/LC_MESSAGES/astp.po is stale" in p for p in problems)
    assert uc.main([]) == 0  # updates the copies ...
    capsys.readouterr()
    assert uc.main(["--check"]) == 1  # ... and then only the translation is missing
    out = capsys.readouterr().out
    assert "ru/LC_MESSAGES/astp.po: no translation for 'A brand new text for {name}'" in out
    assert "en/LC_MESSAGES" not in out  # English is the source language
    assert "stale" not in out


def test_a_changed_text_keeps_its_translation_as_fuzzy(uc, tmp_path, monkeypatch, capsys):
    locale = tmp_path / "locale"
    shutil.copytree(ROOT / "experience" / "locale", locale)
    monkeypatch.setattr(uc, "LOCALE", locale)
    original = uc._code_messages

    def reworded():
        for msg, ctx, where, notes in original():
            yield ("In the Earth's shadow" if msg == "In Earth's shadow" else msg), ctx, where, notes

    monkeypatch.setattr(uc, "_code_messages", reworded)
    uc.main([])
    capsys.readouterr()
    assert uc.main(["--check"]) == 1
    assert "fuzzy (unconfirmed) translation for \"In the Earth's shadow\"" in capsys.readouterr().out
    po = (locale / "ru" / "LC_MESSAGES" / "astp.po").read_text(encoding="utf-8")
    assert 'msgstr "В тени Земли"' in po  # kept for the translator to confirm


def test_update_is_a_fixed_point(uc, tmp_path, monkeypatch, capsys):
    locale = tmp_path / "locale"
    shutil.copytree(ROOT / "experience" / "locale", locale)
    monkeypatch.setattr(uc, "LOCALE", locale)
    before = {p: p.read_bytes() for p in locale.rglob("*.po*")}
    assert uc.main([]) == 0
    assert "0 file(s) written" in capsys.readouterr().out
    assert {p: p.read_bytes() for p in locale.rglob("*.po*")} == before
    assert not [p for p in locale.rglob(".*")]  # no temporary files left


def test_init_starts_a_new_language(uc, tmp_path, monkeypatch, capsys):
    locale = tmp_path / "locale"
    shutil.copytree(ROOT / "experience" / "locale", locale)
    monkeypatch.setattr(uc, "LOCALE", locale)
    assert uc.main(["--init", "de"]) == 0
    for domain in i18n.DOMAINS:
        text = (locale / "de" / "LC_MESSAGES" / f"{domain}.po").read_text(encoding="utf-8")
        assert '"Language: de\\n"' in text and "nplurals=2" in text
    capsys.readouterr()
    assert uc.main(["--check"]) == 1
    assert "de/LC_MESSAGES/astp.po: no translation for" in capsys.readouterr().out
    assert uc.main(["--init", "not a code"]) == 2


def test_placeholder_mismatches_are_named(uc):
    assert uc.placeholder_problem("{vehicle} has landed", "{vehicule} приземлился")
    assert uc.placeholder_problem("%s km", "км")
    assert uc.placeholder_problem("{n} day", "{n} день") is None
    assert uc.placeholder_problem(("{n} day", "{n} days"), ["{n} день", "{n} дня", "дней"])
    assert uc.placeholder_problem("{a}", "{a") is not None  # broken braces
    assert uc.placeholder_problem("100%", "100 %") is None


def test_translation_problems_in_a_po_text(uc):
    path = ROOT / "experience/locale/ru/LC_MESSAGES/astp.po"
    text = path.read_text(encoding="utf-8")
    bad = text.replace('msgstr "{vehicle} вернулся на Землю"', 'msgstr "{машина} вернулся на Землю"')
    assert bad != text
    problems = uc.translation_problems(path, bad, "ru")
    assert len(problems) == 1 and "{vehicle} has landed" in problems[0] and "keep them" in problems[0]


# ------------------------------------------------------------------------- runtime
def test_russian_plural_forms():
    tr = i18n.translation("ru")
    want = {1: "день", 2: "дня", 4: "дня", 5: "дней", 11: "дней", 12: "дней", 14: "дней",
            21: "день", 22: "дня", 25: "дней", 101: "день", 111: "дней", 112: "дней", 0: "дней"}
    for n, word in want.items():
        assert tr.ngettext("{n} day", "{n} days", n).format(n=n) == f"{n} {word}", n
    assert tr.ngettext("{n} minute", "{n} minutes", 21).format(n=21) == "21 минута"
    en = i18n.translation("en")
    assert en.ngettext("{n} day", "{n} days", 1) == "{n} day"
    assert en.ngettext("{n} day", "{n} days", 2) == "{n} days"


def test_a_missing_language_falls_back_to_english_with_one_line():
    lines = []
    tr = i18n.translation("de", notice=lines.append)
    assert tr.gettext("Altitude") == "Altitude"
    assert len(lines) == 1 and "de" in lines[0] and "English" in lines[0] and "\n" not in lines[0]
    lines.clear()
    assert i18n.set_language("de", notice=lines.append) == "en"
    assert len(lines) == 1  # one line for both domains
    assert i18n._("Altitude") == "Altitude"


@pytest.mark.parametrize("content", [
    "this is not a PO file at all \"",
    'msgid ""\nmsgstr ""\n"Plural-Forms: nplurals=2; plural=n >>> 1;\\n"\n\nmsgid "Altitude"\nmsgstr "H"\n',
    b"\xff\xfe\x00garbage",
])
def test_a_broken_catalog_falls_back_to_english_with_one_line(tmp_path, monkeypatch, content, capsys):
    folder = tmp_path / "xx" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "astp.po").write_bytes(content if isinstance(content, bytes) else content.encode())
    monkeypatch.setenv("ASTP_LOCALE_DIR", str(tmp_path))
    lines = []
    tr = i18n.translation("xx", notice=lines.append)
    assert tr.gettext("Altitude") == "Altitude"
    assert len(lines) == 1 and "astp.po" in lines[0] and "\n" not in lines[0]
    assert "xx" not in i18n.languages()  # a broken catalog is not offered
    assert i18n.set_language("xx", notice=lambda _l: None) == "en"
    capsys.readouterr()


def test_a_region_variant_uses_its_language(tmp_path, monkeypatch):
    folder = tmp_path / "pt" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "astp.po").write_text(
        'msgid ""\nmsgstr ""\n"Language: pt\\n"\n"Content-Type: text/plain; charset=UTF-8\\n"\n'
        '"Plural-Forms: nplurals=2; plural=(n > 1);\\n"\n\nmsgid "Altitude"\nmsgstr "Altitude (pt)"\n',
        encoding="utf-8")
    monkeypatch.setenv("ASTP_LOCALE_DIR", str(tmp_path))
    assert i18n.translation("pt_BR", notice=pytest.fail).gettext("Altitude") == "Altitude (pt)"
    assert i18n.served_language("pt-br") == "pt"
    assert i18n.normalize("ru_RU.UTF-8") == "ru_RU" and i18n.normalize("RU") == "ru"
    assert i18n.languages()["pt"]  # Babel's name where the catalog gives none
    assert i18n.language_name("pt") == "Português"


def test_system_language(monkeypatch):
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    assert i18n.system_language() == "en"
    monkeypatch.setenv("LANG", "ru_RU.UTF-8")
    assert i18n.system_language() == "ru"
    monkeypatch.setenv("LANGUAGE", "de:ru")
    assert i18n.system_language() == "ru"  # de has no catalog; the next one asked for
    monkeypatch.setenv("LANGUAGE", "C")
    assert i18n.system_language() == "en"


def test_english_can_be_reworded_in_en_po(tmp_path, monkeypatch):
    folder = tmp_path / "en" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "astp.po").write_text(
        'msgid ""\nmsgstr ""\n"Language: en\\n"\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        'msgid "Altitude"\nmsgstr "Height"\n', encoding="utf-8")
    monkeypatch.setenv("ASTP_LOCALE_DIR", str(tmp_path))
    assert i18n.translation("en").gettext("Altitude") == "Height"


def test_set_language_switches_at_once_and_tells_listeners():
    heard = []
    remove = i18n.on_language_change(heard.append)
    try:
        assert i18n.set_language("ru") == "ru"
        assert i18n.current_language() == "ru"
        assert i18n._("Altitude") == "Высота"
        assert i18n.pgettext("phase", "docked") == "состыкованный полёт"
        assert i18n.ngettext("{n} hour", "{n} hours", 3).format(n=3) == "3 часа"
        assert i18n.set_language("en") == "en"
        assert i18n._("Altitude") == "Altitude"
    finally:
        remove()
    assert heard == ["ru", "en"]
    i18n.set_language("ru")
    assert heard == ["ru", "en"]  # removed


def test_markers_return_their_text():
    assert i18n.N_("Altitude") == "Altitude"
    assert i18n.NP_("phase", "docked") == "docked"


# ------------------------------------------------------------------------- places
def test_place_names_in_russian():
    ru = i18n.translation("ru")
    rr = i18n.translation("ru", i18n.REGIONS_DOMAIN)
    assert i18n.place_name("Kazakhstan (then Kazakh SSR, USSR)", ru, rr) == "Казахстан (тогда Казахская ССР, СССР)"
    assert i18n.place_name("Russia (then Russian SFSR, USSR)", ru, rr) == "Россия (тогда РСФСР, СССР)"
    assert i18n.place_name("Germany", ru, rr) == "Германия"
    assert i18n.place_name("North Atlantic Ocean", ru, rr) == "Северная Атлантика"
    assert i18n.place_name("Portugal", ru, rr) == "Португалия"
    from experience.simulation import regions

    assert "ФРГ" in i18n.place_note(regions.region_note("Germany"), rr)
    assert i18n.place_name("Germany (then Federal Republic of Germany)", ru, rr) == "Германия (тогда ФРГ)"
    assert i18n.place_name("Germany (then German Democratic Republic)", ru, rr) == "Германия (тогда ГДР)"
    assert i18n.place_name("Germany (then West Berlin)", ru, rr) == "Германия (тогда Западный Берлин)"
    assert i18n.place_name("Kazakhstan (then Kazakh SSR, USSR)") == "Kazakhstan (then Kazakh SSR, USSR)"


def test_every_region_name_the_simulation_returns_has_russian():
    from experience.simulation import regions

    rr = i18n.translation("ru", i18n.REGIONS_DOMAIN)
    ru = i18n.translation("ru")
    names = list(regions.countries().names) + list(regions.seas().names)
    names1975 = json.loads((ROOT / "data/regions/names_1975.json").read_text(encoding="utf-8"))["by_iso_a3"]
    for code, name in zip(regions.countries().codes, regions.countries().names):
        label, note = regions._country_labels(code, name)
        names.append(label)
        if note:
            assert i18n.place_note(note, rr) != note
    assert len(names) > 250 and len(names1975) > 40
    for name in names:
        shown = i18n.place_name(name, ru, rr)
        assert shown != name and any("\u0400" <= ch <= "\u04ff" for ch in shown), name
    # the places of the story, through the real lookup
    baikonur, docking = regions.region_names([45.92, 39.0], [63.34, -12.0])
    assert i18n.place_name(baikonur, ru, rr) == "Казахстан (тогда Казахская ССР, СССР)"
    assert i18n.place_name(docking, ru, rr) == "Северная Атлантика"


# ------------------------------------------------------------------------- labels
def test_event_and_crew_names_agree_with_the_data():
    """timeline.toml and crew.toml carry name_ru too: the catalog must say the same (the catalog
    may bind a dash to the word before it with a no-break space)."""
    ru = i18n.translation("ru")
    same = lambda a, b: a.replace("\u00a0", " ") == b  # noqa: E731
    timeline = tomllib.loads((ROOT / "data/mission/timeline.toml").read_text(encoding="utf-8"))
    for ev in timeline["event"]:
        assert same(labels.event_name(ev["id"], ru), ev["name_ru"]), ev["id"]
    crew = tomllib.loads((ROOT / "data/mission/crew.toml").read_text(encoding="utf-8"))
    for m in crew["member"]:
        assert same(labels.crew_name(m, ru), m["name_ru"])
        assert labels.crew_role(m, ru) != m["role"]


def test_labels_in_both_languages():
    ru = i18n.translation("ru")
    en = i18n.translation("en")
    assert labels.vehicle_name("soyuz", ru) == "«Союз-19»"
    assert labels.vehicle_name("apollo", ru, short=True) == "«Аполлон»"
    assert labels.vehicle_name("soyuz", en) == "Soyuz 19"
    assert [labels.phase_name(p, ru) for p in ("coast", "formation", "docking", "docked")] == [
        "автономный полёт", "групповой полёт", "стыковка", "состыкованный полёт"]
    assert labels.phase_name("unknown", ru) == "unknown"
    assert labels.number(7794.53, 1, en) == "7,794.5"
    assert labels.number(7794.53, 1, ru) == "7\u00a0794,5"
    assert labels.number(-0.04, 1, en) == "0.0"
    assert labels.number(-12.5, 0, en) == "−12"
    assert labels.quantity(222.37, "km", 1, ru) == "222,4\u00a0км"
    assert labels.quantity(7.8, "km/s", 2, en) == "7.80\u00a0km/s"
    assert labels.lat_lon_text(45.92, 63.34, 1, ru) == "45,9° с. ш., 63,3° в. д."
    assert labels.lat_lon_text(-22.0, -163.0, 0, en) == "22° S, 163° W"
    assert labels.duration_text(7 * 3600 + 30 * 60 + 5, ru) == "7 часов 30 минут"
    assert labels.duration_text(86400 + 2 * 3600, ru) == "1 день 2 часа"
    assert labels.duration_text(86400 + 59, en) == "1 day"
    assert labels.duration_text(21 * 60, ru) == "21 минута"
    assert labels.duration_text(0, en) == "0 seconds"
    msg = labels.text(labels.HUD["launches_in"], ru).format(
        vehicle=labels.vehicle_name("apollo", ru), duration=labels.duration_text(4 * 3600, ru))
    assert msg == "«Аполлон»: до старта 4 часа"


# ------------------------------------------------------------------------- the font
def _catalog_characters() -> set[str]:
    from babel.messages import pofile

    chars = set()
    for path in _po_files():
        with open(path, "rb") as fh:
            cat = pofile.read_po(fh)
        for m in cat:
            for part in ([m.id] if isinstance(m.id, str) else list(m.id)) + (
                    [m.string] if isinstance(m.string, str) else list(m.string)):
                chars.update(part or "")
    return {ch for ch in chars if ch not in "\n\t"}


def test_the_font_ships_in_matplotlib_and_covers_every_catalog():
    from fontTools.ttLib import TTFont

    chars = _catalog_characters()
    assert {"Ж", "ё", "«", "»", "—", "°", "№", "\u00a0"} <= chars
    for bold in (False, True):
        path = i18n.ui_font_path(bold)
        assert path.is_file() and "mpl-data" in path.parts
        cmap = TTFont(path, lazy=True).getBestCmap()
        missing = sorted(ch for ch in chars if ord(ch) not in cmap)
        assert not missing, f"{path.name} lacks {missing}"


def test_a_missing_font_is_one_line_with_the_fix(monkeypatch, tmp_path):
    from experience.errors import AstpError

    monkeypatch.setattr(i18n, "_mpl_font_dir", lambda: tmp_path)
    with pytest.raises(AstpError, match="DejaVuSans-Bold.ttf is missing.*pip install --force-reinstall matplotlib"):
        i18n.ui_font_path(bold=True)


def test_a_russian_caption_renders_in_panda3d(tmp_path):
    """A real offscreen render: every glyph exists in Panda3D's font, and the text is drawn."""
    pytest.importorskip("panda3d")
    import numpy as np
    from PIL import Image

    from experience.mission import captions
    from experience.scene.text import missing_glyphs, text_node

    assert missing_glyphs("".join(sorted(_catalog_characters()))) == ""
    assert missing_glyphs("中文") == "中文"  # the check does see a missing glyph
    ru = i18n.translation("ru")
    text = captions.caption("handshake").localized(ru)
    try:
        img = _render_text(text, (960, 320))
    except Exception as exc:  # AstpError from shared_pipe, or no buffer
        pytest.skip(f"no offscreen OpenGL: {exc}")
    Image.fromarray(img).save(tmp_path / "caption_ru.png")
    bright = (img.max(axis=2) > 200).mean()
    assert 0.02 < bright < 0.4, bright  # white text on a dark card, not empty, not boxes filling it
    rows = np.flatnonzero((img.max(axis=2) > 200).any(axis=1))
    assert rows.size and rows.max() - rows.min() > 150  # several wrapped lines


def _render_text(text: str, size):
    import numpy as np
    from panda3d.core import (Camera, FrameBufferProperties, GraphicsEngine, GraphicsOutput,
                              GraphicsPipe, NodePath, OrthographicLens, Texture, WindowProperties)

    from experience.scene.renderer import shared_pipe
    from experience.scene.text import text_node

    pipe = shared_pipe()
    engine = GraphicsEngine.get_global_ptr()
    fb = FrameBufferProperties()
    fb.set_rgba_bits(8, 8, 8, 8)
    fb.set_depth_bits(0)
    w, h = size
    buf = engine.make_output(pipe, "i18n-text-test", 0, fb, WindowProperties.size(w, h),
                             GraphicsPipe.BF_refuse_window, None, None)
    if buf is None:
        raise RuntimeError("could not create an offscreen buffer")
    try:
        tex = Texture("i18n-text")
        buf.add_render_texture(tex, GraphicsOutput.RTM_copy_ram)
        buf.set_clear_color_active(True)
        buf.set_clear_color((0.05, 0.07, 0.12, 1.0))
        root = NodePath("2d")
        root.set_depth_test(False)
        root.set_depth_write(False)
        lens = OrthographicLens()
        lens.set_film_size(w, h)
        lens.set_near_far(-10, 10)
        cam = root.attach_new_node(Camera("i18n-text-cam", lens))
        buf.make_display_region().set_camera(cam)
        node = root.attach_new_node(text_node("caption", text, wordwrap=30, card_color=(0, 0, 0, 0.6)))
        node.set_transparency(True)
        node.set_scale(28)
        node.set_pos(-w / 2 + 30, 0, h / 2 - 45)
        engine.render_frame()
        engine.render_frame()
        return np.frombuffer(bytes(tex.get_ram_image_as("RGBA")), np.uint8).reshape(h, w, 4)[::-1, :, :3].copy()
    finally:
        engine.remove_window(buf)
