"""The SLO app's pages, one list per subpackage, under one namespace (`slos:`)."""

from slos.alerting import urls as alerting
from slos.ingestion import urls as ingestion
from slos.notifications import urls as notifications
from slos.openslo import urls as openslo
from slos.registry import urls as registry

app_name = "slos"
urlpatterns = [
    *registry.urlpatterns,
    *ingestion.urlpatterns,
    *openslo.urlpatterns,
    *alerting.urlpatterns,
    *notifications.urlpatterns,
]
