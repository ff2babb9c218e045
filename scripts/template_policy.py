"""What the deployment must have beyond being valid CloudFormation: the step of
scripts/check-template.sh that no linter does. Failures are seen (the storage-failure metric
filter and the alarms, each notifying someone), the function is capped and checks its skill ID,
the table cannot be dropped by accident, and logs are kept briefly.

Usage: python scripts/template_policy.py TEMPLATE   (prints each problem; exit 1 if any)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from samtranslator.yaml_helper import yaml_parse

#: The word the skill puts in every storage-failure log line (the metric filter's pattern).
STORAGE_FAILURE_PATTERN = '"storage_failure"'
#: Days: the function's logs may hold (minimised) user text when an operator turns that on.
MAX_LOG_RETENTION_DAYS = 30

#: (namespace, metric, the dimension, the type of resource it names) for each required alarm.
SERVICE_ALARMS = (
    ("AWS/Lambda", "Errors", "FunctionName", "AWS::Serverless::Function"),
    ("AWS/Lambda", "Throttles", "FunctionName", "AWS::Serverless::Function"),
    ("AWS/DynamoDB", "ReadThrottleEvents", "TableName", "AWS::DynamoDB::Table"),
    ("AWS/DynamoDB", "WriteThrottleEvents", "TableName", "AWS::DynamoDB::Table"),
)


def _of_type(template: dict, kind: str) -> dict[str, dict]:
    return {k: r for k, r in template.get("Resources", {}).items() if r.get("Type") == kind}


def _ref(value: Any) -> str | None:
    return value.get("Ref") if isinstance(value, dict) and len(value) == 1 else None


def _key(value: Any) -> str:
    """A comparable form of a value that may be an intrinsic function ({"Fn::Sub": ...})."""
    return json.dumps(value, sort_keys=True)


def _resolve_number(template: dict, value: Any) -> Any:
    """A literal, or the default of the parameter it refers to."""
    name = _ref(value)
    if name is not None:
        return template.get("Parameters", {}).get(name, {}).get("Default")
    return value


def problems(template: dict) -> list[str]:
    found: list[str] = []
    functions = _of_type(template, "AWS::Serverless::Function")
    tables = _of_type(template, "AWS::DynamoDB::Table")
    topics = set(_of_type(template, "AWS::SNS::Topic"))
    alarms = _of_type(template, "AWS::CloudWatch::Alarm")
    if len(functions) != 1 or len(tables) != 1:
        return [f"expected one function and one table, found {sorted(functions)}, {sorted(tables)}"]
    (function_name, function), (table_name, table) = *functions.items(), *tables.items()
    props = function.get("Properties", {})

    # The function: capped, and told which skill it serves.
    reserved = _resolve_number(template, props.get("ReservedConcurrentExecutions"))
    try:
        reserved_ok = int(reserved) >= 1
    except (TypeError, ValueError):
        reserved_ok = False
    if not reserved_ok:
        found.append(f"{function_name}: ReservedConcurrentExecutions must be set, at least 1")
    variables = props.get("Environment", {}).get("Variables", {})
    if _ref(variables.get("SKILL_ID")) != "SkillId":
        found.append(f"{function_name}: SKILL_ID must come from the SkillId parameter")

    # The table: people's progress survives mistakes.
    table_props = table.get("Properties", {})
    if table_props.get("DeletionProtectionEnabled") is not True:
        found.append(f"{table_name}: DeletionProtectionEnabled must be true")
    pitr = table_props.get("PointInTimeRecoverySpecification", {})
    if pitr.get("PointInTimeRecoveryEnabled") is not True:
        found.append(f"{table_name}: point-in-time recovery must be on")
    if table_props.get("SSESpecification", {}).get("SSEEnabled") is not True:
        found.append(f"{table_name}: SSE must be on")
    if table_props.get("TimeToLiveSpecification", {}).get("Enabled") is not True:
        found.append(f"{table_name}: TTL must be on")

    # The log group: explicit, short retention.
    log_group_name = _ref(props.get("LoggingConfig", {}).get("LogGroup"))
    log_group = template.get("Resources", {}).get(log_group_name or "", {})
    retention = log_group.get("Properties", {}).get("RetentionInDays")
    if log_group.get("Type") != "AWS::Logs::LogGroup":
        found.append(f"{function_name}: must log to a log group of this template")
    elif not isinstance(retention, int) or not 1 <= retention <= MAX_LOG_RETENTION_DAYS:
        found.append(
            f"{log_group_name}: RetentionInDays must be set, at most {MAX_LOG_RETENTION_DAYS}"
        )

    # Storage failures: counted from the function's log lines, and alarmed on.
    storage_metrics = set()
    for resource in _of_type(template, "AWS::Logs::MetricFilter").values():
        filter_props = resource.get("Properties", {})
        if _ref(filter_props.get("LogGroupName")) != log_group_name:
            continue
        if filter_props.get("FilterPattern") == STORAGE_FAILURE_PATTERN:
            for transformation in filter_props.get("MetricTransformations", []):
                namespace = _key(transformation.get("MetricNamespace"))
                storage_metrics.add((namespace, transformation.get("MetricName")))
    if not storage_metrics:
        found.append(
            f"no metric filter on {log_group_name} with the pattern {STORAGE_FAILURE_PATTERN}"
        )

    def alarms_on(namespace: str, metric: str, dimension: tuple[str, str] | None) -> list[str]:
        matching = []
        for name, alarm in alarms.items():
            a = alarm.get("Properties", {})
            if _key(a.get("Namespace")) != namespace or a.get("MetricName") != metric:
                continue
            dims = {d.get("Name"): _ref(d.get("Value")) for d in a.get("Dimensions", [])}
            if dimension is not None and dims != dict([dimension]):
                continue
            matching.append(name)
        return matching

    wanted: list[tuple[str, list[str]]] = []
    for namespace, metric in sorted(storage_metrics):
        wanted.append((f"storage failures ({metric})", alarms_on(namespace, metric, None)))
    for namespace, metric, dimension, kind in SERVICE_ALARMS:
        target = function_name if kind == "AWS::Serverless::Function" else table_name
        wanted.append((f"{namespace} {metric} of {target}",
                       alarms_on(_key(namespace), metric, (dimension, target))))  # fmt: skip
    for what, names in wanted:
        if not names:
            found.append(f"no alarm on {what}")

    # Every alarm tells someone: an SNS topic of this template.
    for name, alarm in sorted(alarms.items()):
        a = alarm.get("Properties", {})
        actions = {_ref(action) for action in a.get("AlarmActions", [])}
        if a.get("ActionsEnabled") is False or not actions & topics:
            found.append(f"{name}: must notify an SNS topic of this template (AlarmActions)")
        if a.get("Statistic") != "Sum" or a.get("TreatMissingData") != "notBreaching":
            found.append(f"{name}: count events (Statistic Sum, TreatMissingData notBreaching)")
    return found


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    template = yaml_parse(Path(argv[0]).read_text(encoding="utf-8"))
    found = problems(template)
    for problem in found:
        print(f"policy: {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
