from __future__ import annotations

import uuid
from datetime import time
from urllib.parse import urlsplit

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.encryption import EncryptedTextField
from portal.hierarchy import levels as hierarchy_levels
from portal.survey import results as survey_results


class TicketDelivery(models.TextChoices):
    EACH = "each", _("Each ticket, without a mention")
    DIGEST = "digest", _("A daily digest")
    NONE = "none", _("Not sent: the retro queue only")


class Team(models.Model):
    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    mission = models.TextField(_("mission"), blank=True)
    budget_at_risk_below = models.DecimalField(
        _("error budget at risk below (%)"),
        max_digits=5,
        decimal_places=2,
        default=25,
        help_text=_("An SLO with less budget left than this is shown as at risk."),
    )
    no_data_after_hours = models.PositiveSmallIntegerField(
        _("flag no data after (hours)"),
        default=3,
        help_text=_("A series silent for this many hours raises a no-data flag."),
    )
    # Google's SRE book: more than two incidents a 12-hour shift and on-call burns out.
    # A team on one weekly rota should see no more than a handful of alerts a week.
    alerts_per_week_target = models.PositiveIntegerField(
        _("alerts per week target"),
        default=5,
        help_text=_(
            "The noise page shows each week's alerts against this. A team on one weekly "
            "rota should see no more than a handful."
        ),
    )
    # The weekly retro: weekday (0 = Monday), time in the team's zone and length.
    retro_weekday = models.PositiveSmallIntegerField(
        _("retro weekday"),
        default=2,
        choices=[
            (0, _("Monday")),
            (1, _("Tuesday")),
            (2, _("Wednesday")),
            (3, _("Thursday")),
            (4, _("Friday")),
            (5, _("Saturday")),
            (6, _("Sunday")),
        ],
    )
    retro_time = models.TimeField(_("retro time"), default=time(10, 0))
    retro_minutes = models.PositiveSmallIntegerField(
        _("retro length (minutes)"),
        default=30,
        validators=[MinValueValidator(10), MaxValueValidator(180)],
    )
    created_at = models.DateTimeField(auto_now_add=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="teams"
    )
    # Slack delivery (slos/notifications/delivery.py). The webhook URL is a secret: written,
    # stored encrypted (portal/encryption.py), never shown back in full (see slack_webhook_masked).
    slack_webhook_url = EncryptedTextField(
        _("Slack incoming webhook URL"), max_length=500, blank=True
    )
    slack_mention = models.CharField(
        _("Slack mention for alerts"),
        max_length=200,
        blank=True,
        default="<!channel>",
        help_text=_("<!channel>, <!here>, a user group as <!subteam^ID>, or blank for none."),
    )
    ticket_delivery = models.CharField(
        _("tickets in Slack"),
        max_length=10,
        choices=TicketDelivery.choices,
        default=TicketDelivery.EACH,
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def slack_webhook_masked(self) -> str:
        """Enough to recognise which webhook is stored, not enough to post to it."""
        url = self.slack_webhook_url
        if not url:
            return ""
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.hostname}/…{url[-4:]}"


class Role(models.TextChoices):
    VIEWER = "viewer", _("Viewer")
    MEMBER = "member", _("Member")
    ADMIN = "admin", _("Admin")


ROLE_RANK = {Role.VIEWER: 0, Role.MEMBER: 1, Role.ADMIN: 2}


class Membership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.MEMBER)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="membership_unique_team_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.role})"

    def allows(self, needed: Role) -> bool:
        return ROLE_RANK[Role(self.role)] >= ROLE_RANK[needed]


class ApiToken(models.Model):
    """A personal token for the JSON API. Only its SHA-256 digest is stored; the token
    itself is shown once, when it is created. `prefix` lets the owner tell tokens apart."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=16)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class UserPreference(models.Model):
    """What a person chose for themselves. `language` blank: the browser's language
    (Accept-Language) decides, as it does for anyone who never chose."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference"
    )
    language = models.CharField(_("language"), max_length=10, blank=True)

    class Meta:
        verbose_name = _("user preference")

    def __str__(self) -> str:
        return f"{self.user}: {self.language or 'browser'}"


