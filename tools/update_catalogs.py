#!/usr/bin/env python3
"""Extract every translatable text into the gettext templates and merge them into each language.

    python tools/update_catalogs.py            # write experience/locale/*.pot, update every .po
    python tools/update_catalogs.py --check    # change nothing; exit 1 listing what is stale or
                                               # untranslated (a test runs this)
    python tools/update_catalogs.py --init de  # start a new language from the templates

What is extracted (English is the source language: the English text is the message id):

* domain ``astp`` (experience/locale/astp.pot): every ``_()``, ``N_()``, ``ngettext()``,
  ``pgettext()``, ``npgettext()`` and ``NP_()`` call with literal text in experience/**.py
  (Babel's Python extractor; a ``# Translators:`` comment above the call goes along), and the
  texts of the mission data: captions (captions.toml ``text``), timeline event names
  (timeline.toml ``name``), vehicle names (vehicles.toml ``name``), crew names and roles
  (crew.toml);
* domain ``regions`` (experience/locale/regions.pot): the countries, seas and oceans of
  data/regions (country names, their 1975 labels and historical notes; sea and ocean names).

Merging keeps every translation; a text that changed keeps its old translation marked fuzzy
(shown in English until a translator confirms it), a text that disappeared is kept as obsolete
(``#~``). ``--check`` fails when running this tool would change a file, or when a catalog
(other than English) has an empty or fuzzy translation, a translation whose placeholders
(``{name}``, ``%s``) differ from the English, or does not compile.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import io
import json
import os
import re
import string
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from babel.messages import pofile  # noqa: E402
from babel.messages.catalog import Catalog  # noqa: E402
from babel.messages.extract import extract_from_file  # noqa: E402

from experience import i18n  # noqa: E402

LOCALE = ROOT / "experience" / "locale"
CODE_DIRS = ("experience",)
KEYWORDS = {
    "_": None,
    "N_": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
    "NP_": ((1, "c"), 2),
}
COMMENT_TAGS = ("Translators:",)
PROJECT = "Handshake in Orbit"
WIDTH = 76
# header lines that say when or with which Babel a file was written, not what it holds
_DATE_HEADER = re.compile(r'^"(POT-Creation-Date|PO-Revision-Date|Generated-By): .*\\n"$', re.M)


# --------------------------------------------------------------------------- extraction
def _rel(path: Path) -> str:
    """The path as messages show it: from the repository root (or the catalogs' folder)."""
    path = path.resolve()
    for base in (ROOT, LOCALE.resolve().parent):
        try:
            return path.relative_to(base).as_posix()
        except ValueError:
            continue
    return str(path)


def _code_messages():
    """(msgid or (singular, plural), context, file, comments) from the Python sources."""
    for folder in CODE_DIRS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for _lineno, msg, comments, context in extract_from_file(
                    "python", path, keywords=KEYWORDS, comment_tags=COMMENT_TAGS,
                    strip_comment_tags=True):
                yield msg, context, _rel(path), comments


def _toml(relpath: str) -> dict:
    return tomllib.loads((ROOT / "data" / relpath).read_text(encoding="utf-8"))


def _data_messages_astp():
    tl = "data/mission/timeline.toml"
    for ev in _toml("mission/timeline.toml").get("event", []):
        yield ev["name"], None, tl, [f"Timeline event {ev['id']} ({ev['utc']})."]
    crew = "data/mission/crew.toml"
    for m in _toml("mission/crew.toml").get("member", []):
        yield m["name"], None, crew, [f"Crew member ({m['vehicle']}); the name as your language writes it."]
        yield m["role"], None, crew, [f"Crew role, e.g. of {m['name']}."]
    veh = "data/mission/vehicles.toml"
    for key, table in _toml("mission/vehicles.toml").items():
        if isinstance(table, dict) and "name" in table:
            yield table["name"], None, veh, [f"Vehicle data table [{key}]."]
    pre = "data/mission/presets.toml"
    for pr in _toml("mission/presets.toml").get("preset", []):
        yield pr["label"], None, pre, [f"Story preset {pr['id']}: a moment the visitor jumps to (a button or key)."]
    cap = "data/mission/captions.toml"
    events = {ev["id"]: ev for ev in _toml("mission/timeline.toml").get("event", [])}
    for c in _toml("mission/captions.toml").get("caption", []):
        ev = events.get(c.get("event"), {})
        span = (f"from {c.get('from_s', c.get('from_utc'))} to {c.get('to_s', c.get('to_utc'))}"
                + (" s" if "from_s" in c and "to_s" in c else ""))
        notes = [f"Caption '{c['id']}' for a museum visitor: event {c.get('event')} "
                 f"({ev.get('utc', '?')}), shown {span}; sources {', '.join(c.get('source', []))}."]
        for v in c.get("versions", []):
            notes.append(f"Version ({', '.join(v.get('source', []))}"
                         f"{', shown' if v.get('shown') else ''}): {v.get('words', '')}")
        yield c["text"], None, cap, notes
    # the tours' titles and captions (data/tours: the kiosk's attract loop, astp record)
    for path in sorted((ROOT / "data" / "tours").glob("*.toml")):
        tour = tomllib.loads(path.read_text(encoding="utf-8"))
        rel = _rel(path)
        if isinstance(tour.get("tour", {}).get("title"), str):
            yield tour["tour"]["title"], None, rel, [f"Title of the tour {path.stem} (kiosk attract loop, recorded tours)."]
        for c in tour.get("caption", []):
            if isinstance(c.get("text"), str):
                yield c["text"], None, rel, [f"Caption of the tour {path.stem}, shown from {c.get('from')} to {c.get('to')}."]


def _data_messages_regions():
    reg = ROOT / "data" / "regions"
    countries = json.loads((reg / "countries_ne110m.json").read_text(encoding="utf-8"))["countries"]
    for c in countries:
        yield c["name"], None, "data/regions/countries_ne110m.json", [f"Country, ISO {c['iso_a3']} (today's name)."]
    names = json.loads((reg / "names_1975.json").read_text(encoding="utf-8"))["by_iso_a3"]
    for code, entry in names.items():
        if entry.get("then"):
            yield (entry["then"], None, "data/regions/names_1975.json",
                   [f"What {code} was in July 1975, shown as 'Name (then ...)'."])
        if entry.get("note"):
            yield (entry["note"], None, "data/regions/names_1975.json",
                   [f"Historical note on {code} for July 1975."])
        for part in entry.get("parts", []):
            yield (part["then"], None, "data/regions/names_1975.json",
                   [f"A part of {code} in July 1975, shown as 'Name (then ...)'."])
    seas = json.loads((reg / "oceans.json").read_text(encoding="utf-8"))["regions"]
    for s in sorted(seas, key=lambda r: r["priority"]):
        yield s["name"], None, "data/regions/oceans.json", [f"{s['kind'].capitalize()} (IHO S-23 name)."]


def templates() -> dict[str, Catalog]:
    """The fresh templates of both domains (no header dates yet)."""
    out = {}
    sources = {
        i18n.DOMAIN: [*_code_messages(), *_data_messages_astp()],
        i18n.REGIONS_DOMAIN: list(_data_messages_regions()),
    }
    for domain, messages in sources.items():
        cat = Catalog(domain=domain, project=PROJECT, version="1", fuzzy=False,
                      header_comment=_header_comment(domain, None))
        for msg, context, where, comments in messages:
            existing = cat.get(msg if isinstance(msg, str) else msg[0], context)
            if existing is not None:
                # same text from several places: one entry, every place and comment listed
                if (where, None) not in existing.locations:
                    existing.locations.append((where, None))
                for c in comments:
                    if c not in existing.auto_comments:
                        existing.auto_comments.append(c)
                continue
            cat.add(msg, None, locations=[(where, None)], auto_comments=list(comments),
                    context=context, flags=_flags(msg))
        out[domain] = cat
    return out


def _flags(msg) -> tuple[str, ...]:
    text = msg if isinstance(msg, str) else " ".join(msg)
    return ("python-brace-format",) if placeholders(text)[0] else ()


def _header_comment(domain: str, lang: str | None) -> str:
    what = "Translations template" if lang is None else f"{lang} translations"
    return (f"# {what} for {PROJECT}, gettext domain '{domain}'.\n"
            f"# Made by tools/update_catalogs.py; see docs/translating.md.\n#")


# --------------------------------------------------------------------------- placeholders
_PRINTF = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\d+|\*)?(?:\.\d+)?[diouxXeEfFgGcrsa]")


