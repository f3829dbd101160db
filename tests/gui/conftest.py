"""Fixtures for the viewer tests: a themed offscreen app, screenshots, pixel checks."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(scope="session")
def app(qapp):
    from hotfire.gui.theme import DARK, setup

    setup(qapp, DARK)
    return qapp


@pytest.fixture
def screens(tmp_path):
    """``save(widget, name)``: grab to PNG in tmp_path (and $HOTFIRE_SCREENS if set); returns the image."""
    extra = os.environ.get("HOTFIRE_SCREENS")

    def save(widget, name):
        img = widget.grab().toImage()
        path = tmp_path / f"{name}.png"
        assert img.save(str(path))
        if extra:
            Path(extra).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, Path(extra) / path.name)
        return img

    return save


def pixels(img) -> np.ndarray:
    """A QImage as an (h, w, 3) RGB array."""
    from PySide6 import QtGui

    img = img.convertToFormat(QtGui.QImage.Format_RGB32)
    w, h = img.width(), img.height()
    arr = np.frombuffer(img.constBits(), np.uint8).reshape(h, img.bytesPerLine() // 4, 4)[:, :w]
    return arr[..., 2::-1]  # BGRA in memory -> RGB


def count_colour(img, colour: str, tol: int = 24) -> int:
    """Pixels within ``tol`` (per channel) of ``colour`` ('#rrggbb')."""
    rgb = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(pixels(img).astype(int) - rgb).max(axis=-1) <= tol).sum())


def dominant_colour(img) -> tuple[int, int, int]:
    """The most common colour of an image."""
    p = pixels(img).reshape(-1, 3)
    keys, counts = np.unique(p, axis=0, return_counts=True)
    return tuple(int(v) for v in keys[np.argmax(counts)])


@pytest.fixture
def px():
    """Pixel helpers (test modules cannot import conftest under --import-mode=importlib)."""
    class _Px:
        pass

    p = _Px()
    p.pixels, p.count_colour, p.dominant_colour = pixels, count_colour, dominant_colour
    return p
