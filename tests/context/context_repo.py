"""A small multi-language repository on disk, and helpers to build requests against it."""

from __future__ import annotations

import textwrap
from pathlib import Path

from qwen_lsp.context.base import ContextRequest

FILES = {
    "py/shop/__init__.py": "",
    "py/shop/pricing.py": '''
        TAX_RATE = 0.2


        def compute_total(items: list[float], discount: float = 0.0) -> float:
            """Sum of the item prices after the discount, tax included."""
            subtotal = sum(items) * (1 - discount)
            return round(subtotal * (1 + TAX_RATE), 2)


        class Cart:
            def __init__(self) -> None:
                self.items: list[float] = []

            def add(self, price: float) -> None:
                self.items.append(price)
        ''',
    "py/app/main.py": """
        from shop.pricing import compute_total


        def checkout(items):
            total = compute_total(
        """,
    "ts/src/format.ts": """
        /** Formats an amount of cents as a price label. */
        export function formatPrice(cents: number, currency: string): string {
          return `${(cents / 100).toFixed(2)} ${currency}`;
        }
        """,
    "ts/src/app.ts": """
        import { formatPrice } from "./format";

        export function render(total: number): string {
          const label = formatPrice(
        """,
    "go/go.mod": "module example.com/shop\n",
    "go/util/sum.go": """
        package util

        // Sum adds up the values.
        func Sum(values []int) int {
        \ttotal := 0
        \tfor _, v := range values {
        \t\ttotal += v
        \t}
        \treturn total
        }
        """,
    "go/main.go": """
        package main

        import "example.com/shop/util"

        func main() {
        \ttotal := util.Sum(
        """,
}


def write_repo(root: Path, files: dict[str, str] = FILES) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    return root


def count_tokens(text: str) -> int:
    return max(1, len(text) // 4)


def request_at_end(
    path: Path, language_id: str, budget: int = 2048, text: str | None = None, root: Path | None = None
) -> ContextRequest:
    """A request with the cursor at the end of the file and the whole file as the visible window."""
    text = path.read_text() if text is None else text
    offset = len(text.rstrip("\n"))
    line = text.count("\n", 0, offset)
    character = offset - (text.rfind("\n", 0, offset) + 1)
    rel = path.relative_to(root).as_posix() if root else path.name
    return ContextRequest(
        path.as_uri(), rel, language_id, text, offset, line, character, budget, count_tokens, 0, len(text)
    )
