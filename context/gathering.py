"""What every retrieval source needs to know about one request, computed once: the current file's tree and
lines, the cursor, the visible window, the file's imports and where they resolve to."""

from __future__ import annotations

import posixpath
import time
from dataclasses import dataclass, field

from tree_sitter import Tree

from .base import ContextRequest
from .documents import OpenDocument
from .index.repo_index import FileRecord, RepoIndex
from .resolution.imports import Import, targets
from .syntax.languages import LanguageSpec, language_for_id, parser_for
from .syntax.parsing import MAX_PARSE_BYTES
from .syntax.symbols import extract_imports, split_lines
from .uris import key_to_uri


@dataclass
class Gathering:
    request: ContextRequest
    key: str  # index key of the current file
    folder: str  # its workspace folder ("" when outside every folder)
    rel: str  # its path relative to the folder
    spec: LanguageSpec | None
    tree: Tree | None
    source: bytes  # request.text as UTF-8
    cursor_byte: int
    lines: list[str]
    cursor_line: int
    window: tuple[int, int]  # lines already in the prompt's prefix/suffix, [start, end)
    index: RepoIndex
    record: FileRecord | None
    imports: list[Import]
    deadline: float = 0.0
    _resolved: dict[int, list[str]] = field(default_factory=dict)
    _imported_files: set[str] | None = None
    _directory: str | None = None  # the current file's folder, '/'-terminated ("" at the root)

    def expired(self) -> bool:
        return time.perf_counter() > self.deadline

    def resolve(self, imp: Import) -> list[str]:
        """File keys an import of the current file points to (cached per request)."""
        cached = self._resolved.get(id(imp))
        if cached is None:
            dialect = self.spec.import_dialect if self.spec else ""
            cached = self._resolved[id(imp)] = resolve_import(
                self.index, imp, dialect, self.key, self.folder, self.rel, self.record
            )
        return cached

    def imported_files(self) -> set[str]:
        """File keys the current file's imports point to, resolved once per request, when first asked."""
        if self._imported_files is None:
            self._imported_files = {key for imp in self.imports for key in self.resolve(imp)}
        return self._imported_files

    def in_same_folder(self, record: FileRecord) -> bool:
        """``record`` is in the current file's folder (a Go package, a C module, a Python package's siblings)."""
        if record.folder != self.folder:
            return False
        if self._directory is None:  # asked for each of thousands of definitions of a common name: by prefix
            directory = posixpath.dirname(self.rel)
            self._directory = directory + "/" if directory else ""
        rel, directory = record.rel, self._directory
        return rel.startswith(directory) and rel.find("/", len(directory)) < 0

    def shown_path(self, record: FileRecord | None, key: str) -> str:
        """The path shown to the model: relative to the current file's folder when possible."""
        if record is None:
            return posixpath.basename(key) if key.startswith("/") else key
        if record.folder == self.folder or not self.folder:
            return record.rel
        return f"{posixpath.basename(record.folder)}/{record.rel}"

    def uri_of(self, key: str) -> str:
        return self.request.uri if key == self.key else key_to_uri(key)


def line_start_within(text: str, offset: int, limit: int) -> int:
    """Start of the line ``offset`` is on, or ``limit`` characters back in a longer line: minified code can be one
    line of megabytes, and what the context reads of the cursor's line must stay bounded."""
    lowest = max(0, offset - limit)
    return max(text.rfind("\n", lowest, offset) + 1, lowest)


def resolve_import(
    index: RepoIndex, imp: Import, dialect: str, key: str, folder: str, rel: str, record: FileRecord | None
) -> list[str]:
    """File keys an import in file ``key`` (``rel`` in ``folder``) points to: the first target that resolves.
    Cached until a file appears or disappears somewhere."""
    cache_key = (key, imp)
    cached = index.resolve_cache.get(cache_key)
    if cached is not None and cached[0] == index.paths_generation:
        return cached[1]
    generation = index.paths_generation
    found: list[str] = []
    for target in targets(imp, dialect, rel):
        for candidate in index.resolve(target, record, folder, rel):
            if candidate not in found and candidate != key:
                found.append(candidate)
        if found:
            break
    if len(index.resolve_cache) > 50_000:
        index.resolve_cache.clear()
    index.resolve_cache[cache_key] = (generation, found)
    return found


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, max(0, offset))


def prepare(request: ContextRequest, key: str, doc: OpenDocument | None, index: RepoIndex) -> Gathering:
    text = request.text
    spec = doc.spec if doc is not None else language_for_id(request.language_id, request.path)
    source = text.encode("utf-8", "surrogatepass")
    tree = None
    if doc is not None and doc.parsed is not None:
        doc_text, doc_tree = doc.parsed.fresh_tree()
        if doc_text == text:
            tree = doc_tree
    if tree is None and spec is not None and len(source) <= MAX_PARSE_BYTES:
        tree = parser_for(spec).parse(source)
    offset = max(0, min(request.offset, len(text)))
    cursor_byte = offset if len(source) == len(text) else len(text[:offset].encode("utf-8", "surrogatepass"))
    suffix_end = len(text) if request.suffix_end < 0 else min(request.suffix_end, len(text))
    window = (_line_of(text, request.prefix_start), _line_of(text, suffix_end) + 1)
    located = index.folder_of(key) if key.startswith("/") else None
    folder, rel = located if located else ("", request.path or posixpath.basename(key))
    record = index.files.get(key)
    if record is not None:
        imports = record.imports
    elif spec is not None and tree is not None:
        imports = extract_imports(spec, tree)
    else:
        imports = []
    lines = doc.lines if doc is not None and doc.text == text else split_lines(text)  # cached per version
    return Gathering(
        request,
        key,
        folder,
        rel,
        spec,
        tree,
        source,
        cursor_byte,
        lines,
        _line_of(text, offset),
        window,
        index,
        record,
        imports,
    )
