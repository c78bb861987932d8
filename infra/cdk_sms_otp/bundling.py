"""Build the Lambda asset without Docker.

CDK calls :meth:`LocalPipBundling.try_bundle` before it would start a container. It pip-installs the
runtime requirements as *Lambda's* platform wheels (manylinux2014 for the function's architecture, for
the runtime's Python version, binary wheels only), removes what the Lambda runtime already provides,
copies the code packages, writes the trimmed botocore data the adapters' clients load
(:mod:`infra.botocore_data`) and compiles every module to bytecode for the runtime's Python
(:mod:`infra.bytecode`). The result is the same on any build host, including macOS and x86_64.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import jsii
from aws_cdk import BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

from cdk_sms_otp import botocore_data, bytecode

#: Distributions the Lambda Python runtime ships (the AWS SDK and its dependency closure). They are
#: removed from the bundle even when a requirement pulls them in (aws-xray-sdk depends on botocore):
#: a bundled botocore would shadow the runtime's and no longer match the runtime's boto3.
RUNTIME_PROVIDED: Final = frozenset(
    {"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3"}
)

_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", ".pytest_cache", ".mypy_cache")


def _normalize(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def _platform_tag(architecture: lambda_.Architecture) -> str:
    if architecture.name == lambda_.Architecture.ARM_64.name:
        return "manylinux2014_aarch64"
    return "manylinux2014_x86_64"


def _python_version(runtime: lambda_.Runtime) -> str:
    if not runtime.name.startswith("python"):
        raise ValueError(f"{runtime.name} is not a Python runtime")
    return runtime.name.removeprefix("python")


def remove_distribution(site: Path, dist_info: Path) -> None:
    """Uninstall one distribution from a ``--target`` directory using its RECORD file."""
    record = dist_info / "RECORD"
    if record.is_file():
        for line in record.read_text(encoding="utf-8").splitlines():
            relative = line.split(",", 1)[0]
            if not relative or relative.startswith(".."):  # console scripts: bin/ is removed as a whole
                continue
            target = site / relative
            if target.is_file() or target.is_symlink():
                target.unlink()
    shutil.rmtree(dist_info, ignore_errors=True)
    # Drop the directories the RECORD emptied (a package whose every file was listed).
    for directory in sorted((p for p in site.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        if not any(directory.iterdir()):
            directory.rmdir()


@jsii.implements(ILocalBundling)
class LocalPipBundling:
    """CDK local bundling: ``pip install --platform ... --only-binary=:all:`` plus the source packages."""

    def __init__(
        self,
        source_dir: Path,
        *,
        packages: Sequence[str],
        runtime: lambda_.Runtime,
        architecture: lambda_.Architecture,
        requirements: str = "requirements.txt",
        runtime_provided: frozenset[str] = RUNTIME_PROVIDED,
        compile_bytecode: bool = True,
    ) -> None:
        self.source_dir = source_dir
        self.packages = tuple(packages)
        self.requirements = requirements
        self.platform = _platform_tag(architecture)
        self.python_version = _python_version(runtime)
        self.runtime_provided = frozenset(_normalize(n) for n in runtime_provided)
        self.compile_bytecode = compile_bytecode

    def pip_arguments(self, output_dir: str) -> list[str]:
        return [
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-warn-conflicts",  # pip compares against the *build* environment, which is irrelevant
            "--no-compile",  # the build host's Python would compile; infra.bytecode uses the runtime's
            "--platform",
            self.platform,
            "--implementation",
            "cp",
            "--python-version",
            self.python_version,
            "--only-binary=:all:",
            "--target",
            output_dir,
            "--requirement",
            str(self.source_dir / self.requirements),
        ]

    def docker_command(self) -> list[str]:
        """The equivalent command for CDK's Docker fallback. It is never run (``try_bundle`` always
        bundles or raises), but it is part of the asset hash, so a change here rebuilds the asset."""
        args = " ".join(self.pip_arguments("/asset-output")).replace(str(self.source_dir), "/asset-input")
        excluded = " ".join(sorted(self.runtime_provided))
        built = f"botocore data: {botocore_data.fingerprint()}"
        if self.compile_bytecode:
            built += f"; bytecode: {bytecode.fingerprint()}"
        return [
            "bash",
            "-c",
            f"pip {args} && (cd /asset-input && cp -r {' '.join(self.packages)} /asset-output/)"
            f" # runtime-provided, removed: {excluded}; {built}",
        ]

    def try_bundle(self, output_dir: str, *, image: DockerImage, **_options: Any) -> bool:
        out = Path(output_dir)
        command = [sys.executable, "-m", "pip", *self.pip_arguments(output_dir)]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            shown = " ".join(command)
            raise RuntimeError(f"bundling failed ({shown}):\n{result.stdout}\n{result.stderr}")
        for dist_info in sorted(out.glob("*.dist-info")):
            name = dist_info.name.removesuffix(".dist-info").rsplit("-", 1)[0]
            if _normalize(name) in self.runtime_provided:
                remove_distribution(out, dist_info)
        shutil.rmtree(out / "bin", ignore_errors=True)  # console scripts are useless in a Lambda asset
        for package in self.packages:
            shutil.copytree(self.source_dir / package, out / package, ignore=_IGNORED, dirs_exist_ok=True)
        botocore_data.write_data(out / botocore_data.BUNDLE_PATH)
        compiled = ""
        if self.compile_bytecode:
            tree = bytecode.compile_tree(out, python_version=self.python_version)
            compiled = f", {tree.files} modules compiled to {tree.cache_tag} bytecode"
        print(
            f"Bundled {', '.join(self.packages)} + {self.requirements} for {self.platform} / Python "
            f"{self.python_version} without Docker{compiled}",
            file=sys.stderr,
        )
        return True


def bundling_options(local: LocalPipBundling, runtime: lambda_.Runtime) -> BundlingOptions:
    return BundlingOptions(image=runtime.bundling_image, local=local, command=local.docker_command())
