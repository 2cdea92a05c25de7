#!/usr/bin/env python3
"""moto's server with DynamoDB's atomicity: requests to one table run one at a time.

moto (5.2.5) checks a write's condition and applies the write in separate steps, with no lock, on a
threaded server. Two writers conditioned on the same version can both pass the check and both write:
a lost update DynamoDB never allows. Under a busy CPU that happens often enough to fail concurrency
tests by luck (docs/reliability.md, "moto under load").

This launcher runs moto's own WSGI application, threaded as `moto_server` runs it, and serializes
every DynamoDB request (`X-Amz-Target: DynamoDB_20120810.*`) per table: a request holds the locks of
every table it names (several for BatchWriteItem and TransactWriteItems, taken together so two
requests cannot deadlock); a request naming no table (ListTables, PartiQL) holds them all. Other
services (SQS long polls, Secrets Manager) are not serialized.

Usage: moto_serialized.py [-H HOST] [-p PORT] [--unserialized] [--hold-check-window SECONDS]

--hold-check-window widens moto's check-then-write window on purpose, for the reproduction test
(shared/adapters-aws/tests/moto_atomicity.rs): a write whose condition passed waits, before it is
applied, until another write has passed its own condition check (at most SECONDS). On plain moto
(`--unserialized`) two writers of the same version then always both succeed; serialized, the second
writer is checked only after the first one's write, so it always fails its condition.
"""

import argparse
import io
import json
import os
import signal
import sys
import threading
from contextlib import contextmanager

DYNAMODB_TARGET = "DynamoDB_20120810."
# The actions whose condition check the widened window holds open.
CONDITIONAL_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems"}


class TableLocks:
    """A lock per table name; `None` as the set of tables means every table at once."""

    def __init__(self):
        self._changed = threading.Condition()
        self._held = set()
        self._all_held = False
        # Waiting whole-server requests go first, so a stream of table requests cannot starve them.
        self._all_waiting = 0

    def _acquire(self, tables):
        with self._changed:
            if tables is None:
                self._all_waiting += 1
                self._changed.wait_for(lambda: not self._all_held and not self._held)
                self._all_waiting -= 1
                self._all_held = True
            else:
                self._changed.wait_for(
                    lambda: not self._all_held
                    and not self._all_waiting
                    and self._held.isdisjoint(tables)
                )
                self._held |= tables

    def _release(self, tables):
        with self._changed:
            if tables is None:
                self._all_held = False
            else:
                self._held -= tables
            self._changed.notify_all()

    @contextmanager
    def holding(self, tables):
        self._acquire(tables)
        try:
            yield
        finally:
            self._release(tables)


class CheckToWriteWindow:
    """Holds a conditional write between its passing check and its write (see --hold-check-window)."""

    def __init__(self, seconds):
        self._seconds = seconds
        self._passed = threading.Condition()
        self._passed_count = 0
        self._request = threading.local()

    def request_started(self, action):
        self._request.armed = self._seconds > 0 and action in CONDITIONAL_WRITES

    def request_ended(self):
        self._request.armed = False

    def condition_passed(self):
        if not getattr(self._request, "armed", False):
            return
        self._request.armed = False  # once per request
        with self._passed:
            self._passed_count += 1
            mine = self._passed_count
            self._passed.notify_all()
            self._passed.wait_for(lambda: self._passed_count > mine, timeout=self._seconds)


def table_name(name):
    """A table's name from its name or ARN (`arn:aws:dynamodb:REGION:ACCOUNT:table/NAME[/...]`)."""
    if isinstance(name, str) and name.startswith("arn:") and ":table/" in name:
        return name.split(":table/", 1)[1].split("/", 1)[0]
    return name


def tables_named(request):
    """The tables a DynamoDB request names, or None when it names none we can see."""
    if not isinstance(request, dict):
        return None
    names = set()
    for field in ("TableName", "ResourceArn", "TableArn"):
        if isinstance(request.get(field), str):
            names.add(table_name(request[field]))
    if isinstance(request.get("RequestItems"), dict):
        names.update(table_name(n) for n in request["RequestItems"])
    for item in request.get("TransactItems") or []:
        if isinstance(item, dict):
            for operation in item.values():
                if isinstance(operation, dict) and isinstance(operation.get("TableName"), str):
                    names.add(table_name(operation["TableName"]))
    return frozenset(names) or None


class SerializedDynamoDb:
    """WSGI middleware: DynamoDB requests run under their tables' locks; everything else passes."""

    def __init__(self, app, locks, window):
        self._app = app
        self._locks = locks
        self._window = window

    def __call__(self, environ, start_response):
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not target.startswith(DYNAMODB_TARGET):
            return self._app(environ, start_response)
        # The body names the tables; moto reads it again from the copy.
        from werkzeug.wsgi import get_input_stream

        body = get_input_stream(environ).read()
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        environ["wsgi.input_terminated"] = False
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            request = None
        held = self._locks.holding(tables_named(request)) if self._locks else _nothing()
        with held:
            self._window.request_started(target[len(DYNAMODB_TARGET):])
            try:
                # The whole answer is produced under the lock, not while the server sends it.
                chunks = self._app(environ, start_response)
                try:
                    return [b"".join(chunks)]
                finally:
                    if hasattr(chunks, "close"):
                        chunks.close()
            finally:
                self._window.request_ended()


@contextmanager
def _nothing():
    yield


def report_passing_conditions(window):
    """Lets `window` see every condition check moto passes (all paths parse through this class)."""
    from moto.dynamodb import comparisons

    parse = comparisons.ConditionExpressionParser.parse

    class Reporting:
        def __init__(self, op):
            self._op = op

        def expr(self, item):
            passed = self._op.expr(item)
            if passed:
                window.condition_passed()
            return passed

        def __getattr__(self, name):
            return getattr(self._op, name)

    def reporting_parse(parser):
        op = parse(parser)
        return Reporting(op) if parser.condition_expression else op

    comparisons.ConditionExpressionParser.parse = reporting_parse


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=int(os.environ.get("MOTO_PORT", 5000)))
    parser.add_argument(
        "--unserialized",
        action="store_true",
        help="plain moto's behaviour (no DynamoDB locks), for the reproduction test",
    )
    parser.add_argument(
        "--hold-check-window",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="hold a write that passed its condition until another one passes (test only)",
    )
    args = parser.parse_args()
    # moto builds some URLs (SQS queue URLs) from this, as moto_server does.
    os.environ.setdefault("MOTO_PORT", str(args.port))

    from werkzeug.serving import run_simple

    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )

    window = CheckToWriteWindow(args.hold_check_window)
    if args.hold_check_window > 0:
        report_passing_conditions(window)
    moto_app = DomainDispatcherApplication(create_backend_app)
    moto_app.debug = True
    locks = None if args.unserialized else TableLocks()
    app = SerializedDynamoDb(moto_app, locks, window)

    for stop in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop, lambda *_: sys.exit(0))
    run_simple(
        args.host,
        args.port,
        app,
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
