"""OpenSLO v1 in and out: `openslo_import` reads multi-document YAML into services, data
sources and SLOs; `openslo_export` writes them back.

Import rules (what the portal decides where the spec leaves room):

- Kinds: Service, DataSource, SLO and SLI are read. An SLI document only serves the SLOs
  that name it in `indicatorRef` (the portal stores the indicator inside the SLO).
  AlertPolicy, AlertCondition and AlertNotificationTarget are valid OpenSLO but skipped
  with a warning; anything else is an error.
- Versions: openslo/v1, and openslo/v1alpha (Service and SLO), which is converted to
  the v1 document it means (a note says so): `source`/`query` become a metricSource,
  `ratioMetrics` in the objective the indicator (`incremental` is `counter`), `unit` and
  `count` a duration; v1alpha has no slice length, so Timeslices get the portal's
  default, with a note.
- A YAML document may hold one object or a list of objects (the form the spec's Go SDK
  examples use). Documents are counted from 1, as an editor shows them.
- Sources: `metricSourceRef` names a DataSource of the files, or one the team has (by
  OpenSLO name, the name its export would give it, or its name in the portal). A source
  of another type than Prometheus (Datadog, …; in `metricSource.type` or the named
  DataSource document) cannot be queried: the SLO is imported fed by a push source, the
  DataSource document becomes one (its connection details are not kept) or one named
  after the type is made, the foreign queries are dropped, and a note says to send
  hourly counts by the push API or a CSV upload. A thresholdMetric counted in
  Occurrences that way is a ratio (the sender counts the good events). An SLO without
  any source gets no data source; pick one before pulling.
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
- Windows: a rolling window in days or weeks (28d, 4w); a calendar window of 1d (day),
  1w (week, from Monday), 1M (month) or 1Q (quarter), which follows the team's time zone
  (calendar.startTime only has to be a date and time; calendar.timeZone, when it differs
  from the team's, gives a warning).
- Limits (slos/limits.py): the YAML nests at most 40 levels and holds at most 200,000
  values with aliases expanded; no text holds a control character; the upload form
  takes at most 50 files, 1 MB each and 2 MB together, judged before anything is read.
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
from slos.openslo.reading import (
    Location,
    OpenSLOError,
    Problem,
    SourceFile,
    event_count_query,
    upload_problems,
)

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
    "upload_problems",
]
