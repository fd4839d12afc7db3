"""The privacy policy (``context/privacy.py``) and the places that ask it: which files are kept out (secret-file
patterns at any depth, ignore files at any depth, ``context.exclude``, links leaving the workspace), the folder
walk, and the context engine, which must not use a kept-out file even while it is open and being edited."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from context_repo import request_at_end

from qwen_lsp.context.index.files import indexable, walk_folder
from qwen_lsp.context.privacy import PrivacyPolicy, is_secret
from qwen_lsp.context.repository import RepositoryContext
from qwen_lsp.context.settings import ContextOptions
from qwen_lsp.server.completion.prefilter import decide
from qwen_lsp.server.completion.request import CompletionRequest

USES = "from helpers import token_for\n\n\ndef main():\n    return token_for('x')\n"
HELPERS = "def token_for(name: str) -> str:\n    return name.upper()\n"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    files = {
        "app.py": USES,
        "helpers.py": HELPERS,
        ".gitignore": "local_settings.py\n",
        "local_settings.py": "DB_PASSWORD = 'gitignored-value'\n\ndef token_for(name):\n    return 'gitignored'\n",
        "pkg/.gitignore": "generated_*.py\n",
        "pkg/generated_client.py": "def token_for(name):\n    return 'nested-ignored'\n",
        ".qwenignore": "private/\n",
        "private/notes.py": "def token_for(name):\n    return 'qwenignored'\n",
        "drafts/excluded.py": "def token_for(name):\n    return 'excluded-by-setting'\n",
        "sub/.env.production": "API_KEY=nested-env-value\n",
        "deploy/keys/server.key": "key\n",
        "config/credentials-prod.json": "{}\n",
        "home/.ssh/config.py": "x = 1\n",
        "src/secret_santa.py": "def draw():\n    return 1\n",
    }
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    outside = tmp_path / "outside.py"
    outside.write_text("def token_for(name):\n    return 'outside-the-workspace'\n")
    os.symlink(outside, root / "linked_outside.py")
    os.symlink(root / "helpers.py", root / "linked_inside.py")
    if Path("/etc/passwd").exists():
        os.symlink("/etc/passwd", root / "passwd.py")
    return root


@pytest.mark.parametrize(
    ("path", "secret"),
    [
        (".env", True),
        ("sub/.env.production", True),
        ("a/b/c/.env.local", True),
        ("deploy/keys/server.key", True),
        ("x/id_rsa", True),
        ("x/id_ed25519.pub", True),
        ("config/credentials-prod.json", True),
        ("credentials.json", True),
        ("home/.aws/config", True),
        (".ssh/", True),
        ("certs/tls.pem", True),
        ("src/app.py", False),
        ("src/secret_santa.py", False),
        ("keys.py", False),
        ("docs/environment.md", False),
    ],
)
def test_secret_file_patterns_match_at_any_depth(path: str, secret: bool) -> None:
    assert is_secret(path) is secret


def test_why_kept_out(workspace: Path) -> None:
    policy = PrivacyPolicy(exclude=["drafts/"], roots=[workspace])
    # fmt: off
    kept = {rel: policy.why_kept_out(workspace / rel) for rel in (
        "sub/.env.production", "deploy/keys/server.key", "config/credentials-prod.json", "home/.ssh/config.py",
        "local_settings.py", "pkg/generated_client.py", "private/notes.py", "drafts/excluded.py",
        "linked_outside.py")}
    # fmt: on
    assert all(kept.values()), kept
    assert "privacy.secret_files" in kept["sub/.env.production"] and "ignored" in kept["pkg/generated_client.py"]
    assert "outside the workspace" in kept["linked_outside.py"]
    for rel in ("app.py", "helpers.py", "linked_inside.py", "src/secret_santa.py"):
        assert policy.allows((workspace / rel).as_uri()), rel
    if (workspace / "passwd.py").exists():
        assert "outside the workspace" in policy.why_kept_out(workspace / "passwd.py")
    # outside every folder only the name counts; documents that are not files too
    assert policy.why_kept_out("/tmp/elsewhere/.env") and policy.allows("/tmp/elsewhere/notes.py")
    assert policy.why_kept_out("untitled:.env") and policy.allows("untitled:Untitled-1")


def test_the_walk_and_change_events_skip_kept_out_files(workspace: Path) -> None:
    policy = PrivacyPolicy(exclude=["drafts/"])
    indexed = {entry.rel for entry in walk_folder(workspace, policy.index_excludes)}
    assert indexed == {"app.py", "helpers.py", "linked_inside.py", "src/secret_santa.py"}
    assert indexable(workspace, "linked_outside.py") is None and indexable(workspace, "helpers.py") is not None
    if (workspace / "passwd.py").exists():
        assert indexable(workspace, "passwd.py") is None


def test_open_and_edited_kept_out_documents_are_never_context(workspace: Path, tmp_path: Path) -> None:
    engine = RepositoryContext(ContextOptions(gather_timeout_ms=1000, exclude=["drafts/"]), cache_dir=tmp_path / "c")
    try:
        engine.start([workspace])
        kept_out = [
            "local_settings.py",
            "pkg/generated_client.py",
            "private/notes.py",
            "drafts/excluded.py",
            "linked_outside.py",
            "sub/.env.production",
        ]
        for version in (1, 2):  # opened, then edited: recent edits and recently opened files are sources too
            for rel in kept_out:
                path = workspace / rel
                text = path.read_text() + ("\ndef extra_token_for():\n    return token_for('y')\n" * (version - 1))
                engine.document_changed(path.as_uri(), text, version, "python")
        app = workspace / "app.py"
        engine.document_changed(app.as_uri(), USES, 1, "python")
        engine.wait_idle()
        result = engine.gather(request_at_end(app, "python", root=workspace))
        assert {s.path for s in result.snippets} == {"helpers.py"}  # the definition, from the one ordinary file
        assert not any(engine.docs.is_open(str(workspace / rel)) for rel in kept_out)
        assert engine.gather(request_at_end(workspace / "local_settings.py", "python", root=workspace)).snippets == []
    finally:
        engine.stop()


def test_no_completion_inside_a_kept_out_file(workspace: Path) -> None:
    policy = PrivacyPolicy(roots=[workspace])

    def shape(rel: str, **rules) -> str:
        request = CompletionRequest(
            uri=(workspace / rel).as_uri(), path=rel, language_id="python", text="x = \n", offset=4
        )
        return decide(request, privacy=policy, **rules).kind

    assert shape("sub/.env.production") == shape("local_settings.py") == shape("linked_outside.py") == "none"
    assert shape("app.py") == "line"
    assert shape("src/generated/api.py", ignored_globs=["generated/"]) == "none"  # gitignore-style, any depth


def test_a_qwenignore_negation_lets_a_gitignored_file_back_in(workspace: Path) -> None:
    assert PrivacyPolicy(roots=[workspace]).why_kept_out(workspace / "local_settings.py")
    (workspace / ".qwenignore").write_text("private/\n!local_settings.py\n")
    assert PrivacyPolicy(roots=[workspace]).allows(workspace / "local_settings.py")


def test_one_ignore_rules_cache_serves_completions_and_the_agent(tmp_path: Path, monkeypatch) -> None:
    """Each ignore file along a path is read once for the policy's decisions and the agent's path checks together,
    and read again once the cache expires (an edited .gitignore counts within seconds)."""
    from qwen_lsp.context.index import files
    from qwen_lsp.server.agent.paths import PathError, WorkspacePaths

    root = tmp_path / "ws"
    (root / "a" / "b").mkdir(parents=True)
    (root / ".gitignore").write_text("*.log\n")
    (root / "a" / ".gitignore").write_text("b/drafts/\n")
    (root / "a" / "b" / ".qwenignore").write_text("scratch.py\n")
    for name in ("main.py", "scratch.py", "other.py"):
        (root / "a" / "b" / name).write_text("x = 1\n")
    reads: list[str] = []
    real = files.read_patterns
    monkeypatch.setattr(files, "read_patterns", lambda path: reads.append(str(path)) or real(path))
    policy = PrivacyPolicy(roots=[root])
    paths = WorkspacePaths([root], policy.secret_files, policy.exclude, privacy=policy)
    assert paths.resolve("a/b/main.py").rel == "a/b/main.py"
    with pytest.raises(PathError, match="ignored"):
        paths.resolve("a/b/scratch.py")
    first = len(reads)
    assert first > 0
    assert policy.why_kept_out(root / "a" / "b" / "other.py") is None  # the agent's reads serve the policy
    assert "ignored" in (policy.why_kept_out(root / "a" / "b" / "scratch.py") or "")
    assert len(reads) == first
    (root / "a" / "b" / ".qwenignore").write_text("other.py\n")
    monkeypatch.setattr(policy, "_fresh_until", 0.0)  # as if the cache's time were up
    assert "ignored" in (policy.why_kept_out(root / "a" / "b" / "other.py") or "")
    assert paths.resolve("a/b/scratch.py").rel == "a/b/scratch.py" and len(reads) == 2 * first
