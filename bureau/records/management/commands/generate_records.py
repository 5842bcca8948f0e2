"""Write a realistic synthetic furnishing file (or one per member).

    manage.py generate_records --rows 1000000 --out /tmp/records.csv
    manage.py generate_records --per-member --out /tmp/batches --error-rate 0.01

Progress goes to stderr (a bar for big runs); the row count is the last line
on stdout.
"""

from __future__ import annotations

import sys
import time
from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

from bureau.records.generator import GeneratorConfig, write_file, write_member_files

BIG_RUN = 50_000  # rows; smaller runs get no progress bar


class Command(BaseCommand):
    help = (
        "Generate a realistic furnishing file (format: docs/records.md) for tests "
        "and benchmarks."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--members",
            type=int,
            default=3,
            help="How many members furnish (codes m1..mN; default %(default)s). "
            "Ignored with --member-codes.",
        )
        parser.add_argument(
            "--subjects",
            type=int,
            default=300_000,
            help="How many distinct persons and companies the rows describe "
            "(default %(default)s); each has 1-6 accounts, often at several "
            "members.",
        )
        parser.add_argument(
            "--rows",
            type=int,
            default=1_000_000,
            help="Rows to write in all, every member together (default %(default)s).",
        )
        parser.add_argument(
            "--out",
            required=True,
            help="The file to write (its suffix picks the format: .csv, .jsonl, "
            "optionally .gz); with --per-member, the directory to write into.",
        )
        parser.add_argument(
            "--format",
            choices=("csv", "jsonl"),
            help="csv or jsonl. Default: from the --out suffix (.jsonl, "
            ".jsonl.gz), else csv.",
        )
        parser.add_argument(
            "--gzip",
            action="store_true",
            help="Compress the output with gzip (implied by an --out ending in .gz).",
        )
        parser.add_argument(
            "--error-rate",
            type=float,
            default=0.0,
            help="Share of rows, 0-1, that carry exactly one defect each (the row "
            "error codes in turn: required, invalid_format, ...); default "
            "%(default)s, every row valid.",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=0,
            help="Random seed: the same seed and options write the same rows "
            "(default %(default)s).",
        )
        parser.add_argument(
            "--today",
            type=date.fromisoformat,
            help="The date the file is furnished on, YYYY-MM-DD: as_of and the "
            "other dates are drawn before it (default: today). Give it to repeat "
            "a file exactly.",
        )
        parser.add_argument(
            "--history-share",
            type=float,
            default=0.3,
            help="Share of rows, 0-1, with a payment_history of 6-24 months "
            "(default %(default)s).",
        )
        parser.add_argument(
            "--member",
            help="Write only this member's rows (one of the codes) to --out.",
        )
        parser.add_argument(
            "--member-codes",
            help="Comma-separated member codes, e.g. acme,globex (default "
            "m1..mN); their number sets --members.",
        )
        parser.add_argument(
            "--per-member",
            action="store_true",
            help="Write <out>/<code>.<format>, one file per member.",
        )

    def handle(self, *args, **options) -> None:
        out = Path(options["out"])
        codes = None
        if options["member_codes"]:
            codes = [c.strip() for c in options["member_codes"].split(",") if c.strip()]
        try:
            config = GeneratorConfig(
                members=options["members"],
                subjects=options["subjects"],
                rows=options["rows"],
                error_rate=options["error_rate"],
                seed=options["seed"],
                today=options["today"],
                member_codes=codes,
                payment_history_share=options["history_share"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        member = options["member"]
        if member is not None and member not in config.codes:
            raise CommandError(
                f"--member {member!r} is not one of {', '.join(config.codes)}."
            )
        if member is not None and options["per_member"]:
            raise CommandError("--member and --per-member exclude each other.")
        name = out.name.lower()
        gzip = options["gzip"] or name.endswith(".gz")
        fmt = options["format"] or (
            "jsonl" if name.removesuffix(".gz").endswith(".jsonl") else "csv"
        )

        console = Console(file=getattr(self.stderr, "_out", sys.stderr))
        started = time.perf_counter()
        with Progress(
            TextColumn("[bold]generating"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
            disable=config.rows < BIG_RUN,
        ) as progress:
            task = progress.add_task("rows", total=config.rows)

            def advance(generated: int) -> None:
                progress.update(task, completed=generated)

            if options["per_member"]:
                paths = write_member_files(
                    config, out, fmt, gzip=gzip, progress=advance
                )
                written = config.rows
                target = ", ".join(str(p) for p in paths.values())
            else:
                out.parent.mkdir(parents=True, exist_ok=True)
                written = write_file(
                    config,
                    out,
                    fmt=fmt,
                    member_code=member,
                    gzip=gzip,
                    progress=advance,
                )
                target = str(out)
        elapsed = time.perf_counter() - started
        rate = config.rows / elapsed if elapsed > 0 else 0.0
        console.print(
            f"wrote {written:,} rows to {target} in {elapsed:.1f} s "
            f"({rate:,.0f} rows/s generated)",
            highlight=False,
            soft_wrap=True,
        )
        self.stdout.write(str(written))
