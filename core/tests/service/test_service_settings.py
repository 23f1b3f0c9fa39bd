"""Service settings files (run owners are judged in tests/test_ownership.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from autoglm.service.settings import SettingsError, load_settings


def test_settings_file_with_flags_on_top(tmp_path: Path) -> None:
    config = tmp_path / "service.yaml"
    config.write_text("port: 9000\nmax_concurrent_runs: 3\nplugins: [gnn]\n")
    settings = load_settings(config, {"port": 9100, "host": None})
    assert (settings.host, settings.port, settings.max_concurrent_runs) == ("127.0.0.1", 9100, 3)
    assert settings.plugins == ["gnn"] and settings.max_body_bytes == 1_048_576


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("prot: 9000\n", "field prot: Extra inputs are not permitted"),
        ("port: high\n", "field port: Input should be a valid integer"),
        ("- a list\n", "expected a mapping of settings, found list"),
        ("port: [\n", "cannot read service config"),
    ],
)
def test_bad_settings_name_the_file_and_field(tmp_path: Path, text: str, expected: str) -> None:
    config = tmp_path / "service.yaml"
    config.write_text(text)
    with pytest.raises(SettingsError) as err:
        load_settings(config, {})
    assert expected in str(err.value) and "service.yaml" in str(err.value)
