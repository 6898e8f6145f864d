"""What comes in: the LMS's download, the submissions in it, the roster, lateness, and the
steps each notebook is graded as.
"""
