"""The copy of libphonenumber-js the sign-in page loads is the version package-lock.json pins."""

from __future__ import annotations

import json
import re

import pytest

from local.sign_in_page_vendor import PACKAGE, REPO_ROOT, VENDORED, package_dir, vendored_text


def test_the_package_is_pinned_to_one_version() -> None:
    pinned = json.loads((REPO_ROOT / "package.json").read_text())["devDependencies"][PACKAGE]
    locked = json.loads((REPO_ROOT / "package-lock.json").read_text())["packages"][f"node_modules/{PACKAGE}"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", pinned), "an exact version, not a range"
    assert locked["version"] == pinned


def test_the_page_s_copy_is_the_pinned_bundle_with_its_licence() -> None:
    package = package_dir()
    if not (package / "package.json").is_file():
        pytest.fail("node_modules is missing: run `npm ci` (make test does)")
    installed = json.loads((package / "package.json").read_text())["version"]
    pinned = json.loads((REPO_ROOT / "package.json").read_text())["devDependencies"][PACKAGE]
    assert installed == pinned, "node_modules is stale: run `npm ci`"

    text = VENDORED.read_text(encoding="utf-8")

    assert text == vendored_text(package), "web/sign-in's copy is not the pinned package's: make vendor-web"
    assert text.startswith(f"/*! {PACKAGE} {pinned} ")
    assert "Permission is hereby granted, free of charge" in text.split("*/", 1)[0]
    # No source map is copied, so nothing may point a browser at one
    assert "sourceMappingURL" not in text
