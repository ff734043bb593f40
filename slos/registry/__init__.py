"""The SLO registry: services and their SLOs, reviews (keep / tighten / loosen / retire),
target changes, the error-budget policy and annotations. `services` writes,
`selectors` reads (every other part of slos may use both), `views` and `edit_views`
serve the pages, `report` gives budgets as data for the API and `slo_report`."""
