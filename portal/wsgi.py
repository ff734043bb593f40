import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
application = get_wsgi_application()


def settle_heap() -> None:
    """Load every view now (and what they import: plotly's validators alone are hundreds
    of thousands of objects), then take all of it out of the cyclic garbage collector's
    reach: it lives as long as the process, and each full collection walked it again. A
    page that builds thousands of rows (the PM's plan) paid about 140 ms a request for
    those walks. Forked workers share the frozen pages too."""
    get_resolver().url_patterns  # noqa: B018 -- imports every view
    gc.collect()
    gc.freeze()


settle_heap()
