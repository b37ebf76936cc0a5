"""The event contract (contract/weblog-entry.schema.json) read as data: Spark types and per-field rules.

Every rule the streaming job applies comes from the JSON Schema. A keyword this module does not know
raises ContractNotUnderstood, so a change to the contract can never be silently ignored by the job.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path

from pyspark.sql import types as T

DEFAULT_CONTRACT = Path(__file__).resolve().parent.parent / "contract" / "weblog-entry.schema.json"

_TOP_LEVEL_KEYWORDS = {
    "$schema", "$id", "title", "description", "type", "x-max-entry-bytes", "x-equal-when-set",
    "x-event-id-namespace",
    "required", "additionalProperties", "properties", "allOf",
}
_FIELD_KEYWORDS = {
    "type", "format", "anyOf", "pattern", "description", "enum", "const",
    "minLength", "maxLength", "minimum", "maximum",
}
_FORMATS = {"uuid", "ipv4", "ipv6", "date-time"}
# Keywords that apply to values of one type (JSON Schema skips them for a value of another type, which the
# job's judge would not: it compares lengths of text and sizes of numbers).
_KEYWORD_TYPES = {"minLength": "string", "maxLength": "string", "minimum": "integer", "maximum": "integer"}
_INT32_MAX = 2**31 - 1


class ContractNotUnderstood(ValueError):
    """The contract uses a JSON Schema construct the streaming job cannot enforce."""


@dataclass(frozen=True)
class FieldRule:
    name: str
    json_type: str  # "string" or "integer"
    nullable: bool
    spec: dict

    @property
    def formats(self) -> tuple[str, ...]:
        """The formats the value may have (any one of them): format, or anyOf of formats."""
        if "format" in self.spec:
            return (self.spec["format"],)
        return tuple(a["format"] for a in self.spec.get("anyOf", []))


@dataclass(frozen=True)
class ConditionalRule:
    """allOf: if <when_field> is null then <then_field> == then_value else <then_field> == else_value."""

    when_null_field: str
    field: str
    value_if_null: str
    value_otherwise: str


@dataclass(frozen=True)
class WeblogContract:
    fields: tuple[FieldRule, ...]
    required: tuple[str, ...]
    max_entry_bytes: int
    conditionals: tuple[ConditionalRule, ...]
    # x-equal-when-set: (field, other) pairs; when field is not null it must equal other.
    equal_when_set: tuple[tuple[str, str], ...] = ()
    # x-event-id-namespace: the namespace of name-based (v5) event ids made from a line's source position.
    event_id_namespace: uuid.UUID | None = None

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.fields]

    def spark_schema(self) -> T.StructType:
        return T.StructType([T.StructField(f.name, _spark_type(f), True) for f in self.fields])


def _spark_type(field: FieldRule) -> T.DataType:
    if field.json_type == "string":
        return T.StringType()
    return T.IntegerType() if field.spec.get("maximum", _INT32_MAX + 1) <= _INT32_MAX else T.LongType()


def load_contract(text: str | None = None) -> WeblogContract:
    """Parses the contract JSON (the repository's file when text is None)."""
    schema = json.loads(text if text is not None else DEFAULT_CONTRACT.read_text(encoding="utf-8"))
    _only(schema, _TOP_LEVEL_KEYWORDS, "the top level")
    if schema.get("type") != "object" or schema.get("additionalProperties") is not False:
        raise ContractNotUnderstood("the contract must describe a closed object (additionalProperties: false)")
    fields = tuple(_field(name, spec) for name, spec in schema["properties"].items())
    return WeblogContract(
        fields=fields,
        required=tuple(schema.get("required", [])),
        max_entry_bytes=int(schema["x-max-entry-bytes"]),
        conditionals=tuple(_conditional(rule) for rule in schema.get("allOf", [])),
        equal_when_set=tuple(schema.get("x-equal-when-set", {}).items()),
        event_id_namespace=_namespace(schema.get("x-event-id-namespace")),
    )


def _namespace(text: str | None) -> uuid.UUID | None:
    if text is None:
        return None
    try:
        return uuid.UUID(text)
    except (ValueError, TypeError) as exc:
        raise ContractNotUnderstood(f"x-event-id-namespace must be a UUID, got {text!r}") from exc


def _field(name: str, spec: dict) -> FieldRule:
    _only(spec, _FIELD_KEYWORDS, f"property {name}")
    types = spec["type"] if isinstance(spec["type"], list) else [spec["type"]]
    nullable = "null" in types
    concrete = [t for t in types if t != "null"]
    if len(concrete) != 1 or concrete[0] not in ("string", "integer"):
        raise ContractNotUnderstood(f"property {name}: type {spec['type']} is not supported")
    for keyword in spec.keys() & _KEYWORD_TYPES.keys():
        if _KEYWORD_TYPES[keyword] != concrete[0]:
            raise ContractNotUnderstood(f"property {name}: {keyword} applies to {_KEYWORD_TYPES[keyword]} values, "
                                        f"not to a {concrete[0]} property")
    if "format" in spec and spec["format"] not in _FORMATS:
        raise ContractNotUnderstood(f"property {name}: format {spec['format']} is not supported")
    # anyOf is understood only as a choice of formats (ip: IPv4 or IPv6), nothing else.
    alternatives = spec.get("anyOf", [{"format": "uuid"}])
    if not isinstance(alternatives, list) or not alternatives or any(
            not isinstance(a, dict) or set(a) != {"format"} or a["format"] not in _FORMATS for a in alternatives):
        raise ContractNotUnderstood(f"property {name}: anyOf is supported only as a list of formats "
                                    f"({sorted(_FORMATS)}), got {json.dumps(alternatives)}")
    if "anyOf" in spec and "format" in spec:
        raise ContractNotUnderstood(f"property {name}: format and anyOf of formats together are not supported")
    return FieldRule(name, concrete[0], nullable, spec)


def _conditional(rule: dict) -> ConditionalRule:
    try:
        (when_field, when), = rule["if"]["properties"].items()
        (field, then), = rule["then"]["properties"].items()
        (else_field, otherwise), = rule["else"]["properties"].items()
        if set(rule) != {"if", "then", "else"} or when != {"type": "null"} or else_field != field:
            raise ValueError
        return ConditionalRule(when_field, field, then["const"], otherwise["const"])
    except (KeyError, ValueError, TypeError) as exc:
        raise ContractNotUnderstood(f"allOf rule not supported: {json.dumps(rule)}") from exc


def _only(spec: dict, allowed: set[str], where: str) -> None:
    unknown = set(spec) - allowed
    if unknown:
        raise ContractNotUnderstood(f"{where}: keywords {sorted(unknown)} are not enforced by the streaming job")
