from django.contrib import admin

from portal.secret_admin import SecretsAdminMixin
from slos.models import (
    SLO,
    Annotation,
    BudgetPolicyStep,
    DataSource,
    IntakeRequest,
    IntakeSource,
    Notification,
    PullRun,
    RoutingRule,
    Service,
    SLOReview,
)


@admin.register(DataSource)
class DataSourceAdmin(SecretsAdminMixin, admin.ModelAdmin):
    list_display = ["name", "team", "kind", "url"]
    list_filter = ["team", "kind"]


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["name", "team"]
    list_filter = ["team"]


@admin.register(SLO)
class SLOAdmin(admin.ModelAdmin):
    list_display = ["name", "service", "target", "window_days", "provisional"]
    list_filter = ["service__team", "provisional"]


# Hourly buckets are keyed by (SLO, hour), and Django's admin does not take models with
# a composite key: an SLO's page charts its hours.


@admin.register(PullRun)
class PullRunAdmin(admin.ModelAdmin):
    list_display = ["data_source", "started_at", "finished_at", "status", "hours_stored"]
    list_filter = ["status", "data_source"]


@admin.register(SLOReview)
class SLOReviewAdmin(admin.ModelAdmin):
    list_display = ["slo", "decision", "old_target", "new_target", "reviewed_by", "reviewed_at"]
    list_filter = ["decision"]


@admin.register(BudgetPolicyStep)
class BudgetPolicyStepAdmin(admin.ModelAdmin):
    list_display = ["slo", "below_percent", "action"]


@admin.register(Annotation)
class AnnotationAdmin(admin.ModelAdmin):
    list_display = ["team", "kind", "starts_at", "ends_at", "text", "excluded"]
    list_filter = ["kind", "excluded", "team"]


@admin.register(IntakeSource)
class IntakeSourceAdmin(SecretsAdminMixin, admin.ModelAdmin):
    list_display = ["name", "team", "kind"]
    list_filter = ["kind", "team"]
    exclude = ["token_hash"]


@admin.register(IntakeRequest)
class IntakeRequestAdmin(admin.ModelAdmin):
    list_display = ["source", "received_at", "status"]
    list_filter = ["status"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "source",
        "notification_class",
        "count",
        "first_seen_at",
        "last_seen_at",
    ]
    list_filter = ["notification_class"]


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ["team", "position", "name", "outcome", "enabled"]
