"""The deployment template: it passes the offline check, the check catches real mistakes, and the
resources have the properties the skill relies on (runtime, timeout, least privilege, table).

The check is scripts/check-template.sh (sam validate, samtranslator + cfn-lint, cfn-lint). The
three checks run at once in subprocesses, so this module costs about one check's time.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"
CHECK = ROOT / "scripts" / "check-template.sh"

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
    # People's progress outlives a stack deletion or a replacement of the table.
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"

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


def test_logs_go_to_a_log_group_with_retention(template: dict) -> None:
    name, log_group = _one(template, "AWS::Logs::LogGroup")
    assert 1 <= log_group["Properties"]["RetentionInDays"] <= 365
    _, function = _one(template, "AWS::Serverless::Function")
    assert function["Properties"]["LoggingConfig"]["LogGroup"] == {"Ref": name}


def test_outputs_give_the_function_arn_for_the_alexa_console(template: dict) -> None:
    function, _ = _one(template, "AWS::Serverless::Function")
    values = [o["Value"] for o in template["Outputs"].values()]
    assert {"Fn::GetAtt": [function, "Arn"]} in values
