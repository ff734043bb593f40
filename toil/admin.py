from django.contrib import admin

from toil.models import BacklogItem


@admin.register(BacklogItem)
class BacklogItemAdmin(admin.ModelAdmin):
    list_display = ["title", "team", "kind", "impact", "likelihood", "effort", "status"]
    list_filter = ["team", "kind", "status"]
    search_fields = ["title", "description"]
    raw_id_fields = ["slo", "created_by"]
