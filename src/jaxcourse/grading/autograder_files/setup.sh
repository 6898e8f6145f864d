#!/usr/bin/env bash
# Gradescope runs this once, as root, to build the image that grades {assignment}: Python
# {python_minor}, the course's packages at the versions it was built with (requirements.txt), the
# course at {built_from}. Then the solution is graded once in the image: it must score full marks.
set -euo pipefail
cd /autograder/source
PYTHON="python{python_minor}"
if ! command -v "$PYTHON" >/dev/null 2>&1; then
  apt-get update -qq
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$PYTHON" "$PYTHON-venv"; then
    # this Ubuntu has no Python {python_minor}: uv (from PyPI) installs exactly {python}
    apt-get install -y -qq python3-pip
    python3 -m pip install --quiet uv
    python3 -m uv python install "{python}"
    PYTHON="$(python3 -m uv python find "{python}")"
  fi
fi
[ -x /autograder/venv/bin/python ] || "$PYTHON" -m venv /autograder/venv
# --no-deps: exactly the packages the grader was tested with (requirements.txt lists them all), none
# resolved anew
/autograder/venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -r requirements.txt
SITE="$(/autograder/venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
echo /autograder/source/jaxcourse/src > "$SITE/jaxcourse.pth"
# the solution and its hidden tests are the grader's alone; student code runs as nobody
chmod -R go-rwx /autograder/source/course
chmod go+x /autograder/source/course
cd /autograder/source/course
/autograder/venv/bin/python -m jaxcourse.grading.autograder prepare gradescope
