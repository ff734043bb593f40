"""The team charter (mission, SRE shape, who does what, and its history) and the team
hearings whose features become SLI candidates, then provisional SLOs (issue #16)."""