# The team charter (issue #16): what the team and its SRE agreed. The mission is the
# team's own field (Team.mission); the charter holds the SRE shape, the split of
# responsibilities, and the history of every change to any of them.


class SREShape(models.TextChoices):
    CORE = "core", _("Core SRE")
    EMBEDDED = "embedded", _("Embedded SRE")
    ENABLING = "enabling", _("Enabling SRE")


SRE_SHAPE_EXPLANATIONS = {
    SREShape.CORE: _(
        "A separate SRE function runs production for the team: on-call, monitoring and "
        "incident response are the SRE's work, and developers hand over what they build."
    ),
    SREShape.EMBEDDED: _(
        "The SRE sits in the team and does reliability work beside the developers, on "
        "the team's own services, for as long as the team needs it."
    ),
    SREShape.ENABLING: _(
        "The SRE makes the team able to do SRE work itself: sets up the practice, "
        "teaches and pairs, then steps back. The goal is a team that no longer needs "
        "its SRE for day-to-day reliability."
    ),
}


class Charter(models.Model):
    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="charter")
    sre_shape = models.CharField(
        _("SRE shape"), max_length=10, choices=SREShape.choices, blank=True
    )
    updated_at = models.DateTimeField(_("updated"), null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("team charter")

    def __str__(self) -> str:
        return f"charter of {self.team}"

    @property
    def sre_shape_explanation(self) -> str:
        return str(SRE_SHAPE_EXPLANATIONS[SREShape(self.sre_shape)]) if self.sre_shape else ""


class ResponsibleParty(models.TextChoices):
    SRE = "sre", _("SRE")
    DEVELOPERS = "developers", _("Developers")
    SHARED = "shared", _("Shared")


class Responsibility(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="responsibilities")
    description = models.CharField(_("responsibility"), max_length=200)
    party = models.CharField(
        _("who"), max_length=12, choices=ResponsibleParty.choices, default=ResponsibleParty.SHARED
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("responsibility")
        verbose_name_plural = _("responsibilities")
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "description"], name="responsibility_unique_team_description"
            )
        ]

    def __str__(self) -> str:
        return f"{self.description} ({self.party})"


class CharterChangeKind(models.TextChoices):
    MISSION = "mission", _("Mission changed")
    SRE_SHAPE = "sre_shape", _("SRE shape changed")
    RESPONSIBILITIES_ADOPTED = "resp_adopted", _("Suggested split put on the charter")
    RESPONSIBILITY_ADDED = "resp_added", _("Responsibility added")
    RESPONSIBILITY_CHANGED = "resp_changed", _("Responsibility changed")
    RESPONSIBILITY_REMOVED = "resp_removed", _("Responsibility removed")
    HEARING_CHANGED = "hear_changed", _("Hearing edited")
    HEARING_DELETED = "hear_deleted", _("Hearing deleted")


