"""Getting hourly event counts into the bucket table. `planning` (pure) works out which
hours to ask for and in which requests, and the rows an answer makes; `prometheus` is
the HTTP client; `pull` runs a source's pull under its lease and records the run;
`storing` upserts rows (COPY on PostgreSQL); `push` checks and stores what teams send
through the push API (`api`) or a CSV upload (`csv_views`); `views` serve sources and
pull runs."""
