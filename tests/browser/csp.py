"""What a browser test needs to see Content-Security-Policy violations: Chromium logs
each blocked load or inline code as a console error naming the policy, and the listener
also catches what the console might word differently (an eval, a style)."""

from __future__ import annotations

REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (event) {
  console.error("CSP violation: " + event.violatedDirective + " blocked " +
    (event.blockedURI || "inline") + " " + (event.sample || ""));
});
"""


def csp_violations(page) -> list[str]:
    """The list that every violation on `page` from now on is appended to."""
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text)
            if "Content Security Policy" in message.text or "CSP violation" in message.text
            else None
        ),
    )
    page.add_init_script(REPORT_VIOLATIONS)
    return violations
