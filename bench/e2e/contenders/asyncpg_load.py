#!/usr/bin/python3
"""Loads `pgingest generate KIND` NDJSON into PostgreSQL the way an asyncpg user would today.

Contender for the end-to-end benchmark (bench/e2e): read the file line by line, json.loads each
record, convert the values to the Python types asyncpg's binary codecs take (UUID, datetime,
timedelta, Decimal, list of float, jsonb as json.dumps text), and send them with
Connection.copy_records_to_table in chunks of at most 10 000 records or 64 MiB of input, all in
one transaction on one connection.

    asyncpg_load.py --db CONNINFO --table [SCHEMA.]TABLE --kind spans|events|snapshots|vectors FILE

CONNINFO is a libpq key=value string (host, port, user, dbname, password, sslmode) or a
postgresql:// URI. Prints {"rows": N} on success; on any error prints what and where (file and
line) on stderr, commits nothing and exits 1.
"""

import argparse
import asyncio
import datetime
import decimal
import json
import re
import shlex
import sys
import uuid

import asyncpg

CHUNK_RECORDS = 10_000
CHUNK_BYTES = 64 << 20

# ISO 8601 durations as `pgingest generate` writes them ("PT0.671749S"), with the day, hour and
# minute parts a user would accept as well.
DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)(?:\.(\d{1,6}))?S)?)?$")


def parse_duration(text):
    match = DURATION.match(text)
    if match is None or text in ("P", "PT") or text.endswith("T"):
        raise ValueError(f"not an ISO 8601 duration: {text!r}")
    days, hours, minutes, seconds, fraction = match.groups()
    return datetime.timedelta(
        days=int(days or 0),
        hours=int(hours or 0),
        minutes=int(minutes or 0),
        seconds=int(seconds or 0),
        microseconds=int((fraction or "0").ljust(6, "0")),
    )


def parse_timestamp(text):
    value = datetime.datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError(f"timestamp without a time zone: {text!r}")
    return value


def nullable(convert):
    return lambda value: None if value is None else convert(value)


def to_decimal(value):
    # json.loads gives a float; its repr is the shortest text that reads back the same, which
    # is the generator's text for numbers of at most 15 significant digits.
    return decimal.Decimal(repr(value)) if isinstance(value, float) else decimal.Decimal(value)


def to_jsonb(value):
    # asyncpg's jsonb codec takes the document as JSON text (a custom codec set with
    # set_type_codec would be text format, which COPY's binary protocol cannot use).
    return None if value is None else json.dumps(value)


def to_floats(values):
    return [float(v) for v in values]


# Columns of each kind in the order of `pgingest generate KIND --schema`, with the conversion
# from the json.loads value to the value asyncpg's codec for the column type takes.
KINDS = {
    "spans": [
        ("trace_id", uuid.UUID),
        ("span_id", int),
        ("parent_id", nullable(int)),
        ("name", str),
        ("start_time", parse_timestamp),
        ("duration", nullable(parse_duration)),
        ("status", nullable(str)),
        ("cost_usd", nullable(to_decimal)),
        ("attributes", to_jsonb),
        ("embedding", nullable(to_floats)),
    ],
    "events": [
        ("id", int),
        ("stream", str),
        ("ts", parse_timestamp),
        ("type", str),
        ("run_id", uuid.UUID),
        ("flow_name", str),
        ("step_name", nullable(str)),
        ("step_id", nullable(int)),
        ("attempt", nullable(int)),
        ("payload", to_jsonb),
    ],
    "snapshots": [
        ("id", int),
        ("name", str),
        ("state", to_jsonb),
    ],
    "vectors": [
        ("id", int),
        ("embedding", to_floats),
        ("metadata", to_jsonb),
    ],
}


class LoadError(Exception):
    pass


