#!/usr/bin/env bash
# Builds the Lambda function with `sam build` (Makefile target build-SkillFunction) and zips it
# into build/lambda/skill-function.zip, then prints its size zipped and unzipped.
# The zip is reproducible (sorted entries, fixed timestamps), so an unchanged build gives the same
# bytes. `sam deploy` zips .aws-sam/build itself; this zip is for size checks and manual uploads.
# Needs the project venv (make package installs it) and a CPython 3.13: PYTHON313, else pyenv's
# newest 3.13, else python3.13 on PATH. BIN overrides where the venv's tools are.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${BIN:-$root/.venv/bin}"
cd "$root"

find_python313() {
    if [ -n "${PYTHON313:-}" ]; then
        echo "$PYTHON313"
        return
    fi
    if command -v pyenv >/dev/null; then
        local v
        v="$(ls -d "$(pyenv root)"/versions/3.13.* 2>/dev/null | sort -V | tail -n 1)"
        if [ -n "$v" ] && [ -x "$v/bin/python3.13" ]; then
            echo "$v/bin/python3.13"
            return
        fi
    fi
    command -v python3.13 || {
        echo "package: no python3.13 (install it, e.g. pyenv install 3.13, or set PYTHON313)" >&2
        exit 1
    }
}
python313="$(find_python313)"

export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
export SAM_CLI_TELEMETRY=0

start=$(date +%s)
# python3.13 first on PATH: the build target's pip and compileall run for the Lambda runtime.
PATH="$(dirname "$python313"):$PATH" LAMBDA_PYTHON="$python313" \
    "$bin/sam" build --template-file template.yaml --build-dir .aws-sam/build >&2
echo "sam build took $(($(date +%s) - start)) s" >&2

"$bin/python" - .aws-sam/build/SkillFunction build/lambda/skill-function.zip <<'PY'
import os
import sys
import zipfile
from pathlib import Path

source, target = Path(sys.argv[1]), Path(sys.argv[2])
target.parent.mkdir(parents=True, exist_ok=True)
files = sorted(p for p in source.rglob("*") if p.is_file())
unzipped = 0
tmp = target.with_suffix(".tmp")
with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
    for path in files:
        info = zipfile.ZipInfo(path.relative_to(source).as_posix(), date_time=(1980, 1, 1, 0, 0, 0))
        info.external_attr = 0o644 << 16  # Lambda only needs to read every file
        info.compress_type = zipfile.ZIP_DEFLATED
        data = path.read_bytes()
        unzipped += len(data)
        zf.writestr(info, data, compresslevel=9)
os.replace(tmp, target)
zipped = target.stat().st_size
print(f"{target}: {len(files)} files, {zipped / 1e6:.2f} MB zipped ({zipped} bytes), "
      f"{unzipped / 1e6:.2f} MB unzipped ({unzipped} bytes)")
PY
