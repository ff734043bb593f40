from django.contrib import admin

from slos.models import SLO, DataSource, HourlyBucket, PullRun, Service


@admin.register(DataSource)
class DataSourceAdmin(admin.ModelAdmin):
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


@admin.register(HourlyBucket)
class HourlyBucketAdmin(admin.ModelAdmin):
    list_display = ["slo", "hour", "good", "valid"]
    list_filter = ["slo"]
    date_hierarchy = "hour"


@admin.register(PullRun)
class PullRunAdmin(admin.ModelAdmin):
    list_display = ["data_source", "started_at", "finished_at", "status", "hours_stored"]
    list_filter = ["status", "data_source"]
