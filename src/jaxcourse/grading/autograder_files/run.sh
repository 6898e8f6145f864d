#!/usr/bin/env bash
# PrairieLearn's entrypoint for {assignment} (info.json): grades /grade/student with `jaxcourse
# grade` and writes /grade/results/results.json (always, even when the notebook cannot be read).
chmod -R go-rwx /grade/tests
chmod go+x /grade/tests /grade/tests/course
cd /grade/tests/course
exec python -m jaxcourse.grading.autograder run prairielearn
