"""The deployment template: it passes the offline check, the check catches real mistakes, and the
resources have the properties the skill relies on (runtime, timeout, least privilege, table), and
failures are seen (storage-failure metric filter, alarms that notify, reserved concurrency,
deletion protection, short log retention).

The check is scripts/check-template.sh (sam validate, samtranslator + cfn-lint, cfn-lint, and the
policy of scripts/template_policy.py). The checks run at once in subprocesses, so this module costs
about one check's time; the policy is also tried on each seeded omission in-process.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from samtranslator.yaml_helper import yaml_parse

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"
CHECK = ROOT / "scripts" / "check-template.sh"


def _load_policy() -> object:
    spec = importlib.util.spec_from_file_location(
        "template_policy", ROOT / "scripts" / "template_policy.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


policy = _load_policy()

# Mistakes that each slip past at least one of the tools on its own.
SEEDED = {
    # cfn-lint passes it (it no longer expands SAM resources); sam validate rejects it.
    "misspelled-event-type": ("Type: AlexaSkill", "Type: AlexaSkil", "sam validate"),
    # sam validate and cfn-lint on the raw template pass it; cfn-lint on the translation does not.
    "ref-to-missing-resource": (
        "SKILL_TABLE: !Ref SkillTable",
        "SKILL_TABLE: !Ref SkillTabel",
        "cfn-lint (translated)",
    ),
    # Valid CloudFormation, so only the policy step catches it.
    "table-without-deletion-protection": (
        "DeletionProtectionEnabled: true",
        "DeletionProtectionEnabled: false",
        "policy",
    ),
}


@dataclass
class CheckRun:
    returncode: int
    output: str
    translated: Path


def _start_check(template: Path, translated: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "BIN": str(Path(sys.executable).parent), "TRANSLATED": str(translated)}
    return subprocess.Popen(
        ["bash", str(CHECK), str(template)],
        cwd=template.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.fixture(scope="module")
def checks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, CheckRun]:
    """The real template and each seeded mistake, checked in parallel."""
    source = TEMPLATE.read_text(encoding="utf-8")
    jobs: dict[str, tuple[subprocess.Popen[str], Path]] = {}
    for name, (good, bad, _) in {"template": ("", "", ""), **SEEDED}.items():
        work = tmp_path_factory.mktemp(name)
        if name == "template":
            template = TEMPLATE
        else:
            assert source.count(good) == 1, f"seed {name}: {good!r} is not in the template once"
            template = work / "template.yaml"
            template.write_text(source.replace(good, bad), encoding="utf-8")
        translated = work / "translated.json"
        jobs[name] = (_start_check(template, translated), translated)
    runs = {}
    for name, (proc, translated) in jobs.items():
        output, _ = proc.communicate(timeout=180)
        runs[name] = CheckRun(proc.returncode, output, translated)
    return runs


@pytest.fixture(scope="module")
def template() -> dict:
    return yaml_parse(TEMPLATE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def translated(checks: dict[str, CheckRun]) -> dict:
    return json.loads(checks["template"].translated.read_text(encoding="utf-8"))


def _of_type(template: dict, kind: str) -> dict[str, dict]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == kind}


def _one(template: dict, kind: str) -> tuple[str, dict]:
    found = _of_type(template, kind)
    assert len(found) == 1, f"expected one {kind}, found {sorted(found)}"
    return next(iter(found.items()))


def _as_list(value: object) -> list:
    return value if isinstance(value, list) else [value]


def test_template_passes_the_check(checks: dict[str, CheckRun]) -> None:
    run = checks["template"]
    assert run.returncode == 0, run.output
    assert "template check passed" in run.output


@pytest.mark.parametrize("seed", sorted(SEEDED))
def test_check_catches_seeded_mistake(checks: dict[str, CheckRun], seed: str) -> None:
    run = checks[seed]
    assert run.returncode != 0, f"{seed} passed the check:\n{run.output}"
    catcher = SEEDED[seed][2]
    assert f"template check FAILED: {catcher}" in run.output, run.output


def test_function_runtime_handler_and_limits(template: dict) -> None:
    _, function = _one(template, "AWS::Serverless::Function")
    props = function["Properties"]
    assert props["Runtime"] == "python3.13"
    assert props["Handler"] == "lambda_function.handler"
    # Alexa waits about 8 s; Lambda's default timeout (3 s) must not be what applies.
    assert 3 < props["Timeout"] <= 8
    assert props["MemorySize"] == 128
    assert function["Metadata"]["BuildMethod"] == "makefile"


def test_function_answers_only_its_own_skill(template: dict, translated: dict) -> None:
    name, function = _one(template, "AWS::Serverless::Function")
    events = function["Properties"]["Events"]
    assert [e["Type"] for e in events.values()] == ["AlexaSkill"]
    (event,) = events.values()
    assert event["Properties"]["SkillId"] == {"Ref": "SkillId"}
    env = function["Properties"]["Environment"]["Variables"]
    assert env["SKILL_ID"] == {"Ref": "SkillId"}

    # What SAM turns the event into: Alexa may invoke the function only with this skill's ID.
    _, permission = _one(translated, "AWS::Lambda::Permission")
    props = permission["Properties"]
    assert props["Principal"] == "alexa-appkit.amazon.com"
    assert props["Action"] == "lambda:InvokeFunction"
    assert props["EventSourceToken"] == {"Ref": "SkillId"}
    assert props["FunctionName"] == {"Ref": name}


def test_skill_id_parameter_accepts_only_skill_ids(template: dict) -> None:
    pattern = re.compile(template["Parameters"]["SkillId"]["AllowedPattern"])
    assert "Default" not in template["Parameters"]["SkillId"]
    assert pattern.fullmatch("amzn1.ask.skill.0a1b2c3d-4e5f-6789-abcd-ef0123456789")
    for wrong in (
        "",
        "amzn1.ask.skill.",
        "amzn1.ask.skill.xyz",
        "amzn1.echo-sdk-ams.app.0a1b2c3d-4e5f-6789-abcd-ef0123456789",
        "amzn1.ask.skill.0a1b2c3d-4e5f-6789-abcd-ef0123456789 ",
    ):
        assert not pattern.fullmatch(wrong), wrong


def test_table_key_billing_recovery_encryption_ttl(template: dict) -> None:
    name, table = _one(template, "AWS::DynamoDB::Table")
    props = table["Properties"]
    assert props["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert props["AttributeDefinitions"] == [{"AttributeName": "id", "AttributeType": "S"}]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert "ProvisionedThroughput" not in props
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    # People's progress outlives a stack deletion or a replacement of the table, and the table
    # refuses to be deleted at all until someone turns the protection off.
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"
    assert props["DeletionProtectionEnabled"] is True

    _, function = _one(template, "AWS::Serverless::Function")
    assert function["Properties"]["Environment"]["Variables"]["SKILL_TABLE"] == {"Ref": name}


def test_least_privilege(template: dict, translated: dict) -> None:
    """Exactly GetItem/PutItem/DeleteItem on exactly the table, and logs only to the function's
    own log group: checked on the translated template, so SAM cannot have added anything."""
    table, _ = _one(template, "AWS::DynamoDB::Table")
    log_group, _ = _one(template, "AWS::Logs::LogGroup")
    function, _ = _one(template, "AWS::Serverless::Function")

    roles = _of_type(translated, "AWS::IAM::Role")
    assert len(roles) == 1, sorted(roles)
    ((role_name, role),) = roles.items()
    assert translated["Resources"][function]["Properties"]["Role"] == {
        "Fn::GetAtt": [role_name, "Arn"]
    }
    props = role["Properties"]
    assert not props.get("ManagedPolicyArns"), "managed policies grant more than the skill needs"
    assert not _of_type(translated, "AWS::IAM::Policy")
    assert not _of_type(translated, "AWS::IAM::ManagedPolicy")
    principals = [s["Principal"] for s in props["AssumeRolePolicyDocument"]["Statement"]]
    assert principals == [{"Service": "lambda.amazonaws.com"}]

    grants: dict[str, set[str]] = {}
    for policy in props["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Allow"
            assert "NotAction" not in statement and "NotResource" not in statement
            resources = _as_list(statement["Resource"])
            assert len(resources) == 1, resources
            key = json.dumps(resources[0], sort_keys=True)
            grants.setdefault(key, set()).update(_as_list(statement["Action"]))

    def arn_of(logical_id: str) -> str:
        return json.dumps({"Fn::GetAtt": [logical_id, "Arn"]}, sort_keys=True)

    assert grants == {
        arn_of(table): {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"},
        arn_of(log_group): {"logs:CreateLogStream", "logs:PutLogEvents"},
    }


def test_logs_go_to_a_log_group_with_short_retention(template: dict) -> None:
    name, log_group = _one(template, "AWS::Logs::LogGroup")
    # Briefly: an operator may turn on (minimised) logging of what people say.
    assert 1 <= log_group["Properties"]["RetentionInDays"] <= 30
    _, function = _one(template, "AWS::Serverless::Function")
    assert function["Properties"]["LoggingConfig"]["LogGroup"] == {"Ref": name}


def test_outputs_give_the_function_arn_for_the_alexa_console(template: dict) -> None:
    function, _ = _one(template, "AWS::Serverless::Function")
    values = [o["Value"] for o in template["Outputs"].values()]
    assert {"Fn::GetAtt": [function, "Arn"]} in values


def _alarms(template: dict) -> dict[str, dict]:
    return {k: r["Properties"] for k, r in _of_type(template, "AWS::CloudWatch::Alarm").items()}


def test_storage_failures_are_counted_from_the_log_and_alarmed(template: dict) -> None:
    log_group, _ = _one(template, "AWS::Logs::LogGroup")
    _, metric_filter = _one(template, "AWS::Logs::MetricFilter")
    props = metric_filter["Properties"]
    assert props["LogGroupName"] == {"Ref": log_group}
    # A quoted term: any log line containing the word storage_failure.
    assert props["FilterPattern"] == '"storage_failure"' == policy.STORAGE_FAILURE_PATTERN
    assert template_text().count("storage_failure\"") == 1, "one definition of the pattern"
    (metric,) = props["MetricTransformations"]
    assert metric["MetricValue"] == "1"
    on_it = [
        a for a in _alarms(template).values()
        if a["Namespace"] == metric["MetricNamespace"] and a["MetricName"] == metric["MetricName"]
    ]  # fmt: skip
    assert len(on_it) == 1
    (alarm,) = on_it
    # One failure is enough to be told: it may be a completed routine that was not saved.
    assert (alarm["Statistic"], alarm["Threshold"]) == ("Sum", 1)
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


@pytest.mark.parametrize(
    ("namespace", "metric", "dimension", "kind"),
    [
        ("AWS/Lambda", "Errors", "FunctionName", "AWS::Serverless::Function"),
        ("AWS/Lambda", "Throttles", "FunctionName", "AWS::Serverless::Function"),
        ("AWS/DynamoDB", "ReadThrottleEvents", "TableName", "AWS::DynamoDB::Table"),
        ("AWS/DynamoDB", "WriteThrottleEvents", "TableName", "AWS::DynamoDB::Table"),
    ],
)
def test_alarm_on_each_way_people_go_unanswered(
    template: dict, namespace: str, metric: str, dimension: str, kind: str
) -> None:
    target, _ = _one(template, kind)
    matching = [
        a for a in _alarms(template).values()
        if (a["Namespace"], a["MetricName"]) == (namespace, metric)
        and a["Dimensions"] == [{"Name": dimension, "Value": {"Ref": target}}]
    ]  # fmt: skip
    assert len(matching) == 1, f"no alarm on {namespace} {metric} of {target}"
    (alarm,) = matching
    assert (alarm["Statistic"], alarm["Threshold"], alarm["EvaluationPeriods"]) == ("Sum", 1, 1)
    assert alarm["TreatMissingData"] == "notBreaching"  # no requests is not an outage


def test_every_alarm_notifies_the_topic_and_an_optional_email(template: dict) -> None:
    topic, _ = _one(template, "AWS::SNS::Topic")
    alarms = _alarms(template)
    assert len(alarms) == 5
    for name, alarm in alarms.items():
        assert alarm["AlarmActions"] == alarm["OKActions"] == [{"Ref": topic}], name
        assert alarm.get("ActionsEnabled", True) is True, name
    _, subscription = _one(template, "AWS::SNS::Subscription")
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"}
    assert subscription["Properties"]["TopicArn"] == {"Ref": topic}
    assert template["Parameters"]["AlarmEmail"]["Default"] == ""
    pattern = re.compile(template["Parameters"]["AlarmEmail"]["AllowedPattern"])
    assert pattern.fullmatch("") and pattern.fullmatch("ops@example.org")
    assert not pattern.fullmatch("ops") and not pattern.fullmatch("a b@example.org")


def test_function_concurrency_is_reserved(template: dict, translated: dict) -> None:
    _, function = _one(template, "AWS::Serverless::Function")
    assert function["Properties"]["ReservedConcurrentExecutions"] == {"Ref": "ReservedConcurrency"}
    parameter = template["Parameters"]["ReservedConcurrency"]
    assert parameter["Type"] == "Number"
    assert parameter["MinValue"] >= 1 and 1 <= parameter["Default"] <= parameter["MaxValue"]
    # SAM hands it to the Lambda function as it is.
    _, translated_function = _one(translated, "AWS::Lambda::Function")
    assert translated_function["Properties"]["ReservedConcurrentExecutions"] == {
        "Ref": "ReservedConcurrency"
    }


def test_the_policy_passes_the_template(template: dict) -> None:
    assert policy.problems(template) == []


def _without(template: dict, path: str) -> dict:
    """A copy of the template with one key removed: "Resources.Name.Properties.Key"."""
    changed = copy.deepcopy(template)
    *parents, last = path.split(".")
    node = changed
    for key in parents:
        node = node[key]
    del node[last]
    return changed


def _set(template: dict, path: str, value: object) -> dict:
    changed = copy.deepcopy(template)
    *parents, last = path.split(".")
    node = changed
    for key in parents:
        node = node[key]
    node[last] = value
    return changed


# Each safeguard, taken away on its own, and what the policy says about it.
OMISSIONS = {
    "no reserved concurrency": (
        lambda t: _without(t, "Resources.SkillFunction.Properties.ReservedConcurrentExecutions"),
        "ReservedConcurrentExecutions must be set",
    ),
    "reserved concurrency of zero": (
        lambda t: _set(t, "Parameters.ReservedConcurrency.Default", 0),
        "ReservedConcurrentExecutions must be set, at least 1",
    ),
    "no deletion protection": (
        lambda t: _without(t, "Resources.SkillTable.Properties.DeletionProtectionEnabled"),
        "DeletionProtectionEnabled must be true",
    ),
    "no point-in-time recovery": (
        lambda t: _without(t, "Resources.SkillTable.Properties.PointInTimeRecoverySpecification"),
        "point-in-time recovery must be on",
    ),
    "logs kept 90 days": (
        lambda t: _set(t, "Resources.SkillLogGroup.Properties.RetentionInDays", 90),
        "RetentionInDays must be set, at most 30",
    ),
    "logs kept forever": (
        lambda t: _without(t, "Resources.SkillLogGroup.Properties.RetentionInDays"),
        "RetentionInDays must be set",
    ),
    "filter on another word": (
        lambda t: _set(t, "Resources.StorageFailureMetricFilter.Properties.FilterPattern", "ERROR"),
        'no metric filter on SkillLogGroup with the pattern "storage_failure"',
    ),
    "no storage alarm": (
        lambda t: _without(t, "Resources.StorageFailureAlarm"),
        "no alarm on storage failures (StorageFailures)",
    ),
    "no error alarm": (
        lambda t: _without(t, "Resources.FunctionErrorAlarm"),
        "no alarm on AWS/Lambda Errors of SkillFunction",
    ),
    "no throttle alarm": (
        lambda t: _without(t, "Resources.FunctionThrottleAlarm"),
        "no alarm on AWS/Lambda Throttles of SkillFunction",
    ),
    "no table read throttle alarm": (
        lambda t: _without(t, "Resources.TableReadThrottleAlarm"),
        "no alarm on AWS/DynamoDB ReadThrottleEvents of SkillTable",
    ),
    "no table write throttle alarm": (
        lambda t: _without(t, "Resources.TableWriteThrottleAlarm"),
        "no alarm on AWS/DynamoDB WriteThrottleEvents of SkillTable",
    ),
    "an alarm that tells nobody": (
        lambda t: _without(t, "Resources.FunctionErrorAlarm.Properties.AlarmActions"),
        "FunctionErrorAlarm: must notify an SNS topic of this template",
    ),
    "alarm actions switched off": (
        lambda t: _set(t, "Resources.TableWriteThrottleAlarm.Properties.ActionsEnabled", False),
        "TableWriteThrottleAlarm: must notify an SNS topic of this template",
    ),
    "skill ID not passed to the function": (
        lambda t: _without(t, "Resources.SkillFunction.Properties.Environment.Variables.SKILL_ID"),
        "SKILL_ID must come from the SkillId parameter",
    ),
}


@pytest.mark.parametrize("omission", sorted(OMISSIONS))
def test_the_policy_catches_each_missing_safeguard(template: dict, omission: str) -> None:
    change, expected = OMISSIONS[omission]
    found = policy.problems(change(template))
    assert any(expected in problem for problem in found), found


def template_text() -> str:
    return TEMPLATE.read_text(encoding="utf-8")
