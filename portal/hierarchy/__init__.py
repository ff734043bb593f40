"""The reliability hierarchy assessment (issue #16): per service, the levels of the
Service Reliability Hierarchy with a checklist and an enablement level each, the
evidence the portal holds beside the team's answers, the next focus, and radar charts."""
