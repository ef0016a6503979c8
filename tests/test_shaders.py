"""Every .vert/.frag pair of the renderer compiles and links in a real OpenGL context (offscreen:
EGL + Mesa where there is no display), and a deliberately broken shader is caught, so the check
can fail."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHADERS = ROOT / "shaders"
PAIRS = ("earth", "atmosphere", "vehicle", "tonemap")  # the renderer's own (the sky has its own test)


@pytest.fixture(scope="module")
def gl():
    """A 64x64 offscreen buffer and a scene to draw test cards in; None if OpenGL is unusable."""
    pytest.importorskip("panda3d")
    from panda3d.core import (Camera, FrameBufferProperties, GraphicsEngine, GraphicsPipe, NodePath,
                              OrthographicLens, WindowProperties)

    from experience.scene import renderer

    try:
        pipe = renderer.shared_pipe()
    except Exception as exc:  # pragma: no cover - machines without any GL
        pytest.skip(f"no OpenGL pipe: {exc}")
    engine = GraphicsEngine.getGlobalPtr()
    fb = FrameBufferProperties()
    fb.setRgbColor(True)
    fb.setDepthBits(16)
    buf = engine.makeOutput(pipe, "shader-test", 0, fb, WindowProperties.size(64, 64),
                            GraphicsPipe.BF_refuse_window, None, None)
    if buf is None:  # pragma: no cover
        pytest.skip("cannot create an offscreen buffer")
    root = NodePath("shader-test-root")
    cam = root.attachNewNode(Camera("cam", OrthographicLens()))
    buf.makeDisplayRegion().setCamera(cam)
    engine.renderFrame()  # creates the GL context (and leaves it current)
    yield engine, buf, root
    engine.removeWindow(buf)


def _compile(gl, vert: Path, frag: Path):
    """Compile and link the pair in the buffer's GL context (Panda3D's GLShaderContext does both
    when the shader is prepared); returns (shader, context or None, the GL log text)."""
    from panda3d.core import Notify, Shader, StringStream

    engine, buf, root = gl
    log = StringStream()
    Notify.ptr().setOstreamPtr(log, False)
    try:
        shader = Shader.load(Shader.SL_GLSL, vertex=str(vert), fragment=str(frag))
        assert shader is not None, f"could not read {vert.name} / {frag.name}"
        ctx = shader.prepareNow(buf.getGsg().getPreparedObjects(), buf.getGsg())
        return shader, ctx, log.getData().decode("utf-8", "replace")
    finally:
        Notify.ptr().setOstreamPtr(None, False)


@pytest.mark.parametrize("name", PAIRS)
def test_pair_compiles_and_links(gl, name):
    vert, frag = SHADERS / f"{name}.vert", SHADERS / f"{name}.frag"
    assert vert.is_file() and frag.is_file()
    shader, ctx, log = _compile(gl, vert, frag)
    assert not shader.getErrorFlag(), f"{name}: {log}"
    assert ctx is not None, f"{name}: no shader context\n{log}"
    errors = [ln for ln in log.splitlines() if "error" in ln.lower() and "glsl" in ln.lower()]
    assert not errors, f"{name}:\n" + "\n".join(errors)


def test_all_renderer_shaders_are_listed():
    """A new .vert/.frag pair of the renderer must be added to PAIRS (sky shaders excepted)."""
    sky = {"stars", "moon", "sun"}
    found = {p.stem for p in SHADERS.glob("*.frag")} - sky
    assert found <= set(PAIRS), f"untested shader pairs: {sorted(found - set(PAIRS))}"


def test_a_broken_shader_is_caught(gl, tmp_path):
    (tmp_path / "bad.vert").write_text((SHADERS / "tonemap.vert").read_text())
    (tmp_path / "bad.frag").write_text("#version 330\nout vec4 o;\nvoid main() { o = vec4(undefined_thing); }\n")
    shader, ctx, log = _compile(gl, tmp_path / "bad.vert", tmp_path / "bad.frag")
    assert shader.getErrorFlag() or ctx is None or "error" in log.lower()
