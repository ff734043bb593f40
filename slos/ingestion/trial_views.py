""" "Try the queries" on the SLO form: the form's indicator is evaluated against the
chosen data source over the last day (slos/ingestion/trial.py) and the numbers shown in
place, before anything is saved. Members and admins of the team; viewers get 403 (they
cannot save an SLO), outsiders 404."""

from __future__ import annotations

from django import forms
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from portal.access import AuthedRequest, team_or_404
from portal.htmx import render_page_or_partial, wants_partial
from portal.models import Role, Team
from slos.ingestion.trial import slo_queries_try
from slos.models import MEASUREMENT_FIELDS, SLO, DataSource


class QueryTrialForm(forms.ModelForm):
    """The part of the SLO form that says what to measure and where: the SLO model's own
    rules (SLO.clean) decide what each kind of SLI needs, as when the SLO is saved. The
    rest of the posted form (name, target…) is not looked at."""

    class Meta:
        model = SLO
        fields = sorted(MEASUREMENT_FIELDS)

    def __init__(self, *args, team: Team, **kwargs):
        super().__init__(*args, **kwargs)
        source = self.fields["data_source"]
        source.queryset = DataSource.objects.filter(team=team)
        source.required = True
        source.error_messages["required"] = _("Choose the data source to try the queries on.")

    def problems(self) -> list[tuple[str, list[str]]]:
        """Each field's errors under its label, for the trial's region (call after
        is_valid): the region sits far from the fields."""
        return [
            (str(self.fields[name].label) if name in self.fields else "", list(messages))
            for name, messages in self.errors.items()
        ]


@require_POST
def queries_try(request: AuthedRequest, slug: str) -> HttpResponse:
    """htmx gets the trial's region, swapped into the form; a plain POST (no script) a
    page with the same region. Bad input is said in the region: 200 to htmx, which
    swaps only successful answers, 400 to a plain POST."""
    team = team_or_404(request.user, slug, Role.MEMBER)
    form = QueryTrialForm(request.POST, team=team)
    valid = form.is_valid()
    trial = slo_queries_try(form.instance, at=timezone.now()) if valid else None
    return render_page_or_partial(
        request,
        "slos/registry/query_trial.html",
        {
            "team": team,
            "trial": trial,
            "problems": [] if valid else form.problems(),
            "source": form.instance.data_source if valid else None,
        },
        partial="trial",
        status=200 if valid or wants_partial(request) else 400,
    )
