# The browser test of the import borrows the real Chromium of tests/browser.
from tests.browser.conftest import browser, page  # noqa: F401
