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


def test_every_hotline_variable_is_a_setting_and_production_starts_with_them(
    compose: dict[str, Any],
) -> None:
    fields = {f"HOTLINE_{name.upper()}" for name in Settings.model_fields}
    for name in APP_SERVICES:
        environment = compose["services"][name]["environment"]
        assert set(environment) <= fields, set(environment) - fields
        # ${VAR:?message} is required, ${VAR:-default} optional: with the required ones
        # given, the settings pass the production check the processes make at start.
        values = {
            key: re.sub(r"\$\{(\w+):\?[^}]*\}", "x" * 40, str(value))
            for key, value in environment.items()
        }
        values = {k: re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", v) for k, v in values.items()}
        values["HOTLINE_PUBLIC_URL"] = "https://hotline.example"
        settings = Settings.model_validate(
            {k.removeprefix("HOTLINE_").lower(): v for k, v in values.items()}
        )
        assert settings.env == "production" and settings.effective_log_format == "json"
        settings.check_production()
        # Without the secret it refuses to start.
        with pytest.raises(SettingsError, match="HOTLINE_SECRET_KEY"):
            settings.model_copy(update={"secret_key": None}).check_production()
    dockerfile = (DOCKER / "Dockerfile").read_text()
    for variable in re.findall(r"\b(HOTLINE_\w+)=", dockerfile):
        assert variable in fields, variable


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
    assert sorted(re.findall(r"server (\w+):8080", upstream.group(1))) == webs
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
