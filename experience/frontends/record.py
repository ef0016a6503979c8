"""`astp record`: a scripted camera tour rendered offscreen to an H.264 video.

    astp record --tour docking -o docking.mp4 [--size 1280x720] [--fps 30] [--language en]
    astp record --list

The tour (data/tours/NAME.toml, experience/app/tours.py) sets the story time and the camera of
every frame; the one application loop (experience/app/experience.py AppLoop) updates the scene and
draws it into the renderer's offscreen buffer (EGL without a display), exactly as the viewer
would show it. The frames are a pure function of the tour, the size and the frame rate: the same
arguments give the same frames, and on the same machine the same file.

Captions and a small UTC clock are burned into the picture (Pillow, DejaVu Sans from
matplotlib's fonts, which has Cyrillic), in ``--language``; ``--no-text`` leaves them out. The
scene fades in at the start, out at the end and dips through black at a cut between cameras.

Encoding: the ffmpeg that imageio-ffmpeg ships in its wheel, libx264, yuv420p, CRF 18,
``+faststart`` (plays while it downloads), bit-exact flags and no metadata (no dates in the
file). ffmpeg runs as a child process fed raw RGB frames on its standard input, so that an
interrupt stops it at once and its error reaches the user in one line.

Output: every check comes before the work (the tour, the size, the frame rate, the language, the
output path: ``.mp4``, not a folder, not a device or FIFO, its folder exists and is writable);
the video is written to a uniquely named hidden temporary file beside the target and renamed
onto it at the end. The temporary file is removed on every other exit: an error, Ctrl-C, SIGTERM.
A symlink is written through (its target is replaced, the link stays).
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from experience.errors import AstpError

DEFAULT_SIZE = "1280x720"
DEFAULT_FPS = 30
MAX_FPS = 120
CRF = 18
ENCODER_THREADS = 4   # fixed, so that the encoded stream does not depend on the machine's core count
SUPERSAMPLE_LIMIT = 16384


def add_parser(sub, add_backend) -> None:
    """The `record` subcommand (wired into experience/frontends/cli.py)."""
    from experience.app.tours import tours

    names = ", ".join(tours()) or "none installed"
    p = sub.add_parser(
        "record", help="render a scripted camera tour to an MP4 video (offscreen)",
        description="Render a scripted camera tour (data/tours/NAME.toml) offscreen to an H.264 MP4 video, "
                    "frame-exact and reproducible. Captions and a UTC clock are burned into the picture "
                    "(Pillow, DejaVu Sans) in the chosen language; --no-text leaves them out.",
        epilog=f"Shipped tours: {names}. A tour is a data file: see docs/tours.md to write one. "
               "Rendering is software OpenGL where there is no GPU (llvmpipe: about 0.5 s per 1280x720 frame "
               "on 2 cores, so 'astp record --tour docking' takes about 15 minutes).")
    p.add_argument("--tour", metavar="NAME", help=f"a shipped tour ({names}) or a tour file NAME.toml")
    p.add_argument("-o", "--output", metavar="FILE.mp4", help="the video to write")
    p.add_argument("--size", default=DEFAULT_SIZE, metavar="WxH", help=f"picture size in pixels, even numbers (default {DEFAULT_SIZE})")
    p.add_argument("--fps", default=DEFAULT_FPS, metavar="N", help=f"frames per second, 1..{MAX_FPS} (default {DEFAULT_FPS})")
    p.add_argument("--language", default="en", metavar="LANG", help="language of the burned-in captions (en, ru; default en)")
    p.add_argument("--frames", metavar="N", help="only the first N frames (a quick look at a tour, tests)")
    p.add_argument("--no-text", action="store_true", help="no captions and no clock in the picture")
    p.add_argument("--list", action="store_true", help="list the shipped tours with their lengths, and exit")
    add_backend(p)


# ------------------------------------------------------------------------------------------------
@contextlib.contextmanager
def output_file(path):
    """The one place that handles the output file. Checks the path (before any work: enter this
    first), yields a uniquely named temporary file beside the target, and renames it onto the
    target when the body finishes; removes it on every other exit (errors, KeyboardInterrupt,
    the SIGTERM of :func:`sigterm_raises`). A symlink is written through to its target; a folder,
    a device or a FIFO at the target is refused."""
    given = Path(path)
    if given.suffix.lower() != ".mp4":
        raise AstpError(f"the video must be an .mp4 file, not {given.name or str(given)!r}; name it e.g. docking.mp4")
    target = Path(os.path.realpath(given)) if given.is_symlink() else given
    if target.is_symlink():
        raise AstpError(f"cannot write {path}: its symlink does not lead to a file (a loop?); give another name")
    if target.is_dir():
        raise AstpError(f"cannot write {path}: it is a folder; give a file name ending in .mp4")
    if target.exists() and not target.is_file():
        raise AstpError(f"cannot write {path}: it is a device or a pipe, not a file; give a file name ending in .mp4")
    folder = target.parent
    if not folder.is_dir():
        raise AstpError(f"cannot write {path}: the folder {folder} does not exist; create it first")
    if not os.access(folder, os.W_OK | os.X_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise AstpError(f"cannot write {path}: permission denied; choose a writable path")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part.mp4", dir=folder)
    except OSError as exc:
        raise AstpError(f"cannot write {path}: {exc.strerror or exc}; choose a writable path") from None
    os.close(fd)
    tmp = Path(tmp_name)
    done = False
    try:
        yield tmp
        if target.exists():
            mode = stat.S_IMODE(target.stat().st_mode)
        else:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        try:
            os.chmod(tmp, mode)
            os.replace(tmp, target)
        except OSError as exc:
            raise AstpError(f"cannot write {path}: {exc.strerror or exc}; choose a writable path") from None
        done = True
    finally:
        if not done:
            with contextlib.suppress(OSError):
                tmp.unlink()


class Terminated(BaseException):
    """SIGTERM arrived (raised in the main thread, so every cleanup runs)."""


@contextlib.contextmanager
def sigterm_raises():
    """While inside, SIGTERM raises :class:`Terminated` instead of killing the process outright."""
    def handler(signum, _frame):
        raise Terminated()

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# ------------------------------------------------------------------------------------------------
class Encoder:
    """libx264 through the ffmpeg of imageio-ffmpeg, fed raw RGB frames on its standard input."""

    def __init__(self, path: Path, size: tuple[int, int], fps: int):
        import imageio_ffmpeg

        w, h = size
        self.size = size
        self.path = path
        self.frames = 0
        cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
               "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-r", str(fps), "-i", "-", "-an",
               "-c:v", "libx264", "-preset", "medium", "-crf", str(CRF), "-pix_fmt", "yuv420p",
               "-threads", str(ENCODER_THREADS), "-movflags", "+faststart",
               "-fflags", "+bitexact", "-flags:v", "+bitexact", "-map_metadata", "-1", "-f", "mp4", str(path)]
        self.err = tempfile.TemporaryFile()
        try:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self.err,
                                         start_new_session=True)  # Ctrl-C reaches us, and we stop it
        except OSError as exc:
            self.err.close()
            raise AstpError(f"cannot start the video encoder ({exc.strerror or exc}); "
                            "reinstall imageio-ffmpeg (pip install --force-reinstall imageio-ffmpeg)") from None

    def _failure(self) -> AstpError:
        self.err.seek(0)
        lines = [ln.strip() for ln in self.err.read().decode("utf-8", "replace").splitlines() if ln.strip()]
        why = lines[-1] if lines else f"it exited with status {self.proc.returncode}"
        return AstpError(f"the video encoder failed writing {self.path.name}: {why}; check the free disk space")

    def write(self, image: np.ndarray) -> None:
        if image.shape != (self.size[1], self.size[0], 3) or image.dtype != np.uint8:
            raise ValueError(f"frame of shape {image.shape} {image.dtype}, expected {self.size[1]}x{self.size[0]}x3 uint8")
        try:
            self.proc.stdin.write(np.ascontiguousarray(image).tobytes())
        except (BrokenPipeError, OSError):
            self.proc.wait()
            raise self._failure() from None
        self.frames += 1

    def finish(self) -> None:
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        if self.proc.wait() != 0:
            raise self._failure()
        self.err.close()

    def abort(self) -> None:
        """Stop ffmpeg now (an error or an interrupt): nothing it wrote is kept."""
        if self.proc.poll() is None:
            self.proc.kill()
        with contextlib.suppress(OSError):
            self.proc.stdin.close()
        self.proc.wait()
        self.err.close()


# ------------------------------------------------------------------------------------------------
class TextLayer:
    """Captions and the clock, drawn with Pillow (DejaVu Sans) over each frame."""

    def __init__(self, size: tuple[int, int], gettext):
        from PIL import ImageFont

        from experience.frontends.overlay import ui_font_path

        self.w, self.h = size
        self._ = gettext
        self.caption_px = max(8, round(self.h * 0.034))
        self.clock_px = max(7, round(self.h * 0.024))
        self.show_clock = self.h >= 200   # a clock on a thumbnail-sized video would cover it
        self.caption_font = ImageFont.truetype(ui_font_path(), self.caption_px)
        self.clock_font = ImageFont.truetype(ui_font_path(), self.clock_px)
        self._cache: dict[tuple[str, str], tuple[np.ndarray, np.ndarray, int, int]] = {}

    def _layer(self, kind: str, text: str):
        """(rgb float (h, w, 3), alpha float (h, w, 1), x, y) of a text block, cached."""
        key = (kind, text)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        from PIL import Image, ImageDraw

        font = self.caption_font if kind == "caption" else self.clock_font
        px = self.caption_px if kind == "caption" else self.clock_px
        measure = ImageDraw.Draw(Image.new("L", (1, 1)))
        lines = _wrap(text, font, measure, self.w * 0.84) if kind == "caption" else [text]
        line_h = round(px * 1.3)
        text_w = max(measure.textlength(ln, font=font) for ln in lines)
        pad = round(px * 0.6)
        bw, bh = int(math.ceil(text_w)) + 2 * pad, line_h * len(lines) + 2 * pad - round(px * 0.3)
        img = Image.new("RGBA", (bw, bh), (0, 0, 0, 0))
        d = ImageDraw.Draw(img)
        if kind == "caption":
            d.rounded_rectangle((0, 0, bw - 1, bh - 1), radius=pad, fill=(8, 12, 20, 150))
            for i, ln in enumerate(lines):
                x = (bw - measure.textlength(ln, font=font)) / 2
                d.text((x, pad + i * line_h), ln, font=font, fill=(255, 255, 255, 255))
            x0, y0 = (self.w - bw) // 2, self.h - bh - round(self.h * 0.05)
        else:
            d.text((pad + 1, pad + 1), text, font=font, fill=(0, 0, 0, 160))   # soft shadow
            d.text((pad, pad), text, font=font, fill=(235, 240, 255, 235))
            x0, y0 = round(self.w * 0.012), round(self.h * 0.012)
        a = np.asarray(img, dtype=np.float32) / 255.0
        # keep the block inside the picture (tiny sizes)
        x0, y0 = max(0, x0), max(0, y0)
        a = a[: self.h - y0, : self.w - x0]
        out = (a[..., :3], a[..., 3:4], x0, y0)
        if len(self._cache) > 64:
            self._cache.clear()
        self._cache[key] = out
        return out

    def _blend(self, img: np.ndarray, kind: str, text: str, alpha: float) -> None:
        rgb, a, x0, y0 = self._layer(kind, text)
        hh, ww = a.shape[:2]
        region = img[y0:y0 + hh, x0:x0 + ww].astype(np.float32)
        k = a * float(alpha)
        img[y0:y0 + hh, x0:x0 + ww] = np.clip(region * (1.0 - k) + rgb * 255.0 * k + 0.5, 0, 255).astype(np.uint8)

    def draw(self, img: np.ndarray, frame, snapshot) -> np.ndarray:
        out = img.copy()
        clock = snapshot.utc.strftime("%Y-%m-%d  %H:%M:%S UTC")
        if frame.rate > 0:
            clock += f"    ▶ {frame.rate:,.0f}×" if frame.rate >= 1 else f"    ▶ {frame.rate:.2g}×"
        if self.show_clock:
            self._blend(out, "clock", clock, frame.fade)
        if frame.caption and frame.caption_alpha > 0.0:
            self._blend(out, "caption", self._(frame.caption), frame.caption_alpha)
        return out


def _wrap(text: str, font, measure, max_w: float) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        trial = f"{line} {word}".strip()
        if line and measure.textlength(trial, font=font) > max_w:
            lines.append(line)
            line = word
        else:
            line = trial
    return lines + ([line] if line else [])


def faded(img: np.ndarray, fade: float) -> np.ndarray:
    """The frame at ``fade`` brightness (0 black .. 1 as rendered)."""
    if fade >= 1.0:
        return img
    return np.clip(img.astype(np.float32) * float(fade) + 0.5, 0, 255).astype(np.uint8)


# ------------------------------------------------------------------------------------------------
class Progress:
    """A progress bar on a terminal; a line every 10 % (and at least every minute) otherwise."""

    def __init__(self, total: int, label: str, stream=None):
        self.total = total
        self.label = label
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.start = time.monotonic()
        self._last_draw = 0.0
        self._last_line = self.start
        self._next_pct = 10

    def update(self, done: int) -> None:
        now = time.monotonic()
        per = (now - self.start) / max(done, 1)
        left = per * (self.total - done)
        pct = 100.0 * done / self.total
        if self.tty:
            if now - self._last_draw < 0.2 and done < self.total:
                return
            self._last_draw = now
            width = 28
            fill = int(width * done / self.total)
            bar = "█" * fill + "░" * (width - fill)
            self.stream.write(f"\r{self.label} {bar} {pct:5.1f}%  {done}/{self.total} frames  "
                              f"{per:.2f} s/frame  {_hms(left)} left ")
            self.stream.flush()
        elif pct >= self._next_pct or now - self._last_line >= 60.0 or done == self.total:
            while self._next_pct <= pct:
                self._next_pct += 10
            self._last_line = now
            self.stream.write(f"astp: record: {self.label}: {done}/{self.total} frames ({pct:.0f}%), "
                              f"{per:.2f} s per frame, about {_hms(left)} left\n")
            self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def _hms(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


# ------------------------------------------------------------------------------------------------
def _int_arg(text, name: str, lo: int, hi: int | None = None) -> int:
    try:
        value = int(str(text))
    except ValueError:
        value = None
    if value is None or value < lo or (hi is not None and value > hi):
        rng = f"{lo}..{hi}" if hi is not None else f"at least {lo}"
        raise AstpError(f"bad {name} {text!r}: give a whole number, {rng}")
    return value


def check_video_size(text: str) -> tuple[int, int]:
    from experience.scene.config import parse_size

    w, h = parse_size(text)
    if w % 2 or h % 2:
        raise AstpError(f"bad size {w}x{h}: H.264 video in yuv420p needs an even width and height; "
                        f"try {w + w % 2}x{h + h % 2}")
    return w, h


def list_tours(fps: int) -> str:
    from experience.app.tours import Tour, tours

    rows = []
    for name in tours():
        t = Tour.load(name)
        where = f"attract loop #{t.attract}" if t.attract else ""
        rows.append(f"{name:<12} {t.duration_s:6.1f} s  {t.frame_count(fps):6d} frames at {fps} fps   "
                    f"{t.title}{'   (' + where + ')' if where else ''}")
    return "\n".join(rows) + "\n" if rows else "no tours installed (data/tours/ is empty)\n"


def cmd_record(args) -> int:
    from experience.app.settings import _languages
    from experience.app.tours import Tour, TourPlayer

    fps = _int_arg(args.fps, "--fps", 1, MAX_FPS)
    if args.list:
        sys.stdout.write(list_tours(fps))
        return 0
    if not args.tour:
        raise AstpError("say which tour: --tour NAME (see 'astp record --list')")
    if not args.output:
        raise AstpError("say where: -o FILE.mp4")
    tour = Tour.load(args.tour)
    size = check_video_size(args.size)
    max_frames = _int_arg(args.frames, "--frames", 1) if args.frames is not None else None
    if args.language not in _languages():
        raise AstpError(f"unknown language {args.language!r}; choose one of: {', '.join(_languages())}")
    player = TourPlayer(tour, fps, max_frames)
    try:
        with sigterm_raises(), output_file(args.output) as tmp:
            started = time.monotonic()
            frames_s = _record(tour, player, size, args, tmp)
            took = time.monotonic() - started
    except Terminated:
        print(f"astp: stopped (SIGTERM); {args.output} was not written", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print(f"astp: interrupted; {args.output} was not written", file=sys.stderr)
        return 130
    w, h = size
    print(f"wrote {args.output} ({player.frames} frames, {w}x{h}, {fps} fps, {player.frames / fps:.1f} s of video) "
          f"in {_hms(took)} ({frames_s / player.frames:.2f} s per frame, {took - frames_s:.0f} s to set up)",
          file=sys.stderr)
    return 0


def _record(tour, player, size, args, tmp: Path) -> float:
    """Render and encode the tour into ``tmp``; returns the seconds spent on the frames."""
    from experience.app.experience import AppLoop, Experience
    from experience.app.hud import translator
    from experience.backend import select_backend
    from experience.scene.config import RenderConfig
    from experience.scene.renderer import SceneRenderer
    from experience.simulation.ephemeris import Ephemeris

    eph = Ephemeris(backend=select_backend(args.backend, notice=lambda _m: None))
    exp = Experience(eph, language=args.language)
    tour.check_story(exp.live)
    cfg = RenderConfig(size=size)
    if max(size) * cfg.supersample > SUPERSAMPLE_LIMIT:
        cfg = cfg.replace(supersample=max(1, SUPERSAMPLE_LIMIT // max(size)))
    renderer = SceneRenderer(cfg)
    try:
        loop = AppLoop(exp, renderer)
        text = None if args.no_text else TextLayer(size, translator(args.language).gettext)
        encoder = Encoder(tmp, size, int(player.fps))
        progress = Progress(player.frames, tour.name)
        started = time.monotonic()
        try:
            for k, image in enumerate(tour_frames(player, exp, loop, text)):
                encoder.write(image)
                progress.update(k + 1)
            encoder.finish()
        except BaseException:
            encoder.abort()
            raise
        finally:
            progress.close()
        return time.monotonic() - started
    finally:
        renderer.close()


def tour_frames(player, exp, loop, text: TextLayer | None = None):
    """The frames of a tour as the encoder gets them: (H, W, 3) uint8, one per frame index, each
    rendered by the application loop (``loop`` over ``exp``) offscreen, faded, with the text."""
    for k in range(player.frames):
        frame = player.apply(exp, k)
        image = faded(loop.render_offscreen(0.0), frame.fade)
        yield text.draw(image, frame, exp.snapshot) if text is not None else image
