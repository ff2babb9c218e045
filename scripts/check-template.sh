#!/usr/bin/env bash
# Checks a SAM template offline, with three tools because each misses what another catches:
#   1. sam validate: SAM's own schema (a misspelled event type fails here, not in cfn-lint);
#   2. samtranslator turns the template into plain CloudFormation, then cfn-lint checks that
#      (a !Ref to a missing resource only shows up after translation);
#   3. cfn-lint on the template as written;
#   4. policy (scripts/template_policy.py): what the deployment must have that no linter asks for
#      (alarms and the storage-failure metric filter, reserved concurrency, deletion protection,
#      short log retention).
# Every step runs even after a failure, so one run lists every problem. Exits 1 if any failed.
# Usage: scripts/check-template.sh [TEMPLATE]   (default: template.yaml at the repo root)
# Needs the project venv (make check-template installs it); BIN overrides where its tools are.
# TRANSLATED=path keeps the translated CloudFormation JSON there (tests assert on it).
set -uo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
template="$(realpath "${1:-$root/template.yaml}")"
bin="${BIN:-$root/.venv/bin}"

# Offline: a region and dummy credentials satisfy boto3 and SAM CLI; nothing is sent to AWS.
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-offline}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-offline}"
export SAM_CLI_TELEMETRY=0

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failed=()

step() {
    local name="$1"
    shift
    echo "== $name" >&2
    if ! "$@"; then
        failed+=("$name")
        return 1
    fi
}

translate() {
    "$bin/python" - "$template" "$work/translated.json" <<'PY'
import json
import sys

from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class OfflinePolicyLoader:
    """Stands in for samtranslator's ManagedPolicyLoader, which asks IAM for every AWS managed
    policy. With an empty map SAM builds managed-policy ARNs from their names itself."""

    def load(self) -> dict[str, str]:
        return {}


source, target = sys.argv[1:]
with open(source, encoding="utf-8") as f:
    template = yaml_parse(f.read())

# CloudFormation only takes code from S3; `sam deploy` uploads it and rewrites CodeUri the same way.
for resource in template.get("Resources", {}).values():
    props = resource.get("Properties") or {}
    if resource.get("Type") == "AWS::Serverless::Function" and isinstance(
        props.get("CodeUri"), str
    ):
        props["CodeUri"] = "s3://offline-check/code.zip"

pseudo = {"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012", "AWS::Partition": "aws"}
try:
    translated = transform(template, pseudo, OfflinePolicyLoader())
except InvalidDocumentException as e:
    for cause in e.causes:
        print(f"samtranslator: {cause.message}", file=sys.stderr)
    sys.exit(1)
with open(target, "w", encoding="utf-8") as f:
    json.dump(translated, f, indent=1)
PY
}

step "sam validate" "$bin/sam" validate --template-file "$template" --region "$AWS_DEFAULT_REGION"
if step "samtranslator" translate; then
    [ -z "${TRANSLATED:-}" ] || cp "$work/translated.json" "$TRANSLATED"
    step "cfn-lint (translated)" "$bin/cfn-lint" --regions "$AWS_DEFAULT_REGION" -- "$work/translated.json"
else
    failed+=("cfn-lint (translated): skipped, translation failed")
fi
step "cfn-lint (template)" "$bin/cfn-lint" --regions "$AWS_DEFAULT_REGION" -- "$template"
step "policy" "$bin/python" "$root/scripts/template_policy.py" "$template"

if [ ${#failed[@]} -gt 0 ]; then
    printf 'template check FAILED: %s\n' "${failed[@]}" >&2
    exit 1
fi
echo "template check passed: $template" >&2
