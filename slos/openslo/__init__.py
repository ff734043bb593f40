"""OpenSLO v1 in and out: `openslo_import` reads multi-document YAML into services, data
sources and SLOs; `openslo_export` writes them back.

Import rules (what the portal decides where the spec leaves room):

- Kinds: Service, DataSource, SLO and SLI are read. An SLI document only serves the SLOs
  that name it in `indicatorRef` (the portal stores the indicator inside the SLO).
  AlertPolicy, AlertCondition and AlertNotificationTarget are valid OpenSLO but skipped
  with a warning; anything else is an error.
- A YAML document may hold one object or a list of objects (the form the spec's Go SDK
  examples use). Documents are counted from 1, as an editor shows them.
- Only Prometheus sources: `metricSource.type` must be Prometheus, or be left out and
  `metricSourceRef` name a Prometheus DataSource (one in the files or one the team has).
  An SLO without `metricSourceRef` gets no data source; pick one before pulling.
- Queries: a query containing `$window` is kept exactly as written. Otherwise, with
  `counter: true`, a plain selector (`http_requests_total{code!~"5.."}`) or a plain
  selector inside `sum(...)` becomes `sum(increase(SELECTOR[$window]))`. Any other query
  without `$window` is refused: the portal stores hourly event counts and must know where
  the range goes. `thresholdMetric` queries (gauges) are kept as written.
- A good/total pair that is exactly a histogram's `le` bucket over its `_count` (the
  queries the portal itself writes for a histogram SLI) is stored as a histogram SLI.
- Only the first objective is imported (with a warning when there are more); `target` is
  a fraction, `targetPercent` a percentage; `timeSliceWindow` a number of minutes or a
  duration such as 5m.
- Windows: a rolling window in days or weeks (28d, 4w); a calendar window of 1M (month)
  or 1Q (quarter), which follows the team's time zone (calendar.startTime only has to be
  a date and time; calendar.timeZone, when it differs from the team's, gives a warning).
- The team: the object's `metadata.labels.team` (one value; a list is fine when it holds
  the team being imported into), else the default team (--team); the command creates a
  missing team (in the time zone its SLOs' calendar windows name), the upload form
  imports into its own team only.
- Idempotent by `metadata.name` (stored as `openslo_name`) within the team; an object
  without an OpenSLO name whose display name matches is adopted, so the export of
  objects made in the portal imports back onto them.
- All or nothing: every document of every file is checked (schema, references, and each
  object's full_clean) before anything is written, then everything is written in one
  transaction. Each problem names the file, the document and the field path.
- Descriptions longer than the spec's 1050 characters are accepted, so that the export of
  a long "why it matters" imports back.

Export writes Service, DataSource and SLO documents with a stable order (team, kind,
name) and formatting, so export → import → export gives the same text. Objects made in
the portal without an OpenSLO name get one made from their name. Push and CSV data
sources are not written out (they are not Prometheus and hold tokens): SLOs that use one
name it in metricSourceRef without a type, and the import finds it in the team again.
Credentials (tokens, passwords, TLS settings) are never exported, and the import leaves
those of an existing data source as they are.
"""

from slos.openslo.exporting import dump_documents, export_documents, openslo_export
from slos.openslo.importing import Change, ImportReport, openslo_import
from slos.openslo.reading import Location, OpenSLOError, Problem, SourceFile, event_count_query

__all__ = [
    "Change",
    "ImportReport",
    "Location",
    "OpenSLOError",
    "Problem",
    "SourceFile",
    "dump_documents",
    "event_count_query",
    "export_documents",
    "openslo_export",
    "openslo_import",
]
