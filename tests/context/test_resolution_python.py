"""Python: what the cursor refers to is resolved through re-exports, annotations, constructor calls, attributes set
in ``__init__`` and base classes, and ranks first; unrelated one-line attributes are demoted."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from resolution_helpers import definitions_at_end, first

from qwen_lsp.context.repository import RepositoryContext

# Two classes with a ``send`` method: a guess by name alone cannot tell them apart, and ``_a_mailer.py`` sorts
# first, so only real resolution puts ``Client.send`` on top.
FILES = {
    "pkg/__init__.py": "from .api import Client as Client\n",
    "pkg/api.py": "from ._impl.core import Client\n",
    "pkg/_impl/__init__.py": "",
    "pkg/_impl/base.py": '''
        class Base:
            def close(self) -> None:
                """Release the connection."""
        ''',
    "pkg/_impl/core.py": '''
        from .base import Base


        class Client(Base):
            def __init__(self, url: str) -> None:
                self.url = url

            def send(self, request: str) -> str:
                """Send a request."""
                return request


        def connect(url: str) -> Client:
            return Client(url)
        ''',
    "pkg/_a_mailer.py": '''
        class Mailer:
            def send(self, message: str) -> None:
                """Send a mail."""

            def close(self) -> None:
                pass
        ''',
}
CLIENT_SEND = "def send(self, request: str) -> str:"


def _at_end(engine: RepositoryContext, tmp_path: Path, text: str, files: dict[str, str] = FILES):
    return definitions_at_end(engine, tmp_path / "repo", files, "app/main.py", textwrap.dedent(text).lstrip(), "python")


def test_reexport_chain_of_two_hops(engine: RepositoryContext, tmp_path: Path) -> None:
    snippets = _at_end(
        engine,
        tmp_path,
        """
        import pkg


        def run():
            return pkg.Client(
        """,
    )
    assert snippets[0].path == "pkg/_impl/core.py" and snippets[0].text.startswith("class Client(Base):"), first(
        snippets
    )
    assert CLIENT_SEND in snippets[0].text  # the whole class, not only its line in the package's outline


@pytest.mark.parametrize(
    "text",
    [
        "from pkg import Client\n\n\ndef run(client: Client):\n    client.send(",  # annotated parameter
        "from pkg import Client\n\n\ndef run(client: 'Client | None' = None):\n    client.send(",  # quoted, optional
        "import pkg\n\n\ndef run():\n    client = pkg.Client('x')\n    client.send(",  # constructor assignment
        "from pkg._impl.core import connect\n\n\ndef run():\n    client = connect('x')\n    client.send(",  # return type
        "from pkg import Client\n\n\ndef run():\n    with Client('x') as client:\n        client.send(",  # with ... as
    ],
    ids=["annotated-parameter", "quoted-optional", "constructor", "annotated-return", "with-as"],
)
def test_receiver_type(engine: RepositoryContext, tmp_path: Path, text: str) -> None:
    snippets = _at_end(engine, tmp_path, text)
    assert snippets[0].text.lstrip().startswith(CLIENT_SEND), first(snippets)


def test_attribute_set_in_init(engine: RepositoryContext, tmp_path: Path) -> None:
    snippets = _at_end(
        engine,
        tmp_path,
        """
        from pkg import Client


        class Service:
            def __init__(self) -> None:
                self.client = Client("x")

            def run(self) -> None:
                self.client.send(
        """,
    )
    assert snippets[0].text.lstrip().startswith(CLIENT_SEND), first(snippets)


def test_attribute_set_in_init_of_a_class_in_another_file(engine: RepositoryContext, tmp_path: Path) -> None:
    service = (
        "from pkg import Client\n\n\nclass Service:\n    def __init__(self) -> None:\n        self.client = Client()\n"
    )
    snippets = _at_end(
        engine,
        tmp_path,
        "from pkg.service import Service\n\n\ndef run(s: Service):\n    s.client.send(",
        {**FILES, "pkg/service.py": service},
    )
    assert snippets[0].text.lstrip().startswith(CLIENT_SEND), first(snippets)


def test_inherited_member(engine: RepositoryContext, tmp_path: Path) -> None:
    snippets = _at_end(engine, tmp_path, "from pkg import Client\n\n\ndef run(client: Client):\n    client.close(")
    assert snippets[0].path == "pkg/_impl/base.py" and "def close(self)" in snippets[0].text, first(snippets)


def test_outline_after_the_qualifier(engine: RepositoryContext, tmp_path: Path) -> None:
    snippets = _at_end(engine, tmp_path, "from pkg import Client\n\n\ndef run(client: Client):\n    client.")
    assert snippets[0].path == "pkg/_impl/core.py", first(snippets)
    assert CLIENT_SEND in snippets[0].text and "def __init__(self, url: str)" in snippets[0].text
    assert any(s.path == "pkg/_impl/base.py" and "def close" in s.text for s in snippets)  # inherited members


def test_module_outline_lists_members_and_reexports(engine: RepositoryContext, tmp_path: Path) -> None:
    files = {**FILES, "pkg/__init__.py": "from .api import Client as Client\nfrom ._impl.core import connect\n"}
    snippets = _at_end(engine, tmp_path, "import pkg\n\n\ndef run():\n    pkg.", files)
    outline = "\n".join(s.text for s in snippets if s.path == "pkg/_impl/core.py")
    assert "class Client(Base):" in outline and "def connect(url: str) -> Client:" in outline, snippets


def test_submodule_through_an_import_of_its_package(engine: RepositoryContext, tmp_path: Path) -> None:
    snippets = _at_end(engine, tmp_path, "from pkg._impl import core\n\n\ndef run():\n    core.connect(")
    assert snippets[0].text.startswith("def connect(url: str) -> Client:"), first(snippets)


def test_reexport_cycle_ends(engine: RepositoryContext, tmp_path: Path) -> None:
    files = {
        "loop/__init__.py": "from .a import Missing\n",
        "loop/a.py": "from .b import Missing\n",
        "loop/b.py": "from .a import Missing\nfrom . import Missing\n",
    }
    snippets = _at_end(engine, tmp_path, "import loop\n\nloop.Missing(", files)
    assert not any("Missing" in s.text.splitlines()[0] and s.path.startswith("loop/") and s.score > 1 for s in snippets)


def test_unreferenced_one_line_attributes_are_demoted(engine: RepositoryContext, tmp_path: Path) -> None:
    files = {
        **FILES,
        "pkg/sig.py": '''
        class Signature:
            params: list[str]

            def bind(self, values: list[str]) -> dict:
                """Bind values to the parameters."""
                return {}
        ''',
    }
    snippets = _at_end(
        engine,
        tmp_path,
        """
        from pkg._impl.core import connect


        def run(obj):
            names = obj.params
            bound = obj.bind(names)
            return connect(
        """,
        files,
    )
    assert snippets[0].text.startswith("def connect("), first(snippets)
    # the method guessed by its name stays; the one-line attribute guessed the same way does not take a slot
    assert any("def bind(self" in s.text for s in snippets)
    assert not any(s.text.strip() == "params: list[str]" for s in snippets), snippets


def test_constructor_like_class_method_without_annotation(engine: RepositoryContext, tmp_path: Path) -> None:
    files = {
        **FILES,
        "pkg/_impl/core.py": FILES["pkg/_impl/core.py"]
        + """
        class Pool:
            @classmethod
            def create(cls, size):
                return cls()

            def send(self, request: str) -> None:
                pass
        """,
    }
    snippets = _at_end(
        engine,
        tmp_path,
        "from pkg._impl.core import Pool\n\n\ndef run():\n    pool = Pool.create(3)\n    pool.send(",
        files,
    )
    assert snippets[0].text.lstrip().startswith("def send(self, request: str) -> None:"), first(snippets)


def test_an_import_not_used_yet_ranks_before_imports_in_use(engine: RepositoryContext, tmp_path: Path) -> None:
    files = {**FILES, "pkg/tools.py": "def helper(x: int) -> int:\n    return x\n"}
    snippets = _at_end(
        engine,
        tmp_path,
        """
        from pkg._impl.core import connect
        from pkg.tools import helper


        def run(items):
            total = helper(1) + helper(2) + helper(3)
            for item in items:
                total += helper(item)
            return total


        def other():
            x = 1
            y = 2
            z = 3
            w = 4
            v = 5
            u = 6
            t = 7
            s = 8
            r = 9
            q = 10

        """,
        files,
    )
    score = {s.text.splitlines()[0]: s.score for s in snippets}
    assert score["def connect(url: str) -> Client:"] > score["def helper(x: int) -> int:"], snippets


def test_no_member_access_in_prose(engine: RepositoryContext, tmp_path: Path) -> None:
    text = 'from pkg import Client\n\n\ndef run(client: Client):\n    """Send with the client.<CURSOR>"""\n'
    snippets = _at_end(engine, tmp_path, text)
    assert not any(s.score >= 1.0 for s in snippets), snippets


def test_reexport_answers_follow_file_changes(engine: RepositoryContext, tmp_path: Path) -> None:
    text = "import pkg\n\n\ndef run():\n    return pkg.Client("
    assert _at_end(engine, tmp_path, text)[0].path == "pkg/_impl/core.py"
    root = tmp_path / "repo"
    (root / "pkg/client2.py").write_text(
        "class Client:\n    def send(self, other: int) -> int:\n        return other\n"
    )
    (root / "pkg/__init__.py").write_text("from .client2 import Client as Client\n")
    engine.files_changed([root / "pkg/client2.py", root / "pkg/__init__.py"]).result(10)
    engine.wait_idle()
    snippets = definitions_at_end(engine, root, {}, "app/main.py", text, "python")
    assert snippets[0].path == "pkg/client2.py", first(snippets)
