"""docker/: the compose file runs the processes the code really has, with settings the
code really reads (Docker itself cannot run here, so the files are checked by reading)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from hotline.settings import Settings, SettingsError
from wiring.cli import build_parser

DOCKER = Path(__file__).resolve().parent.parent / "docker"
APP_SERVICES = {"migrate", "web1", "web2", "worker1", "worker2", "relay"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    return loaded


def _commands(compose: dict[str, Any]) -> dict[str, list[str]]:
    return {
        name: service["command"]
        for name, service in compose["services"].items()
        if service.get("command") and service["command"][0] == "hotline"
    }


def test_every_app_service_runs_a_real_hotline_subcommand(compose: dict[str, Any]) -> None:
    commands = _commands(compose)
    assert set(commands) == APP_SERVICES
    parser = build_parser()
    for command in commands.values():
        parser.parse_args(command[1:])  # exits (SystemExit) on an unknown command or option
    roles = sorted(command[1] for command in commands.values())
    assert roles == ["relay", "seed", "web", "web", "worker", "worker"]


def _production_settings(environment: dict[str, Any]) -> Settings:
    """The settings a process gets from this environment block, with the operator's
    required variables (``${VAR:?message}``) given and the optional ones
    (``${VAR:-default}``) left at their defaults."""
    values = {
        key: re.sub(r"\$\{(\w+):\?[^}]*\}", "x" * 40, str(value))
        for key, value in environment.items()
    }
    values = {k: re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", v) for k, v in values.items()}
    values["HOTLINE_PUBLIC_URL"] = "https://hotline.example"
    return Settings.model_validate(
        {k.removeprefix("HOTLINE_").lower(): v for k, v in values.items()}
    )


def test_every_hotline_variable_is_a_setting_and_production_starts_with_them(
    compose: dict[str, Any],
) -> None:
    fields = {f"HOTLINE_{name.upper()}" for name in Settings.model_fields}
    for name in APP_SERVICES:
        environment = compose["services"][name]["environment"]
        assert set(environment) <= fields, set(environment) - fields
        settings = _production_settings(environment)
        assert settings.env == "production" and settings.effective_log_format == "json"
        # With the required variables given, the settings pass the production check the
        # processes make at start; without the secret they refuse to start.
        settings.check_production()
        with pytest.raises(SettingsError, match="HOTLINE_SECRET_KEY"):
            settings.model_copy(update={"secret_key": None}).check_production()
        with pytest.raises(SettingsError, match="HOTLINE_METRICS_TOKEN"):
            settings.model_copy(update={"metrics_token": None}).check_production()
        # Optional secrets left empty are unset, not empty keys: Twilio webhooks are then
        # refused rather than checked against an empty token anyone can sign with.
        assert settings.twilio_auth_token is None
    dockerfile = (DOCKER / "Dockerfile").read_text()
    for variable in re.findall(r"\b(HOTLINE_\w+)=", dockerfile):
        assert variable in fields, variable


def test_health_checks_probe_the_web_processes_and_only_them(compose: dict[str, Any]) -> None:
    dockerfile = (DOCKER / "Dockerfile").read_text()
    healthcheck = re.search(r"^HEALTHCHECK .*\n.*", dockerfile, re.M)
    assert healthcheck is not None
    # The image's check asks the web server it runs on its own port for /health.
    assert "/health" in healthcheck.group(0) and "HOTLINE_PORT" in healthcheck.group(0)
    for name, command in _commands(compose).items():
        check = compose["services"][name].get("healthcheck", {})
        if command[1] == "web":
            # The image's check (or the service's own, on /health or /ready) stays on: the
            # proxy starts only after both webs answer it.
            assert not check.get("disable"), name
            probe = str(check.get("test", healthcheck.group(0)))
            assert re.search(r"/(health|ready)\b", probe), name
        else:
            # No web server in a worker, the relay or the migration: the image's check
            # would mark them unhealthy for ever.
            assert check.get("disable") is True, name


def test_the_web_processes_are_behind_the_proxy(compose: dict[str, Any]) -> None:
    services = compose["services"]
    webs = [name for name, command in _commands(compose).items() if command[1] == "web"]
    assert sorted(webs) == ["web1", "web2"]
    for name in webs:
        assert "ports" not in services[name], f"{name} is reachable around the proxy"
    proxy = services["proxy"]
    assert proxy["ports"] == ["8080:8080"] and set(proxy["depends_on"]) == set(webs)
    conf_mount = next(v for v in proxy["volumes"] if v.endswith("default.conf:ro"))
    nginx = (DOCKER / conf_mount.split(":")[0].removeprefix("./")).read_text()
    upstream = re.search(r"upstream hotline_web \{(.*?)\}", nginx, re.S)
    assert upstream is not None
    # The upstream port is the one the image's web server listens on and the webs expose;
    # nginx listens on the port the proxy publishes.
    port = re.search(r"HOTLINE_PORT=(\d+)", (DOCKER / "Dockerfile").read_text())
    assert port is not None
    assert sorted(re.findall(rf"server (\w+):{port.group(1)}\b", upstream.group(1))) == webs
    for name in webs:
        assert services[name]["expose"] == [port.group(1)]
    assert re.search(rf"listen {proxy['ports'][0].split(':')[1]};", nginx)
    # The websocket upgrade passes through for socket.io.
    assert "proxy_set_header Upgrade $http_upgrade" in nginx
    # The consoles use the websocket transport only, which is why no stickiness is needed.
    live_js = DOCKER.parent / "agents_ui" / "static" / "app" / "live.js"
    assert 'transports: ["websocket"]' in live_js.read_text()


def test_the_volumes_exist_and_the_image_runs_unprivileged(compose: dict[str, Any]) -> None:
    declared = set(compose["volumes"])
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if not source.startswith("."):
                assert source in declared, f"{name} mounts an undeclared volume {source}"
            else:
                assert (DOCKER / source).exists(), f"{name} mounts a missing file {source}"
    assert {"pgdata", "redisdata", "proofs"} <= declared
    dockerfile = (DOCKER / "Dockerfile").read_text()
    assert re.search(r"^USER hotline$", dockerfile, re.M)
    assert "HOTLINE_PROOF_DIR=/data/proofs" in dockerfile
    assert re.search(r'^VOLUME \["/data/proofs"\]', dockerfile, re.M)
    assert re.search(r"^HEALTHCHECK .*\n.*/health", dockerfile, re.M)
    for name in APP_SERVICES:
        assert "proofs:/data/proofs" in compose["services"][name]["volumes"]
