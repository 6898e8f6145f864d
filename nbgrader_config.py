# nbgrader reads this when run from the course root: solutions/ is the source, exercises/ the release.
c = get_config()  # noqa: F821

c.CourseDirectory.course_id = "jax-from-first-principles"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
c.ExecutePreprocessor.timeout = 180
# jaxcourse audit's list of equivalent mutants stays with the source, out of the release
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "equivalent-mutants.txt"]
