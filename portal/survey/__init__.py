"""The expectations survey (issue #16): statements about SRE work the team answers
agree / disagree / unsure, in rounds, anonymously or named; the results per statement
with their spread, so misunderstandings of the SRE's role show first; rounds compared."""