class CharterChange(models.Model):
    """One change to a team's charter, with who made it and when. `before` and `after`
    hold the stored values (a shape or a party is kept as its code, shown translated),
    so the history reads in the reader's language, not the writer's."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="charter_changes")
    kind = models.CharField(max_length=14, choices=CharterChangeKind.choices)
    subject = models.CharField(max_length=200, blank=True)
    before = models.TextField(blank=True)
    after = models.TextField(blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["-changed_at", "-pk"]
        indexes = [models.Index(fields=["team", "-changed_at"], name="charter_change_team_time")]

    def __str__(self) -> str:
        return f"{self.team}: {self.kind} at {self.changed_at:%Y-%m-%d %H:%M}"


class Hearing(models.Model):
    """A team hearing: who the SRE listened to, when, the pains they told, and (as its
    candidates) the features that matter with what "working" means for each."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="hearings")
    held_on = models.DateField(_("held on"))
    heard = models.CharField(
        _("who was heard"),
        max_length=200,
        help_text=_("The people or roles heard, e.g. “Payroll PM, two support leads”."),
    )
    pains = models.TextField(_("pains heard"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    recorded_at = models.DateTimeField()

    class Meta:
        verbose_name = _("hearing")
        ordering = ["-held_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.team}: hearing on {self.held_on} ({self.heard})"


class SLICandidate(models.Model):
    """A feature that matters, heard in a hearing: a candidate SLI until the team
    measures it. The SLOs made from it point here (slos.SLO.candidate)."""

    hearing = models.ForeignKey(Hearing, on_delete=models.CASCADE, related_name="candidates")
    feature = models.CharField(_("feature"), max_length=120)
    working_means = models.TextField(
        _("what “working” means"),
        help_text=_("In the words heard, e.g. “my clock-in shows within two seconds”."),
    )
    service_name = models.CharField(
        _("service"),
        max_length=100,
        blank=True,
        help_text=_("The service that serves it, if known."),
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("SLI candidate")
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.feature


# Expectations survey (issue #16): statements about SRE work the team answers agree /
# disagree / unsure, in rounds, so misunderstandings of the SRE's role show. A round
# keeps a copy of the statements it asked (RoundStatement), so editing or retiring a
# statement later never changes an earlier round's results.
#
# Anonymity: an answer row holds no user, no time and no sequential id (a random UUID),
# so neither a page nor the rows' order can tie it to the SurveyParticipation row that
# says who answered. While the round is open an answer carries `ballot`, a keyed hash of
# (round, person) that lets that person find and change their own answers; closing the
# round clears every ballot and rewrites the answers in a random order.


class SurveyChoice(models.TextChoices):
    AGREE = survey_results.AGREE, _("Agree")
    DISAGREE = survey_results.DISAGREE, _("Disagree")
    UNSURE = survey_results.UNSURE, _("Unsure")


class ExpectedAnswer(models.TextChoices):
    NONE = "", _("No expected answer")
    AGREE = survey_results.AGREE, _("Agree")
    DISAGREE = survey_results.DISAGREE, _("Disagree")


class SurveySettings(models.Model):
    """A team's survey: whether new rounds are anonymous by default, and whether the
    default statements were already put on its list (so retiring them all keeps them
    retired)."""

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="survey_settings")
    anonymous_by_default = models.BooleanField(
        _("new rounds are anonymous"),
        default=True,
        help_text=_("Nobody, admins included, can see who gave an anonymous answer."),
    )
    seeded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("survey settings")
        verbose_name_plural = _("survey settings")

    def __str__(self) -> str:
        return f"survey of {self.team}"


class SurveyStatement(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="survey_statements")
    text = models.CharField(_("statement"), max_length=200)
    expected = models.CharField(
        _("expected answer"),
        max_length=10,
        choices=ExpectedAnswer.choices,
        blank=True,
        default=ExpectedAnswer.NONE,
        help_text=_("What the SRE expects a team that understands the role to answer."),
    )
    position = models.PositiveIntegerField(default=0)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("survey statement")
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "text"],
                condition=models.Q(retired_at__isnull=True),
                name="survey_statement_unique_live_text",
            )
        ]

    def __str__(self) -> str:
        return self.text


