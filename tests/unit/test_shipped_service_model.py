"""The endusermessaging model shipped with the asset: what the installed botocore says, and enough alone.

On Lambda the runtime's botocore may predate the service; the adapter then works from these files only.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import boto3
import botocore.loaders
import botocore.session
from botocore.config import Config

from otp.adapters.end_user_messaging import SERVICE_MODELS_DIR
from tests.botocore_models import expected_files
from tests.sandbox_harness import DUMMY_KEY, REGION, PinpointEndpoint

# What botocore needs besides a service's own model to build a client and resolve its endpoint.
_BOTOCORE_COMMON_FILES = (
    "endpoints.json",
    "partitions.json",
    "sdk-default-configuration.json",
    "_retry.json",
)


def test_the_shipped_files_are_the_installed_botocores_trimmed_model():
    # Given the files regenerated from the installed botocore (python -m tests.botocore_models)
    expected = expected_files()

    # Then the committed files are exactly those, and nothing else is shipped
    shipped = {p for p in SERVICE_MODELS_DIR.rglob("*") if p.is_file()}
    assert shipped == set(expected)
    for path, text in expected.items():
        assert path.read_text(encoding="utf-8") == text, (
            f"{path} is stale: run python -m tests.botocore_models"
        )


def test_the_trimmed_model_keeps_the_adapters_operations_and_every_error(tmp_path):
    loader = botocore.loaders.Loader(
        extra_search_paths=[str(SERVICE_MODELS_DIR)], include_default_search_paths=False
    )
    model = loader.load_service_model("endusermessaging", "service-2")
    assert set(model["operations"]) == {
        "SendNotifyCodeVerification",
        "ValidateNotifyCodeVerification",
        "CreateNotifyCodeConfiguration",
        "UpdateNotifyCodeConfiguration",
        "DeleteNotifyCodeConfiguration",
    }
    errors = {e["shape"] for e in model["operations"]["SendNotifyCodeVerification"]["errors"]}
    assert errors == {
        "ValidationException",
        "ThrottlingException",
        "AccessDeniedException",
        "ResourceNotFoundException",
        "InternalServerException",
        "ConflictException",
        "ServiceQuotaExceededException",
    }
    assert model["shapes"]["CodeLength"]["min"] == 4


def test_a_botocore_without_the_service_sends_and_validates_with_the_shipped_files(
    tmp_path: Path, pinpoint_endpoint: PinpointEndpoint
):
    # Given a botocore data directory holding only the common files, not the endusermessaging model
    builtin = Path(botocore.__file__).parent / "data"
    common = tmp_path / "botocore-data"
    common.mkdir()
    for name in _BOTOCORE_COMMON_FILES:
        for candidate in (builtin / name, builtin / f"{name}.gz"):
            if candidate.exists():
                shutil.copy(candidate, common / candidate.name)
    bare = botocore.loaders.Loader(extra_search_paths=[str(common)], include_default_search_paths=False)
    assert "endusermessaging" not in bare.list_available_services("service-2")

    # When the shipped model is put first on the loader path, as the adapter's factory does
    session = botocore.session.get_session()
    loader = botocore.loaders.Loader(extra_search_paths=[str(common)], include_default_search_paths=False)
    session.register_component("data_loader", loader)
    loader.search_paths.insert(0, str(SERVICE_MODELS_DIR))
    client = boto3.session.Session(botocore_session=session).client(
        "endusermessaging",
        endpoint_url=pinpoint_endpoint.url,
        region_name=REGION,
        aws_access_key_id=DUMMY_KEY,
        aws_secret_access_key=DUMMY_KEY,
        config=Config(retries={"total_max_attempts": 1}),
    )

    # Then a code goes out and validates
    client.send_notify_code_verification(
        channel="TEXT",
        destinationIdentity="+12065550100",
        originationIdentity="+12065550199",
        overrideChannelParameters={"text": {"inlineTemplateBody": "Code {{code}}"}},
        referenceId="shipped",
    )
    [sms] = pinpoint_endpoint.emulator.outbox()
    status = client.validate_notify_code_verification(
        destinationIdentity="+12065550100", referenceId="shipped", code=sms.code
    )["status"]
    assert status == "VALID"
    # and the endpoint a real region would use comes from the shipped rule set
    resolved = boto3.session.Session(botocore_session=session).client(
        "endusermessaging",
        region_name="eu-west-1",
        aws_access_key_id=DUMMY_KEY,
        aws_secret_access_key=DUMMY_KEY,
    )
    assert resolved.meta.endpoint_url == "https://end-user-messaging.eu-west-1.amazonaws.com"
