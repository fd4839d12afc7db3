"""Document URIs → paths and index keys: one reading for the server and the context engine."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest

from qwen_lsp.context.uris import key_to_uri, uri_to_key, uri_to_path


@pytest.mark.parametrize(
    ("uri", "path", "key"),
    [
        ("file:///home/me/project/app.py", "/home/me/project/app.py", "/home/me/project/app.py"),
        ("file://localhost/home/me/app.py", "/home/me/app.py", "/home/me/app.py"),
        # Windows drive letters: the path is C:/..., never /C:/...
        ("file:///C:/Users/me/app.py", "C:/Users/me/app.py", "C:/Users/me/app.py"),
        ("file:///c%3A/Users/me/app.py", "c:/Users/me/app.py", "c:/Users/me/app.py"),  # VS Code's spelling
        ("file:///d:/x.py", "d:/x.py", "d:/x.py"),
        # percent-encoding: spaces, non-ASCII, a literal '%' and '#'
        ("file:///home/me/my%20project/caf%C3%A9.py", "/home/me/my project/café.py", "/home/me/my project/café.py"),
        ("file:///tmp/100%25/a%23b.py", "/tmp/100%/a#b.py", "/tmp/100%/a#b.py"),
        # a bare path is read as one
        ("/home/me/app.py", "/home/me/app.py", "/home/me/app.py"),
    ],
)
def test_file_uris_name_decoded_paths(uri: str, path: str, key: str) -> None:
    assert uri_to_path(uri).as_posix() == path
    assert uri_to_key(uri) == key


@pytest.mark.parametrize(
    ("uri", "name"),
    [
        ("untitled:Untitled-1", "Untitled-1"),
        ("untitled:my%20notes", "my notes"),
        ("vscode-notebook-cell:/home/me/nb.ipynb#W0sZmlsZQ%3D%3D", "nb.ipynb"),
    ],
)
def test_other_schemes_are_keyed_by_the_uri_and_named_by_their_path(uri: str, name: str) -> None:
    assert uri_to_key(uri) == uri  # not a file on disk: the index never confuses it with one
    assert uri_to_path(uri).name == name


def test_keys_of_files_turn_back_into_their_uris() -> None:
    path = PurePosixPath("/home/me/my project/café.py")
    uri = Path(path).as_uri()
    assert key_to_uri(uri_to_key(uri)) == uri
    assert key_to_uri("untitled:Untitled-1") == "untitled:Untitled-1"
