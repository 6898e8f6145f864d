# `nbgrader validate <notebook>` in this folder reads this file. It sets nothing: without it,
# nbgrader starts by warning that it found no configuration, which is not a problem of yours.
