from shapes.geometry import circle_area, rectangle_area


def describe(radius: float, width: float, height: float) -> str:
    total = circle_area(radius) + rectangle_area(width, height)
    return f"total area: {total:.2f}"
