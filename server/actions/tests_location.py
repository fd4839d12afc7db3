"""Where "Write tests" puts the tests it writes, by the language's usual convention."""

from __future__ import annotations

from pathlib import Path, PurePosixPath


def where_tests_go(source: Path, language: str, root: Path | None) -> Path | None:
    """The test file for ``source``, or None when tests belong in the source file itself (Rust) or the
    language has no convention we know."""
    stem, suffix = source.stem, source.suffix
    if language == "python":
        if stem.startswith("test_"):
            return None
        tests_dir = root / "tests" if root is not None else None
        if tests_dir is not None and tests_dir.is_dir():
            return tests_dir / f"test_{stem}.py"
        return source.with_name(f"test_{stem}.py")
    if language in ("javascript", "typescript", "javascriptreact", "typescriptreact"):
        return None if ".test." in source.name else source.with_name(f"{stem}.test{suffix}")
    if language == "go":
        return None if stem.endswith("_test") else source.with_name(f"{stem}_test.go")
    if language == "java":
        return None if stem.endswith("Test") else source.with_name(f"{stem}Test.java")
    if language == "ruby":
        return source.with_name(f"{stem}_spec.rb")
    return None


def python_module(source: Path, root: Path | None) -> str:
    """The dotted module name tests import ``source`` by (``src/`` layouts drop the ``src``)."""
    try:
        rel = PurePosixPath(source.relative_to(root).as_posix()) if root is not None else PurePosixPath(source.name)
    except ValueError:
        rel = PurePosixPath(source.name)
    parts = list(rel.with_suffix("").parts)
    if parts and parts[0] == "src":
        parts = parts[1:]
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)
