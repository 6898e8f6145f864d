"""The course as data, for maintainers: assignments and their conventions, the release and its
drift check, executing chapters, the site, badges and normalized notebooks.

Imports only the student helpers above it (`jaxcourse.*`), never grading or quality.
"""
