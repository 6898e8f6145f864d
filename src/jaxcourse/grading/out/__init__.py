"""What goes out: the gradebook, feedback pages (formulas as MathML), the run's summary, the
instructor's report, the LMS export, and the similarity check.
"""
