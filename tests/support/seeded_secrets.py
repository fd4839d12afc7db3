"""A repository seeded with secrets, for the privacy tests and ``bench/bench_privacy.py``.

Files the privacy policy keeps out carry a realistic secret and a plain marker sentence that no redaction rule
would catch, so a leak of the file itself shows even if redaction hid its credential. ``config.py`` is an
ordinary file: it is sent, and its AWS key and GitHub token must arrive redacted. Two symlinks leave the
workspace: to a file in a sibling folder and to /etc/passwd.
"""

from __future__ import annotations

import os
from pathlib import Path

CONFIG_PY = '''AWS_ACCESS_KEY_ID = "AKIAZ7QW3ERTY5UIOP12"
AWS_SECRET_ACCESS_KEY = "q8Vd3Lk9Zp2Wm7Xr5Tn1Bc4Hy6Gf0Js8Ka3Ue7I"
GITHUB_TOKEN = "ghp_R4nd0mT0k3nF0rT3st1ngPurp0s3sOnly12345"
REGION = "eu-west-1"


def load_config() -> dict:
    """The deployment settings."""
    return {"region": REGION, "key_id": AWS_ACCESS_KEY_ID, "token": GITHUB_TOKEN}
'''

APP_PY = """from config import load_config
from local_settings import database_password
from shared_notes import outside_helper


def connect():
    settings = load_config()
    password = database_password()
    note = outside_helper()
    return 


def region():
    settings = load_config()
    
"""  # noqa: W291, W293 - the sample's cursor lines end in spaces, as while typing
APP_CURSORS = [(9, 11), (14, 4), (7, 14)]  # after "return ", in an empty body line, inside a call

FILES = {
    ".gitignore": "local_settings.py\n",
    ".env": "# plain marker of the dotenv file\nAPI_KEY=sk-proj-Zq81mXv4Rt6Lw0Bn3Yc7Kd2Hs5Fj9Pa\n",
    "local_settings.py": """NOTE = "plain marker of the gitignored settings"
DB_PASSWORD = "Sup3r-Secret-Passw0rd!"


def database_password() -> str:
    return DB_PASSWORD
""",
    "sub/.env.production": "# plain marker of the nested env file\nSLACK_TOKEN=xoxb-2931-8812-aLkQz9WmPpE3\n",
    "credentials.json": '{"note": "plain marker of the credentials file", '
    '"client_secret": "GOCSPX-4kT9wQ2mZ8vB1nX6yR3c"}\n',
    "id_rsa": "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAplainMarkerOfTheRsaKey0123456789abcdef\n"
    "-----END RSA PRIVATE KEY-----\n",
    "config.py": CONFIG_PY,
    "app.py": APP_PY,
}
OUTSIDE_PY = """OUTSIDE_NOTE = "plain marker of a file outside the workspace"


def outside_helper() -> str:
    return OUTSIDE_NOTE
"""
DOTENV_EDIT = "SESSION_TOKEN=walnut-kestrel-58b1e93a\n"  # typed into .env in the editor
SETTINGS_EDIT = 'BACKUP_PASSWORD = "Qu1et-Harbor-Lantern-77"\n'  # typed into local_settings.py

# Every value that must never reach the endpoint or a log.
SEEDED = {
    "dotenv marker": "plain marker of the dotenv file",
    "dotenv api key": "sk-proj-Zq81mXv4Rt6Lw0Bn3Yc7Kd2Hs5Fj9Pa",
    "dotenv edit": "walnut-kestrel-58b1e93a",
    "gitignored marker": "plain marker of the gitignored settings",
    "gitignored password": "Sup3r-Secret-Passw0rd!",
    "gitignored edit": "Qu1et-Harbor-Lantern-77",
    "nested env marker": "plain marker of the nested env file",
    "nested env token": "xoxb-2931-8812-aLkQz9WmPpE3",
    "credentials marker": "plain marker of the credentials file",
    "credentials secret": "GOCSPX-4kT9wQ2mZ8vB1nX6yR3c",
    "id_rsa body": "plainMarkerOfTheRsaKey",
    "config AWS key id": "AKIAZ7QW3ERTY5UIOP12",
    "config AWS secret": "q8Vd3Lk9Zp2Wm7Xr5Tn1Bc4Hy6Gf0Js8Ka3Ue7I",
    "config GitHub token": "ghp_R4nd0mT0k3nF0rT3st1ngPurp0s3sOnly12345",
    "outside file": "plain marker of a file outside the workspace",
}
KEPT_OUT = [
    ".env",
    "local_settings.py",
    "sub/.env.production",
    "credentials.json",
    "id_rsa",
    "shared_notes.py",
    "passwd_link.py",
]
LANGUAGES = {".py": "python", ".json": "json"}


def passwd_line() -> str | None:
    """The first line of /etc/passwd, when there is one (the link to it must never be read)."""
    try:
        return Path("/etc/passwd").read_text().splitlines()[0]
    except (OSError, IndexError):
        return None


def seeded_values() -> dict[str, str]:
    values = dict(SEEDED)
    if (line := passwd_line()) is not None:
        values["/etc/passwd"] = line
    return values


def seed_repository(base: Path) -> Path:
    """Write the repository under ``base/repo`` (and the outside file under ``base/outside``); return the root."""
    root = base / "repo"
    for relative, text in FILES.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    outside = base / "outside"
    outside.mkdir(parents=True, exist_ok=True)
    (outside / "notes.py").write_text(OUTSIDE_PY)
    os.symlink(outside / "notes.py", root / "shared_notes.py")
    if Path("/etc/passwd").exists():
        os.symlink("/etc/passwd", root / "passwd_link.py")
    return root


def language_of(relative: str) -> str:
    return LANGUAGES.get(Path(relative).suffix, "plaintext")


def leaks(texts: list[str], values: dict[str, str]) -> dict[str, int]:
    """How many of ``texts`` contain each seeded value (only the leaked ones)."""
    found = {name: sum(value in text for text in texts) for name, value in values.items()}
    return {name: count for name, count in found.items() if count}
