"""The statements a team's survey starts from. Each surfaces a common misreading of an
Enabling SRE's role; the expected answer is what a team that shares the SRE's view
answers (blank: a question about the person, with no right answer)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from portal.survey.results import AGREE, DISAGREE

DEFAULT_STATEMENTS = [
    (_("The SRE is on call for our services."), DISAGREE),
    (_("Developers fix what the SRE finds."), AGREE),
    # xgettext:no-python-format
    (_("An SLO of 100% is the goal."), DISAGREE),
    (_("Every message in the error channel needs someone to look at it."), DISAGREE),
    (_("The SRE sets our SLOs; the rest of the team need not know them."), DISAGREE),
    (_("When the error budget runs out, we slow down feature releases."), AGREE),
    (_("Reliability work gets reserved time in our plan, like features do."), AGREE),
    (_("A postmortem finds out who made the mistake."), DISAGREE),
    (_("An SLO is the promise in our customers' contract."), DISAGREE),
    (_("Once the SRE has set things up, the team runs them without the SRE."), AGREE),
    (_("Toil that comes back every week should be automated, not just done."), AGREE),
    (_("I know what to do when an alert wakes me at night."), ""),
]
