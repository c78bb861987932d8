"""`make run` installs only requirements-sandbox.txt: everything the running sandbox imports must come from
a package that file brings (its pins and their dependencies), and that file must bring neither the CDK
nor a development tool.

The sandbox runs under a recorder that writes ``sys.modules`` (each module's file) as it exits, after a
send, a wrong and a right verify, a status read, a cancel, the sign-in page and a Cognito custom-auth
round, on each engine. Each module's file is traced to the installed distribution that owns it.
"""

from __future__ import annotations

import json
import re
import site
from collections.abc import Iterator
from functools import cache
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.sandbox_harness import ENGINE_ENV, RunningSandbox, aws_client, http_call, running_sandbox

ROOT = Path(__file__).resolve().parents[2]
SANDBOX_REQUIREMENTS = ROOT / "requirements-sandbox.txt"
RECORDER = """
import atexit, json, os, runpy, sys
_started_with = set(sys.modules)  # what the interpreter loaded itself (site, .pth files): not the sandbox's
def _record():
    files = {
        name: getattr(module, "__file__", None)
        for name, module in list(sys.modules.items())
        if name not in _started_with
    }
    with open(os.environ["IMPORTS_RECORD_FILE"], "w", encoding="utf-8") as out:
        json.dump(files, out)
atexit.register(_record)
_exit = os._exit  # python -m local ends with os._exit, which runs no atexit hook: record first
def _record_and_exit(code):
    _record()
    _exit(code)
os._exit = _record_and_exit
sys.argv[0] = "local"
runpy.run_module("local", run_name="__main__", alter_sys=True)
"""
#: What must never be installed for `make run` (requirements.txt and requirements-dev.txt bring them).
NOT_FOR_THE_SANDBOX = {
    "aws-cdk-lib",
    "constructs",
    "cdk-nag",
    "jsii",
    "pytest",
    "mypy",
    "ruff",
    "cfn-lint",
    "schemathesis",
    "hypothesis",
    "mkdocs",
    "import-linter",
    "boto3-stubs",
    "docker",
}


def _requirement_lines(path: Path) -> Iterator[str]:
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("-r "):
            yield from _requirement_lines(path.parent / line[3:].strip())
        else:
            yield line


@cache
def sandbox_closure() -> frozenset[str]:
    """The distributions requirements-sandbox.txt installs: its pins and, through the installed metadata,
    everything they require (with the extras asked for)."""
    seen: set[tuple[str, str]] = set()
    names: set[str] = set()
    pending = [(Requirement(line), "") for line in _requirement_lines(SANDBOX_REQUIREMENTS)]
    while pending:
        requirement, extra = pending.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": extra}):
            continue
        name = canonicalize_name(requirement.name)
        for wanted in {"", *requirement.extras}:
            if (name, wanted) in seen:
                continue
            seen.add((name, wanted))
            names.add(name)
            for dependency in metadata.requires(requirement.name) or []:
                pending.append((Requirement(dependency), wanted))
    return frozenset(names)


@cache
def file_owners() -> dict[Path, str]:
    owners: dict[Path, str] = {}
    for distribution in metadata.distributions():
        name = canonicalize_name(distribution.metadata["Name"])
        for file in distribution.files or []:
            owners[Path(str(distribution.locate_file(file))).resolve()] = name
    return owners


def imported_distributions(modules: dict[str, str | None]) -> dict[str, set[str]]:
    """Each distribution the modules' files belong to, with the modules; stdlib and this checkout left out."""
    site_dirs = [Path(p).resolve() for p in site.getsitepackages()]
    owners = file_owners()
    found: dict[str, set[str]] = {}
    for module, file in modules.items():
        if not file:
            continue  # built-in, frozen or namespace: nothing installed it
        path = Path(file).resolve()
        if not any(path.is_relative_to(d) for d in site_dirs):
            continue  # the standard library, or local/ and lambda/ of this checkout
        owner = owners.get(path, f"<no distribution owns {path}>")
        found.setdefault(owner, set()).add(module)
    return found


