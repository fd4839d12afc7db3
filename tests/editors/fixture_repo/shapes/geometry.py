import math


def circle_area(radius: float) -> float:
    """Return the area of a circle with the given radius."""
    return math.pi * radius**2


def rectangle_area(width: float, height: float) -> float:
    """Return the area of a rectangle."""
