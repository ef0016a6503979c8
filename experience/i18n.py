"""Translations: gettext catalogs, the current language, and the font that can show them.

The convention translators know: every text a visitor reads is written in English in the code or
the data (the message id) and looked up in a gettext catalog of the visitor's language,
``experience/locale/<lang>/LC_MESSAGES/<domain>.po``. Two domains:

* ``astp``: the interface, captions, event, phase and vehicle names (``_``, ``ngettext``, ...);
* ``regions``: the countries, seas and oceans under the spacecraft (:func:`place_name`).

Marking text in code::

    from experience.i18n import _, N_, ngettext, pgettext, NP_

    label = _("Altitude")                         # translated now, in the current language
    PHASES = {"docked": NP_("phase", "docked")}   # marked only: translated where shown
    text = ngettext("{n} day", "{n} days", n).format(n=n)

``N_``/``NP_`` return their argument unchanged; they only mark it for
``tools/update_catalogs.py``, which extracts every marked string (and the texts of the data
files: captions, event, vehicle and crew names, places) into ``experience/locale/*.pot`` and
merges them into each language's ``.po``.

Catalogs are compiled **in memory** the first time a language is used in a process (Babel reads
the ``.po``, writes the ``.mo`` into a buffer, the standard library's ``gettext`` reads that).
Why not a ``.mo`` in the user cache: the catalogs are small (both domains of one language
compile in a few tens of milliseconds, once per process), so a cache would save almost nothing and
add a copy that can go stale or be damaged when a museum edits a ``.po``; in memory, the ``.po``
on disk is always what is shown, and nothing is written. A ``.mo`` a PO editor leaves beside the
``.po`` is ignored for the same reason.

A language without a catalog, or a catalog that does not parse, falls back to English with one
notice line (never a traceback); a string missing from a catalog shows in English.
``pt_BR`` falls back to ``pt`` and then to English.
"""

from __future__ import annotations

import functools
import gettext
import importlib.util
import io
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path

SOURCE_LANGUAGE = "en"
DOMAIN = "astp"
REGIONS_DOMAIN = "regions"
DOMAINS = (DOMAIN, REGIONS_DOMAIN)
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGE_NAME_CONTEXT = "language name"


def N_(message: str) -> str:
    """Mark ``message`` for translation without translating it (tables translated later)."""
    return message


def NP_(context: str, message: str) -> str:
    """Mark ``message`` with a context (``pgettext`` later) without translating it."""
    return message


# Translators: the name of YOUR language, in your language ("Deutsch", "Русский"), for the menu.
_LANGUAGE_NAME = NP_("language name", "English")


def _notice_default(line: str) -> None:
    print(f"astp: notice: {line}", file=sys.stderr)


# --------------------------------------------------------------------------- catalogs on disk
def locale_dirs() -> tuple[Path, ...]:
    """Where catalogs are looked for: ``$ASTP_LOCALE_DIR`` (os.pathsep-separated folders, first
    wins) before the catalogs shipped in ``experience/locale``."""
    extra = [Path(p) for p in os.environ.get("ASTP_LOCALE_DIR", "").split(os.pathsep) if p]
    return (*extra, LOCALE_DIR)


def catalog_path(lang: str, domain: str = DOMAIN) -> Path | None:
    """The ``.po`` file of ``lang`` for ``domain``, or None where there is none."""
    for base in locale_dirs():
        path = base / lang / "LC_MESSAGES" / f"{domain}.po"
        if path.is_file():
            return path
    return None


def normalize(lang: str | None) -> str:
    """``ru_RU.UTF-8`` / ``ru-RU`` / ``RU`` -> ``ru_RU`` / ``ru``: the form catalog folders use."""
    text = (lang or "").strip()
    for sep in (".", "@"):
        text = text.split(sep)[0]
    parts = text.replace("-", "_").split("_")
    if not parts[0]:
        return ""
    code = parts[0].lower()
    if len(parts) > 1 and parts[1]:
        code += "_" + parts[1].upper()
    return code


