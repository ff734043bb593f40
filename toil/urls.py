"""The backlog's pages, joined from its parts (each part's urls name their routes)."""

from toil.items.urls import urlpatterns as items
from toil.plan.urls import urlpatterns as plan
from toil.transfer.urls import urlpatterns as transfer
from toil.worklog.urls import urlpatterns as worklog

app_name = "toil"
urlpatterns = [*items, *plan, *worklog, *transfer]