def placeholders(text: str) -> tuple[frozenset[str], tuple[str, ...]]:
    """({brace fields}, sorted printf conversions) of ``text``; ValueError for broken braces."""
    fields = set()
    for _lit, name, spec, conv in string.Formatter().parse(text):
        if name is not None:
            fields.add("{" + name + (f"!{conv}" if conv else "") + "}")
    printf = tuple(sorted(_PRINTF.findall(text.replace("%%", ""))))
    return frozenset(fields), printf


def placeholder_problem(msgid, msgstr) -> str | None:
    """Why a translation's placeholders do not fit its English, or None."""
    ids = [msgid] if isinstance(msgid, str) else list(msgid)
    strs = [msgstr] if isinstance(msgstr, str) else list(msgstr)
    try:
        want_f, want_p = set(), set()
        for t in ids:
            f, p = placeholders(t)
            want_f |= f
            want_p |= set(p)
    except ValueError as exc:
        return f"the English has broken braces ({exc})"
    for i, s in enumerate(strs):
        if not s:
            continue
        try:
            f, p = placeholders(s)
        except ValueError as exc:
            return f"translation{f' [{i}]' if len(strs) > 1 else ''} has broken braces ({exc}); write {{{{ }}}} for a brace"
        if f != want_f or set(p) != want_p:
            got = sorted(f | set(p))
            want = sorted(want_f | want_p)
            return (f"translation{f' [{i}]' if len(strs) > 1 else ''} has placeholders {got or 'none'}, "
                    f"the English {want or 'none'}; keep them exactly")
    return None