def connect_kwargs(conninfo):
    """asyncpg.connect() arguments for a libpq conninfo (key=value pairs or a URI)."""
    if "://" in conninfo:
        return {"dsn": conninfo}
    names = {"host": "host", "port": "port", "user": "user", "dbname": "database",
             "password": "password", "sslmode": "ssl", "connect_timeout": "timeout"}
    kwargs = {}
    for pair in shlex.split(conninfo):
        key, sep, value = pair.partition("=")
        if sep and key == "gssencmode":
            continue  # asyncpg never negotiates GSSAPI encryption
        if sep and key == "application_name":
            kwargs["server_settings"] = {"application_name": value}
            continue
        if not sep or key not in names:
            raise LoadError(f"--db: unsupported conninfo item {pair!r} "
                            f"(known: {', '.join(names)}, gssencmode, application_name)")
        try:
            if key == "port":
                kwargs[names[key]] = int(value)
            elif key == "connect_timeout":
                kwargs[names[key]] = float(value)
            else:
                kwargs[names[key]] = value
        except ValueError:
            raise LoadError(f"--db: {key}: not a number: {value!r}") from None
    return kwargs


def to_record(columns, line, line_number):
    try:
        record = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise LoadError(f"line {line_number}: invalid JSON: {error}") from None
    if not isinstance(record, dict):
        raise LoadError(f"line {line_number}: not a JSON object")
    values = []
    for name, convert in columns:
        if name not in record:
            raise LoadError(f"line {line_number}: key {name!r} missing")
        try:
            values.append(convert(record[name]))
        except (TypeError, ValueError, decimal.InvalidOperation) as error:
            raise LoadError(f"line {line_number}: key {name!r}: {error}") from None
    return tuple(values)


async def copy_chunk(conn, table, schema, columns, records, first_line):
    try:
        await conn.copy_records_to_table(table, schema_name=schema, records=records,
                                         columns=[name for name, _ in columns])
    except (asyncpg.PostgresError, asyncpg.DataError, TypeError, ValueError) as error:
        # The server counts the lines of this chunk's COPY from 1.
        match = re.search(r"COPY .*, line (\d+)", getattr(error, "context", None) or "")
        if match:
            where = f"line {first_line + int(match.group(1)) - 1}"
        else:
            where = f"lines {first_line}..{first_line + len(records) - 1}"
        raise LoadError(f"{where}: COPY failed: {error}") from None


async def load(args):
    columns = KINDS[args.kind]
    schema, _, table = args.table.rpartition(".")
    conn = await asyncpg.connect(**connect_kwargs(args.db))
    try:
        rows = 0
        async with conn.transaction():
            with open(args.file, "rb") as file:
                records, chunk_bytes, first_line = [], 0, 1
                for line_number, line in enumerate(file, start=1):
                    records.append(to_record(columns, line, line_number))
                    chunk_bytes += len(line)
                    if len(records) == CHUNK_RECORDS or chunk_bytes >= CHUNK_BYTES:
                        await copy_chunk(conn, table, schema or None, columns, records,
                                         first_line)
                        rows += len(records)
                        records, chunk_bytes, first_line = [], 0, line_number + 1
                if records:
                    await copy_chunk(conn, table, schema or None, columns, records, first_line)
                    rows += len(records)
        return rows
    finally:
        await conn.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", required=True, help="libpq conninfo or postgresql:// URI")
    parser.add_argument("--table", required=True, help="[SCHEMA.]TABLE")
    parser.add_argument("--kind", required=True, choices=sorted(KINDS))
    parser.add_argument("file", help="NDJSON written by pgingest generate KIND")
    args = parser.parse_args()
    try:
        rows = asyncio.run(load(args))
    except LoadError as error:
        print(f"asyncpg_load: {args.file}: {error}", file=sys.stderr)
        return 1
    except (OSError, asyncpg.PostgresError,
            asyncpg.InterfaceError) as error:
        print(f"asyncpg_load: {args.file}: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    print(json.dumps({"rows": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
