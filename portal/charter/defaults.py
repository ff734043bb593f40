"""The split of responsibilities a team starts from, offered on a charter that has none
yet. Written for an Enabling SRE: most work ends up with the developers or shared, and
the SRE's own list is about making the team able to do the rest."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from portal.models import ResponsibleParty

DEFAULT_RESPONSIBILITIES = [
    (
        _("Choose the SLIs and SLOs with the product owner, from team hearings"),
        ResponsibleParty.SHARED,
    ),
    (_("Set up the monitoring, the SLO data pulls and the alert rules"), ResponsibleParty.SRE),
    (_("Be on call for the team's services and act on alerts"), ResponsibleParty.DEVELOPERS),
    (_("Lead the response to an incident and mitigate it"), ResponsibleParty.DEVELOPERS),
    (_("Run the weekly dashboard retro and decide the error tickets"), ResponsibleParty.SHARED),
    (_("Write blameless postmortems and follow their actions through"), ResponsibleParty.SHARED),
    (_("Fix reliability bugs and automate toil in the code"), ResponsibleParty.DEVELOPERS),
    (_("Decide releases against the error budget policy"), ResponsibleParty.SHARED),
    (_("Plan capacity and load-test before peak days"), ResponsibleParty.SRE),
    (_("Write and keep the runbooks"), ResponsibleParty.DEVELOPERS),
    (_("Teach and pair on SRE practices until the team runs them alone"), ResponsibleParty.SRE),
]
