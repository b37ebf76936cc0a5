"""Web servers' access logs as an input: Kafka records holding `combined`-format lines become entries.

A record is the plain line (Kafka's console producer, or a shipper sending the raw text) or a shipper's
JSON envelope holding it: Filebeat (message, log.offset, log.file.path, host.name), Vector (message,
offset via offset_key, file, host) or Fluent Bit's tail input (log, plus offset/file/host when
configured as docs/access-logs.md shows). records_for_format() returns a frame shaped like Kafka's source whose
`value` is the entry's contract JSON, so parse() applies the one contract to both formats:

- a product-page visit: GET, a URL matching the product pattern, a counted status;
- an add-to-cart: the cart method, a URL matching the cart pattern, a counted status; both patterns
  capture the product id in the named group product_id;
- every other well-formed line (assets, other pages, uncounted statuses) is ignored (`input_kind`
  "ignored": in neither output) and counted;
- a record that is not such a line gets a reason in the `rejected` column: parse() quarantines it;
  quarantine keeps every record as received (`received_value`), also one the contract refuses.

event_id is the UUIDv5 (namespace: the contract's x-event-id-namespace) of the line's position in its
source and its bytes, "file", host, path, byte offset and the line's SHA-256 (hex) joined by NUL, when the
envelope carries host, path and offset: a re-shipped file keeps its ids, and a different line written at
a reused offset (a log rotated by size, copytruncate) gets a new one. Without all three (no host: two
servers may ship the same path) it is the Kafka record's own position ("kafka", topic, partition,
offset): identical lines stay apart, but a line sent twice is counted twice. session_id is
the UUIDv5 of "session", client address and user agent (a combined line has no session).
"""

from __future__ import annotations

import argparse
import json
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from jobs.url_patterns import url_pattern_problem
from jobs.weblog_contract import WeblogContract
from jobs.weblog_parse import IGNORED, INPUT_KIND, RECEIVED, REJECTED, filed_entry

DEFAULT_SETTINGS = Path(__file__).resolve().parent.parent / "contract" / "access-log.json"
INPUT_FORMATS = ("json", "combined")
CART_ADD_METHOD = "POST"  # an entry's method when its line is a cart add, whatever the line's (--cart-method)
KINDS = ("visit", "cart_add", IGNORED, "malformed")  # what a line is: each line is counted under one

# host ident authuser [time] "request" status bytes "referer" "user agent"; inside quotes a backslash
# escapes (Apache writes \" for a quote, nginx \x22). Possessive runs: Java's matcher recurses once per
# repetition of a group, so an alternation per character overflows its stack on a long user agent.
_QUOTED = r'"([^"\\]*+(?:\\.[^"\\]*+)*+)"'
COMBINED = rf"^(\S+) \S+ \S+ \[([^\]]+)\] {_QUOTED} ([0-9]{{3}}) ([0-9]+|-) {_QUOTED} {_QUOTED}$"
_GROUPS = {"ip": 1, "time": 2, "request": 3, "status": 4, "user_agent": 7}
_REQUEST = r"^([A-Z]+) (\S+)(?: HTTP/[0-9.]+)?$"
ACCESS_LOG_TIME = "dd/MMM/yyyy:HH:mm:ss Z"


@dataclass(frozen=True)
class AccessLogSettings:
    product_url_pattern: str
    cart_method: str
    cart_url_pattern: str
    counted_statuses: tuple[tuple[int, int], ...]


def parse_statuses(text: str) -> tuple[tuple[int, int], ...]:
    """"200-399" or "200-299,304" -> ((200, 399),) / ((200, 299), (304, 304)); ValueError names the mistake."""
    ranges = []
    for part in text.split(","):
        m = re.fullmatch(r"\s*([1-5][0-9]{2})(?:\s*-\s*([1-5][0-9]{2}))?\s*", part)
        if not m or int(m[2] or m[1]) < int(m[1]):
            raise ValueError(f"counted statuses must be HTTP statuses or ranges like 200-399,404, got {text!r}")
        ranges.append((int(m[1]), int(m[2] or m[1])))
    return tuple(ranges)


def product_id_group(pattern: str) -> int:
    """The number of the named group product_id in a Java/JavaScript pattern (what regexp_extract takes)."""
    python_syntax = re.sub(r"\(\?<(?![=!])", "(?P<", pattern)
    try:
        groups = re.compile(python_syntax).groupindex
    except re.error as exc:
        raise ValueError(f"{pattern!r} is not a regular expression: {exc}") from exc
    if "product_id" not in groups:
        raise ValueError(f"{pattern!r} has no named group product_id, e.g. ^/products/(?<product_id>[^/?]+)")
    return groups["product_id"]


