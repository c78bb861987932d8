"""The third-party script the web sign-in page loads: libphonenumber-js, copied into ``web/sign-in/``.

The page is static files with no build step, served by the sandbox or by any static host, and loads
nothing from a CDN; so the one library it needs travels with it. The copy is the browser bundle of the
version package-lock.json pins (``bundle/libphonenumber-max.js``: the complete metadata, which checks a
number's digits as the Lambda's Google libphonenumber does, not only its length), with the package's
MIT licence put in front and the source-map comment taken off (the map is not copied, and a browser
would ask for it). tests/unit/test_sign_in_page_vendor.py fails when the copy and the pin differ:
after ``npm install libphonenumber-js@<version>``, run ``make vendor-web``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Final

REPO_ROOT: Final = Path(__file__).resolve().parent.parent
PACKAGE: Final = "libphonenumber-js"
BUNDLE: Final = "bundle/libphonenumber-max.js"
VENDORED: Final = REPO_ROOT / "web" / "sign-in" / "libphonenumber-max.js"
_SOURCE_MAP: Final = "//# sourceMappingURL="


def package_dir(node_modules: Path = REPO_ROOT / "node_modules") -> Path:
    return node_modules / PACKAGE


def vendored_text(package: Path) -> str:
    """What ``web/sign-in/libphonenumber-max.js`` holds for the package installed at ``package``."""
    version = json.loads((package / "package.json").read_text(encoding="utf-8"))["version"]
    licence = (package / "LICENSE").read_text(encoding="utf-8").strip().replace("*/", "* /")
    bundle = (package / BUNDLE).read_text(encoding="utf-8")
    code = "\n".join(line for line in bundle.splitlines() if not line.startswith(_SOURCE_MAP))
    header = (
        f"/*! {PACKAGE} {version} ({BUNDLE}), copied by `make vendor-web` (local/sign_in_page_vendor.py).\n"
        f"{licence}\n*/\n"
    )
    return f"{header}{code}\n"


def main() -> int:
    package = package_dir()
    if not (package / BUNDLE).is_file():
        print(f"{package / BUNDLE} is missing: run `npm ci` first", file=sys.stderr)
        return 1
    VENDORED.write_text(vendored_text(package), encoding="utf-8")
    print(f"wrote {VENDORED.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
