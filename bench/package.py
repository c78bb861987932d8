"""The deployed asset: built exactly as ``cdk synth`` builds it, then zipped as the CDK CLI zips it.

The build is infra's own ``LocalPipBundling`` with the runtime and architecture of ``infra.functions``
(pip installs Lambda's platform wheels from PyPI), so the numbers are those of what ``cdk deploy``
uploads. The CDK CLI zips with yazl at zlib's default level; ``zipfile`` at its default level matches.
"""

from __future__ import annotations

import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PackageSize:
    files: int
    unzipped_bytes: int
    zipped_bytes: int
    largest: list[tuple[str, int]]  # top-level entries by unzipped size


def _bundle(output_dir: Path) -> None:
    from cdk_sms_otp.bundling import LocalPipBundling
    from cdk_sms_otp.functions import ARCHITECTURE, ASSET_DIR, RUNTIME

    bundling = LocalPipBundling(ASSET_DIR, packages=["otp"], runtime=RUNTIME, architecture=ARCHITECTURE)
    bundling.try_bundle(str(output_dir), image=None)  # type: ignore[arg-type]  # unused: no Docker


def measure() -> PackageSize:
    with tempfile.TemporaryDirectory(prefix="otp-asset-") as temp:
        bundle = Path(temp) / "asset"
        bundle.mkdir()
        _bundle(bundle)
        files = sorted(path for path in bundle.rglob("*") if path.is_file())
        archive = Path(temp) / "asset.zip"
        with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
            for path in files:
                zipped.write(path, path.relative_to(bundle).as_posix())
        by_entry: dict[str, int] = {}
        for path in files:
            top = path.relative_to(bundle).parts[0]
            by_entry[top] = by_entry.get(top, 0) + path.stat().st_size
        largest = sorted(by_entry.items(), key=lambda item: -item[1])[:6]
        return PackageSize(
            files=len(files),
            unzipped_bytes=sum(by_entry.values()),
            zipped_bytes=archive.stat().st_size,
            largest=largest,
        )
