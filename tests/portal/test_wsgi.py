"""The WSGI entry point loads every view and freezes the long-lived heap out of the
garbage collector's walks (portal.wsgi.settle_heap says why)."""

import gc
import sys

from django.urls import get_resolver


def test_the_server_process_starts_with_its_views_loaded_and_its_heap_frozen():
    import portal.wsgi

    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    portal.wsgi.settle_heap()
    assert gc.get_freeze_count() > 10_000
    assert "toil.plan.views" in sys.modules
    assert get_resolver().url_patterns
    assert callable(portal.wsgi.application)