# --------------------------------------------------------------------------- rendering
def render(cat: Catalog) -> str:
    buf = io.BytesIO()
    pofile.write_po(buf, cat, width=WIDTH, include_lineno=False, sort_output=False)
    return buf.getvalue().decode("utf-8")


def _signature(cat: Catalog) -> list:
    return [(m.id, m.context, tuple(m.locations), tuple(m.auto_comments), tuple(sorted(m.flags)))
            for m in cat if m.id]


def _read(path: Path, lang: str | None = None) -> Catalog:
    with open(path, "rb") as fh:
        return pofile.read_po(fh, locale=i18n._babel_locale(lang) if lang else None,
                              abort_invalid=True)


def _same_ignoring_dates(a: str, b: str) -> bool:
    return _DATE_HEADER.sub("", a) == _DATE_HEADER.sub("", b)


def languages_on_disk() -> list[str]:
    return sorted(p.name for p in LOCALE.iterdir() if (p / "LC_MESSAGES").is_dir())


def plan(now: _dt.datetime | None = None, init: tuple[str, ...] = ()) -> tuple[dict[Path, str], list[str]]:
    """What every catalog file should contain: ({path: text}, [problems reading the old ones])."""
    now = now or _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0)
    out: dict[Path, str] = {}
    problems: list[str] = []
    for domain, fresh in templates().items():
        pot_path = LOCALE / f"{domain}.pot"
        fresh.creation_date = now
        if pot_path.is_file():
            try:
                old = _read(pot_path)
                if _signature(old) == _signature(fresh):
                    fresh.creation_date = old.creation_date
            except Exception as exc:
                problems.append(f"{_rel(pot_path)} does not parse ({i18n._one_line(exc)}); it will be rewritten")
        out[pot_path] = render(fresh)
        for lang in sorted({*languages_on_disk(), *init}):
            po_path = LOCALE / lang / "LC_MESSAGES" / f"{domain}.po"
            if po_path.is_file():
                try:
                    cat = _read(po_path, lang)
                except Exception as exc:
                    problems.append(f"{_rel(po_path)} does not parse ({i18n._one_line(exc)}); "
                                    f"fix it in a PO editor (it is left as it is)")
                    continue
                cat.update(fresh, update_creation_date=True)
            else:
                cat = _new_catalog(fresh, lang, domain, now)
            cat.header_comment = _header_comment(domain, lang)
            out[po_path] = render(cat)
    return out, problems


