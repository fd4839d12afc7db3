"""Workspaces and damage for the reliability tests and bench/bench_faults.py."""

from __future__ import annotations

import random
from pathlib import Path

PRICING = "TAX_RATE = 0.2\n\n\ndef price_with_tax(amount: float) -> float:\n    return amount * (1 + TAX_RATE)\n"
CART = (
    "from shop.pricing import price_with_tax\n\n\ndef total(items):\n    return sum(price_with_tax(i) for i in items)\n"
)


def write_shop(root: Path) -> None:
    """Two modules: cart.py uses price_with_tax, defined in pricing.py."""
    (root / "shop").mkdir(parents=True)
    (root / "shop" / "pricing.py").write_text(PRICING)
    (root / "shop" / "cart.py").write_text(CART)


def write_filler(root: Path, count: int, functions: int = 1, per_folder: int = 100) -> None:
    """``count`` modules of ``functions`` small functions each."""
    for i in range(count):
        folder = root / f"pkg{i // per_folder}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"mod{i}.py").write_text(
            "".join(
                f'def function_{i}_{j}(value):\n    """Number {i}.{j}."""\n    return value + {i * j}\n\n\n'
                for j in range(functions)
            )
        )


def write_chain(root: Path, depth: int) -> Path:
    """``depth`` nested folders, each with a .gitignore; 20 source files at the bottom (returned), plus one file
    the .gitignore files exclude and one they re-include."""
    folder = root
    for level in range(depth):
        folder = folder / "d"
        folder.mkdir(parents=True)
        (folder / ".gitignore").write_text(f"*.tmp.py\n/build{level}/\n!keep.tmp.py\n")
    for i in range(20):
        (folder / f"f{i}.py").write_text(f"def f{i}():\n    return {i}\n")
    (folder / "junk.tmp.py").write_text("x = 1\n")
    (folder / "keep.tmp.py").write_text("y = 2\n")
    return folder


def damage_pages(database: Path, seed: int = 7) -> None:
    """Random bytes over every other page after the first: the header stays intact, as after a bad disk."""
    data = bytearray(database.read_bytes())
    page = int.from_bytes(data[16:18], "big") or 65536
    rng = random.Random(seed)
    for start in range(page, len(data), 2 * page):
        data[start : start + page] = rng.randbytes(min(page, len(data) - start))
    database.write_bytes(bytes(data))
