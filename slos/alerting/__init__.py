"""Paging happens in Prometheus and Alertmanager: `rules` (pure) renders each SLO's
recording rules and multi-window burn-rate alerts from the engine's table
(slos.budget.BURN_ALERTS), and an Alertmanager routing snippet; `views` serves them as
downloads."""
