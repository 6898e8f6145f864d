"""Files shaped as the LMSs write them, for the roster, lateness and export tests.

Canvas's gradebook export: identity columns `Student, ID, SIS User ID, SIS Login ID, Section`,
assignment columns `Title (id)`, computed columns after them, and a `Points Possible` row (its
first cell indented, as Canvas writes it). Moodle's grading worksheet: the columns
assignfeedback_offline downloads, dates in Moodle's `strftimedatetime` format.
"""

CANVAS_ROSTER = """\
Student,ID,SIS User ID,SIS Login ID,Section,01 XOR (555),Other Homework (556),Current Score,Final Score
    Points Possible,,,,,12.00,10.00,(read only),(read only)
"Doe, Jane",1001,S1001,jane.doe@uni.example,Section A,,,,
"Doe, Jane",1002,S1002,jdoe2@uni.example,Section B,,,,
"Late, Bob",1003,S1003,bob@uni.example,Section A,,,,
"Absent, Ann",1004,S1004,ann@uni.example,Section A,,,,
"""

MOODLE_ROSTER = """\
Identifier,Full name,Email address,Status,Grade,Maximum Grade,Grade can be changed,Last modified (submission),Last modified (grade),Feedback comments
Participant 1001,Jane Doe,jane.doe@uni.example,Submitted for grading,,100.00,Yes,"Wednesday, 31 January 2024, 8:00 PM",-,
Participant 1002,Jane Doe,jdoe2@uni.example,Submitted for grading,,100.00,Yes,"Wednesday, 31 January 2024, 9:15 PM",-,
Participant 1003,Bob Late,bob@uni.example,Submitted for grading,,100.00,Yes,"Friday, 2 February 2024, 10:00 AM",-,
Participant 1004,Ann Absent,ann@uni.example,No submission,,100.00,Yes,-,-,
"""

PLAIN_ROSTER = "id,name,email\nada,Ada Lovelace,ada@uni.example\nbob,Bob Smith,\n"

DUE = "2024-01-31T23:59"
ON_TIME = (2024, 1, 31, 20, 0, 0)
TWO_DAYS_LATE = (2024, 2, 2, 10, 0, 0)  # 1 day 10 hours after the due date: 2 started days