def _exercise(sandbox: RunningSandbox) -> None:
    number = "+12065550170"
    sent = sandbox.api("POST", "/v1/otp", {"phoneNumber": number, "referenceId": "closure-1"})
    assert sent.status == 202, sent
    [message] = sandbox.outbox(reference_id="closure-1")
    wrong = "000000" if message["code"] != "000000" else "111111"
    verify = {"phoneNumber": number, "referenceId": "closure-1"}
    assert sandbox.api("POST", "/v1/otp/verify", {**verify, "code": wrong}).status == 200
    assert sandbox.api("POST", "/v1/otp/verify", {**verify, "code": message["code"]}).body == {"valid": True}
    assert sandbox.api("GET", "/v1/otp/closure-1?phoneNumber=%2B12065550170").status == 200
    sandbox.api("POST", "/v1/otp", {"phoneNumber": "+12065550171", "referenceId": "closure-2"})
    assert sandbox.api("DELETE", "/v1/otp/closure-2", {"phoneNumber": "+12065550171"}).status < 500
    assert http_call("GET", sandbox.ready["signInPageUrl"]).status == 200

    cognito = aws_client("cognito-idp", sandbox.aws_url)
    pool, client = sandbox.ready["userPoolId"], sandbox.ready["userPoolClientId"]
    user = "+12065550172"
    cognito.admin_create_user(
        UserPoolId=pool,
        Username=user,
        UserAttributes=[
            {"Name": "phone_number", "Value": user},
            {"Name": "phone_number_verified", "Value": "true"},
        ],
        MessageAction="SUPPRESS",
    )
    started = cognito.initiate_auth(
        AuthFlow="CUSTOM_AUTH", ClientId=client, AuthParameters={"USERNAME": user}
    )
    codes = [m["code"] for m in sandbox.outbox(destination=user)]
    assert codes, "the Create Auth Challenge trigger sent no code"
    cognito.respond_to_auth_challenge(
        ClientId=client,
        ChallengeName="CUSTOM_CHALLENGE",
        Session=started["Session"],
        ChallengeResponses={"USERNAME": user, "ANSWER": codes[-1]},
    )


def _recorded(engine: str, directory: str) -> dict[str, str | None]:
    record = Path(directory) / f"imports-{engine}.json"
    env = {**ENGINE_ENV[engine], "IMPORTS_RECORD_FILE": str(record)}
    with running_sandbox(env, python_args=("-c", RECORDER)) as sandbox:
        _exercise(sandbox)
    modules: dict[str, str | None] = json.loads(record.read_text(encoding="utf-8"))
    return modules


@pytest.mark.slow
@pytest.mark.parametrize("engine", sorted(ENGINE_ENV))
def test_everything_the_running_sandbox_imports_comes_from_requirements_sandbox(engine, tmp_path):
    modules = _recorded(engine, str(tmp_path))
    # The recorder saw the sandbox at work (not an empty or failed start)
    assert {"local.sandbox", "otp.handlers.api", "otp.handlers.cognito", "moto", "boto3"} <= set(modules)

    imported = imported_distributions(modules)
    closure = sandbox_closure()

    missing = {name: sorted(mods)[:5] for name, mods in imported.items() if name not in closure}
    assert not missing, f"imported by the sandbox but not brought by requirements-sandbox.txt: {missing}"
    # and the sandbox's own runtime is among what it imports: the moto, boto3 and Powertools it pins
    assert {"moto", "boto3", "botocore", "aws-lambda-powertools", "phonenumberslite", "werkzeug"} <= set(
        imported
    )


def test_requirements_sandbox_brings_neither_the_cdk_nor_development_tools():
    closure = sandbox_closure()
    assert not closure & NOT_FOR_THE_SANDBOX, sorted(closure & NOT_FOR_THE_SANDBOX)
    # the sandbox's own pins are in it (the closure is read from installed metadata, so it is real)
    assert {"moto", "boto3", "flask", "joserfc", "aws-lambda-powertools"} <= closure


def test_the_other_requirements_files_include_the_sandbox_ones_with_the_same_pins():
    # requirements.txt (the CDK app) and so requirements-dev.txt (make test) install requirements-sandbox.txt
    assert "-r requirements-sandbox.txt" in (ROOT / "requirements.txt").read_text(encoding="utf-8")
    assert "-r requirements.txt" in (ROOT / "requirements-dev.txt").read_text(encoding="utf-8")
    pins: dict[str, set[str]] = {}
    for line in _requirement_lines(ROOT / "requirements-dev.txt"):
        requirement = Requirement(line)
        pins.setdefault(canonicalize_name(requirement.name), set()).add(str(requirement.specifier))
    conflicting = {name: specs for name, specs in pins.items() if len(specs - {""}) > 1}
    assert not conflicting, conflicting


def test_the_makefile_runs_the_sandbox_on_requirements_sandbox_only():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    [run_line] = [line for line in makefile.splitlines() if line.startswith("run:")]
    prerequisites = run_line.split("##", 1)[0].split(":", 1)[1].split()
    assert prerequisites == ["$(SANDBOX_STAMP)"]
    recipe = re.search(r"^\$\(SANDBOX_STAMP\):.*\n((?:\t.*\n)+)", makefile, re.M)
    assert recipe, "no rule for the sandbox's stamp"
    assert "-r requirements-sandbox.txt" in recipe.group(1)
    assert "requirements-dev.txt" not in recipe.group(1)
