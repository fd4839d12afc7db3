"""Element types of containers, read from generic type arguments the way an IDE does: ``Map<K, V>.get(k)`` -> V,
``Vec<T>`` / ``&[T]`` / ``Iter<'_, T>`` / ``impl Iterator<Item = T>`` iterated -> T, ``list[Foo]`` indexed -> Foo;
and the loop and closure variables bound to elements (``for x in expr``, ``for (const x of expr)``,
``for _, x := range expr``, ``.map(|x| ...)``, ``.forEach((x) => ...)``, ``.filter(x -> ...)``).
"""

from __future__ import annotations

import re

# fmt: off
_MAPS = {"Map", "WeakMap", "ReadonlyMap", "HashMap", "BTreeMap", "IndexMap", "TreeMap", "LinkedHashMap",
         "ConcurrentHashMap", "SortedMap", "NavigableMap", "Dict", "dict", "Mapping", "MutableMapping", "DefaultDict",
         "defaultdict", "OrderedDict", "Record"}
_SEQUENCES = {"Array", "ReadonlyArray", "Set", "ReadonlySet", "WeakSet", "List", "ArrayList", "LinkedList",
              "Collection", "Deque", "ArrayDeque", "Queue", "Stack", "Vector", "Iterable", "Iterator",
              "IterableIterator", "Generator", "AsyncIterable", "AsyncIterator", "Stream", "Vec", "VecDeque",
              "HashSet", "BTreeSet", "IndexSet", "SmallVec", "Iter", "IterMut", "IntoIter", "IntoIterator",
              "Peekable", "Rev", "Skip", "Take", "Filter", "Cloned", "Copied", "Sequence", "MutableSequence",
              "list", "set", "frozenset", "FrozenSet", "tuple", "Tuple", "Enumeration", "ListIterator", "SortedSet",
              "TreeSet", "LinkedHashSet", "NavigableSet"}
# methods whose result is an element of the container, and those whose result is the same kind of container
ACCESSORS = {"get", "at", "first", "last", "pop", "shift", "next", "peek", "get_mut", "nth", "find", "min", "max",
             "remove", "getFirst", "getLast", "poll", "pollFirst", "pollLast", "peekFirst", "peekLast", "element",
             "front", "back", "first_mut", "last_mut", "next_back", "pop_front", "pop_back", "swap_remove",
             "get_or_insert", "entry_ref", "findLast", "get_unchecked", "getOrDefault", "computeIfAbsent",
             "setdefault", "popitem", "popleft"}
ADAPTERS = {"iter", "iter_mut", "into_iter", "values", "values_mut", "filter", "rev", "skip", "take", "cloned",
            "copied", "peekable", "chain", "skip_while", "take_while", "sorted", "slice", "concat", "reverse",
            "toArray", "stream", "subList", "drain", "step_by", "fuse", "inspect", "by_ref", "toList", "toSorted",
            "toReversed", "splice", "filtered", "distinct", "limit", "sorted_by", "as_slice", "to_vec", "collect"}
# a value's own type when its type does not declare them (derived, or of a wrapper stripped from the type)
SAME_VALUE = {"clone", "to_owned", "as_ref", "as_mut", "borrow", "borrow_mut", "unwrap", "expect",
              "unwrap_or_default", "lock", "deref", "deref_mut", "copy"}
_ITERATING = ("map|filter|for_each|forEach|any|all|find|position|filter_map|flat_map|flatMap|inspect|take_while|"
              "skip_while|max_by_key|min_by_key|some|every|findIndex|anyMatch|allMatch|noneMatch|removeIf|"
              "sort_by_key|partition|try_for_each")
# fmt: on
_LIFETIME = re.compile(r"^'\w+$")
EXPR = r"[A-Za-z_$][\w$]*(?:\([^()\n]*\))?(?:\s*(?:\.|::|\?\.)\s*[A-Za-z_$][\w$]*(?:\([^()\n]*\))?)*"
_N = r"(?P<n>[A-Za-z_$][\w$]*)"
_ARGS = re.compile(r"\([^()]*\)")