def spark_pattern(pattern: str) -> str:
    """The pattern for Spark's Java regex: named groups as plain groups (same numbers), because Java group
    names may not contain '_' and product_id does."""
    return re.sub(r"(?<!\\)\(\?<([A-Za-z][A-Za-z0-9_]*)>", "(", pattern)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The streaming job's flags of this input (defaults: contract/access-log.json)."""
    p.add_argument("--input-format", choices=INPUT_FORMATS, default="json",
                   help="json: contract entries (default); combined: web servers' access-log lines")
    p.add_argument("--product-url-pattern", help="combined: regex of product-page URLs, named group product_id")
    p.add_argument("--cart-method", help="combined: HTTP method of an add-to-cart request (default POST)")
    p.add_argument("--cart-url-pattern", help="combined: regex of add-to-cart URLs, named group product_id")
    p.add_argument("--counted-statuses", help="combined: statuses that count, e.g. 200-399 (the default)")


def settings_from(args: argparse.Namespace) -> AccessLogSettings:
    given = {"productUrlPattern": args.product_url_pattern, "cartMethod": args.cart_method,
             "cartUrlPattern": args.cart_url_pattern, "countedStatuses": args.counted_statuses}
    if any(v is None for v in given.values()):  # the repository's defaults (the cloud passes every flag)
        defaults = json.loads(DEFAULT_SETTINGS.read_text(encoding="utf-8"))
        given = {k: defaults[k] if v is None else v for k, v in given.items()}
    settings = AccessLogSettings(given["productUrlPattern"], given["cartMethod"].upper(), given["cartUrlPattern"],
                                 parse_statuses(given["countedStatuses"]))
    for pattern in (settings.product_url_pattern, settings.cart_url_pattern):
        product_id_group(pattern)
        problem = url_pattern_problem(pattern)
        if problem:
            raise ValueError(f"the URL pattern {pattern!r} is refused: {problem}")
    if not re.fullmatch(r"[A-Z]+", settings.cart_method):
        raise ValueError(f"the cart method must be an HTTP method such as POST, got {settings.cart_method!r}")
    return settings


def records_for_format(source: DataFrame, args: argparse.Namespace, contract: WeblogContract) -> DataFrame:
    """The Kafka source as parse() takes it: unchanged for JSON entries, mapped for access-log lines."""
    if args.input_format == "json":
        return source
    return entries_from_access_log(source, settings_from(args), contract)


def uuid5(namespace: uuid.UUID, name: Column) -> Column:
    """RFC 4122 name-based UUID (SHA-1), as Python's uuid.uuid5 and the generator compute it."""
    digest = F.sha1(F.concat(F.unhex(F.lit(namespace.hex)), F.encode(name, "UTF-8")))
    part = lambda start, length: F.substring(digest, start, length)  # noqa: E731
    variant = F.lower(F.hex(F.conv(part(17, 1), 16, 10).cast("int").bitwiseAND(3).bitwiseOR(8)))
    return F.concat_ws("-", part(1, 8), part(9, 4), F.concat(F.lit("5"), part(14, 3)),
                       F.concat(variant, part(18, 3)), part(21, 12))


def _json_field(text: Column, *paths: str) -> Column:
    return F.coalesce(*[F.get_json_object(text, path) for path in paths])


