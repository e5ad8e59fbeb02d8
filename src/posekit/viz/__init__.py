"""Overlays and plots."""

from .draw import PALETTE, draw_frame, person_color

__all__ = ["PALETTE", "draw_frame", "person_color"]
