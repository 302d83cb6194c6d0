"""Gateways built from settings: keys from the environment, validation, a working round trip."""

from __future__ import annotations

import pytest

from orchestrator.gateway import GatewaySettings, build_gateway
from orchestrator.gateway.factory import MissingApiKeyError
from tests.fakeserver import FakeServer


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("model", "gpt-4o", "'<provider>/<model>'"),
        ("temperature", -0.1, "temperature"),
        ("max_tokens", 0, "max_tokens"),
        ("concurrency", 0, "concurrency"),
        ("rpm", 0, "rpm"),
        ("tpm", -5, "tpm"),
        ("timeout", 0, "timeout"),
        ("max_retries", -1, "max_retries"),
    ],
)
def test_invalid_settings_name_the_field(field, value, fragment):
    fields = {"model": "openai/gpt-4o-mini", field: value}
    with pytest.raises(ValueError, match=fragment):
        GatewaySettings(**fields)


def test_missing_key_variable_is_a_clear_error():
    settings = GatewaySettings(model="openai/gpt-4o-mini", api_key_env="PF_TEST_KEY")
    with pytest.raises(MissingApiKeyError, match="PF_TEST_KEY.*openai/gpt-4o-mini"):
        build_gateway(settings, role="scorer", environ={})


async def test_built_gateway_sends_the_key_from_the_named_variable(fake_server: FakeServer):
    settings = GatewaySettings(
        model="openai/gpt-4o-mini", api_base=fake_server.openai_base, api_key_env="PF_TEST_KEY", max_tokens=8
    )
    async with build_gateway(settings, role="scorer", environ={"PF_TEST_KEY": "sk-from-env"}) as gateway:
        completion = await gateway.chat([{"role": "user", "content": "ping"}])
    assert completion.text == "echo: ping"
    request = fake_server.requests[-1]
    assert request.headers["Authorization"] == "Bearer sk-from-env"
    assert request.body["max_tokens"] == 8 and request.body["temperature"] == 0.0


async def test_without_a_key_variable_no_environment_key_is_sent(fake_server: FakeServer, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-ambient-should-not-be-used")
    settings = GatewaySettings(model="openai/local-model", api_base=fake_server.openai_base)
    async with build_gateway(settings, role="scorer") as gateway:
        await gateway.chat([{"role": "user", "content": "ping"}])
    assert "sk-ambient" not in fake_server.requests[-1].headers.get("Authorization", "")


async def test_like_the_sdks_base_url_and_organisation_come_from_the_environment(fake_server: FakeServer):
    settings = GatewaySettings(model="openai/local-model")  # no api_base in the campaign
    environ = {"OPENAI_BASE_URL": fake_server.openai_base, "OPENAI_ORG_ID": "org-123"}
    async with build_gateway(settings, role="scorer", environ=environ) as gateway:
        await gateway.chat([{"role": "user", "content": "ping"}])
    assert fake_server.requests[-1].headers["OpenAI-Organization"] == "org-123"


def test_a_configured_api_base_and_extra_header_win_over_the_environment():
    from orchestrator.gateway.factory import backend_settings

    settings = GatewaySettings(
        model="openai/m",
        api_base="http://configured/v1",
        options={"extra_headers": {"openai-organization": "org-from-config"}},
    )
    resolved = backend_settings(settings, {"OPENAI_BASE_URL": "http://env/v1", "OPENAI_ORG_ID": "org-env"})
    assert resolved.api_base == "http://configured/v1"
    assert resolved.options.extra_headers == {"openai-organization": "org-from-config"}
