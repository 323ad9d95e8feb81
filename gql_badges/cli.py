"""`gql-badges serve | load FILE.json | indexes [--check|--create] | export-schema | demo-data |
persisted-manifest DIR`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType

from pymongo.errors import PyMongoError

from gql_badges.errors import DatabaseUnavailable
from gql_badges.loading import (
    LoadError,
    load_documents,
    parse_load_file,
    validate_documents,
    write_documents,
)
from gql_badges.observability.logs import configure_logging
from gql_badges.settings import Settings
from gql_badges.storage.client import Database
from gql_badges.storage.embedded import EmbeddedServer, EmbeddedUnavailable
from gql_badges.storage.indexes import INDEXES, IndexProblem

logger = logging.getLogger("gql_badges")


def describe_target(settings: Settings, uri: str, embedded_in: Path | None) -> str:
    """Where a command wrote, for the person who ran it: the database name and its server's
    hosts (never the URI's credentials or options), or the embedded server's data dir."""
    if embedded_in is not None:
        return f"database {settings.database!r} on the embedded server at {embedded_in.resolve()}"
    scheme, _, rest = uri.partition("://")
    authority = rest.split("/", 1)[0].split("?", 1)[0]
    hosts = authority.rpartition("@")[2]  # without user:password@
    return f"database {settings.database!r} at {scheme}://{hosts}"


def _database_uri(settings: Settings, embedded: EmbeddedServer | None) -> str:
    if settings.mongodb_uri:
        return settings.mongodb_uri
    assert embedded is not None
    return embedded.start()


async def _prepare_embedded(settings: Settings, uri: str) -> None:
    """On an empty embedded database, load the demo data set and say how to log in."""
    from gql_badges.demo import credentials_text, demo_documents

    database = Database(settings, uri)
    try:
        await database.ensure_indexes()
        if await database.is_empty():
            await write_documents(database, validate_documents(demo_documents()))
            print("Loaded the demo data set into the empty embedded database.", flush=True)
            print(credentials_text(), flush=True)
    finally:
        await database.close()


def _exit_on_signal(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def serve(settings: Settings, host: str, port: int, access_log: bool = True) -> int:
    import uvicorn

    from gql_badges.app import create_app
    from gql_badges.serving import DrainingServer

    embedded = None if settings.mongodb_uri else EmbeddedServer(settings.data_dir)
    # uvicorn drains the requests in flight on SIGTERM, then raises the signal again; by default
    # that would end the process at once, before the embedded database is stopped below.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    try:
        uri = _database_uri(settings, embedded)  # first: a data dir in use stops us here
        if "GQL_BADGES_JWT_SECRET" not in os.environ:
            logger.warning(
                "GQL_BADGES_JWT_SECRET is not set: OAuth tokens last until this process stops"
            )
        if embedded is not None:
            print(
                f"Embedded database (SecantusDB) running, files in {settings.data_dir}", flush=True
            )
            asyncio.run(_prepare_embedded(settings, uri))
        else:
            print(f"Serving {describe_target(settings, uri, None)}", flush=True)
        print(f"GraphiQL: http://{host}:{port}/graphql", flush=True)
        # The gateway writes its own access line (route, org, operation, DB time), and uvicorn's
        # loggers go through the handlers configure_logging set up.
        logging.getLogger("gql_badges.access").disabled = not access_log
        app = create_app(settings, uri)
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_config=None,
            log_level=settings.log_level.lower(),
            access_log=False,
            timeout_graceful_shutdown=20,
            # Off: with per-message compression a client that stops reading never makes a
            # send wait (the server buffers without bound); without it, sends feel the
            # backpressure and a slow subscriber is found and ended.
            ws_per_message_deflate=False,
            ws_max_size=settings.live_max_message_bytes,
            # Off: the gateway's own graphql-transport-ws pings (one timer per process, only
            # on quiet sockets) keep proxies from cutting idle sockets; uvicorn's protocol
            # pings would double them with a task per connection.
            ws_ping_interval=None,
            ws_ping_timeout=None,
        )
        server = DrainingServer(config, app, settings.live_drain_seconds)
        server.run()
        if not server.started:
            return 3  # uvicorn's own exit status when it cannot start
    finally:
        if embedded is not None:
            embedded.stop()
    return 0


def load(settings: Settings, file: Path) -> int:
    try:
        documents = parse_load_file(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        print(f"gql-badges load: cannot read {file}: {error}", file=sys.stderr)
        return 2
    except LoadError as error:
        print(f"gql-badges load: {file}: {error}", file=sys.stderr)
        return 1
    uri = settings.mongodb_uri or EmbeddedServer.running_uri(settings.data_dir)
    embedded = None if uri else EmbeddedServer(settings.data_dir, command="load")
    try:
        uri = uri or _database_uri(settings, embedded)

        async def run() -> dict[str, int]:
            database = Database(settings, uri, loading=True)
            try:
                return await load_documents(database, documents, _progress_bar())
            finally:
                await database.close()

        counts = asyncio.run(run())
    except LoadError as error:
        print(f"gql-badges load: {file}: {error}", file=sys.stderr)
        return 1
    except DatabaseUnavailable:
        print("gql-badges load: the database is unreachable", file=sys.stderr)
        return 1
    except PyMongoError as error:  # e.g. an identifier already used by another customer
        print(f"gql-badges load: the database refused the documents: {error}", file=sys.stderr)
        return 1
    finally:
        if embedded is not None:
            embedded.stop()
    summary = ", ".join(f"{count} {name}" for name, count in counts.items() if count)
    target = describe_target(settings, uri, None if settings.mongodb_uri else settings.data_dir)
    print(f"Loaded {summary or 'nothing'} from {file} into {target}.")
    return 0


def _progress_bar() -> Callable[[str, int, int], None] | None:
    """A one-line bar per collection on a terminal; nothing in a pipe or a log."""
    if not sys.stdout.isatty():
        return None

    def show(collection: str, done: int, total: int) -> None:
        filled = 30 * done // max(total, 1)
        bar = "#" * filled + "." * (30 - filled)
        end = "\n" if done >= total else ""
        print(f"\r{collection:<16} [{bar}] {done}/{total}", end=end, flush=True)

    return show


def indexes(settings: Settings, create: bool) -> int:
    """Check (or create) the indexes; exit status 0 only when every one is present."""
    uri = settings.mongodb_uri or EmbeddedServer.running_uri(settings.data_dir)
    embedded = None if uri else EmbeddedServer(settings.data_dir)
    try:
        uri = uri or _database_uri(settings, embedded)

        async def run() -> list[IndexProblem]:
            database = Database(settings, uri, loading=True)
            try:
                if create:
                    return await database.ensure_indexes()
                return await database.check_indexes()
            finally:
                await database.close()

        problems = asyncio.run(run())
    except DatabaseUnavailable:
        print("gql-badges indexes: the database is unreachable", file=sys.stderr)
        return 1
    finally:
        if embedded is not None:
            embedded.stop()
    for problem in problems:
        print(f"gql-badges indexes: {problem.log_line()}", file=sys.stderr)
    wanted = sum(len(models) for models in INDEXES.values())
    verb = "created or present" if create else "present"
    print(f"{wanted - len(problems)} of {wanted} indexes {verb}.")
    return 1 if problems else 0


def demo_data() -> int:
    """The demo data set as a load file (Extended JSON), dated relative to now."""
    from bson import json_util

    from gql_badges.demo import demo_documents

    options = json_util.JSONOptions(json_mode=json_util.JSONMode.RELAXED, tz_aware=True)
    sys.stdout.write(json_util.dumps(demo_documents(), json_options=options, indent=2) + "\n")
    return 0


def persisted_manifest(directory: Path) -> int:
    """An Apollo persisted-query manifest of the operations in DIR's `.graphql` files."""
    import json

    from gql_badges.graphql.manifest import ManifestError, manifest_from_documents

    files = sorted(directory.rglob("*.graphql"))
    if not files:
        print(f"gql-badges persisted-manifest: no .graphql files in {directory}", file=sys.stderr)
        return 1
    try:
        manifest = manifest_from_documents((str(f), f.read_text(encoding="utf-8")) for f in files)
    except (OSError, UnicodeDecodeError, ManifestError) as error:
        print(f"gql-badges persisted-manifest: {error}", file=sys.stderr)
        return 1
    sys.stdout.write(json.dumps(manifest, indent=2) + "\n")
    return 0


def export_schema() -> int:
    from gql_badges.graphql.schema import export_sdl

    sys.stdout.write(export_sdl())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gql-badges", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="run the gateway")
    serve_parser.add_argument("--host", default="127.0.0.1")
    serve_parser.add_argument("--port", type=int, default=8000)
    serve_parser.add_argument(
        "--access-log",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="log every request (default: on)",
    )
    load_parser = commands.add_parser("load", help="upsert documents from a JSON file")
    load_parser.add_argument("file", type=Path)
    indexes_parser = commands.add_parser(
        "indexes", help="check (default) or create the indexes; exit 1 unless all are present"
    )
    mode = indexes_parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="only report missing indexes")
    mode.add_argument("--create", action="store_true", help="create the missing indexes")
    commands.add_parser("export-schema", help="print the GraphQL SDL")
    commands.add_parser("demo-data", help="print the demo data set as a load file")
    manifest_parser = commands.add_parser(
        "persisted-manifest",
        help="print an Apollo persisted-query manifest of the operations in DIR's .graphql files",
    )
    manifest_parser.add_argument("directory", type=Path, metavar="DIR")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if args.command == "export-schema":
        return export_schema()
    if args.command == "demo-data":
        return demo_data()
    if args.command == "persisted-manifest":
        return persisted_manifest(args.directory)
    settings = Settings()
    configure_logging(settings.log_format, settings.log_level)
    try:
        if args.command == "serve":
            return serve(settings, args.host, args.port, args.access_log)
        if args.command == "indexes":
            return indexes(settings, args.create)
        return load(settings, args.file)
    except EmbeddedUnavailable as error:
        print(f"gql-badges: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
