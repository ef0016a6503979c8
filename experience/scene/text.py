"""On-screen text in any catalog's language: the interface font as a Panda3D font, text nodes.

The font is DejaVu Sans from matplotlib's mpl-data (:func:`experience.i18n.ui_font_path`): Latin,
Cyrillic, Greek and the typographic marks the catalogs use, in a package the project already
installs. Panda3D rasterises it with FreeType into glyph pages on first use of each character
(``pixels_per_unit`` sets their resolution: text drawn larger than that many pixels per line
height gets soft). Nothing here computes anything of the simulation.
"""

from __future__ import annotations

import functools

# Glyph pages at this many pixels per text unit (one line height): sharp for captions up to
# about 64 px tall, i.e. a 1080p caption at 3 % of the screen height with room to spare.
PIXELS_PER_UNIT = 64


@functools.lru_cache(maxsize=4)
def ui_font(bold: bool = False, pixels_per_unit: int = PIXELS_PER_UNIT):
    """The interface font as a Panda3D ``DynamicTextFont`` (one per weight and size, kept)."""
    from panda3d.core import DynamicTextFont, Filename, SamplerState

    from experience.errors import AstpError
    from experience.i18n import ui_font_path

    path = ui_font_path(bold)
    font = DynamicTextFont(Filename.from_os_specific(str(path)))
    if not font.is_valid():
        raise AstpError(f"Panda3D could not read the interface font {path}; reinstall matplotlib "
                        f"(.venv/bin/pip install --force-reinstall matplotlib)")
    font.set_pixels_per_unit(pixels_per_unit)
    font.set_page_size(1024, 1024)
    font.set_minfilter(SamplerState.FT_linear)
    font.set_magfilter(SamplerState.FT_linear)
    return font


def missing_glyphs(text: str, bold: bool = False) -> str:
    """The characters of ``text`` that the interface font cannot draw (empty when all can)."""
    from panda3d.core import TextNode

    node = TextNode("glyph-check")
    node.set_font(ui_font(bold))
    return "".join(sorted({ch for ch in text if not ch.isspace() and not node.has_character(ch)}))


def text_node(name: str, text: str = "", *, bold: bool = False, wordwrap: float | None = None,
              align: str = "left", color=(1.0, 1.0, 1.0, 1.0), shadow: bool = True,
              card_color=None, card_margin: float = 0.3):
    """A ``TextNode`` in the interface font: ``wordwrap`` in line heights, ``align``
    left/center/right, an optional drop shadow and a backing card (RGBA) for legibility over the
    Earth. Update it per caption with ``node.set_text(...)`` (cheap; no rebuild of the scene)."""
    from panda3d.core import TextNode

    node = TextNode(name)
    node.set_font(ui_font(bold))
    node.set_align({"left": TextNode.A_left, "center": TextNode.A_center,
                    "right": TextNode.A_right}[align])
    node.set_text_color(*color)
    if wordwrap:
        node.set_wordwrap(float(wordwrap))
    if shadow:
        node.set_shadow(0.05, 0.05)
        node.set_shadow_color(0.0, 0.0, 0.0, 0.8)
    if card_color is not None:
        node.set_card_color(*card_color)
        node.set_card_as_margin(card_margin, card_margin, card_margin * 0.6, card_margin * 0.6)
        node.set_card_decal(True)
    node.set_text(text)
    return node