def entries_from_access_log(source: DataFrame, settings: AccessLogSettings, contract: WeblogContract) -> DataFrame:
    if contract.event_id_namespace is None:
        raise ValueError("the contract has no x-event-id-namespace: access-log lines cannot get event ids")
    ns = contract.event_id_namespace
    text = F.expr("decode(value, 'UTF-8')")
    envelope = F.ltrim(text).startswith("{")
    message = _json_field(text, "$.message", "$.log")
    line = F.regexp_replace(F.when(envelope, message).otherwise(text), r"\r?\n$", "")
    field = lambda name: F.regexp_extract("line", COMBINED, _GROUPS[name])  # noqa: E731
    offset = _json_field(text, "$.log.offset", "$.offset")
    path = _json_field(text, "$.log.file.path", "$.file")
    host = _json_field(text, "$.host.name", "$.host")
    nul = "\u0000"
    positioned = envelope & offset.isNotNull() & path.isNotNull() & host.isNotNull()
    # The line's own bytes too: a file rotated by size or copytruncate writes new lines at old offsets.
    line_hash = F.sha2(F.encode(line, "UTF-8"), 256)
    identity = F.when(positioned, F.concat_ws(nul, F.lit("file"), host, path, offset, line_hash)).otherwise(
        F.concat_ws(nul, F.lit("kafka"), F.col("topic"), F.col("partition").cast("string"),
                    F.col("offset").cast("string")))

    # Limits first: no pattern ever runs on a line or URL longer than the contract allows.
    max_line, max_url = contract.max_entry_bytes, next(f.spec["maxLength"] for f in contract.fields if f.name == "url")
    line_bytes = F.octet_length(line)
    line_too_long = line_bytes > max_line
    line = F.when(~line_too_long, line)
    lines = (
        source.withColumn("line_too_long", line_too_long)
        .withColumn("line", line)
        .withColumn("well_formed", F.col("line").rlike(COMBINED))
        .withColumn("logged_at", F.to_timestamp(field("time"), ACCESS_LOG_TIME))
        .withColumn("method", F.regexp_extract(field("request"), _REQUEST, 1))
        .withColumn("url_too_long", F.char_length(F.regexp_extract(field("request"), _REQUEST, 2)) > max_url)
        .withColumn("url", F.when(~F.col("url_too_long"), F.regexp_extract(field("request"), _REQUEST, 2)))
        .withColumn("status", field("status").cast("int"))
    )
    counted = F.lit(False)
    for low, high in settings.counted_statuses:
        counted = counted | F.col("status").between(low, high)
    cart_url, product_url = spark_pattern(settings.cart_url_pattern), spark_pattern(settings.product_url_pattern)
    cart = (F.col("method") == settings.cart_method) & F.col("url").rlike(cart_url)
    visit = (F.col("method") == "GET") & F.col("url").rlike(product_url)
    rejected = (
        F.when(F.expr("encode(decode(value, 'UTF-8'), 'UTF-8')") != F.col("value"), F.lit("not UTF-8"))
        .when(F.col("line_too_long"), F.format_string(f"entry of %d bytes is over the {max_line}-byte limit",
                                                      F.octet_length(F.when(envelope, message).otherwise(text))))
        .when(F.col("line").isNull(), F.lit("a JSON record without a message or log field holding the line"))
        .when(~F.col("well_formed"), F.lit("not an access-log line in the combined format"))
        .when(F.col("logged_at").isNull(), F.concat(F.lit("access-log time is not a valid time: "), field("time")))
        .when(F.col("url_too_long"), F.lit(f"a URL longer than the contract's {max_url} characters"))
    )
    judged = (
        lines.withColumn(REJECTED, rejected)
        .withColumn(INPUT_KIND, F.when(F.col(REJECTED).isNotNull(), F.lit("malformed"))
                    .when(counted & cart, F.lit("cart_add")).when(counted & visit, F.lit("visit"))
                    .otherwise(F.lit(IGNORED)))
    )
    is_cart = F.col(INPUT_KIND) == "cart_add"
    product = F.when(is_cart, F.regexp_extract("url", cart_url, product_id_group(settings.cart_url_pattern))) \
        .otherwise(F.regexp_extract("url", product_url, product_id_group(settings.product_url_pattern)))
    # The contract's fields in its order; method is the entry's kind as the contract defines it.
    entry = F.struct(
        uuid5(ns, identity).alias("event_id"),
        F.date_format("logged_at", "yyyy-MM-dd'T'HH:mm:ssXXX").alias("event_time"),
        uuid5(ns, F.concat_ws(nul, F.lit("session"), field("ip"), field("user_agent"))).alias("session_id"),
        field("ip").alias("ip"),
        field("user_agent").alias("user_agent"),
        F.when(is_cart, F.lit(CART_ADD_METHOD)).otherwise(F.lit("GET")).alias("method"),
        F.col("url").alias("url"),
        F.col("status").alias("status"),
        product.alias("product_id"),
        F.when(is_cart, product).alias("pid"),
    )
    value = F.when(F.col(REJECTED).isNull(), F.encode(F.to_json(entry, {"ignoreNullFields": "false"}), "UTF-8")) \
        .otherwise(F.col("value"))  # parse() judges only the reason of a rejected record
    return judged.select(value.alias("value"), "partition", "offset", "timestamp", REJECTED,
                         F.col("value").alias(RECEIVED), INPUT_KIND)


def line_counts() -> list[Column]:
    """Aggregates over access-log lines as jobs/weblog_parse.py's Judging.filed() gives them: lines = visits + cart
    adds + ignored + malformed. An entry is a cart add exactly when its method is CART_ADD_METHOD; any other line's
    hr holds its kind."""
    kind = F.when(filed_entry(), F.when(F.col("method") == CART_ADD_METHOD, "cart_add").otherwise("visit")) \
        .otherwise(F.col("hr"))
    return [F.count(F.lit(1)).alias("lines"), *[F.count(F.when(kind == k, 1)).alias(k) for k in KINDS]]

