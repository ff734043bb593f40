from django.contrib import admin

from retros.models import BudgetSnapshot, RetroSession


class BudgetSnapshotInline(admin.TabularInline):
    model = BudgetSnapshot
    extra = 0
    can_delete = False
    fields = ["service_name", "slo_name", "target", "sli", "error_budget_remaining", "status"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(RetroSession)
class RetroSessionAdmin(admin.ModelAdmin):
    list_display = ["team", "week_of", "started_at", "started_by"]
    list_filter = ["team"]
    list_select_related = ["team", "started_by"]
    date_hierarchy = "started_at"
    inlines = [BudgetSnapshotInline]


@admin.register(BudgetSnapshot)
class BudgetSnapshotAdmin(admin.ModelAdmin):
    list_display = ["slo_name", "service_name", "team_name", "session", "status"]
    list_filter = ["status", "team_name"]
    list_select_related = ["session__team"]
