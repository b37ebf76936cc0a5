"""The event contract read as rules, without Spark: what the streaming job enforces comes from the schema file,
and a construct it cannot enforce is refused by name."""

from __future__ import annotations

import copy
import json
import re
import uuid

import pytest
from pyspark.sql import types as T

from jobs.weblog_contract import DEFAULT_CONTRACT, ConditionalRule, ContractNotUnderstood, load_contract

SHIPPED = json.loads(DEFAULT_CONTRACT.read_text(encoding="utf-8"))


def test_the_shipped_contract_reads_as_its_conditional_pairing_and_id_rules():
    contract = load_contract()
    assert contract.conditionals == (ConditionalRule("pid", "method", "GET", "POST"),)
    assert contract.equal_when_set == (("pid", "product_id"),)
    assert contract.event_id_namespace == uuid.UUID("02a46824-2ddf-4b1f-90de-d59199d441ee")
    assert contract.required == tuple(SHIPPED["required"])
    assert [(f.name, f.json_type, f.nullable) for f in contract.fields] == [
        ("event_id", "string", False), ("event_time", "string", False), ("session_id", "string", False),
        ("ip", "string", False), ("user_agent", "string", False), ("method", "string", False),
        ("url", "string", False), ("status", "integer", False), ("product_id", "string", False),
        ("pid", "string", True)]


def test_the_schema_entries_are_read_with_types_each_fields_bounds_fit_and_every_field_nullable():
    # Nullable: a missing or null field is judged by the contract's rules (and quarantined), not by the JSON reader.
    schema = load_contract().spark_schema()
    assert [(f.name, f.dataType, f.nullable) for f in schema.fields if f.name in ("status", "url", "pid")] == [
        ("url", T.StringType(), True), ("status", T.IntegerType(), True), ("pid", T.StringType(), True)]
    assert all(f.nullable for f in schema.fields)
    unbounded = copy.deepcopy(SHIPPED)
    del unbounded["properties"]["status"]["maximum"]
    assert load_contract(json.dumps(unbounded)).spark_schema()["status"].dataType == T.LongType()
    wide = copy.deepcopy(SHIPPED)
    wide["properties"]["status"]["maximum"] = 2**31
    assert load_contract(json.dumps(wide)).spark_schema()["status"].dataType == T.LongType()
    wide["properties"]["status"]["maximum"] = 2**31 - 1
    assert load_contract(json.dumps(wide)).spark_schema()["status"].dataType == T.IntegerType()


def test_a_contract_without_an_id_namespace_has_none_and_a_bad_one_is_refused_by_name():
    schema = copy.deepcopy(SHIPPED)
    del schema["x-event-id-namespace"]
    assert load_contract(json.dumps(schema)).event_id_namespace is None
    schema["x-event-id-namespace"] = "not-a-uuid"
    with pytest.raises(ContractNotUnderstood, match="x-event-id-namespace must be a UUID, got 'not-a-uuid'"):
        load_contract(json.dumps(schema))


@pytest.mark.parametrize("change", [
    lambda rule: rule.update({"then": {"properties": {"url": {"const": "GET"}}}}),  # else names another field
    lambda rule: rule["if"]["properties"].update({"pid": {"type": "string"}}),  # not a null test
    lambda rule: rule.update({"description": "an extra keyword"}),
])
def test_a_conditional_rule_the_job_cannot_enforce_is_refused(change):
    schema = copy.deepcopy(SHIPPED)
    change(schema["allOf"][0])
    rule = json.dumps(schema["allOf"][0])
    with pytest.raises(ContractNotUnderstood, match=re.escape(f"allOf rule not supported: {rule}")):
        load_contract(json.dumps(schema))


def _with(change) -> str:
    schema = copy.deepcopy(SHIPPED)
    change(schema)
    return json.dumps(schema)


@pytest.mark.parametrize(("change", "message"), [
    (lambda s: s.update({"type": "array"}),
     r"^the contract must describe a closed object \(additionalProperties: false\)$"),
    (lambda s: s.pop("additionalProperties"), r"^the contract must describe a closed object"),
    (lambda s: s.update({"minProperties": 1}), r"^the top level: keywords \['minProperties'\] are not enforced"),
    (lambda s: s["properties"]["status"].update({"multipleOf": 2}),
     r"^property status: keywords \['multipleOf'\] are not enforced"),
    (lambda s: s["properties"]["status"].update({"type": "number"}),
     r"^property status: type number is not supported$"),
    (lambda s: s["properties"]["pid"].update({"type": ["string", "integer"]}),
     r"^property pid: type \['string', 'integer'\] is not supported$"),
    (lambda s: s["properties"]["url"].update({"format": "uri"}), r"^property url: format uri is not supported$"),
    (lambda s: s["properties"]["ip"].update({"anyOf": [{"format": "ipv4"}, {"pattern": "x"}]}),
     r"^property ip: anyOf is supported only as a list of formats \(\['date-time', 'ipv4', 'ipv6', 'uuid'\]\), "
     r"got \[\{\"format\": \"ipv4\"\}, \{\"pattern\": \"x\"\}\]$"),
    (lambda s: s["properties"]["ip"].update({"anyOf": []}), r"^property ip: anyOf is supported only as a list"),
    (lambda s: s["properties"]["ip"].update({"anyOf": {"format": "ipv4"}}), r"^property ip: anyOf is supported only"),
    (lambda s: s["properties"]["ip"].update({"anyOf": ["ipv4"]}), r"^property ip: anyOf is supported only"),
    (lambda s: s["properties"]["ip"].update({"format": "ipv4"}),
     r"^property ip: format and anyOf of formats together are not supported$"),
])
def test_a_construct_the_job_cannot_enforce_is_refused_with_the_property_and_keyword_named(change, message):
    with pytest.raises(ContractNotUnderstood, match=message):
        load_contract(_with(change))


def test_a_contract_with_no_required_list_conditionals_or_pairings_has_none_of_them():
    contract = load_contract(_with(lambda s: [s.pop(k) for k in ("required", "allOf", "x-equal-when-set")]))
    assert (contract.required, contract.conditionals, contract.equal_when_set) == ((), (), ())
    assert next(f for f in contract.fields if f.name == "ip").formats == ("ipv4", "ipv6")
