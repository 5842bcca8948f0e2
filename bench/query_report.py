"""Query benchmark, the report: the commit measured and the printed table."""

from __future__ import annotations

import statistics
import subprocess

from common import ROOT


def git_state() -> dict:
    """The commit measured, and how many files differ from it (shared checkout)."""

    def git(*command: str) -> str:
        done = subprocess.run(
            ["git", *command], cwd=ROOT, capture_output=True, text=True, check=False
        )
        return done.stdout.strip()

    changed = git("status", "--porcelain", "--untracked-files=no").splitlines()
    return {"head": git("rev-parse", "HEAD"), "modified_files": len(changed)}


def report(results: dict, args) -> None:
    from rich.console import Console
    from rich.table import Table

    api, raw1, rawn = results["api"], results["raw_1"], results["raw_n"]
    ratios = results["ratios"]
    table = Table(title=f"Query benchmark ({results['env']['database']})")
    for column in ("measure", "value", "target", "ok"):
        table.add_column(column, justify="left" if column == "measure" else "right")

    def row(name, value, target="", ok=None):
        mark = "" if ok is None else ("yes" if ok else "NO")
        table.add_row(name, value, target, mark)

    seeding = results["seeding"]
    if seeding.get("reused"):
        row(f"reused database of {seeding['records_record']:,} records", "")
    else:
        row(
            f"seeding {seeding['records_record']:,} records (gen+ingest+rebuild)",
            f"{seeding['total_s']:.1f} s",
        )
        row(
            "profiles_rebuild(), first (inserts)",
            f"{seeding['rebuild_insert_s']:.2f} s",
        )
        row(
            "profiles_rebuild(), again (updates)",
            f"{results['rebuild_update_s']:.2f} s",
        )
        big = statistics.median(results["refresh_10k_s"])
        row(f"10k-subject refresh at {args.records:,} (median)", f"{big:.3f} s")
    if "small" in results:
        small = statistics.median(results["small"]["refresh_10k_s"])
        row(f"10k-subject refresh at {args.small_records:,} (median)", f"{small:.3f} s")
        value = ratios["aggregation_big_over_small"]
        row("aggregation ratio big ÷ small", f"{value:.2f}", "≤ 1.5", value <= 1.5)
    row(
        f"query API: {api['requests']:,} requests in {api['seconds']:.1f} s",
        f"{api['rps']:,.0f} rps",
        "≥ 300 rps",
        api["rps"] >= 300,
    )
    row("  p50 / p95", f"{api['p50_ms']:.1f} / {api['p95_ms']:.1f} ms")
    row("  p99", f"{api['p99_ms']:.1f} ms", "≤ 25 ms", api["p99_ms"] <= 25)
    row("  max", f"{api['max_ms']:.1f} ms")
    row("  statuses", ", ".join(f"{k}: {v:,}" for k, v in api["statuses"].items()))
    row("  errors (not 200/404)", f"{api['errors']:,}", "0", api["errors"] == 0)
    other = api["machine_cpu_share"] - api["client_cpu_share"]
    other -= api["gunicorn_cpu_share"] + api["postgres_cpu_share"]
    row(
        "  CPU cores: client / gunicorn / postgres / rest / machine",
        f"{api['client_cpu_share']:.2f} / {api['gunicorn_cpu_share']:.2f} / "
        f"{api['postgres_cpu_share']:.2f} / {other:.2f} / "
        f"{api['machine_cpu_share']:.2f}",
    )
    row(
        "  machine speed: 2M-step Python loop before / after the load",
        f"{results['python_speed_ms_before']:.0f} / "
        f"{results['python_speed_ms_after']:.0f} ms",
    )
    n = rawn["connections"]
    raw1u = results["raw_1_unprepared"]
    row("raw psycopg look-up, 1 connection", f"{raw1['rps']:,.0f} /s")
    row(f"raw psycopg look-up, {n} connections", f"{rawn['rps']:,.0f} /s")
    row("raw look-up, 1 connection, unprepared", f"{raw1u['rps']:,.0f} /s")
    value = ratios["api_over_raw_1"]
    row(
        "API ÷ raw, 1 connection (DESIGN ratio)",
        f"{value:.3f}",
        "≥ 0.15",
        value >= 0.15,
    )
    row(f"API ÷ raw, {n} connections", f"{ratios['api_over_raw_n']:.3f}")
    row(
        "API ÷ raw, 1 connection unprepared",
        f"{ratios['api_over_raw_1_unprepared']:.3f}",
    )
    Console(width=120).print(table)
    for example in api["error_examples"]:
        print(f"error example: {example}")
    sql = results.get("sql_per_query", {})
    for label, data in sql.items():
        print(f"SQL statements per {label} ({data['status']}): {data['statements']}")
    clients = args.clients
    print(
        f"{clients} closed-loop clients: mean latency ≈ clients ÷ rps = "
        f"{clients / api['rps'] * 1000:.1f} ms (measured {api['mean_ms']:.1f} ms)"
    )
    if api["client_cpu_share"] > 0.85 and api["client_procs"] <= 1:
        print(
            "note: the client threads used ≈ one core (GIL): the client may limit "
            "rps; try --client-procs 2"
        )
    git = results["git"]
    print(f"measured commit {git['head'][:10]}, {git['modified_files']} files modified")
    print(f"benchmark took {results['bench_seconds']:.0f} s; bench/out/query.json")
