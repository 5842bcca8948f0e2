"""The embedded PostgreSQL's settings file (bureau/embedded.py)."""

from bureau import embedded


def _pgdata(tmp_path):
    conf = tmp_path / "postgresql.conf"
    conf.write_text("# initdb's file\nmax_connections = 100\n")
    return tmp_path, conf


def test_tuning_when_written_is_included_once_from_postgresql_conf(tmp_path):
    pgdata, conf = _pgdata(tmp_path)
    embedded._write_tuning(pgdata)
    embedded._write_tuning(pgdata)
    assert conf.read_text().count(f"include_if_exists = '{embedded.TUNING_FILE}'") == 1
    assert conf.read_text().startswith("# initdb's file\nmax_connections = 100\n")


def test_tuning_file_when_written_sets_memory_and_checkpoint_settings(tmp_path):
    pgdata, _ = _pgdata(tmp_path)
    embedded._write_tuning(pgdata)
    settings = dict(
        line.split(" = ", 1)
        for line in (pgdata / embedded.TUNING_FILE).read_text().splitlines()
        if " = " in line
    )
    shared_mb = int(settings["shared_buffers"].strip("'MB"))
    assert 128 <= shared_mb <= 2048
    assert settings["max_wal_size"] == "'4GB'"
    assert settings["checkpoint_timeout"] == "'15min'"
    assert settings["log_parameter_max_length"] == "'0'"
    assert settings["log_parameter_max_length_on_error"] == "'0'"
