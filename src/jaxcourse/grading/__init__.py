"""From submissions to grades, for instructors: collecting, the sandbox and its jail, running a
notebook, the gradebook, feedback, the report, similarity and the grading bench.

Uses the course (`jaxcourse.course`) and the student helpers; never the exercise-quality tools.
"""