def split_top(text: str) -> list[str]:
    """Comma-separated parts at bracket depth 0."""
    parts, depth, current = [], 0, ""
    for ch in text:
        depth += 1 if ch in "([<{" else -1 if ch in ")]>}" else 0
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    return [p.strip() for p in parts + [current] if p.strip()]


def element_type(text: str, wrappers: set[str] | frozenset[str]) -> str:
    """The element type (as written) of a container type: the last type argument (a map's value, a sequence's
    item, an iterator's ``Item``), a slice's or array's element; "" when ``text`` is no container."""
    text = text.strip()
    for _ in range(4):
        text = re.sub(r"^(?:&'\w+\s*|&|\*|mut\s+|dyn\s+|impl\s+|readonly\s+|const\s+)+", "", text).strip()
        match = re.match(r"([\w$.:]+)\s*([\[<])(.*)[\]>]\s*$", text, re.S)
        if match:
            head = match.group(1).replace("::", ".").split(".")[-1]
            if head in wrappers:
                text = match.group(3)
                continue
            if head in _MAPS or head in _SEQUENCES:
                args = [a for a in split_top(match.group(3)) if not _LIFETIME.match(a)]
                return re.sub(r"^\w+\s*=\s*", "", args[-1]) if args else ""  # Iterator<Item = T>
            if head == "map" and match.group(2) == "[":  # Go: map[K]V
                return text[text.index("]") + 1 :].strip()
            return ""
        break
    slice_ = re.match(r"^\[\s*([^;\]]+?)\s*(?:;[^\]]*)?\]$", text)  # Rust [T], [T; N]
    if slice_:
        return slice_.group(1)
    if text.startswith("[]"):  # Go []T
        return text[2:]
    array = re.match(r"^(.+?)\s*\[\s*\]$", text)  # T[]
    return array.group(1) if array else ""


def iteration_patterns(language: str) -> list[str]:
    """Patterns (group ``n``: the variable, ``t``: the iterated expression) of loops and of closures passed to
    iterator adapters, in ``language``."""
    if language == "python":
        return [rf"\bfor\s+{_N}\s+in\s+(?P<t>{EXPR})\s*:"]
    if language in ("javascript", "typescript", "tsx"):
        return [
            rf"\bfor\s*\(\s*(?:const|let|var)\s+{_N}\s+of\s+(?P<t>{EXPR})\s*\)",
            rf"(?P<t>{EXPR})\s*\.\s*(?:{_ITERATING})\(\s*\(?\s*{_N}\s*(?:[,):]|=>)",
        ]
    if language == "rust":
        return [
            rf"\bfor\s+(?:mut\s+|&\s*)?{_N}\s+in\s+&?(?:mut\s+)?(?P<t>{EXPR})\s*\{{",
            rf"(?P<t>{EXPR})\s*\.\s*(?:{_ITERATING})\(\s*(?:move\s+)?\|\s*&?(?:mut\s+)?{_N}\s*[|,:]",
        ]
    if language == "go":
        return [rf"\bfor\s+\w+\s*,\s*{_N}\s*:?=\s*range\s+&?(?P<t>{EXPR})"]
    if language in ("java", "kotlin", "scala", "csharp"):
        return [rf"(?P<t>{EXPR})\s*\.\s*(?:{_ITERATING})\(\s*\(?\s*{_N}\s*\)?\s*->"]
    return []


def iterated(expr: str) -> tuple[str, bool]:
    """The iterated expression as a dotted path (arguments dropped) and whether its last part is a call."""
    path = _ARGS.sub("()", re.sub(r"\s+", "", expr)).replace("?.", ".").replace("::", ".")
    return (path[:-2], True) if path.endswith("()") else (path, False)


def element_step(name: str) -> str:
    """What ``container.name()`` gives: "element", "same" (an adapter or a copy), or "" (unknown)."""
    if name in ACCESSORS:
        return "element"
    if name in ADAPTERS:
        return "same"
    return ""