def _candidates(lang: str) -> list[str]:
    code = normalize(lang)
    out = [code] if code else []
    if "_" in code:
        out.append(code.split("_")[0])
    return out


def languages() -> dict[str, str]:
    """The languages with a catalog (``astp`` domain), code -> the language's own name, English
    first, then by code: at least ``{"en": "English", "ru": "Русский"}``.

    The own name is the catalog's translation of "English" in the context "language name" (a
    translator writes "Deutsch" there); where that is empty, Babel's name for the locale. A
    catalog that does not compile is left out (with the one notice line of :func:`translation`)."""
    out = {}
    for code in sorted(_codes_on_disk(), key=lambda c: (c != SOURCE_LANGUAGE, c)):
        if code == SOURCE_LANGUAGE or served_language(code) == code:  # a broken one is left out
            out[code] = language_name(code)
    return out


def language_name(lang: str) -> str:
    """The name of ``lang`` in that language ("Русский"), for a language menu."""
    if normalize(lang) == SOURCE_LANGUAGE:
        return "English"
    tr = translation(lang, notice=lambda _line: None)
    name = tr.pgettext(LANGUAGE_NAME_CONTEXT, _LANGUAGE_NAME)
    if name != "English":
        return name
    try:
        from babel import Locale

        display = Locale.parse(normalize(lang)).get_display_name(normalize(lang)) or lang
    except Exception:  # an unknown code: show it as it is
        return lang
    return display[:1].upper() + display[1:]


# --------------------------------------------------------------------------- compiling
class CatalogError(Exception):
    """A catalog that cannot be used (one line, for the notice)."""


def compile_po(path: Path, lang: str) -> bytes:
    """The ``.mo`` bytes of one ``.po`` file (Babel), or :class:`CatalogError` saying why."""
    from babel.messages import mofile, pofile

    try:
        with open(path, "rb") as fh:
            catalog = pofile.read_po(fh, locale=_babel_locale(lang), abort_invalid=True)
    except OSError as exc:
        raise CatalogError(f"cannot read {path}: {exc.strerror or exc}") from None
    except Exception as exc:  # babel's PoFileError, UnicodeDecodeError, bad headers
        raise CatalogError(f"{path} is not a valid PO file ({_one_line(exc)})") from None
    buf = io.BytesIO()
    try:
        mofile.write_mo(buf, catalog, use_fuzzy=False)
    except Exception as exc:
        raise CatalogError(f"{path} does not compile ({_one_line(exc)})") from None
    return buf.getvalue()


