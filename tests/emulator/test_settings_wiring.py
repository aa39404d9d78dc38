"""``Emulator(settings=...)`` and ``wcs-emulator``'s options reach the endpoints and jobs; the environment
is read only when no settings are given."""

import argparse

import pytest

from wcs.emulator import Emulator, Settings
from wcs.emulator.cli_vendor import settings_from


def test_given_settings_reach_the_endpoints_and_the_jobs(tmp_path, monkeypatch):
    monkeypatch.setenv("WCS_EMULATOR_FETCH_TIMEOUT", "7")
    given = Settings(spool_before_token=5 * 1024 * 1024, restore_delay=0.5)
    with Emulator(data_dir=str(tmp_path / "d"), settings=given) as emu:
        assert emu.jobs.settings is given
        assert emu.jobs.settings.fetch_timeout == 300.0  # the environment is not read
    with Emulator(data_dir=str(tmp_path / "e")) as emu:
        assert emu.jobs.settings.fetch_timeout == 7.0


def test_options_override_the_environment_and_bad_values_are_refused():
    args = argparse.Namespace(restore_delay=0.0, restore_day_seconds=None)
    settings = settings_from(args, {"WCS_EMULATOR_RESTORE_DELAY": "9", "WCS_EMULATOR_RESTORE_DAY_SECONDS": "60"})
    assert (settings.restore_delay, settings.restore_day_seconds) == (0.0, 60.0)
    with pytest.raises(ValueError, match="WCS_EMULATOR_FETCH_WORKERS"):
        settings_from(argparse.Namespace(restore_delay=None, restore_day_seconds=None),
                      {"WCS_EMULATOR_FETCH_WORKERS": "many"})
    with pytest.raises(ValueError, match="restore_day_seconds"):
        settings_from(argparse.Namespace(restore_delay=None, restore_day_seconds=-1.0), {})
