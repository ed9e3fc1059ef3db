"""Point every badge, link and Colab install cell at a GitHub repository.

    python tools/badges.py owner/name      (or: make badges REPO=owner/name)

The repository's address lives in one place, `[project.urls] Repository` in
pyproject.toml; this script reads the current one there and rewrites it, in
pyproject.toml itself, README.md, docs/ and every notebook, to `owner/name`.
"""
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPO_PATTERN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9_.-]{1,100}$")


def current_repo(root=ROOT):
    url = tomllib.loads((root / "pyproject.toml").read_text())["project"]["urls"]["Repository"]
    return url.removeprefix("https://github.com/")


def files_to_rewrite(root=ROOT):
    yield root / "pyproject.toml"
    yield root / "README.md"
    yield from sorted((root / "docs").glob("*.md"))
    for folder in ("notebooks", "exercises", "solutions"):
        yield from sorted((root / folder).glob("*.ipynb"))


def repoint(new_repo, root=ROOT):
    if not REPO_PATTERN.match(new_repo):
        raise SystemExit(f"REPO must look like owner/name (letters, digits, '-', '_', '.'), got {new_repo!r}")
    old_repo = current_repo(root)
    # Only the address forms that badges, links and install cells use: github.com/, colab's github/,
    # binder's gh/ and raw.githubusercontent.com/.
    address = re.compile(r"(github\.com/|githubusercontent\.com/|github/|gh/)" + re.escape(old_repo)
                         + r"(?![A-Za-z0-9_.-])")
    changed = []
    for path in files_to_rewrite(root):
        text = path.read_text(encoding="utf-8")
        new_text = address.sub(lambda m: m.group(1) + new_repo, text)
        if new_text != text:
            path.write_text(new_text, encoding="utf-8")
            changed.append(path.relative_to(root))
    return old_repo, changed


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python tools/badges.py owner/name")
    old, changed = repoint(sys.argv[1])
    print(f"{old} -> {sys.argv[1]}: {len(changed)} files rewritten")
