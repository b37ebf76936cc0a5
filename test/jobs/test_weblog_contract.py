"""The event contract read as rules, without Spark: what the streaming job enforces comes from the schema file,
and a construct it cannot enforce is refused by name."""

from __future__ import annotations

import copy
import json
import uuid

import pytest

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
    with pytest.raises(ContractNotUnderstood, match="allOf rule not supported"):
        load_contract(json.dumps(schema))