def _new_catalog(template: Catalog, lang: str, domain: str, now: _dt.datetime) -> Catalog:
    locale = i18n._babel_locale(lang)
    cat = Catalog(locale=locale or None, domain=domain, project=PROJECT, version="1",
                  creation_date=template.creation_date, revision_date=now, fuzzy=False,
                  header_comment=_header_comment(domain, lang))
    if locale is None:
        cat.locale = None
        cat._locale_identifier = lang  # Babel does not know it: plural forms stay the default
    cat.update(template, update_creation_date=True)
    return cat


# --------------------------------------------------------------------------- checking translations
def translation_problems(path: Path, text: str, lang: str) -> list[str]:
    """Empty or fuzzy translations, placeholder mismatches, compile errors (not for English)."""
    problems = []
    try:
        cat = pofile.read_po(io.StringIO(text), locale=i18n._babel_locale(lang), abort_invalid=True)
    except Exception as exc:
        return [f"{_rel(path)}: does not parse ({i18n._one_line(exc)})"]
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(suffix=".po")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        i18n.compile_po(Path(tmp), lang)
    except i18n.CatalogError as exc:
        problems.append(f"{_rel(path)}: {str(exc).replace(tmp or '', 'it')}")
    finally:
        if tmp:
            os.unlink(tmp)
    for m in cat:
        if not m.id:
            continue
        label = m.id if isinstance(m.id, str) else m.id[0]
        short = (label[:60] + "...") if len(label) > 60 else label
        ctx = f" [{m.context}]" if m.context else ""
        if lang != i18n.SOURCE_LANGUAGE:
            strings = [m.string] if isinstance(m.string, str) else list(m.string)
            if not all(strings):
                problems.append(f"{_rel(path)}: no translation for {short!r}{ctx}")
                continue
            if m.fuzzy:
                problems.append(f"{_rel(path)}: fuzzy (unconfirmed) translation for {short!r}{ctx}; "
                                f"check it and remove the fuzzy flag")
                continue
            if isinstance(m.id, tuple) and len(strings) != cat.num_plurals:
                problems.append(f"{_rel(path)}: {short!r} has {len(strings)} plural forms, the "
                                f"catalog's Plural-Forms header says {cat.num_plurals}")
        why = placeholder_problem(m.id, m.string)
        if why:
            problems.append(f"{_rel(path)}: {short!r}{ctx}: {why}")
    return problems


def check() -> list[str]:
    wanted, problems = plan()
    for path, text in wanted.items():
        if not path.is_file():
            problems.append(f"{_rel(path)} is missing: run tools/update_catalogs.py")
            continue
        current = path.read_text(encoding="utf-8")
        if not _same_ignoring_dates(current, text):
            problems.append(f"{_rel(path)} is stale (texts were added, changed or removed): "
                            f"run tools/update_catalogs.py, then translate")
        if path.suffix == ".po":
            problems.extend(translation_problems(path, current, path.parents[1].name))
    return problems


def _write(path: Path, text: str) -> None:
    """Atomically: a temporary file beside it, then replace (nothing half-written is left)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="change nothing; exit 1 if anything is stale or untranslated")
    ap.add_argument("--init", metavar="LANG", action="append", default=[],
                    help="create experience/locale/LANG/LC_MESSAGES/*.po from the templates")
    args = ap.parse_args(argv)
    for lang in args.init:
        if i18n.normalize(lang) != lang or not re.fullmatch(r"[a-z]{2,3}(_[A-Z]{2})?", lang):
            print(f"update_catalogs: error: {lang!r} is not a language code like de or pt_BR", file=sys.stderr)
            return 2
    if args.check:
        problems = check()
        for p in problems:
            print(p)
        n_msgs = {d: len([m for m in c if m.id]) for d, c in templates().items()}
        print(f"{len(problems)} problem(s); {n_msgs[i18n.DOMAIN]} texts in astp, "
              f"{n_msgs[i18n.REGIONS_DOMAIN]} in regions; languages: {', '.join(languages_on_disk())}")
        return 1 if problems else 0
    wanted, problems = plan(init=tuple(args.init))
    for p in problems:
        print(f"update_catalogs: {p}", file=sys.stderr)
    changed = 0
    for path, text in wanted.items():
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current is not None and _same_ignoring_dates(current, text):
            continue
        _write(path, text)
        changed += 1
        print(f"wrote {_rel(path)}")
    left = [p for p in check() if "stale" not in p]
    print(f"{changed} file(s) written; {len(left)} translation problem(s) left"
          + ("; run with --check to list them" if left else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