class SurveyRound(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="survey_rounds")
    number = models.PositiveIntegerField()
    anonymous = models.BooleanField(_("anonymous"), default=True)
    opened_at = models.DateTimeField()
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("survey round")
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["team", "number"], name="survey_round_unique_number"),
            models.UniqueConstraint(
                fields=["team"],
                condition=models.Q(closed_at__isnull=True),
                name="survey_round_one_open_per_team",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.team}: survey round {self.number}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class RoundStatement(models.Model):
    """A statement as the round asked it. `statement` links the same statement across
    rounds for the comparison; `text` and `expected` are the round's own copy."""

    round = models.ForeignKey(SurveyRound, on_delete=models.CASCADE, related_name="statements")
    statement = models.ForeignKey(
        SurveyStatement, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    text = models.CharField(max_length=200)
    expected = models.CharField(max_length=10, choices=ExpectedAnswer.choices, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.text


class SurveyParticipation(models.Model):
    """Who answered a round: one row a person, the only record holding a person in an
    anonymous round. No time is kept, so it cannot be matched to the answers by when."""

    round = models.ForeignKey(SurveyRound, on_delete=models.CASCADE, related_name="participations")
    # Kept without its person when the account goes: the round's count of people stays
    # the count of answers it holds.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "user"], name="survey_participation_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} answered {self.round}"


class SurveyAnswer(models.Model):
    """One answer to one statement of a round. `respondent` is set in a named round only;
    `ballot` only while the round is open (see the header above)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    statement = models.ForeignKey(RoundStatement, on_delete=models.CASCADE, related_name="answers")
    choice = models.CharField(max_length=10, choices=SurveyChoice.choices)
    # NULL, not "": once cleared, ballots must not collide under the unique constraint.
    ballot = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    respondent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["statement", "ballot"],
                condition=models.Q(ballot__isnull=False),
                name="survey_answer_one_per_ballot",
            ),
            models.UniqueConstraint(
                fields=["statement", "respondent"],
                condition=models.Q(respondent__isnull=False),
                name="survey_answer_one_per_respondent",
            ),
        ]

    def __str__(self) -> str:
        return self.choice


# Reliability hierarchy assessment (issue #16): per service, dated rounds in which the
# team answers, for each level of the Service Reliability Hierarchy, its checklist and
# how far it runs the practice without its SRE. Rounds are kept, never overwritten: the
# latest is the service's standing, the earlier ones its trend. The levels, checklists
# and enablement levels are defined once, in portal/hierarchy/levels.py.


class HierarchyAssessment(models.Model):
    """One round of answers for one service, with who recorded it and when."""

    service = models.ForeignKey(
        "slos.Service", on_delete=models.CASCADE, related_name="hierarchy_assessments"
    )
    assessed_on = models.DateField(_("assessed on"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    recorded_at = models.DateTimeField()

    class Meta:
        verbose_name = _("hierarchy assessment")
        # The latest round first: by its date, then by when it was recorded.
        ordering = ["-assessed_on", "-recorded_at", "-pk"]
        indexes = [
            models.Index(
                fields=["service", "-assessed_on", "-recorded_at"],
                name="hierarchy_service_latest",
            )
        ]

    def __str__(self) -> str:
        return f"{self.service} assessed on {self.assessed_on}"


class HierarchyAnswer(models.Model):
    """A round's answer for one level: the checklist items ticked (their keys), the
    enablement level 0–3 and an optional note."""

    assessment = models.ForeignKey(
        HierarchyAssessment, on_delete=models.CASCADE, related_name="answers"
    )
    level = models.CharField(_("level"), max_length=20, choices=hierarchy_levels.level_choices())
    enablement = models.PositiveSmallIntegerField(
        _("enablement level"),
        choices=hierarchy_levels.enablement_choices(),
        validators=[
            MinValueValidator(hierarchy_levels.ENABLEMENT_MIN),
            MaxValueValidator(hierarchy_levels.ENABLEMENT_MAX),
        ],
    )
    checked = models.JSONField(_("checklist items done"), default=list, blank=True)
    note = models.TextField(_("note"), blank=True, max_length=hierarchy_levels.NOTE_MAX_CHARS)

    class Meta:
        verbose_name = _("hierarchy answer")
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "level"], name="hierarchy_answer_once_per_level"
            ),
            models.CheckConstraint(
                condition=models.Q(enablement__lte=hierarchy_levels.ENABLEMENT_MAX),
                name="hierarchy_answer_enablement_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.assessment}: {self.level} at {self.enablement}"
