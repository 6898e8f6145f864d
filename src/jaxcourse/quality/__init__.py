"""Exercise quality, for maintainers: `validate` (every assignment gradeable), `audit` (mutation
analysis of the hidden tests) and its mutation operators. They use grading; grading never uses them.
"""