def _babel_locale(lang: str):
    """A Babel locale for the plural rules where Babel knows ``lang`` (the .po header's
    Plural-Forms wins anyway); None otherwise."""
    try:
        from babel import Locale

        return Locale.parse(normalize(lang))
    except Exception:
        return None


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _stamp(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_mtime_ns, st.st_size


@functools.lru_cache(maxsize=64)
def _mo_bytes(path_str: str, lang: str, stamp: tuple[int, int]) -> bytes:
    """Compiled once per process and version of the file (``stamp``: a changed .po compiles again)."""
    return compile_po(Path(path_str), lang)


def _open(path: Path, lang: str) -> gettext.GNUTranslations:
    data = _mo_bytes(str(path), lang, _stamp(path))
    try:
        return gettext.GNUTranslations(io.BytesIO(data))
    except Exception as exc:  # e.g. a Plural-Forms header the standard library refuses
        raise CatalogError(f"{path} cannot be used ({_one_line(exc)})") from None


def _resolve(lang: str | None, domain: str):
    """[(code, translations)] for ``lang`` and its parent language, and the problems met."""
    found, problems = [], []
    for code in _candidates(lang or SOURCE_LANGUAGE):
        path = catalog_path(code, domain)  # en.po too: a museum may reword the English there
        if path is None:
            continue
        try:
            found.append((code, _open(path, code)))
        except (CatalogError, OSError) as exc:
            problems.append(str(exc))
    return found, problems


_NOTICED: set[tuple[str, str]] = set()


def translation(lang: str | None, domain: str = DOMAIN, *,
                notice: Callable[[str], None] | None = None) -> gettext.NullTranslations:
    """A gettext translations object for ``lang`` (``gettext``, ``ngettext``, ``pgettext``,
    ``npgettext``), English for anything it lacks.

    Never raises for a missing or broken catalog: it calls ``notice`` with one line (default:
    ``astp: notice: ...`` on stderr, once per language and domain in a process) and returns
    English (``gettext.NullTranslations``). Each call returns a new object (cheap: the compiled
    catalog is kept per process and file version), so fallbacks never leak between callers."""
    code = normalize(lang) or SOURCE_LANGUAGE
    found, problems = _resolve(code, domain)
    if problems or (not found and code.split("_")[0] != SOURCE_LANGUAGE):
        key = (code, domain)
        if notice is not None or key not in _NOTICED:
            _NOTICED.add(key)
            if problems:
                why = problems[0]
            else:
                why = f"no {domain}.po catalog for language {lang!r}"
            if found:
                tail = f"using the {found[0][0]!r} catalog, English where it has nothing"
            else:
                tail = f"showing English (languages: {', '.join(languages())})"
            fix = "; fix it with a PO editor (docs/translating.md)" if problems else ""
            (notice or _notice_default)(f"{why}; {tail}{fix}")
    out: gettext.NullTranslations = gettext.NullTranslations()
    for _code, tr in reversed(found):
        tr.add_fallback(out)
        out = tr
    return out


def _codes_on_disk() -> set[str]:
    found = {SOURCE_LANGUAGE}
    for base in locale_dirs():
        if base.is_dir():
            found.update(sub.name for sub in base.iterdir()
                         if (sub / "LC_MESSAGES" / f"{DOMAIN}.po").is_file())
    return found


def served_language(lang: str | None) -> str:
    """The catalog that :func:`translation` uses for ``lang``: ``"pt"`` for ``pt_BR`` where only
    ``pt`` exists, ``"en"`` where there is none (or it is broken)."""
    found, _ = _resolve(normalize(lang) or SOURCE_LANGUAGE, DOMAIN)
    return found[0][0] if found else SOURCE_LANGUAGE


def system_language() -> str:
    """The language the desktop asks for ($LANGUAGE, $LC_ALL, $LC_MESSAGES, $LANG, the gettext
    order) among those with a catalog: "ru" under ``LANG=ru_RU.UTF-8``; "en" where none fits.
    For a settings default; the settings' own ``language`` wins."""
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        for part in value.split(":"):
            code = normalize(part)
            if not code or code.lower() in ("c", "posix"):
                continue
            served = served_language(code)
            if served != SOURCE_LANGUAGE or code.split("_")[0] == SOURCE_LANGUAGE:
                return served
        if value:
            break  # the first variable that is set decides, as in gettext
    return SOURCE_LANGUAGE


# --------------------------------------------------------------------------- the current language
class _State:
    lock = threading.Lock()
    lang = SOURCE_LANGUAGE
    tr: dict[str, gettext.NullTranslations] = {d: gettext.NullTranslations() for d in DOMAINS}
    listeners: list[Callable[[str], None]] = []


def set_language(lang: str | None, *, notice: Callable[[str], None] | None = None) -> str:
    """Switch every ``_()``/``ngettext()``/... of the process to ``lang`` at once, at any moment
    (about a millisecond after the first use of a language in the process, whose catalogs are
    compiled then: tens of milliseconds). Returns the code in force: ``"en"`` where ``lang`` has
    no usable catalog (after one notice line). Listeners added with :func:`on_language_change`
    are then called with that code, so a front end can redraw its text."""
    lines: list[str] = []
    new = {d: translation(lang, d, notice=lines.append) for d in DOMAINS}
    if lines:  # one line, however many domains lack a catalog
        (notice or _notice_default)(lines[0])
    code = served_language(lang)
    with _State.lock:
        _State.tr = new
        _State.lang = code
        listeners = list(_State.listeners)
    for fn in listeners:
        fn(code)
    return code


def current_language() -> str:
    """The code set by the last :func:`set_language` (``"en"`` at start)."""
    return _State.lang


def on_language_change(fn: Callable[[str], None]) -> Callable[[], None]:
    """Call ``fn(code)`` after every :func:`set_language`; returns a function that removes it."""
    with _State.lock:
        _State.listeners.append(fn)

    def remove():
        with _State.lock:
            if fn in _State.listeners:
                _State.listeners.remove(fn)

    return remove


def _(message: str) -> str:
    """``message`` in the current language."""
    return _State.tr[DOMAIN].gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The plural form for ``n`` in the current language (Russian has three: 1, 2-4, 5-20...)."""
    return _State.tr[DOMAIN].ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """``message`` in the current language, told apart from the same English by ``context``."""
    return _State.tr[DOMAIN].pgettext(context, message)


def npgettext(context: str, singular: str, plural: str, n: int) -> str:
    return _State.tr[DOMAIN].npgettext(context, singular, plural, n)


def current_translation(domain: str = DOMAIN) -> gettext.NullTranslations:
    """The translations object in force for ``domain`` (to pass where a function takes ``tr``)."""
    return _State.tr[domain]


# --------------------------------------------------------------------------- places
THEN_SEPARATOR = " (then "
# Translators: a place as it was in July 1975, e.g. "Kazakhstan (then Kazakh SSR, USSR)".
_THEN_PATTERN = N_("{name} (then {then})")


def place_name(name: str, tr: gettext.NullTranslations | None = None,
               regions_tr: gettext.NullTranslations | None = None) -> str:
    """A region name from :mod:`experience.simulation.regions` (``Snapshot`` vehicle ``region``)
    in the current language: "Kazakhstan (then Kazakh SSR, USSR)" -> "Казахстан (тогда Казахская
    ССР, СССР)"; "North Atlantic Ocean" -> "Северная Атлантика". Pass ``tr``/``regions_tr``
    (from :func:`translation`) for another language than the current one."""
    tr = tr or _State.tr[DOMAIN]
    rtr = regions_tr or _State.tr[REGIONS_DOMAIN]
    if name.endswith(")") and THEN_SEPARATOR in name:
        modern, then = name[:-1].split(THEN_SEPARATOR, 1)
        return tr.gettext(_THEN_PATTERN).format(name=rtr.gettext(modern),
                                                         then=rtr.gettext(then))
    return rtr.gettext(name)


def place_note(note: str | None, regions_tr: gettext.NullTranslations | None = None) -> str | None:
    """A historical note from ``regions.region_note()`` in the current language."""
    if not note:
        return note
    return (regions_tr or _State.tr[REGIONS_DOMAIN]).gettext(note)


# --------------------------------------------------------------------------- the font
FONT_FAMILY = "DejaVu Sans"


@functools.cache
def _mpl_font_dir() -> Path | None:
    spec = importlib.util.find_spec("matplotlib")  # found without importing matplotlib
    if spec is None or not spec.origin:
        return None
    return Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf"


def ui_font_path(bold: bool = False) -> Path:
    """DejaVu Sans (``bold``: DejaVu Sans Bold) from matplotlib's mpl-data: a font that ships in
    a package the project already depends on, with Latin, Cyrillic, Greek and the typographic
    marks the catalogs use (« » — ° №). Raises AstpError naming the fix where it is missing."""
    from experience.errors import AstpError

    folder = _mpl_font_dir()
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    path = folder / name if folder else None
    if path is None or not path.is_file():
        raise AstpError(f"the interface font {name} is missing (it ships inside matplotlib's "
                        f"mpl-data/fonts/ttf); reinstall it: .venv/bin/pip install --force-reinstall matplotlib")
    return path
