"""Small geometry helpers (fixture project for the editor tests)."""

from shapes.geometry import circle_area, rectangle_area

__all__ = ["circle_area", "rectangle_area"]
